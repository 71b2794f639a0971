//! The commissioning report as one self-contained HTML file: inline CSS, no scripts or external
//! resources, every text escaped. English or Chinese.

use std::fmt::Write as _;

use super::model::{EvidenceKind, RunReport, Verdict};
use crate::protocol::model::Lang;

/// Escapes text for HTML element content and quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// The report's fixed words in one language.
fn t(lang: Lang, en: &'static str, zh: &'static str) -> &'static str {
    if lang == Lang::Zh { zh } else { en }
}

fn verdict_word(lang: Lang, v: &Verdict) -> &'static str {
    match v {
        Verdict::Passed => t(lang, "Passed", "通过"),
        Verdict::Failed { .. } => t(lang, "Failed", "不通过"),
        Verdict::Inconclusive { .. } => t(lang, "Inconclusive", "无结论"),
        Verdict::NotRun { .. } => t(lang, "Not run", "未执行"),
    }
}

fn utc(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let rest = ms.rem_euclid(86_400_000) / 1000;
    let (y, m, d) = crate::protocol::time::civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC", rest / 3600, rest / 60 % 60, rest % 60)
}

const CSS: &str = "body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #bbb;padding:.25em .6em;text-align:left;vertical-align:top}th{background:#eee}.Passed{color:#176b1c;font-weight:bold}.Failed{color:#b00020;font-weight:bold}.Inconclusive{color:#8a6d00;font-weight:bold}.NotRun{color:#666}.banner{background:#b00020;color:#fff;padding:.6em 1em;font-size:1.3em;font-weight:bold}details{margin:.2em 0}pre{white-space:pre-wrap;word-break:break-all;margin:0;font-size:.85em}.sign td{height:2.5em;min-width:14em}";

fn row(html: &mut String, cells: &[&str]) {
    html.push_str("<tr>");
    for c in cells {
        let _ = write!(html, "<td>{}</td>", escape(c));
    }
    html.push_str("</tr>\n");
}

fn head(html: &mut String, cells: &[&str]) {
    html.push_str("<tr>");
    for c in cells {
        let _ = write!(html, "<th>{}</th>", escape(c));
    }
    html.push_str("</tr>\n");
}

/// The whole report.
pub fn render(report: &RunReport, lang: Lang) -> String {
    let mut h = String::new();
    let title = t(lang, "Commissioning and conformance report", "调试与一致性测试报告");
    let _ = write!(h, "<!DOCTYPE html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\"><title>{} — {}/{}</title><style>{CSS}</style></head><body>\n", if lang == Lang::Zh { "zh" } else { "en" }, escape(title), escape(&report.pk), escape(&report.dev));
    if !report.complete {
        let _ = writeln!(h, "<div class=\"banner\">{}</div>", escape(t(lang, "INCOMPLETE: the run was cancelled; only the cases below were run.", "未完成：测试被取消，仅执行了下列用例。")));
    }
    let _ = writeln!(h, "<h1>{}</h1>", escape(title));
    let s = report.summary();
    let overall = if report.passed() { t(lang, "No mandatory case failed", "无必测用例失败") } else { t(lang, "Mandatory cases failed", "有必测用例失败") };
    let _ = writeln!(h, "<p><b>{}</b> — {} {} · {} {} · {} {} · {} {}</p>", escape(overall), s.passed, escape(t(lang, "passed", "通过")), s.failed, escape(t(lang, "failed", "不通过")), s.inconclusive, escape(t(lang, "inconclusive", "无结论")), s.not_run, escape(t(lang, "not run", "未执行")));

    let _ = writeln!(h, "<h2>{}</h2><table>", escape(t(lang, "Site and gateway", "现场与网关")));
    let id = &report.identity;
    let na = "—".to_owned();
    for (label, value) in [
        (t(lang, "Site", "现场"), report.site.clone().unwrap_or_else(|| na.clone())),
        (t(lang, "Gateway (PK/DEV)", "网关（PK/DEV）"), format!("{}/{}", report.pk, report.dev)),
        (t(lang, "Link", "链路"), report.link.clone()),
        (t(lang, "Vendor", "厂商"), id.vendor.clone().unwrap_or_else(|| na.clone())),
        (t(lang, "Model", "型号"), id.model.clone().unwrap_or_else(|| na.clone())),
        (t(lang, "Serial", "序列号"), id.serial.clone().unwrap_or_else(|| na.clone())),
        (t(lang, "Hardware / firmware / software", "硬件 / 固件 / 软件版本"), format!("{} / {} / {}", id.hw_version.as_deref().unwrap_or("—"), id.fw_version.as_deref().unwrap_or("—"), id.sw_version.as_deref().unwrap_or("—"))),
        (t(lang, "Clock offset (gateway − ours)", "时钟偏差（网关 − 本机）"), report.clock_offset_ms.map(|o| format!("{o:+.0} ms, {} ms", report.clock_round_trip_ms.unwrap_or(0))).unwrap_or_else(|| na.clone())),
        (t(lang, "Run", "测试时间"), format!("{} – {}", utc(report.started_ms), utc(report.finished_ms))),
        (t(lang, "Catalogue", "用例集"), format!("{} v{}", report.catalogue, report.catalogue_version)),
        (t(lang, "Changes allowed / read-only", "允许更改 / 只读"), format!("{} / {}", report.allow_changes, report.read_only)),
    ] {
        let _ = writeln!(h, "<tr><th>{}</th><td>{}</td></tr>", escape(label), escape(&value));
    }
    h.push_str("</table>\n");

    let _ = writeln!(h, "<h2>{}</h2><table>", escape(t(lang, "Versions before and after", "测试前后版本")));
    head(&mut h, &[t(lang, "Module", "模块"), t(lang, "Before", "测试前"), t(lang, "After", "测试后")]);
    let mut modules: Vec<&String> = id.versions_before.iter().chain(&id.versions_after).map(|(m, _)| m).collect();
    modules.dedup();
    modules.sort();
    modules.dedup();
    for m in modules {
        let find = |list: &[(String, String)]| list.iter().find(|(n, _)| n == m).map(|(_, v)| v.clone()).unwrap_or_else(|| "—".into());
        row(&mut h, &[m, &find(&id.versions_before), &find(&id.versions_after)]);
    }
    h.push_str("</table>\n");

    let _ = writeln!(h, "<h2>{}</h2><table>", escape(t(lang, "Point snapshot", "测点快照")));
    head(&mut h, &[t(lang, "Device", "设备"), t(lang, "Point", "测点"), t(lang, "Name", "名称"), t(lang, "Value", "值"), t(lang, "Unit", "单位"), t(lang, "Quality", "质量"), t(lang, "Time", "时间")]);
    for p in &report.points {
        let name = if lang == Lang::Zh { p.name_zh.as_ref().or(p.name_en.as_ref()) } else { p.name_en.as_ref().or(p.name_zh.as_ref()) };
        row(&mut h, &[&p.sub, &p.pid, name.map_or("", String::as_str), &p.value, p.unit.as_deref().unwrap_or(""), &p.q.to_string(), &utc(p.ts)]);
    }
    h.push_str("</table>\n");

    let _ = writeln!(h, "<h2>{}</h2><table>", escape(t(lang, "Alarms tested", "已测告警")));
    head(&mut h, &[t(lang, "Alarm", "告警"), t(lang, "Device", "设备"), t(lang, "Type", "类型"), t(lang, "Level", "级别"), t(lang, "Raised / cleared", "产生 / 清除"), t(lang, "Acknowledged", "确认")]);
    for a in &report.alarms {
        row(&mut h, &[&a.alarm_id, &a.sub, &a.alarm_type, &a.level.to_string(), &format!("{} / {}", a.raised, a.cleared), &a.ack]);
    }
    h.push_str("</table>\n");

    let _ = writeln!(h, "<h2>{}</h2><table>", escape(t(lang, "Transfers", "传输结果")));
    head(&mut h, &[t(lang, "Case", "用例"), t(lang, "Kind", "类型"), t(lang, "Target", "对象"), t(lang, "Bytes", "字节"), t(lang, "Outcome", "结果")]);
    for x in &report.transfers {
        row(&mut h, &[&x.case_id, &x.kind, &x.target, &x.bytes.to_string(), &x.outcome]);
    }
    h.push_str("</table>\n");

    if !report.restored.is_empty() {
        let _ = writeln!(h, "<h2>{}</h2><ul>", escape(t(lang, "Changed and put back", "已更改与恢复")));
        for r in &report.restored {
            let _ = writeln!(h, "<li>{}</li>", escape(r));
        }
        h.push_str("</ul>\n");
    }

    let _ = writeln!(h, "<h2>{}</h2><table>", escape(t(lang, "Test cases", "测试用例")));
    head(&mut h, &[t(lang, "Id", "编号"), t(lang, "Clause", "条款"), t(lang, "Title", "名称"), t(lang, "Mandatory", "必测"), t(lang, "Verdict", "结论"), t(lang, "Evidence", "证据")]);
    for c in &report.cases {
        let _ = write!(h, "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"{}\">{}</td><td>", escape(&c.id), escape(&c.clause), escape(c.title.get(lang)), if c.mandatory { "✔" } else { "" }, c.verdict.label(), escape(verdict_word(lang, &c.verdict)));
        if let Some(reason) = c.verdict.reason() {
            let _ = write!(h, "{}<br>", escape(reason));
        }
        let _ = write!(h, "<details><summary>{} ({}, {:.0} ms)</summary><pre>", escape(t(lang, "Messages", "报文")), c.evidence.len(), c.duration_ms);
        for e in &c.evidence {
            let arrow = match e.kind {
                EvidenceKind::Sent => "→",
                EvidenceKind::Received => "←",
                EvidenceKind::Note => "·",
            };
            let latency = e.latency_ms.map(|l| format!(" [{l:.1} ms]")).unwrap_or_default();
            let _ = writeln!(h, "+{} ms {arrow} {}{} {}", e.at_ms, escape(&e.topic), escape(&latency), escape(&e.excerpt));
        }
        h.push_str("</pre></details></td></tr>\n");
    }
    h.push_str("</table>\n");

    let _ = writeln!(h, "<h2>{}</h2>", escape(t(lang, "Deficiencies for retest", "待复测缺陷")));
    if report.deficiencies.is_empty() {
        let _ = writeln!(h, "<p>{}</p>", escape(t(lang, "None.", "无。")));
    } else {
        h.push_str("<table>\n");
        head(&mut h, &[t(lang, "Id", "编号"), t(lang, "Title", "名称"), t(lang, "Mandatory", "必测"), t(lang, "Reason", "原因")]);
        for d in &report.deficiencies {
            row(&mut h, &[&d.id, d.title.get(lang), if d.mandatory { "✔" } else { "" }, &d.reason]);
        }
        h.push_str("</table>\n");
    }

    let _ = writeln!(h, "<h2>{}</h2><table class=\"sign\">", escape(t(lang, "Sign-off", "签字确认")));
    head(&mut h, &[t(lang, "Role", "角色"), t(lang, "Name", "姓名"), t(lang, "Signature", "签字"), t(lang, "Date", "日期")]);
    for role in [t(lang, "Engineer", "调试工程师"), t(lang, "Customer", "客户代表")] {
        row(&mut h, &[role, "", "", ""]);
    }
    h.push_str("</table>\n</body></html>\n");
    h
}

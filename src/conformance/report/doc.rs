//! The commissioning report's content, defined once: its sections in order, their labels in the
//! report's language and the facts of the run. The HTML and the PDF writers render this model,
//! so a section or a label is added here and appears in both.

use crate::conformance::model::{EvidenceKind, RunReport, Verdict};
use crate::protocol::model::Lang;

/// The whole report, ready to render.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub lang: Lang,
    /// The report's title (the HTML `<title>`, the PDF's metadata and footer).
    pub title: String,
    /// `PK/DEV`.
    pub subject: String,
    /// The footer's mark on every page of a cancelled run's report.
    pub incomplete_mark: Option<String>,
    pub blocks: Vec<Block>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// A warning across the page (the run was cancelled).
    Banner(String),
    Title(String),
    Heading(String),
    /// `lead` is set in bold before the text.
    Paragraph { lead: Option<String>, text: String },
    /// Label and value rows, labels as row headers.
    Facts(Vec<(String, String)>),
    Table(Table),
    List(Vec<String>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Row>,
    pub kind: TableKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableKind {
    Data,
    /// Empty rows tall enough to sign in.
    SignOff,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub cells: Vec<Cell>,
    /// The messages a case exchanged, shown under (HTML: inside the last cell of) the row.
    pub messages: Option<Messages>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub text: String,
    pub tone: Tone,
}

/// How a cell is coloured: a verdict's colour, or plain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Plain,
    Passed,
    Failed,
    Inconclusive,
    NotRun,
}

impl Tone {
    /// Its colour (sRGB) and whether it is set in bold, for every format.
    pub fn look(self) -> Option<([u8; 3], bool)> {
        match self {
            Tone::Plain => None,
            Tone::Passed => Some(([0x17, 0x6b, 0x1c], true)),
            Tone::Failed => Some(([0xb0, 0x00, 0x20], true)),
            Tone::Inconclusive => Some(([0x8a, 0x6d, 0x00], true)),
            Tone::NotRun => Some(([0x66, 0x66, 0x66], false)),
        }
    }

    pub fn of(verdict: &Verdict) -> Tone {
        match verdict {
            Verdict::Passed => Tone::Passed,
            Verdict::Failed { .. } => Tone::Failed,
            Verdict::Inconclusive { .. } => Tone::Inconclusive,
            Verdict::NotRun { .. } => Tone::NotRun,
        }
    }
}

/// A case's evidence: a summary line and one entry per message or note.
#[derive(Debug, Clone, PartialEq)]
pub struct Messages {
    pub summary: String,
    pub lines: Vec<MessageLine>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MessageLine {
    /// Time from the case's start, direction, topic and latency.
    pub head: String,
    /// The payload excerpt or the note's text.
    pub body: String,
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

/// "Page 2 of 7" for the PDF's footer.
pub fn page_of(lang: Lang, page: usize, pages: usize) -> String {
    if lang == Lang::Zh { format!("第 {page} 页，共 {pages} 页") } else { format!("Page {page} of {pages}") }
}

fn utc(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let rest = ms.rem_euclid(86_400_000) / 1000;
    let (y, m, d) = crate::protocol::time::civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC", rest / 3600, rest / 60 % 60, rest % 60)
}

fn plain(text: impl Into<String>) -> Cell {
    Cell { text: text.into(), tone: Tone::Plain }
}

fn row(cells: impl IntoIterator<Item = String>) -> Row {
    Row { cells: cells.into_iter().map(plain).collect(), messages: None }
}

fn header(labels: &[&str]) -> Vec<String> {
    labels.iter().map(|l| (*l).to_owned()).collect()
}

const NONE: &str = "—";

fn or_none(value: &Option<String>) -> String {
    value.clone().unwrap_or_else(|| NONE.to_owned())
}

const MANDATORY_MARK: &str = "✔";

impl Document {
    /// The report of `report` in `lang`.
    pub fn build(report: &RunReport, lang: Lang) -> Document {
        let title = t(lang, "Commissioning and conformance report", "调试与一致性测试报告").to_owned();
        let mut blocks = Vec::new();
        let incomplete_mark = (!report.complete).then(|| t(lang, "INCOMPLETE", "未完成").to_owned());
        if !report.complete {
            blocks.push(Block::Banner(t(lang, "INCOMPLETE: the run was cancelled; only the cases below were run.", "未完成：测试被取消，仅执行了下列用例。").to_owned()));
        }
        blocks.push(Block::Title(title.clone()));
        blocks.push(summary(report, lang));
        blocks.push(Block::Heading(t(lang, "Site and gateway", "现场与网关").to_owned()));
        blocks.push(identity(report, lang));
        blocks.push(Block::Heading(t(lang, "Versions before and after", "测试前后版本").to_owned()));
        blocks.push(versions(report, lang));
        blocks.push(Block::Heading(t(lang, "Point snapshot", "测点快照").to_owned()));
        blocks.push(points(report, lang));
        blocks.push(Block::Heading(t(lang, "Alarms tested", "已测告警").to_owned()));
        blocks.push(alarms(report, lang));
        blocks.push(Block::Heading(t(lang, "Transfers", "传输结果").to_owned()));
        blocks.push(transfers(report, lang));
        if !report.restored.is_empty() {
            blocks.push(Block::Heading(t(lang, "Changed and put back", "已更改与恢复").to_owned()));
            blocks.push(Block::List(report.restored.clone()));
        }
        blocks.push(Block::Heading(t(lang, "Test cases", "测试用例").to_owned()));
        blocks.push(cases(report, lang));
        blocks.push(Block::Heading(t(lang, "Deficiencies for retest", "待复测缺陷").to_owned()));
        blocks.push(deficiencies(report, lang));
        blocks.push(Block::Heading(t(lang, "Sign-off", "签字确认").to_owned()));
        blocks.push(sign_off(lang));
        Document { lang, title, subject: format!("{}/{}", report.pk, report.dev), incomplete_mark, blocks }
    }
}

fn summary(report: &RunReport, lang: Lang) -> Block {
    let s = report.summary();
    let overall = if report.passed() { t(lang, "No mandatory case failed", "无必测用例失败") } else { t(lang, "Mandatory cases failed", "有必测用例失败") };
    let text = format!(
        "— {} {} · {} {} · {} {} · {} {}",
        s.passed,
        t(lang, "passed", "通过"),
        s.failed,
        t(lang, "failed", "不通过"),
        s.inconclusive,
        t(lang, "inconclusive", "无结论"),
        s.not_run,
        t(lang, "not run", "未执行")
    );
    Block::Paragraph { lead: Some(overall.to_owned()), text }
}

fn identity(report: &RunReport, lang: Lang) -> Block {
    let id = &report.identity;
    let version = |v: &Option<String>| v.as_deref().unwrap_or(NONE).to_owned();
    let facts = [
        (t(lang, "Site", "现场"), or_none(&report.site)),
        (t(lang, "Gateway (PK/DEV)", "网关（PK/DEV）"), format!("{}/{}", report.pk, report.dev)),
        (t(lang, "Link", "链路"), report.link.clone()),
        (t(lang, "Vendor", "厂商"), or_none(&id.vendor)),
        (t(lang, "Model", "型号"), or_none(&id.model)),
        (t(lang, "Serial", "序列号"), or_none(&id.serial)),
        (t(lang, "Hardware / firmware / software", "硬件 / 固件 / 软件版本"), format!("{} / {} / {}", version(&id.hw_version), version(&id.fw_version), version(&id.sw_version))),
        (
            t(lang, "Clock offset (gateway − ours)", "时钟偏差（网关 − 本机）"),
            report.clock_offset_ms.map(|o| format!("{o:+.0} ms, {} ms", report.clock_round_trip_ms.unwrap_or(0))).unwrap_or_else(|| NONE.to_owned()),
        ),
        (t(lang, "Run", "测试时间"), format!("{} – {}", utc(report.started_ms), utc(report.finished_ms))),
        (t(lang, "Catalogue", "用例集"), format!("{} v{}", report.catalogue, report.catalogue_version)),
        (t(lang, "Changes allowed / read-only", "允许更改 / 只读"), format!("{} / {}", report.allow_changes, report.read_only)),
    ];
    Block::Facts(facts.into_iter().map(|(label, value)| (label.to_owned(), value)).collect())
}

fn versions(report: &RunReport, lang: Lang) -> Block {
    let id = &report.identity;
    let mut modules: Vec<&String> = id.versions_before.iter().chain(&id.versions_after).map(|(m, _)| m).collect();
    modules.sort();
    modules.dedup();
    let find = |list: &[(String, String)], module: &str| list.iter().find(|(n, _)| n == module).map(|(_, v)| v.clone()).unwrap_or_else(|| NONE.to_owned());
    let rows = modules.into_iter().map(|m| row([m.clone(), find(&id.versions_before, m), find(&id.versions_after, m)])).collect();
    Block::Table(Table { header: header(&[t(lang, "Module", "模块"), t(lang, "Before", "测试前"), t(lang, "After", "测试后")]), rows, kind: TableKind::Data })
}

fn points(report: &RunReport, lang: Lang) -> Block {
    let rows = report
        .points
        .iter()
        .map(|p| {
            let name = if lang == Lang::Zh { p.name_zh.as_ref().or(p.name_en.as_ref()) } else { p.name_en.as_ref().or(p.name_zh.as_ref()) };
            row([p.sub.clone(), p.pid.clone(), name.cloned().unwrap_or_default(), p.value.clone(), p.unit.clone().unwrap_or_default(), p.q.to_string(), utc(p.ts)])
        })
        .collect();
    let labels = [t(lang, "Device", "设备"), t(lang, "Point", "测点"), t(lang, "Name", "名称"), t(lang, "Value", "值"), t(lang, "Unit", "单位"), t(lang, "Quality", "质量"), t(lang, "Time", "时间")];
    Block::Table(Table { header: header(&labels), rows, kind: TableKind::Data })
}

fn alarms(report: &RunReport, lang: Lang) -> Block {
    let rows = report.alarms.iter().map(|a| row([a.alarm_id.clone(), a.sub.clone(), a.alarm_type.clone(), a.level.to_string(), format!("{} / {}", a.raised, a.cleared), a.ack.clone()])).collect();
    let labels = [t(lang, "Alarm", "告警"), t(lang, "Device", "设备"), t(lang, "Type", "类型"), t(lang, "Level", "级别"), t(lang, "Raised / cleared", "产生 / 清除"), t(lang, "Acknowledged", "确认")];
    Block::Table(Table { header: header(&labels), rows, kind: TableKind::Data })
}

fn transfers(report: &RunReport, lang: Lang) -> Block {
    let rows = report.transfers.iter().map(|x| row([x.case_id.clone(), x.kind.clone(), x.target.clone(), x.bytes.to_string(), x.outcome.clone()])).collect();
    let labels = [t(lang, "Case", "用例"), t(lang, "Kind", "类型"), t(lang, "Target", "对象"), t(lang, "Bytes", "字节"), t(lang, "Outcome", "结果")];
    Block::Table(Table { header: header(&labels), rows, kind: TableKind::Data })
}

fn cases(report: &RunReport, lang: Lang) -> Block {
    let rows = report
        .cases
        .iter()
        .map(|c| {
            let lines = c
                .evidence
                .iter()
                .map(|e| {
                    let arrow = match e.kind {
                        EvidenceKind::Sent => "→",
                        EvidenceKind::Received => "←",
                        EvidenceKind::Note => "·",
                    };
                    let latency = e.latency_ms.map(|l| format!(" [{l:.1} ms]")).unwrap_or_default();
                    MessageLine { head: format!("+{} ms {arrow} {}{latency}", e.at_ms, e.topic), body: e.excerpt.clone() }
                })
                .collect();
            let messages = Messages { summary: format!("{} ({}, {:.0} ms)", t(lang, "Messages", "报文"), c.evidence.len(), c.duration_ms), lines };
            let cells = vec![
                plain(c.id.clone()),
                plain(c.clause.clone()),
                plain(c.title.get(lang)),
                plain(if c.mandatory { MANDATORY_MARK } else { "" }),
                Cell { text: verdict_word(lang, &c.verdict).to_owned(), tone: Tone::of(&c.verdict) },
                plain(c.verdict.reason_in(lang).unwrap_or_default()),
            ];
            Row { cells, messages: Some(messages) }
        })
        .collect();
    let labels = [t(lang, "Id", "编号"), t(lang, "Clause", "条款"), t(lang, "Title", "名称"), t(lang, "Mandatory", "必测"), t(lang, "Verdict", "结论"), t(lang, "Evidence", "证据")];
    Block::Table(Table { header: header(&labels), rows, kind: TableKind::Data })
}

fn deficiencies(report: &RunReport, lang: Lang) -> Block {
    if report.deficiencies.is_empty() {
        return Block::Paragraph { lead: None, text: t(lang, "None.", "无。").to_owned() };
    }
    let rows = report.deficiencies.iter().map(|d| row([d.id.clone(), d.title.get(lang).to_owned(), if d.mandatory { MANDATORY_MARK } else { "" }.to_owned(), d.reason.get(lang).to_owned()])).collect();
    let labels = [t(lang, "Id", "编号"), t(lang, "Title", "名称"), t(lang, "Mandatory", "必测"), t(lang, "Reason", "原因")];
    Block::Table(Table { header: header(&labels), rows, kind: TableKind::Data })
}

fn sign_off(lang: Lang) -> Block {
    let rows = [t(lang, "Engineer", "调试工程师"), t(lang, "Customer", "客户代表")].into_iter().map(|role| row([role.to_owned(), String::new(), String::new(), String::new()])).collect();
    let labels = [t(lang, "Role", "角色"), t(lang, "Name", "姓名"), t(lang, "Signature", "签字"), t(lang, "Date", "日期")];
    Block::Table(Table { header: header(&labels), rows, kind: TableKind::SignOff })
}

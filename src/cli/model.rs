//! `model validate` and `model show`: check product model files and print them readably.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::config::models::{ModelArgs, load_for_command, read_model_file};
use crate::protocol::model::{
    EnumLabels, Lang, LocalizedText, ModelDocument, ModelError, ModelSet, ParamDef, PointAlarm, PortDef, ValueType,
    cap_per_file, check_duplicate_product_keys, check_sub_products,
};

/// Validates `files`, printing `file: path: reason` per error and `ok: …` per clean file; exit 1 on any error.
pub fn validate(files: &[PathBuf], models: &ModelArgs) -> ExitCode {
    let known = load_for_command(models);
    for line in known.problem_lines() {
        eprintln!("warning: known models: {line}");
    }
    let (report, clean) = validate_report(files, &known.set);
    print!("{report}");
    if clean { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

/// Prints a readable summary of `file`; exit 1 with its errors if it does not validate.
pub fn show(file: &Path, models: &ModelArgs) -> ExitCode {
    match read_model_file(file) {
        Ok(doc) => {
            print!("{}", summary(&doc));
            let known = load_for_command(models);
            print!("{}", sub_product_sources(&doc, &known.set));
            ExitCode::SUCCESS
        }
        Err(errors) => {
            for e in errors {
                eprintln!("{e}");
            }
            ExitCode::FAILURE
        }
    }
}

/// Where each sub-product's model comes from (a known model, or none), for `show`.
fn sub_product_sources(doc: &ModelDocument, known: &ModelSet) -> String {
    let mut out = String::new();
    for pk in &doc.model().sub_products {
        let source = known.get(pk).map_or_else(|| "no known model (--models DIR adds a folder)".to_owned(), |d| d.source_name().to_owned());
        let _ = writeln!(out, "sub-product {pk}: {source}");
    }
    out
}

/// The text `validate` prints, and whether every file was clean.
fn validate_report(files: &[PathBuf], known_models: &ModelSet) -> (String, bool) {
    let mut loaded: Vec<ModelDocument> = Vec::new();
    let mut errors: Vec<ModelError> = Vec::new();
    for file in files {
        match read_model_file(file) {
            Ok(doc) => loaded.push(doc),
            Err(errs) => errors.extend(errs),
        }
    }
    errors.extend(check_duplicate_product_keys(&loaded));
    // Sub-products may live in a known model (bundled, the user's folder, --models), so a
    // gateway model validates on its own; a given file overrides a known one of the same key.
    let given = loaded.len();
    let mut known = loaded.clone();
    known.extend(known_models.iter().filter(|b| !loaded.iter().any(|d| d.product_key() == b.product_key())).cloned());
    errors.extend(check_sub_products(&known).into_iter().filter(|e| known[..given].iter().any(|d| d.source_name() == e.file)));
    // Each check lists at most 1,000 errors per file; together too.
    let errors = cap_per_file(errors);

    let mut out = String::new();
    for file in files {
        let name = file.display().to_string();
        let mine: Vec<&ModelError> = errors.iter().filter(|e| e.file == name).collect();
        if mine.is_empty() {
            if let Some(doc) = loaded.iter().find(|d| d.source_name() == name) {
                let _ = writeln!(out, "ok: {name} ({})", counts(doc));
            }
        } else {
            for e in mine {
                let _ = writeln!(out, "{e}");
            }
        }
    }
    (out, errors.is_empty())
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// "pk PK, kind, N points, …" for the ok line.
fn counts(doc: &ModelDocument) -> String {
    let m = doc.model();
    [
        format!("pk {}", m.product_key),
        m.kind.as_str().to_owned(),
        plural(m.ports.len(), "port", "ports"),
        plural(m.properties.len(), "property", "properties"),
        plural(m.points.len(), "point", "points"),
        plural(m.meters.len(), "meter", "meters"),
        plural(m.commands.len(), "command", "commands"),
        plural(m.alarms.len(), "alarm", "alarms"),
        plural(m.sub_products.len(), "sub-product", "sub-products"),
    ]
    .join(", ")
}

/// Columns a character takes in a terminal: CJK and full-width forms take two.
fn char_width(c: char) -> usize {
    let wide = matches!(u32::from(c),
        0x1100..=0x115F | 0x2E80..=0x303E | 0x3041..=0x33FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF
        | 0xA000..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF | 0xFE30..=0xFE4F | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6 | 0x20000..=0x3FFFD);
    if wide { 2 } else { 1 }
}

fn width(s: &str) -> usize {
    s.chars().map(char_width).sum()
}

/// Appends an aligned table (indented two spaces, a dashed rule under the header).
fn table(out: &mut String, headers: &[&str], rows: &[Vec<String>]) {
    let columns = headers.len();
    let widths: Vec<usize> = (0..columns)
        .map(|c| rows.iter().filter_map(|r| r.get(c)).map(|s| width(s)).chain([width(headers[c])]).max().unwrap_or(0))
        .collect();
    let header: Vec<String> = headers.iter().map(|h| (*h).to_owned()).collect();
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    for row in [&header, &rule].into_iter().chain(rows) {
        let mut line = String::from("  ");
        for (c, w) in widths.iter().enumerate() {
            let cell = row.get(c).map_or("", String::as_str);
            line.push_str(cell);
            if c + 1 < columns {
                line.push_str(&" ".repeat(w - width(cell) + 2));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
}

fn num(f: f64) -> String {
    format!("{f}")
}

fn opt_num(f: Option<f64>) -> String {
    f.map(num).unwrap_or_default()
}

fn range(min: Option<f64>, max: Option<f64>) -> String {
    match (min, max) {
        (None, None) => String::new(),
        _ => format!("{}..{}", opt_num(min), opt_num(max)),
    }
}

/// "中文 / English", or whichever exists.
fn both(text: &LocalizedText) -> String {
    match (text.zh.as_deref(), text.en.as_deref()) {
        (Some(zh), Some(en)) if zh != en => format!("{zh} / {en}"),
        _ => text.get(Lang::Zh).to_owned(),
    }
}

fn opt_text(text: Option<&LocalizedText>, lang: Lang) -> String {
    text.map(|t| t.get(lang).to_owned()).unwrap_or_default()
}

fn value_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn port_settings(port: &PortDef) -> String {
    let Some(p) = &port.params else { return String::new() };
    let mut parts: Vec<String> = p.serial_summary().into_iter().collect();
    if let Some(ip) = &p.ip {
        parts.push(match p.tcp_port {
            Some(port) => format!("{ip}:{port}"),
            None => ip.clone(),
        });
    } else if let Some(port) = p.tcp_port {
        parts.push(format!("tcp {port}"));
    }
    if let Some(ms) = p.timeout_ms {
        parts.push(format!("timeout {ms} ms"));
    }
    parts.join(", ")
}

fn alarm_text(alarm: Option<&PointAlarm>) -> String {
    let Some(a) = alarm else { return String::new() };
    let mut parts = Vec::new();
    if let Some(lo) = a.lo {
        parts.push(format!("lo {}", num(lo)));
    }
    if let Some(hi) = a.hi {
        parts.push(format!("hi {}", num(hi)));
    }
    if let Some(db) = a.deadband {
        parts.push(format!("db {}", num(db)));
    }
    parts.join(" ")
}

/// One command value as `id: type range unit = default`, struct and array spelled out.
fn param_text(p: &ParamDef) -> String {
    let mut s = String::new();
    if !p.id.is_empty() {
        let _ = write!(s, "{}: ", p.id);
    }
    match p.spec.value_type {
        ValueType::Struct => {
            let fields: Vec<String> = p.fields.iter().map(param_text).collect();
            let _ = write!(s, "struct{{{}}}", fields.join(", "));
        }
        ValueType::Array => {
            let item = p.items.as_deref().map(param_text).unwrap_or_default();
            let _ = write!(s, "array<{item}>");
        }
        other => {
            s.push_str(other.as_str());
            let r = range(p.spec.min, p.spec.max);
            if !r.is_empty() {
                let _ = write!(s, " {r}");
            }
            if let Some(unit) = p.spec.unit.as_deref().filter(|u| !u.is_empty()) {
                let _ = write!(s, " {unit}");
            }
            if let Some(max) = p.spec.max_length {
                let _ = write!(s, " ≤{max} chars");
            }
        }
    }
    if let Some(d) = &p.default {
        let _ = write!(s, " = {}", value_text(d));
    }
    s
}

fn params_text(params: &[ParamDef]) -> String {
    params.iter().map(param_text).collect::<Vec<_>>().join("; ")
}

fn labels_line(out: &mut String, id: &str, labels: Option<&EnumLabels>) {
    let Some(labels) = labels else { return };
    let items: Vec<String> = labels.iter().map(|(k, t)| format!("{k}={}", both(t))).collect();
    let _ = writeln!(out, "  {id}: {}", items.join(", "));
}

fn collect_param_labels<'a>(prefix: &str, params: &'a [ParamDef], out: &mut Vec<(String, &'a EnumLabels)>) {
    for p in params {
        let id = if p.id.is_empty() { format!("{prefix}[]") } else { format!("{prefix}.{}", p.id) };
        if let Some(labels) = &p.spec.enum_labels {
            out.push((id.clone(), labels));
        }
        collect_param_labels(&id, &p.fields, out);
        if let Some(item) = p.items.as_deref() {
            collect_param_labels(&id, std::slice::from_ref(item), out);
        }
    }
}

/// The readable text `show` prints for a valid model.
pub fn summary(doc: &ModelDocument) -> String {
    let m = doc.model();
    let mut out = String::new();
    let mut head: Vec<(&str, String)> = vec![
        ("file", doc.source_name().to_owned()),
        ("product key", m.product_key.clone()),
        ("kind", m.kind.as_str().to_owned()),
        ("category", if m.category.is_some() { m.category().to_string() } else { format!("{} (not declared)", m.category()) }),
        ("name (zh)", m.name.zh.clone().unwrap_or_default()),
        ("name (en)", m.name.en.clone().unwrap_or_default()),
    ];
    if let Some(v) = &m.vendor {
        head.push(("vendor", both(v)));
    }
    if let Some(model) = &m.model {
        head.push(("model", model.clone()));
    }
    head.push(("model version", m.model_version.clone()));
    head.push(("contents", counts(doc).split(", ").skip(2).collect::<Vec<_>>().join(", ")));
    if !m.extensions.is_empty() {
        head.push(("extensions", m.extensions.keys().cloned().collect::<Vec<_>>().join(", ")));
    }
    let key_width = head.iter().map(|(k, _)| width(k)).max().unwrap_or(0);
    for (k, v) in &head {
        let _ = writeln!(out, "{k}{}  {v}", " ".repeat(key_width - width(k)));
    }
    if let Some(d) = &m.description {
        for lang in [Lang::Zh, Lang::En] {
            let text = match lang {
                Lang::Zh => d.zh.as_deref(),
                Lang::En => d.en.as_deref(),
            };
            if let Some(text) = text {
                let key = if lang == Lang::Zh { "description" } else { "" };
                let _ = writeln!(out, "{key:<key_width$}  {text}");
            }
        }
    }

    if !m.ports.is_empty() {
        let _ = writeln!(out, "\nPorts ({})", m.ports.len());
        let rows: Vec<Vec<String>> = m
            .ports
            .iter()
            .map(|p| {
                let others: Vec<&str> =
                    p.protocols.iter().map(String::as_str).filter(|x| Some(*x) != p.protocol.as_deref()).collect();
                vec![
                    p.id.clone(),
                    opt_text(p.name.as_ref(), Lang::Zh),
                    opt_text(p.name.as_ref(), Lang::En),
                    p.port_type.as_str().to_owned(),
                    p.protocol.clone().unwrap_or_default(),
                    others.join(", "),
                    port_settings(p),
                ]
            })
            .collect();
        table(&mut out, &["id", "name (zh)", "name (en)", "type", "protocol", "also", "settings"], &rows);
    }

    if !m.properties.is_empty() {
        let _ = writeln!(out, "\nProperties ({})", m.properties.len());
        let rows: Vec<Vec<String>> = m
            .properties
            .iter()
            .map(|p| {
                vec![
                    p.id.clone(),
                    p.name.get(Lang::Zh).to_owned(),
                    p.name.get(Lang::En).to_owned(),
                    p.spec.value_type.as_str().to_owned(),
                    p.spec.unit.clone().unwrap_or_default(),
                    match p.spec.max_length {
                        Some(n) if p.spec.value_type == ValueType::String => format!("≤{n} chars"),
                        _ => range(p.spec.min, p.spec.max),
                    },
                    p.access.as_str().to_owned(),
                    p.default.as_ref().map(value_text).unwrap_or_default(),
                ]
            })
            .collect();
        table(&mut out, &["id", "name (zh)", "name (en)", "type", "unit", "range", "access", "default"], &rows);
    }

    if !m.points.is_empty() {
        let _ = writeln!(out, "\nPoints ({})", m.points.len());
        let rows: Vec<Vec<String>> = m
            .points
            .iter()
            .map(|p| {
                vec![
                    p.id.clone(),
                    p.name.get(Lang::Zh).to_owned(),
                    p.name.get(Lang::En).to_owned(),
                    p.kind.as_str().to_owned(),
                    p.spec.value_type.as_str().to_owned(),
                    p.spec.unit.clone().unwrap_or_default(),
                    range(p.spec.min, p.spec.max),
                    p.period.map(|s| format!("{} s", num(s))).unwrap_or_default(),
                    if p.writable { "yes".into() } else { String::new() },
                    alarm_text(p.alarm.as_ref()),
                ]
            })
            .collect();
        table(
            &mut out,
            &["id", "name (zh)", "name (en)", "kind", "type", "unit", "range", "period", "writable", "alarm"],
            &rows,
        );
    }

    if !m.meters.is_empty() {
        let _ = writeln!(out, "\nMeters ({})", m.meters.len());
        let rows: Vec<Vec<String>> = m
            .meters
            .iter()
            .map(|x| {
                vec![
                    x.id.clone(),
                    x.name.get(Lang::Zh).to_owned(),
                    x.name.get(Lang::En).to_owned(),
                    x.value_type.as_str().to_owned(),
                    x.unit.clone().unwrap_or_default(),
                    x.period.map(|s| format!("{} s", num(s))).unwrap_or_default(),
                ]
            })
            .collect();
        table(&mut out, &["id", "name (zh)", "name (en)", "type", "unit", "period"], &rows);
    }

    if !m.commands.is_empty() {
        let _ = writeln!(out, "\nCommands ({})", m.commands.len());
        let rows: Vec<Vec<String>> = m
            .commands
            .iter()
            .map(|c| {
                vec![
                    c.id.clone(),
                    c.name.get(Lang::Zh).to_owned(),
                    c.name.get(Lang::En).to_owned(),
                    params_text(&c.params),
                    params_text(&c.output),
                ]
            })
            .collect();
        table(&mut out, &["id", "name (zh)", "name (en)", "params", "output"], &rows);
    }

    if !m.alarms.is_empty() {
        let _ = writeln!(out, "\nAlarms ({})", m.alarms.len());
        let rows: Vec<Vec<String>> = m
            .alarms
            .iter()
            .map(|a| {
                vec![
                    a.id.clone(),
                    a.level.to_string(),
                    a.name.get(Lang::Zh).to_owned(),
                    a.name.get(Lang::En).to_owned(),
                    a.pid.clone().unwrap_or_default(),
                ]
            })
            .collect();
        table(&mut out, &["id", "level", "name (zh)", "name (en)", "point"], &rows);
    }

    let mut labels: Vec<(String, &EnumLabels)> = Vec::new();
    for p in &m.properties {
        if let Some(l) = &p.spec.enum_labels {
            labels.push((p.id.clone(), l));
        }
    }
    for p in &m.points {
        if let Some(l) = &p.spec.enum_labels {
            labels.push((p.id.clone(), l));
        }
    }
    for c in &m.commands {
        collect_param_labels(&c.id, &c.params, &mut labels);
        collect_param_labels(&format!("{}→", c.id), &c.output, &mut labels);
    }
    if !labels.is_empty() {
        let _ = writeln!(out, "\nValue labels");
        for (id, l) in labels {
            labels_line(&mut out, &id, Some(l));
        }
    }

    if !m.sub_products.is_empty() {
        let _ = writeln!(out, "\nSub-products ({})", m.sub_products.len());
        let builtin = ModelSet::builtin();
        let rows: Vec<Vec<String>> = m
            .sub_products
            .iter()
            .map(|pk| {
                let known = builtin.get(pk).map(|d| format!("built-in: {}", both(&d.model().name)));
                vec![pk.clone(), known.unwrap_or_default()]
            })
            .collect();
        table(&mut out, &["product key", "model"], &rows);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("product-models").join(name)
    }

    #[test]
    fn tables_align_cjk_text() {
        let mut out = String::new();
        let rows = vec![vec!["Ua".into(), "A相电压".into(), "V".into()], vec!["runState".into(), "x".into(), "".into()]];
        table(&mut out, &["id", "name", "unit"], &rows);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[0], "  id        name     unit");
        assert_eq!(lines[1], "  --------  -------  ----");
        assert_eq!(lines[2], "  Ua        A相电压  V");
        assert_eq!(lines[3], "  runState  x");
    }

    #[test]
    fn summary_of_the_pcs_lists_everything() {
        let doc = read_model_file(example("pcs-100.json")).unwrap();
        let text = summary(&doc);
        for needle in [
            "product key    PK-PCS-100",
            "kind           device",
            "category       pcs",
            "name (zh)      100kW 储能变流器",
            "name (en)      100 kW energy storage PCS",
            "contents       0 ports, 4 properties, 9 points, 2 meters, 4 commands, 6 alarms, 0 sub-products",
            "Points (9)",
            "lo 10 hi 95 db 1",
            "runState: 0=待机 / Standby, 1=充电 / Charging, 2=放电 / Discharging, 3=故障 / Fault",
            "stop.mode: normal=正常停机 / Normal",
            "slots: array<struct{start: string ≤5 chars, power: float -100..100 kW}>",
            "Meters (2)",
            "Alarms (6)",
        ] {
            assert!(text.contains(needle), "missing {needle:?} in\n{text}");
        }
        // Pset row: writable, range and unit in their columns.
        let pset = text.lines().find(|l| l.trim_start().starts_with("Pset")).unwrap();
        assert!(pset.contains("-100..100") && pset.contains("yes") && pset.contains("kW"), "{pset}");
    }

    #[test]
    fn summary_of_the_gateway_shows_ports_properties_and_sub_products() {
        let doc = read_model_file(example("energy-gateway.json")).unwrap();
        let text = summary(&doc);
        for needle in [
            "extensions     x-vendor-notes",
            "9600 8N1",
            "192.168.1.100:502, timeout 1000 ms",
            "dlt645-tcp, iec104",
            "reportPeriod",
            "1..3600",
            "logLevel: error=错误 / Error",
            "delay: int 0..600 s = 0",
            "PK-METER-3P  built-in: 三相多功能电能表 / Three-phase multifunction energy meter",
        ] {
            assert!(text.contains(needle), "missing {needle:?} in\n{text}");
        }
        let period = text.lines().find(|l| l.trim_start().starts_with("reportPeriod")).unwrap();
        for col in ["上报周期", "Report period", "int", " s ", "rw", "60"] {
            assert!(period.contains(col), "{col:?} not in {period}");
        }
    }

    #[test]
    fn validate_reports_ok_lines_and_errors_per_file() {
        let dir = tempfile::tempdir().unwrap();
        let gw = example("energy-gateway.json");
        let meter = example("power-meter-3p.json");
        // A gateway alone validates: its sub-products come from the built-in examples.
        let (out, clean) = validate_report(&[gw.clone(), meter.clone()], &ModelSet::builtin());
        assert!(clean, "{out}");
        assert_eq!(out.lines().count(), 2);
        assert!(out.starts_with(&format!("ok: {} (pk PK-GW-01, gateway, 3 ports, 6 properties, 6 points,", gw.display())), "{out}");

        let text = std::fs::read_to_string(&gw).unwrap().replace("\"PK-PCS-100\"", "\"PK-NOWHERE\"");
        let odd = dir.path().join("odd-gw.json");
        std::fs::write(&odd, text).unwrap();
        let broken = dir.path().join("broken.json");
        std::fs::write(&broken, "{\"modelVersion\": \"1.0\", \"colour\": 1}").unwrap();
        let (out, clean) = validate_report(&[odd.clone(), meter, broken.clone()], &ModelSet::builtin());
        assert!(!clean);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], format!("{}: $.subProducts[1]: no model with product key \"PK-NOWHERE\" is loaded", odd.display()));
        assert!(lines[1].starts_with("ok: "), "{out}");
        let b = broken.display().to_string();
        assert!(lines[2..].iter().all(|l| l.starts_with(&format!("{b}: $"))), "{out}");
        assert!(lines.contains(&format!("{b}: $.colour: unknown key \"colour\"").as_str()), "{out}");
        assert!(lines.contains(&format!("{b}: $: missing required key \"productKey\"").as_str()), "{out}");

        let missing = dir.path().join("missing.json");
        let (out, clean) = validate_report(std::slice::from_ref(&missing), &ModelSet::builtin());
        assert!(!clean);
        assert!(out.starts_with(&format!("{}: $: cannot read", missing.display())), "{out}");
    }
}

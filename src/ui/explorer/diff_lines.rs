//! A diff as the lines the Diff tab shows: `~ meter-1/Ua: 230.1 → 230.4 V` for a CEMS point
//! named by its product model (unit, enum labels, quality words; the model's name on hover),
//! `~ data.id: "1" → "2"` for other JSON, `- line` / `+ line` for text and hex. Computed once
//! per pair of messages; each line is cut so no frame lays out a megabyte.

use serde_json::Value;

use super::diff::{Change, ItemKind, ItemRef, LineOp, PayloadDiff, display_path};
use crate::protocol::model::describe::{both_names, quality_words, short_value};
use crate::protocol::model::matching::GatewayModels;
use crate::protocol::model::{Lang, LocalizedText, ValueSpec};

/// Lines listed at most; the view says how many more there are.
pub const MAX_DIFF_LINES: usize = 5_000;
/// Characters of one line shown at most (a minified payload is one long line).
pub const MAX_LINE_CHARS: usize = 400;
/// Characters of one value shown at most.
const MAX_VALUE_CHARS: usize = 120;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Same,
    Added,
    Removed,
    Changed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffLine {
    pub text: String,
    pub tone: Tone,
    /// The model's name of the item, when a model knows it.
    pub hover: Option<String>,
}

/// The lines of a diff, at most [`MAX_DIFF_LINES`], and how many were left out.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DiffLines {
    pub lines: Vec<DiffLine>,
    pub more: usize,
}

/// Where the names of a gateway's items come from: its product models, found as the device page
/// finds them (the declared model of a sub-device, else the best match for what it reports).
pub struct ItemNames<'a> {
    pub models: GatewayModels<'a>,
    /// The gateway's device id (a point without `sub` is its own).
    pub dev: &'a str,
    pub lang: Lang,
}

/// What the model says about one item.
struct ItemDef<'a> {
    name: &'a LocalizedText,
    spec: Option<&'a ValueSpec>,
    unit: Option<&'a str>,
}

impl<'a> ItemNames<'a> {
    fn def(&self, item: &ItemRef) -> Option<ItemDef<'a>> {
        let sub = item.sub.as_deref().unwrap_or(self.dev);
        let own = self.models.model_of(sub, self.dev, std::iter::once(item.id.as_str()));
        let mut candidates = own.into_iter().chain(self.models.candidates(item.sub.as_deref(), self.dev));
        match item.kind {
            ItemKind::Point => candidates.find_map(|m| m.point(&item.id)).map(|p| ItemDef {
                name: &p.name,
                spec: Some(&p.spec),
                unit: p.spec.unit.as_deref(),
            }),
            ItemKind::Meter => {
                candidates.find_map(|m| m.meter(&item.id)).map(|m| ItemDef { name: &m.name, spec: None, unit: m.unit.as_deref() })
            }
        }
    }
}

/// The diff's lines; `names` names CEMS items (without it, or for unknown items, their ids).
pub fn diff_lines(diff: &PayloadDiff, names: Option<&ItemNames<'_>>) -> DiffLines {
    let total = match diff {
        PayloadDiff::Json(changes) => changes.len(),
        PayloadDiff::Lines(ops) | PayloadDiff::Hex(ops) => ops.len(),
    };
    let lines = match diff {
        PayloadDiff::Json(changes) => changes.iter().take(MAX_DIFF_LINES).map(|c| change_line(c, names)).collect(),
        PayloadDiff::Lines(ops) | PayloadDiff::Hex(ops) => ops
            .iter()
            .take(MAX_DIFF_LINES)
            .map(|op| {
                let (mark, text, tone) = match op {
                    LineOp::Same(l) => (' ', l, Tone::Same),
                    LineOp::Removed(l) => ('-', l, Tone::Removed),
                    LineOp::Added(l) => ('+', l, Tone::Added),
                };
                DiffLine { text: cut(&format!("{mark} {text}")), tone, hover: None }
            })
            .collect(),
    };
    DiffLines { lines, more: total.saturating_sub(MAX_DIFF_LINES) }
}

fn cut(text: &str) -> String {
    if text.chars().count() <= MAX_LINE_CHARS {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(MAX_LINE_CHARS).collect();
    out.push('…');
    out
}

fn short(value: &Value) -> String {
    short_value(value, MAX_VALUE_CHARS)
}

fn change_line(change: &Change, names: Option<&ItemNames<'_>>) -> DiffLine {
    let line = |tone, text: String| DiffLine { text: cut(&text), tone, hover: None };
    match change {
        Change::Added { path, new } => line(Tone::Added, format!("+ {}: {}", display_path(path), short(new))),
        Change::Removed { path, old } => line(Tone::Removed, format!("- {}: {}", display_path(path), short(old))),
        Change::Changed { path, old, new } => line(Tone::Changed, format!("~ {}: {} → {}", display_path(path), short(old), short(new))),
        Change::Item { item, field, old, new } => item_line(item, field.as_deref(), old.as_ref(), new.as_ref(), names),
    }
}

fn item_line(item: &ItemRef, field: Option<&str>, old: Option<&Value>, new: Option<&Value>, names: Option<&ItemNames<'_>>) -> DiffLine {
    let lang = names.map_or(Lang::En, |n| n.lang);
    let def = names.and_then(|n| n.def(item));
    let value = |v: &Value| -> String {
        match field {
            Some("q") => match v.as_u64() {
                Some(q) => format!("{q} ({})", quality_words(q, lang)),
                None => short(v),
            },
            Some(_) => short(v),
            None => match def.as_ref().and_then(|d| d.spec).and_then(|s| s.label_of(v, lang)) {
                Some(label) => format!("{} ({label})", short(v)),
                None => short(v),
            },
        }
    };
    // The unit once, after the last value: `230.1 → 230.4 V`.
    let unit = match (field, def.as_ref().and_then(|d| d.unit)) {
        (None, Some(unit)) if !unit.is_empty() => format!(" {unit}"),
        _ => String::new(),
    };
    let name = match field {
        Some(field) => format!("{}.{field}", item.name()),
        None => item.name(),
    };
    let (mark, tone, values) = match (old, new) {
        (Some(old), Some(new)) => ('~', Tone::Changed, format!("{} → {}", value(old), value(new))),
        (Some(old), None) => ('-', Tone::Removed, value(old)),
        (None, Some(new)) => ('+', Tone::Added, value(new)),
        (None, None) => ('~', Tone::Changed, String::new()),
    };
    DiffLine { text: cut(&format!("{mark} {name}: {values}{unit}")), tone, hover: def.map(|d| both_names(d.name, lang)) }
}

#[cfg(test)]
mod tests {
    use super::super::diff::diff_payloads;
    use super::*;
    use crate::protocol::model::ModelSet;
    use serde_json::json;

    fn texts(lines: &DiffLines) -> Vec<&str> {
        lines.lines.iter().map(|l| l.text.as_str()).collect()
    }

    fn report(points: Value) -> Vec<u8> {
        serde_json::to_vec(&json!({"id": "r", "ts": 1, "ver": "1.0", "data": {"points": points}})).expect("json")
    }

    #[test]
    fn cems_points_are_named_with_their_units_and_labels() {
        let models = ModelSet::builtin();
        let names = ItemNames { models: GatewayModels::new(&models, "PK-GW-01", &[]), dev: "GW-T", lang: Lang::En };
        let a = report(json!([
            {"sub": "meter-1", "pid": "Ua", "v": 230.1, "q": 0, "ts": 1},
            {"sub": "pcs-1", "pid": "runState", "v": 1, "q": 0, "ts": 1},
            {"sub": "GW-T", "pid": "cpuLoad", "v": 10, "q": 0, "ts": 1}]));
        let b = report(json!([
            {"sub": "pcs-1", "pid": "runState", "v": 2, "q": 0, "ts": 1},
            {"sub": "meter-1", "pid": "Ua", "v": 230.4, "q": 2, "ts": 1},
            {"sub": "meter-1", "pid": "nope", "v": 5, "q": 0, "ts": 1}]));
        let lines = diff_lines(&diff_payloads(&a, &b, true), Some(&names));
        let shown = texts(&lines);
        assert_eq!(shown[0], "~ meter-1/Ua: 230.1 → 230.4 V");
        assert_eq!(shown[1], "~ meter-1/Ua.q: 0 (good) → 2 (stale)");
        assert_eq!(shown[2], "~ pcs-1/runState: 1 (Charging) → 2 (Discharging)");
        assert_eq!(shown[3], "- GW-T/cpuLoad: 10 %");
        assert_eq!(shown[4], "+ meter-1/nope: 5", "not in the model: its id, no unit");
        assert_eq!(lines.lines[0].hover.as_deref(), Some("A相电压 / Phase A voltage"));
        assert_eq!(lines.lines[4].hover, None);
        assert_eq!((lines.lines[0].tone, lines.lines[3].tone, lines.lines[4].tone), (Tone::Changed, Tone::Removed, Tone::Added));

        // Without models: ids and values only.
        assert_eq!(texts(&diff_lines(&diff_payloads(&a, &b, true), None))[0], "~ meter-1/Ua: 230.1 → 230.4");
        let zh = ItemNames { lang: Lang::Zh, ..names };
        assert_eq!(texts(&diff_lines(&diff_payloads(&a, &b, true), Some(&zh)))[1], "~ meter-1/Ua.q: 0 (正常) → 2 (过期)");
    }

    #[test]
    fn meter_readings_carry_the_meter_unit() {
        let models = ModelSet::builtin();
        let names = ItemNames { models: GatewayModels::new(&models, "PK-GW-01", &[]), dev: "GW-T", lang: Lang::En };
        let reading = |v: f64| {
            serde_json::to_vec(&json!({"id": "m", "ts": 1, "ver": "1.0", "data": {"readings": [{"sub": "meter-1", "ts": 1, "values": {"EpImp": v}}]}}))
                .expect("json")
        };
        let lines = diff_lines(&diff_payloads(&reading(12.5), &reading(12.75), true), Some(&names));
        assert_eq!(texts(&lines), ["~ meter-1/EpImp: 12.5 → 12.75 kWh"]);
    }

    #[test]
    fn lines_are_bounded() {
        let long = "x".repeat(10_000);
        let lines = diff_lines(&diff_payloads(long.as_bytes(), b"y", false), None);
        assert_eq!(lines.lines[0].text.chars().count(), MAX_LINE_CHARS + 1);
        assert!(lines.lines[0].text.starts_with("- xxx") && lines.lines[0].text.ends_with('…'));
        let many: String = (0..6_000).map(|i| format!("{i}\n")).collect();
        let lines = diff_lines(&diff_payloads(many.as_bytes(), b"", false), None);
        assert_eq!((lines.lines.len(), lines.more), (MAX_DIFF_LINES, 1_000));
        assert_eq!(texts(&diff_lines(&diff_payloads(b"{\"id\":\"1\"}", b"{\"id\":\"2\"}", true), None)), ["~ id: \"1\" → \"2\""]);
    }
}

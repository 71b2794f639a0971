//! What came back for a form: its outcome line (pending until the reply, then code and name,
//! vendor codes with their text, message, latency) and the reply's data as a labelled grid by the
//! model (a command's `output`), with a plain key/value grid where no model says more.

use egui::{Grid, RichText};
use serde_json::Value;

use super::editor::choice_text;
use super::field::field_name;
use crate::engine::GatewayKey;
use crate::engine::gateways::{RequestEnd, RequestRecord};
use crate::protocol::codes;
use crate::protocol::model::{Lang, ParamDef, ValueSpec, ValueType};
use crate::ui::device::requests::request_outcome_ui;
use crate::ui::format::format_number;
use crate::ui::ViewContext;

/// The finished request `id` of gateway `key`, copied out of the record (the lock is let go).
pub fn find_request(ctx: &ViewContext, key: &GatewayKey, id: &str) -> Option<RequestRecord> {
    ctx.state.gateways().get(key).and_then(|g| g.requests.iter().rev().find(|r| r.id == id).cloned())
}

/// The outcome line of the request a form sent: "pending" until it ends, then the shared
/// outcome line, with the code's meaning from the contract table on hover.
pub fn outcome_ui(ui: &mut egui::Ui, ctx: &ViewContext, sent: Option<&str>, done: Option<&RequestRecord>) {
    match (sent, done) {
        (None, _) => {}
        (Some(_), None) => {
            ui.weak(ctx.tr("Pending: waiting for the reply…"));
        }
        (Some(_), Some(r)) => {
            let response = ui.scope(|ui| request_outcome_ui(ui, ctx, r)).response;
            if let RequestEnd::Replied { code, msg, .. } = &r.end {
                response.on_hover_text(codes::meaning(*code, msg.as_deref()).describe(ctx.lang == Lang::Zh));
            }
        }
    }
}

/// What a set request's reply said of `item` (a property key, a port id): its "code msg", when
/// the gateway listed it in `data.failed` (the engine keeps those as "item: code msg").
pub fn item_failure<'r>(done: &'r RequestRecord, item: &str) -> Option<&'r str> {
    done.failed.iter().find_map(|line| line.split_once(": ").filter(|(k, _)| *k == item).map(|(_, rest)| rest))
}

/// True when two wire values say the same (`500` and `500.0` do).
pub fn same_value(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// A value as the page shows it: an enum by its label, a number in the house style.
pub fn value_text(spec: Option<&ValueSpec>, value: &Value, lang: Lang) -> String {
    if let Some(label) = spec.and_then(|s| s.label_of(value, lang)) {
        let key = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        return if label == key { key } else { format!("{label} ({key})") };
    }
    match value {
        Value::Number(n) => n.as_f64().map_or_else(|| n.to_string(), format_number),
        Value::String(s) => s.clone(),
        Value::Null => "–".to_owned(),
        other => other.to_string(),
    }
}

/// One labelled row of a reply: (name, value, unit).
pub type ReplyRow = (String, String, String);

/// The rows of `data` by the `outputs` spec: each declared output in order (struct members and
/// array items nested under their name), then any key the spec does not declare, by its key.
pub fn output_rows(outputs: &[ParamDef], data: &Value, lang: Lang) -> Vec<ReplyRow> {
    let mut rows = Vec::new();
    let Some(obj) = data.as_object() else {
        if !data.is_null() {
            rows.push((String::new(), value_text(None, data, lang), String::new()));
        }
        return rows;
    };
    for def in outputs {
        if let Some(v) = obj.get(&def.id) {
            push_rows(&mut rows, def, &field_name(def, lang), v, lang);
        }
    }
    for (key, v) in obj.iter().filter(|(k, _)| !outputs.iter().any(|d| &d.id == *k)) {
        flat_rows(&mut rows, key, v, lang);
    }
    rows
}

fn push_rows(rows: &mut Vec<ReplyRow>, def: &ParamDef, name: &str, value: &Value, lang: Lang) {
    match (def.spec.value_type, value) {
        (ValueType::Struct, Value::Object(obj)) => {
            for member in &def.fields {
                if let Some(v) = obj.get(&member.id) {
                    push_rows(rows, member, &format!("{name} · {}", field_name(member, lang)), v, lang);
                }
            }
        }
        (ValueType::Array, Value::Array(items)) => match def.items.as_deref() {
            Some(item) => {
                for (i, v) in items.iter().enumerate() {
                    push_rows(rows, item, &format!("{name} [{}]", i + 1), v, lang);
                }
            }
            None => rows.push((name.to_owned(), value.to_string(), String::new())),
        },
        _ => {
            let text = if def.spec.value_type == ValueType::Enum { value.as_str().map_or_else(|| value_text(Some(&def.spec), value, lang), |k| choice_text(def, k, lang)) } else { value_text(Some(&def.spec), value, lang) };
            rows.push((name.to_owned(), text, def.spec.unit.clone().unwrap_or_default()));
        }
    }
}

/// A value no spec describes: objects and arrays flattened into dotted keys.
fn flat_rows(rows: &mut Vec<ReplyRow>, key: &str, value: &Value, lang: Lang) {
    match value {
        Value::Object(obj) if !obj.is_empty() => {
            for (k, v) in obj {
                flat_rows(rows, &format!("{key}.{k}"), v, lang);
            }
        }
        Value::Array(items) if !items.is_empty() && items.len() <= 64 => {
            for (i, v) in items.iter().enumerate() {
                flat_rows(rows, &format!("{key}[{i}]"), v, lang);
            }
        }
        other => rows.push((key.to_owned(), value_text(None, other, lang), String::new())),
    }
}

/// The reply's data as a labelled grid by `outputs` (empty: plain keys); nothing for `{}`.
pub fn reply_data_ui(ui: &mut egui::Ui, ctx: &ViewContext, salt: impl std::hash::Hash + std::fmt::Debug, outputs: &[ParamDef], data: &Value) {
    let rows = output_rows(outputs, data, ctx.lang);
    if rows.is_empty() {
        return;
    }
    Grid::new(("reply_data", salt)).num_columns(3).striped(true).spacing([16.0, 2.0]).show(ui, |ui| {
        for (name, value, unit) in rows {
            ui.weak(name);
            ui.label(RichText::new(value).monospace());
            ui.weak(unit);
            ui.end_row();
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::model::ModelSet;
    use serde_json::json;

    #[test]
    fn a_reply_reads_by_the_output_spec() {
        let set = ModelSet::builtin();
        let pcs = set.get("PK-PCS-100").unwrap().model();
        let start = pcs.command("start").unwrap();
        let rows = output_rows(&start.output, &json!({"runState": 2, "extra": {"a": 1}}), Lang::En);
        assert_eq!(rows[0], ("Run state".to_owned(), "2".to_owned(), String::new()));
        assert_eq!(rows[1], ("extra.a".to_owned(), "1".to_owned(), String::new()));
        assert!(output_rows(&[], &json!({}), Lang::En).is_empty());
        let gw = set.get("PK-GW-01").unwrap().model();
        let level = gw.property("logLevel").unwrap();
        assert_eq!(value_text(Some(&level.spec), &json!("warn"), Lang::En), "Warning (warn)");
        assert_eq!(value_text(None, &json!(2.50), Lang::En), "2.5");
    }
}

//! An answer's `data` as rows (the interface's list, else the object's fields) and the probe's
//! checks as rows of section × interface × check × verdict.

use egui::RichText;
use serde_json::Value;

use crate::api::probe::ProbeReport;
use crate::protocol::app_api::Interface;
use crate::ui::ViewContext;
use crate::ui::widgets::fill;

/// Rows of text: a header and its cells.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Rows {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// A value in one cell: text as it is, anything else as compact JSON.
fn cell(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The interface's list in `data` (`points`, `values`, `series`) as rows, its items' keys as
/// columns in first-seen order; an object without that list as field × value.
pub fn answer_rows(interface: Interface, answer: &Value) -> Rows {
    let data = answer.get("data").unwrap_or(&Value::Null);
    if let Some(items) = data.get(interface.list_key()).and_then(Value::as_array) {
        let mut header: Vec<String> = Vec::new();
        for item in items {
            for key in item.as_object().into_iter().flat_map(|o| o.keys()) {
                if !header.contains(key) {
                    header.push(key.clone());
                }
            }
        }
        let rows = items.iter().map(|item| header.iter().map(|k| item.get(k).map(cell).unwrap_or_default()).collect()).collect();
        return Rows { header, rows };
    }
    // `{"cems": {…}}` (7.1): the one object inside is what to show.
    let mut shown = data;
    while let Some(inner) = shown.as_object().filter(|o| o.len() == 1).and_then(|o| o.values().next()).filter(|v| v.is_object()) {
        shown = inner;
    }
    match shown.as_object() {
        Some(object) => Rows { header: vec!["field".to_owned(), "value".to_owned()], rows: object.iter().map(|(k, v)| vec![k.clone(), cell(v)]).collect() },
        None => Rows::default(),
    }
}

/// Draws rows as a striped grid.
pub fn rows_ui(ui: &mut egui::Ui, id: &str, rows: &Rows) {
    egui::Grid::new(id).striped(true).num_columns(rows.header.len()).show(ui, |ui| {
        for h in &rows.header {
            ui.label(RichText::new(h).strong());
        }
        ui.end_row();
        for row in &rows.rows {
            for c in row {
                ui.label(c);
            }
            ui.end_row();
        }
    });
}

/// The probe's checks and a summary line.
pub fn probe_ui(ui: &mut egui::Ui, view: &ViewContext, report: &ProbeReport) {
    let failed = report.failed().count();
    let summary = fill(view.tr("{n} checks, {failed} failed"), &[("n", &report.checks.len().to_string()), ("failed", &failed.to_string())]);
    let colour = if failed == 0 { ui.visuals().text_color() } else { ui.visuals().error_fg_color };
    ui.label(RichText::new(summary).strong().color(colour));
    egui::Grid::new("app_api_probe").striped(true).num_columns(4).show(ui, |ui| {
        for h in [view.tr("Section"), view.tr("Interface"), view.tr("Check"), view.tr("Verdict")] {
            ui.label(RichText::new(h).strong());
        }
        ui.end_row();
        for check in &report.checks {
            ui.label(&check.section);
            ui.label(&check.interface);
            ui.label(&check.aspect);
            if check.ok {
                ui.label(view.tr("pass"));
            } else {
                let text = format!("{}: {}", view.tr("FAIL"), check.problems.join("; "));
                ui.label(RichText::new(text).color(ui.visuals().error_fg_color));
            }
            ui.end_row();
        }
    });
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::protocol::app_api::{Family, Shape};

    #[test]
    fn a_list_becomes_rows_and_an_object_fields() {
        let points = Interface { family: Family::Static, shape: Shape::CemsFull };
        let answer = json!({"code": 0, "data": {"points": [{"pointId": "a", "online": true}, {"pointId": "b", "x-more": 1}]}});
        let rows = answer_rows(points, &answer);
        assert_eq!(rows.header, ["pointId", "online", "x-more"]);
        assert_eq!(rows.rows, [vec!["a", "true", ""], vec!["b", "", "1"]]);
        let cems = Interface { family: Family::Static, shape: Shape::Cems };
        let rows = answer_rows(cems, &json!({"data": {"cems": {"cemsId": "site-1", "name": {"zh": "x"}}}}));
        assert_eq!(rows.rows, [vec!["cemsId", "site-1"], vec!["name", r#"{"zh":"x"}"#]]);
    }
}

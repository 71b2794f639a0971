//! The dialog on a fixture: read off the UI thread, a rejected row blocks the import until
//! skipped, and confirming gives the model with the rows in it.

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use serde_json::{Value, json};

use super::{ImportDialog, ImportDone};
use crate::protocol::model::Lang;

struct State {
    dialog: ImportDialog,
    doc: Value,
    done: Option<ImportDone>,
}

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/point_tables").join(name)
}

fn harness(table: &str) -> Harness<'static, State> {
    let doc: Value = serde_json::from_str(crate::protocol::model::templates::template_text("meter").unwrap_or("{}")).unwrap_or(json!({}));
    let mut dialog = ImportDialog::new();
    dialog.open(Some(fixture(table)));
    let state = State { dialog, doc, done: None };
    Harness::builder().with_size(egui::vec2(1000.0, 900.0)).with_context_setup(crate::ui::fonts::install).build_ui_state(
        |ui, state: &mut State| {
            if let Some(done) = state.dialog.ui(ui.ctx(), Lang::En, &state.doc) {
                state.done = Some(done);
            }
        },
        state,
    )
}

/// Steps until `text` shows (the read and the plan run on threads).
fn wait_for(harness: &mut Harness<'static, State>, text: &str) {
    for _ in 0..400 {
        harness.step();
        if harness.query_by_label_contains(text).is_some() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("{text:?} never showed");
}

#[test]
fn point_table_dialog_reads_skips_and_imports() {
    let mut harness = harness("bad_rows.csv");
    wait_for(&mut harness, "rows accepted");
    assert!(harness.query_by_label_contains("duplicate id").is_some(), "rejected rows are listed with reasons");
    harness.get_by_label("Import").click();
    harness.run_steps(2);
    assert!(harness.state().done.is_none(), "Import is disabled while rejections remain unskipped");
    harness.get_by_label("Skip rejected rows").click();
    harness.run_steps(2);
    harness.get_by_label("Import").click();
    harness.run_steps(2);
    let done = harness.state().done.as_ref().map(|d| (d.value.clone(), d.summary.clone()));
    let (value, summary) = done.unwrap_or_else(|| panic!("no import"));
    assert!(summary.contains("Imported 2 rows"), "{summary}");
    let ids: Vec<&str> = value["points"].as_array().map(|p| p.iter().filter_map(|i| i["id"].as_str()).collect()).unwrap_or_default();
    assert!(ids.contains(&"Uf") && ids.contains(&"Ua"), "{ids:?}");
    assert!(!harness.state().dialog.is_open());
}

#[test]
fn point_table_dialog_says_why_a_file_is_not_a_table() {
    let mut harness = harness("page.xls");
    wait_for(&mut harness, "HTML");
    assert!(harness.state().dialog.is_open());
}

//! The live list of what is wrong with the model: every schema and semantic error with its JSON
//! path. Choosing one takes the forms and the raw text to that field.

use egui::{ScrollArea, Ui};

use super::doc::EditorDoc;
use crate::ui::ViewContext;
use crate::ui::widgets::fill;

/// The problem list; a click on a row goes to its field.
pub fn problems_ui(ui: &mut Ui, view: &ViewContext, doc: &mut EditorDoc, id_salt: u64) {
    let count = doc.errors().len() + usize::from(doc.raw_error().is_some());
    ui.horizontal(|ui| {
        if doc.is_checking() {
            ui.spinner();
            ui.weak(view.tr("Checking the model…"));
        }
        if let Some(e) = doc.raw_error() {
            ui.colored_label(ui.visuals().error_fg_color, format!("{}: {e}", view.tr("Raw JSON")));
        }
        if count == 0 {
            ui.colored_label(crate::ui::widgets::ok_color(ui.visuals()), format!("✔ {}", view.tr("No problems: the model is valid.")));
        } else {
            let text = if count == 1 { view.tr("1 problem").to_owned() } else { fill(view.tr("{n} problems"), &[("n", &count.to_string())]) };
            ui.colored_label(ui.visuals().error_fg_color, text);
            ui.weak(view.tr("(click one to go to its field)"));
        }
    });
    let mut go = None;
    let row_height = ui.spacing().interact_size.y;
    let rows = doc.errors().len();
    ScrollArea::vertical().id_salt(("model_problems", id_salt)).auto_shrink([false, false]).show_rows(ui, row_height, rows, |ui, range| {
        for error in &doc.errors()[range] {
            let text = format!("{}  {}", error.path, error.message);
            let chosen = doc.focus.as_deref() == Some(error.path.as_str());
            if ui.selectable_label(chosen, text).on_hover_text(view.tr("Go to this field")).clicked() {
                go = Some(error.path.clone());
            }
        }
    });
    if let Some(path) = go {
        doc.go_to(&path);
    }
}

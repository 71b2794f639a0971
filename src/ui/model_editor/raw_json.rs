//! The raw JSON beside the forms: the model's text, editable. What is typed becomes the model as
//! soon as it is JSON; until then the reason is shown and the forms wait.

use egui::text::{CCursor, CCursorRange};
use egui::{ScrollArea, TextEdit, Ui};

use super::doc::EditorDoc;
use crate::ui::ViewContext;

/// Raw text larger than this is shown read-only: egui lays out a TextEdit's whole text every
/// frame, and a model of a 50,000-row import is several megabytes.
pub const EDITABLE_RAW_BYTES: usize = 1024 * 1024;

pub fn raw_json_ui(ui: &mut Ui, view: &ViewContext, doc: &mut EditorDoc, id_salt: u64) {
    ui.horizontal(|ui| {
        ui.strong(view.tr("Raw JSON"));
        match doc.raw_error() {
            Some(e) => {
                ui.colored_label(ui.visuals().error_fg_color, format!("{}: {e}", view.tr("Not JSON")));
            }
            None => {
                ui.weak(view.tr("in sync with the forms"));
            }
        }
    });
    if doc.raw_is_stale() {
        ui.weak(view.tr("Too large to edit here: use the forms, or another editor."));
        return;
    }
    let big = doc.raw_text().len() > EDITABLE_RAW_BYTES;
    if big {
        ui.weak(view.tr("Too large to edit here: use the forms, or another editor."));
    }
    let id = egui::Id::NULL.with(("model_raw_json", id_salt));
    if let Some(range) = doc.raw_focus.take() {
        select(ui.ctx(), id, doc.raw_text(), range);
    }
    ScrollArea::both().id_salt(("model_raw_scroll", id_salt)).auto_shrink([false, false]).show(ui, |ui| {
        if big {
            // Read-only view of the first part: laying out megabytes each frame would stall.
            let mut head: &str = doc.raw_text().get(..EDITABLE_RAW_BYTES).unwrap_or("");
            ui.add(TextEdit::multiline(&mut head).id(id).code_editor().desired_width(f32::INFINITY));
            return;
        }
        let mut text = doc.raw_text().to_owned();
        let edit = TextEdit::multiline(&mut text).id(id).code_editor().desired_width(f32::INFINITY).desired_rows(30);
        let response = ui.add(edit).on_hover_text(view.tr("Edit the model's JSON; the forms follow when it parses"));
        if response.changed() {
            doc.raw_edited(text);
        }
    });
}

/// Selects the byte `range` of `text` in the text field `id` and gives it the focus, so it
/// scrolls there.
fn select(ctx: &egui::Context, id: egui::Id, text: &str, range: std::ops::Range<usize>) {
    let chars = |byte: usize| text.get(..byte.min(text.len())).map_or(0, |s| s.chars().count());
    let mut state = egui::text_edit::TextEditState::load(ctx, id).unwrap_or_default();
    state.cursor.set_char_range(Some(CCursorRange::two(CCursor::new(chars(range.start)), CCursor::new(chars(range.end)))));
    state.store(ctx, id);
    ctx.memory_mut(|m| m.request_focus(id));
}

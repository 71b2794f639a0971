//! The dialog's tables: the column → field grid over a preview of the first rows, and the
//! rejected rows and validation errors.

use egui::{ComboBox, Grid, RichText, ScrollArea};

use crate::config::point_table::{ColumnField, ImportPlan, Table, column_letter};
use crate::protocol::model::Lang;
use crate::ui::i18n;

/// Rows shown under the header.
const PREVIEW_ROWS: usize = 8;
/// Rejected rows and errors listed (the counts say how many there are).
const LISTED: usize = 500;

/// One combo box per column (the guess preselected) above the header and the first rows.
pub fn mapping_ui(ui: &mut egui::Ui, lang: Lang, table: &Table, header_index: usize, mapping: &mut Vec<ColumnField>) {
    let Some(header) = table.rows.get(header_index) else { return };
    let width = table.rows.iter().skip(header_index).take(PREVIEW_ROWS + 1).map(|r| r.cells.len()).max().unwrap_or(0);
    if mapping.len() < width {
        mapping.resize(width, ColumnField::Ignore);
    }
    ui.label(i18n::tr(lang, "Columns: choose the field each one fills."));
    let choices = ColumnField::choices();
    ScrollArea::horizontal().id_salt("import-mapping").show(ui, |ui| {
        Grid::new("import-mapping-grid").striped(true).min_col_width(90.0).show(ui, |ui| {
            ui.label("");
            for column in 0..width {
                ui.strong(column_letter(column));
            }
            ui.end_row();
            ui.label(i18n::tr(lang, "Field"));
            for (column, field) in mapping.iter_mut().enumerate().take(width) {
                let heading = header.cells.get(column).cloned().unwrap_or_else(|| column_letter(column));
                ComboBox::from_id_salt(("import-field", column)).selected_text(field_label(lang, field)).show_ui(ui, |ui| {
                    for choice in &choices {
                        ui.selectable_value(field, choice.clone(), field_label(lang, choice));
                    }
                })
                .response
                .on_hover_text(heading);
            }
            ui.end_row();
            ui.label(RichText::new(format!("{}", header.number)).weak());
            for column in 0..width {
                ui.strong(header.cells.get(column).map_or("", String::as_str));
            }
            ui.end_row();
            for row in table.rows.iter().skip(header_index + 1).take(PREVIEW_ROWS) {
                ui.label(RichText::new(format!("{}", row.number)).weak());
                for column in 0..width {
                    ui.label(row.cells.get(column).map_or("", String::as_str));
                }
                ui.end_row();
            }
        });
    });
}

/// A field as the picker shows it: its spelling, "—" for none.
fn field_label(lang: Lang, field: &ColumnField) -> String {
    match field {
        ColumnField::Ignore => i18n::tr(lang, "(not imported)").to_owned(),
        other => other.name(),
    }
}

/// The rejected rows with their reasons, and the model's errors after the import.
pub fn problems_ui(ui: &mut egui::Ui, lang: Lang, plan: &ImportPlan, errors: &[String]) {
    let tr = |key: &'static str| i18n::tr(lang, key);
    if plan.rejected.is_empty() && errors.is_empty() {
        return;
    }
    let error_color = ui.visuals().error_fg_color;
    ScrollArea::vertical().id_salt("import-problems").max_height(180.0).show(ui, |ui| {
        if !plan.rejected.is_empty() {
            ui.strong(tr("Rejected rows"));
            Grid::new("import-rejected").striped(true).show(ui, |ui| {
                for r in plan.rejected.iter().take(LISTED) {
                    ui.label(format!("{}", r.row));
                    ui.label(r.id.as_deref().unwrap_or("—"));
                    ui.colored_label(error_color, r.reason.as_str());
                    ui.end_row();
                }
            });
        }
        if !errors.is_empty() {
            ui.strong(tr("The model would not validate after the import"));
            for e in errors.iter().take(LISTED) {
                ui.colored_label(error_color, e.as_str());
            }
        }
    });
}

//! Forms for every section of a product model, editing the one `serde_json::Value` the editor
//! shares with the raw JSON pane. They never assume the document is well shaped (the raw pane
//! lets anything through): a part of the wrong shape is named and left alone.
//!
//! - `fields`: one-line widgets that edit a key of a JSON object in place (text, number, names
//!   in both languages, choices, a checkbox, text with a menu), each outlined red when the
//!   validation names its path, and keys inserted in the example models' order.
//! - `table`: a list section as a virtualised table with add, remove, duplicate and reorder, and
//!   the selected row's details under it.
//! - one file per section; `commands` holds the nested parameter tree.

mod alarms;
mod commands;
mod enum_labels;
mod fields;
mod identity;
mod meters;
mod metric_map;
mod points;
mod ports;
mod properties;
mod shape;
mod sub_products;
mod table;
#[cfg(test)]
mod tests;
mod units;

use serde_json::Value;

use crate::protocol::model::{Lang, ModelError};

/// A tab of the model editor's forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Section {
    Identity,
    Ports,
    Properties,
    Points,
    Meters,
    Commands,
    Alarms,
    SubProducts,
}

impl Section {
    pub const ALL: [Section; 8] = [
        Section::Identity,
        Section::Ports,
        Section::Properties,
        Section::Points,
        Section::Meters,
        Section::Commands,
        Section::Alarms,
        Section::SubProducts,
    ];

    /// Catalogue key of its tab title ("Identity", "Points", …).
    pub fn title(self) -> &'static str {
        match self {
            Section::Identity => "Identity",
            Section::Ports => "Ports",
            Section::Properties => "Properties",
            Section::Points => "Points",
            Section::Meters => "Meters",
            Section::Commands => "Commands",
            Section::Alarms => "Alarms",
            Section::SubProducts => "Sub-products",
        }
    }

    /// The key of its list in the document; None for Identity (the top-level scalars).
    fn list_key(self) -> Option<&'static str> {
        Some(match self {
            Section::Identity => return None,
            Section::Ports => "ports",
            Section::Properties => "properties",
            Section::Points => "points",
            Section::Meters => "meters",
            Section::Commands => "commands",
            Section::Alarms => "alarms",
            Section::SubProducts => "subProducts",
        })
    }

    /// The section a JSON path such as `$.points[3].min` falls in (`$`, `$.name` … → Identity).
    pub fn of_path(path: &str) -> Section {
        let rest = path.strip_prefix("$.").unwrap_or("");
        let key = rest.split(['.', '[']).next().unwrap_or("");
        Section::ALL.into_iter().find(|s| s.list_key() == Some(key)).unwrap_or(Section::Identity)
    }
}

/// What a form needs besides the document.
pub struct FormCtx<'a> {
    pub lang: Lang,
    /// The JSON path chosen in the error list: that field is scrolled to and highlighted once.
    pub focus: Option<&'a str>,
    /// Current validation errors; a field whose path has one is outlined red with the message on hover.
    pub errors: &'a [ModelError],
    /// Product keys of known models, offered for subProducts.
    pub known_product_keys: &'a [String],
}

/// What a frame of a form did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct FormEdit {
    /// The document changed this frame.
    pub changed: bool,
    /// JSON path of the text/number field being typed into, so the shell can fold keystrokes in one
    /// field into one undo step; None for structural edits (add, remove, duplicate, move, combo choice).
    pub field: Option<String>,
}

/// Draws the form of a metric map over `doc` and edits it in place.
pub fn metric_map_ui(ui: &mut egui::Ui, doc: &mut Value, cx: &FormCtx<'_>) -> FormEdit {
    let mut edit = FormEdit::default();
    let focus = fields::new_focus(ui, cx.focus);
    let mut form = fields::Form::new(cx, &mut edit, focus);
    ui.push_id("model_editor_metric_map", |ui| match doc.as_object_mut() {
        Some(root) => metric_map::ui(ui, &mut form, root),
        None => {
            ui.colored_label(ui.visuals().error_fg_color, form.tr("The model is not a JSON object: fix it in the raw JSON."));
        }
    });
    edit
}

/// Draws the form of `section` over `doc` and edits it in place.
pub fn section_ui(ui: &mut egui::Ui, section: Section, doc: &mut Value, cx: &FormCtx<'_>) -> FormEdit {
    let mut edit = FormEdit::default();
    let focus = fields::new_focus(ui, cx.focus);
    let mut form = fields::Form::new(cx, &mut edit, focus);
    ui.push_id(("model_editor_forms", section), |ui| {
        let Some(root) = doc.as_object_mut() else {
            ui.colored_label(ui.visuals().error_fg_color, form.tr("The model is not a JSON object: fix it in the raw JSON."));
            return;
        };
        match section {
            Section::Identity => identity::ui(ui, &mut form, root),
            Section::Ports => ports::ui(ui, &mut form, root),
            Section::Properties => properties::ui(ui, &mut form, root),
            Section::Points => points::ui(ui, &mut form, root),
            Section::Meters => meters::ui(ui, &mut form, root),
            Section::Commands => commands::ui(ui, &mut form, root),
            Section::Alarms => alarms::ui(ui, &mut form, root),
            Section::SubProducts => sub_products::ui(ui, &mut form, root),
        }
    });
    edit
}

//! A list section as a table: one line per item (virtualised, so 50,000 points stay smooth), with
//! add, remove, duplicate and move up/down; the selected item's details drawn under the table.

use std::collections::{HashMap, HashSet};

use egui::{Button, Id, RichText, ScrollArea, Ui};
use serde_json::{Map, Value};

use super::fields::{Form, TOP_ORDER, insert_in};
use super::shape::{wrong_shape_ui};
use crate::protocol::model::ModelError;
use crate::ui::widgets::fill;

/// A column of a table: its title (a catalogue key) and width.
pub(super) struct Column {
    pub title: &'static str,
    pub width: f32,
}

/// What a table needs to know about its list.
pub(super) struct ListSpec<'s> {
    /// Key of the list in the document (`points`).
    pub key: &'static str,
    pub columns: &'s [Column],
    /// A new item for the list as it is (an id not yet used).
    pub new_item: &'s dyn Fn(&[Value]) -> Value,
}

/// Takes `root[key]` out (Null when absent) so `f` may edit it while reading the rest of the
/// model, then puts it back in its place (a new list where the example models put it).
pub(super) fn with_list<R>(root: &mut Map<String, Value>, key: &str, f: impl FnOnce(&mut Value, &Map<String, Value>) -> R) -> R {
    let mut list = root.get_mut(key).map(Value::take).unwrap_or(Value::Null);
    let out = f(&mut list, root);
    match root.get_mut(key) {
        Some(slot) => *slot = list,
        None if !list.is_null() => insert_in(root, TOP_ORDER, key, list),
        None => {}
    }
    out
}

/// `base` + `_N`, the first not in `taken` (`point_1`, `point_2`, …).
pub(super) fn unique_id(base: &str, taken: &HashSet<&str>) -> String {
    (1..).map(|n| format!("{base}_{n}")).find(|id| !taken.contains(id.as_str())).unwrap_or_else(|| base.to_owned())
}

/// The ids of the object items of `items`.
pub(super) fn ids(items: &[Value]) -> HashSet<&str> {
    items.iter().filter_map(|i| i.get("id").and_then(Value::as_str)).collect()
}

/// A copy of `item` for its list: `<id>_copy` (then `_copy2`, …) so ids stay unique; a string
/// item gets the same suffix.
pub(super) fn duplicate_of(item: &Value, items: &[Value]) -> Value {
    let fresh = |base: &str, taken: &HashSet<&str>| {
        let first = format!("{base}_copy");
        if !taken.contains(first.as_str()) {
            return first;
        }
        (2..).map(|n| format!("{base}_copy{n}")).find(|id| !taken.contains(id.as_str())).unwrap_or(first)
    };
    match item {
        Value::Object(map) => {
            let mut copy = map.clone();
            if let Some(id) = map.get("id").and_then(Value::as_str) {
                copy.insert("id".into(), Value::String(fresh(id, &ids(items))));
            }
            Value::Object(copy)
        }
        Value::String(s) => {
            let taken: HashSet<&str> = items.iter().filter_map(Value::as_str).collect();
            Value::String(fresh(s, &taken))
        }
        other => other.clone(),
    }
}

/// What a row's buttons asked for; applied once the rows are drawn.
#[derive(Clone, Copy)]
pub(super) enum RowAction {
    Remove(usize),
    Duplicate(usize),
    Up(usize),
    Down(usize),
}

/// Applies `action` to `items`; returns the row to select after it.
pub(super) fn apply(items: &mut Vec<Value>, action: RowAction) -> Option<usize> {
    match action {
        RowAction::Remove(i) if i < items.len() => {
            items.remove(i);
            (!items.is_empty()).then(|| i.min(items.len() - 1))
        }
        RowAction::Duplicate(i) if i < items.len() => {
            let copy = duplicate_of(&items[i], items);
            items.insert(i + 1, copy);
            Some(i + 1)
        }
        RowAction::Up(i) if i > 0 && i < items.len() => {
            items.swap(i - 1, i);
            Some(i - 1)
        }
        RowAction::Down(i) if i + 1 < items.len() => {
            items.swap(i, i + 1);
            Some(i + 1)
        }
        _ => None,
    }
}

/// The four row buttons; the action clicked, if any.
pub(super) fn row_buttons_ui(ui: &mut Ui, form: &Form, i: usize, len: usize) -> Option<RowAction> {
    let mut action = None;
    let mut button = |ui: &mut Ui, icon: &str, name: &'static str, enabled: bool, what: RowAction| {
        let name = form.tr(name);
        if ui.add_enabled(enabled, Button::new(icon).small()).accessible_name(name).on_hover_text(name).clicked() {
            action = Some(what);
        }
    };
    button(ui, "📋", "Duplicate", true, RowAction::Duplicate(i));
    button(ui, "⏶", "Move up", i > 0, RowAction::Up(i));
    button(ui, "⏷", "Move down", i + 1 < len, RowAction::Down(i));
    button(ui, "✖", "Remove", true, RowAction::Remove(i));
    action
}

/// Errors of `list_path` by row index (`$.points[3]…` → 3).
fn errors_by_row<'c>(errors: &[&'c ModelError], list_path: &str) -> HashMap<usize, Vec<&'c ModelError>> {
    let mut rows: HashMap<usize, Vec<&ModelError>> = HashMap::new();
    let prefix = format!("{list_path}[");
    for e in errors {
        let Some(rest) = e.path.strip_prefix(&prefix) else { continue };
        if let Some(i) = rest.split(']').next().and_then(|n| n.parse().ok()) {
            rows.entry(i).or_default().push(e);
        }
    }
    rows
}

/// The row index the pending focus points into.
fn focus_row(form: &Form, list_path: &str) -> Option<usize> {
    let rest = form.focus.as_deref()?.strip_prefix(list_path)?.strip_prefix('[')?;
    rest.split(']').next()?.parse().ok()
}

/// The selected row of the table at `id`.
fn selected(ui: &Ui, id: Id) -> Option<usize> {
    ui.data(|d| d.get_temp(id))
}

fn select(ui: &Ui, id: Id, row: Option<usize>) {
    ui.data_mut(|d| match row {
        Some(r) => {
            d.insert_temp(id, r);
        }
        None => {
            d.remove::<usize>(id);
        }
    });
}

/// The table of `list` (`root[spec.key]` taken out by [`with_list`]). `row` draws one line of
/// the columns for item i (path `$.key[i]`); `details` draws the selected item under the table.
pub(super) fn table_ui(
    ui: &mut Ui,
    form: &mut Form,
    list: &mut Value,
    spec: &ListSpec,
    mut row: impl FnMut(&mut Ui, &mut Form, &mut Value, &str),
    details: impl FnOnce(&mut Ui, &mut Form, &mut Value, &str),
) {
    let list_path = format!("$.{}", spec.key);
    if !matches!(list, Value::Null | Value::Array(_)) {
        let text = fill(form.tr("`{key}` is not a list: fix it in the raw JSON."), &[("key", spec.key)]);
        wrong_shape_ui(ui, text);
        return;
    }
    let sel_id = ui.make_persistent_id(("model_editor_selected", spec.key));
    let len = list.as_array().map_or(0, Vec::len);
    ui.horizontal(|ui| {
        if ui.button(form.tr("➕ Add")).clicked() {
            if list.is_null() {
                *list = Value::Array(Vec::new());
            }
            if let Value::Array(items) = list {
                let item = (spec.new_item)(items);
                items.push(item);
                select(ui, sel_id, Some(items.len() - 1));
                ui.data_mut(|d| d.insert_temp(sel_id.with("scroll"), items.len() - 1));
                form.structural();
            }
        }
        ui.weak(fill(form.tr("{n} entries"), &[("n", &len.to_string())]));
    });
    let Value::Array(items) = list else {
        ui.weak(form.tr("None yet."));
        return;
    };
    let by_row = errors_by_row(&form.errors, &list_path);
    let mut scroll_to: Option<usize> = ui.data_mut(|d| d.remove_temp(sel_id.with("scroll")));
    if let Some(i) = focus_row(form, &list_path).filter(|i| *i < items.len()) {
        select(ui, sel_id, Some(i));
        scroll_to = Some(i);
    }
    let row_height = ui.spacing().interact_size.y;
    let spacing = ui.spacing().item_spacing.y;
    let max_height = (ui.clip_rect().height() - 260.0).max(160.0);
    let mut action = None;
    let mut chosen = None;
    ScrollArea::horizontal().id_salt(("model_editor_table_h", spec.key)).auto_shrink([false, true]).show(ui, |ui| {
        ui.horizontal(|ui| {
            ui.add_sized([44.0, row_height], egui::Label::new(RichText::new("#").strong()));
            for column in spec.columns {
                ui.add_sized([column.width, row_height], egui::Label::new(RichText::new(form.tr(column.title)).strong()));
            }
        });
        let mut area = ScrollArea::vertical().id_salt(("model_editor_table_v", spec.key)).max_height(max_height).auto_shrink([false, true]);
        if let Some(i) = scroll_to {
            area = area.vertical_scroll_offset(((i as f32) - 2.0).max(0.0) * (row_height + spacing));
        }
        let current = selected(ui, sel_id);
        area.show_rows(ui, row_height, items.len(), |ui, range| {
            for i in range {
                let path = format!("{list_path}[{i}]");
                let row_errors = by_row.get(&i).cloned().unwrap_or_default();
                ui.push_id(i, |ui| {
                    ui.horizontal(|ui| {
                        let mut index = RichText::new(i.to_string());
                        if !row_errors.is_empty() {
                            index = index.color(ui.visuals().error_fg_color);
                        }
                        let mut marker = ui.add_sized([44.0, row_height], Button::selectable(current == Some(i), index));
                        if !row_errors.is_empty() {
                            let messages: Vec<String> = row_errors.iter().map(|e| format!("{}: {}", e.path, e.message)).collect();
                            marker = marker.on_hover_text(messages.join("\n"));
                        }
                        if marker.clicked() {
                            chosen = Some(i);
                        }
                        let before = form.edits();
                        let len = items.len();
                        form.with_errors(row_errors, |form| row(ui, form, &mut items[i], &path));
                        if form.edits() != before {
                            chosen = Some(i);
                        }
                        if let Some(a) = row_buttons_ui(ui, form, i, len) {
                            action = Some(a);
                        }
                    });
                });
            }
        });
    });
    if let Some(i) = chosen {
        select(ui, sel_id, Some(i));
    }
    if let Some(a) = action {
        let next = apply(items, a);
        select(ui, sel_id, next);
        form.structural();
    }
    let Some(i) = selected(ui, sel_id).filter(|i| *i < items.len()) else {
        form.focus = None;
        return;
    };
    ui.separator();
    let path = format!("{list_path}[{i}]");
    let row_errors = by_row.get(&i).cloned().unwrap_or_default();
    ui.push_id(("details", i), |ui| {
        form.with_errors(row_errors, |form| details(ui, form, &mut items[i], &path));
    });
    // A chosen path no field shows (a missing key): its row is selected, which is all we can do.
    form.focus = None;
}

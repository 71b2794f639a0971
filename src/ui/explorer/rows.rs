//! One row of the topic tree: what it shows, read from the store for the rows on screen only,
//! and how it is drawn (the search's matches marked in its name and preview, the counts of what
//! matched under a search, a right-click menu).

use egui::text::{LayoutJob, TextFormat};
use egui::{Button, Label, RichText, Sense, TextStyle, Ui, vec2};

use super::actions::{self, RetainedDelete};
use super::highlight;
use super::pins::{self, PinCover};
use super::tree::{self, FlatRow, SearchHits};
use crate::engine::store::{MessageStore, PINNED_SHARE_PERCENT};
use crate::ui::ViewContext;

/// Characters of a leaf's latest payload shown in its row.
const PREVIEW_CHARS: usize = 80;
/// Width of a row's expand/collapse button.
const TOGGLE_WIDTH: f32 = 16.0;

/// What a row shows.
#[derive(Debug, Clone)]
pub struct RowView {
    pub row: FlatRow,
    pub path: String,
    pub name: String,
    pub child_count: usize,
    /// Topics and messages at and below it; under a search, those that matched.
    pub topics: usize,
    pub messages: usize,
    pub retained: bool,
    pub preview: Option<String>,
    /// The pin that keeps this row's topics when the store is full, if one does.
    pub pin: Option<PinCover>,
}

impl RowView {
    pub fn read(store: &MessageStore, row: &FlatRow, hits: Option<&SearchHits>) -> Option<RowView> {
        let node = store.node(row.id)?;
        let path = store.path_of(row.id)?;
        let preview = if node.child_count() == 0 {
            store.latest(row.id).map(|m| tree::preview(&m.payload, PREVIEW_CHARS))
        } else {
            None
        };
        let (topics, messages) = match hits {
            Some(hits) => hits.counts.get(&row.id).copied().unwrap_or_default(),
            None => (node.topics(), node.messages()),
        };
        Some(RowView {
            row: *row,
            name: node.name().to_owned(),
            child_count: node.child_count(),
            topics,
            messages,
            retained: node.retained() && node.is_topic(),
            preview,
            pin: pins::cover(store.pinned(), &path, node.child_count() > 0),
            path,
        })
    }
}

pub enum TreeAction {
    Toggle { path: String, child_count: usize },
    Select(String),
    DeleteRetained(RetainedDelete),
    Pin { prefix: String, pinned: bool },
}

/// Draws one row; `query` is the search text (empty without a search).
pub fn row_ui(
    ui: &mut Ui,
    ctx: &ViewContext,
    view: &RowView,
    selected: Option<&str>,
    query: &str,
    row_height: f32,
    actions: &mut Vec<TreeAction>,
) {
    let searching = !query.is_empty();
    ui.horizontal(|ui| {
        ui.add_space(view.row.depth as f32 * ui.spacing().indent);
        let toggle = || TreeAction::Toggle { path: view.path.clone(), child_count: view.child_count };
        if view.row.has_children && !searching {
            let icon = if view.row.open { "⏷" } else { "⏵" };
            let button = ui
                .add_sized([TOGGLE_WIDTH, row_height], Button::new(icon).frame(false))
                .on_hover_text(ctx.tr("Expand or collapse"));
            if button.clicked() {
                actions.push(toggle());
            }
        } else {
            ui.allocate_exact_size(vec2(TOGGLE_WIDTH, row_height), Sense::hover());
        }
        let name = if view.name.is_empty() { "\"\"" } else { view.name.as_str() };
        let is_selected = selected == Some(view.path.as_str());
        let mark = highlight::mark_color(ui.visuals());
        // The placeholder takes the button's own text colour (selected, hovered).
        let format = TextFormat { font_id: TextStyle::Button.resolve(ui.style()), color: egui::Color32::PLACEHOLDER, ..Default::default() };
        let mut label = LayoutJob::default();
        highlight::append(&mut label, name, query, &format, mark);
        label.append(&tree::row_label("", view.topics, view.messages), 0.0, format);
        let response = ui.selectable_label(is_selected, label);
        if response.clicked() {
            actions.push(TreeAction::Select(view.path.clone()));
        }
        if response.double_clicked() && view.row.has_children && !searching {
            actions.push(toggle());
        }
        response.context_menu(|ui| {
            // Read only while the menu is open: the latest message, for its payload and flags.
            let latest = {
                let store = ctx.state.store();
                store.latest(view.row.id).cloned()
            };
            if let Some(asked) = actions::menu_ui(ui, ctx, &view.path, latest.as_ref()) {
                actions.push(TreeAction::DeleteRetained(asked));
            }
            ui.separator();
            if let Some((prefix, pinned)) = pins::menu_ui(ui, ctx, &view.path, view.child_count > 0, view.pin.as_ref()) {
                actions.push(TreeAction::Pin { prefix, pinned });
            }
        });
        if let Some(pin) = &view.pin {
            let hover = ctx.tr("Pinned ({prefix}): kept when the store is full, up to {share} % of its budget.")
                .replace("{prefix}", &pin.prefix)
                .replace("{share}", &PINNED_SHARE_PERCENT.to_string());
            ui.label(RichText::new("📌").small()).on_hover_text(hover);
        }
        if view.retained {
            ui.label(RichText::new(ctx.tr("retained")).small().color(ui.visuals().hyperlink_color))
                .on_hover_text(ctx.tr("The last message on this topic had the retain flag."));
        }
        if let Some(preview) = &view.preview {
            let format = TextFormat {
                font_id: TextStyle::Monospace.resolve(ui.style()),
                color: ui.visuals().weak_text_color(),
                ..Default::default()
            };
            let mut job = LayoutJob::default();
            highlight::append(&mut job, preview, query, &format, mark);
            ui.add(Label::new(job).truncate());
        }
    });
}

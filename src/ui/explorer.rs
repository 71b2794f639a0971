//! The topic explorer: a tree of every topic in the message store with per-subtree counts, a
//! live search over topics and latest payloads (its matches marked in the tree and the payload,
//! the counts narrowed to what matched), and the selected topic's messages (history, annotated
//! JSON, raw, hex, diff) beside it, or below it on narrow windows. A right-click on a topic or a
//! message copies it or deletes a retained message, after a confirmation shown above the tree.
//!
//! Selection and open levels are kept by topic path, never by row, so they survive new topics,
//! evictions and re-sorting. Only the rows on screen are laid out: the open part of the tree is
//! flattened into lightweight rows (re-flattened only when the tree's shape, the open levels or
//! the search change) and each frame reads names, counts and previews for the visible rows
//! alone, under a brief read lock.

pub mod actions;
pub mod annotate;
pub mod diff;
mod diff_items;
pub mod diff_lines;
pub mod hex;
pub mod highlight;
mod message_view;
mod payload_view;
pub mod pins;
mod rows;
pub mod tree;

use egui::{Key, ScrollArea, TextEdit, Ui, vec2};

use super::{UiCommand, ViewContext};
use crate::engine::series::SeriesKey;
use crate::engine::store::{MessageStore, NodeId};
use actions::RetainedDelete;
use message_view::MessageView;
use rows::{RowView, TreeAction, row_ui};
use tree::{FlatRow, OpenState, SearchHits};

/// Smallest size the explorer is usable at; below [`STACK_BELOW_WIDTH`] it stacks the tree above
/// the messages.
pub const MIN_SIZE: egui::Vec2 = vec2(420.0, 360.0);
/// Narrower than this, the message view goes below the tree instead of beside it.
pub const STACK_BELOW_WIDTH: f32 = 720.0;

/// Topics a search shows at most (with their ancestors).
const SEARCH_LIMIT: usize = 5_000;
/// A search is redone on new messages at most this often.
const SEARCH_REFRESH_MS: i64 = 300;

#[derive(Debug)]
struct SearchCache {
    query: String,
    root: NodeId,
    received: u64,
    at_ms: i64,
    hits: SearchHits,
    generation: u64,
}

/// What the flattened rows depend on. The tree's shape only changes when a topic appears (the
/// topic count grows) or a clear or eviction happens, so messages to known topics do not cost
/// a re-flattening.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct RowsKey {
    root: NodeId,
    topics: usize,
    evicted: u64,
    open: u64,
    search: Option<u64>,
}

/// The topic explorer panel.
#[derive(Debug, Default)]
pub struct ExplorerPanel {
    selected: Option<String>,
    search: String,
    open: OpenState,
    /// Set by [`Self::select`]: scroll the tree to the selection once it is in the rows.
    scroll_to_selected: bool,
    hits: Option<SearchCache>,
    search_generation: u64,
    rows: Vec<FlatRow>,
    rows_key: Option<RowsKey>,
    message: MessageView,
    /// A retained message waiting for the user to confirm its deletion.
    confirm_delete: Option<RetainedDelete>,
}

impl ExplorerPanel {
    pub fn ui(&mut self, ui: &mut Ui, ctx: &ViewContext, commands: &mut Vec<UiCommand>) {
        self.toolbar_ui(ui, ctx, commands);
        if let Some(pending) = &self.confirm_delete
            && !actions::confirm_ui(ui, ctx, pending, commands)
        {
            self.confirm_delete = None;
        }
        ui.separator();
        let frame = egui::Frame::NONE.inner_margin(egui::Margin::same(2));
        if ui.available_width() < STACK_BELOW_WIDTH {
            egui::Panel::top("explorer_tree_top")
                .resizable(true)
                .frame(frame)
                .default_size((ui.available_height() * 0.45).max(120.0))
                .min_size(80.0)
                .show(ui, |ui| self.tree_ui(ui, ctx, commands));
        } else {
            egui::Panel::left("explorer_tree_left")
                .resizable(true)
                .frame(frame)
                .default_size((ui.available_width() * 0.4).max(300.0))
                .min_size(200.0)
                .show(ui, |ui| self.tree_ui(ui, ctx, commands));
        }
        let query = self.hits.as_ref().map(|h| h.query.clone()).unwrap_or_default();
        egui::CentralPanel::no_frame().show(ui, |ui| match self.selected.clone() {
            Some(topic) => {
                if let Some(asked) = self.message.ui(ui, ctx, &topic, &query) {
                    self.confirm_delete = Some(asked);
                }
                if let Some(pointer) = self.message.take_plot_request() {
                    commands.push(UiCommand::PlotSeries { key: SeriesKey::Path { topic, pointer }, plot: None });
                }
            }
            None => {
                ui.weak(ctx.tr("Select a topic in the tree."));
            }
        });
    }

    /// The retained message waiting for the user's confirmation of its deletion.
    pub fn pending_delete(&self) -> Option<&RetainedDelete> {
        self.confirm_delete.as_ref()
    }

    /// The selected topic's path.
    pub fn selected(&self) -> Option<&str> {
        self.selected.as_deref()
    }

    /// Selects a topic by path (it need not have arrived yet), opens the levels above it and
    /// scrolls the tree to it.
    pub fn select(&mut self, topic: &str) {
        if self.selected.as_deref() != Some(topic) {
            self.selected = Some(topic.to_owned());
            self.open.open_ancestors(topic);
            self.scroll_to_selected = true;
        }
    }

    /// The search text.
    pub fn search_text(&self) -> &str {
        &self.search
    }

    pub fn set_search(&mut self, text: &str) {
        text.clone_into(&mut self.search);
    }

    /// Opens or closes one level of the tree.
    pub fn set_open(&mut self, path: &str, open: bool) {
        self.open.set(path, open);
    }

    /// Paths of the rows the tree shows now (under a search: the matches and their ancestors),
    /// as of the last frame.
    pub fn visible_paths(&self, store: &MessageStore) -> Vec<String> {
        self.rows.iter().filter_map(|r| store.path_of(r.id)).collect()
    }

    fn toolbar_ui(&mut self, ui: &mut Ui, ctx: &ViewContext, commands: &mut Vec<UiCommand>) {
        let stats = ctx.state.store().stats();
        ui.horizontal_wrapped(|ui| {
            let label = ui.label(ctx.tr("Search"));
            let response = ui
                .add(
                    TextEdit::singleline(&mut self.search)
                        .id_salt("explorer_search")
                        .hint_text(ctx.tr("topic or payload text"))
                        .desired_width(220.0),
                )
                .labelled_by(label.id);
            // Esc also takes the focus away, so this frame's `lost_focus` still counts.
            if (response.has_focus() || response.lost_focus()) && ui.input(|i| i.key_pressed(Key::Escape)) {
                self.search.clear();
            }
            if !self.search.is_empty() && ui.button(ctx.tr("Clear search")).clicked() {
                self.search.clear();
            }
            ui.separator();
            ui.label(
                ctx.tr("{topics} topics, {messages} messages")
                    .replace("{topics}", &stats.topics.to_string())
                    .replace("{messages}", &stats.messages.to_string()),
            );
            let lost = ctx
                .tr("{evicted} messages evicted / {truncated} truncated")
                .replace("{evicted}", &stats.evicted.to_string())
                .replace("{truncated}", &stats.truncated.to_string());
            let color = if stats.evicted + stats.truncated > 0 { ui.visuals().warn_fg_color } else { ui.visuals().weak_text_color() };
            ui.colored_label(color, lost).on_hover_text(ctx.tr(
                "The store is bounded: the oldest messages are dropped when a topic or the whole store is over its limit, and payloads over the size limit are kept truncated.",
            ));
            if ui.button(ctx.tr("Clear messages")).on_hover_text(ctx.tr("Drop every stored message")).clicked() {
                commands.push(UiCommand::ClearStore);
            }
        });
    }

    /// Brings the search hits and the flattened rows up to date, under one brief read lock.
    /// Returns true when new messages wait for a search refresh.
    fn refresh_rows(&mut self, ctx: &ViewContext) -> bool {
        let query = self.search.trim().to_owned();
        let store = ctx.state.store();
        let stats = store.stats();
        let root = store.root();
        let mut pending = false;
        if query.is_empty() {
            self.hits = None;
        } else {
            let (same, recent, changed) = match &self.hits {
                Some(c) => {
                    let age = ctx.now_ms - c.at_ms;
                    (c.query == query && c.root == root, (0..SEARCH_REFRESH_MS).contains(&age), c.received != stats.received)
                }
                None => (false, false, true),
            };
            if !same || (changed && !recent) {
                self.search_generation += 1;
                let hits = tree::search(&store, &query, SEARCH_LIMIT);
                self.hits = Some(SearchCache {
                    query,
                    root,
                    received: stats.received,
                    at_ms: ctx.now_ms,
                    hits,
                    generation: self.search_generation,
                });
            } else {
                pending = changed;
            }
        }
        let key = RowsKey {
            root,
            topics: stats.topics,
            evicted: stats.evicted,
            open: self.open.generation(),
            search: self.hits.as_ref().map(|h| h.generation),
        };
        if self.rows_key != Some(key) {
            self.rows = tree::flatten(&store, &mut self.open, self.hits.as_ref().map(|h| &h.hits.keep));
            self.rows_key = Some(key);
        }
        pending
    }

    fn tree_ui(&mut self, ui: &mut Ui, ctx: &ViewContext, commands: &mut Vec<UiCommand>) {
        if self.refresh_rows(ctx) {
            ui.ctx().request_repaint_after(std::time::Duration::from_millis(SEARCH_REFRESH_MS as u64));
        }
        let searching = self.hits.is_some();
        if let Some(cache) = &self.hits {
            let n = cache.hits.matches;
            let text = if cache.hits.capped {
                ctx.tr("First {n} matching topics")
            } else if n == 1 {
                ctx.tr("{n} matching topic")
            } else {
                ctx.tr("{n} matching topics")
            };
            ui.weak(text.replace("{n}", &n.to_string()));
        }
        if self.rows.is_empty() {
            ui.weak(if searching { ctx.tr("No topic matches the search.") } else { ctx.tr("No messages yet.") });
            return;
        }
        let row_height = ui.spacing().interact_size.y;
        let pitch = row_height + ui.spacing().item_spacing.y;
        let mut area = ScrollArea::vertical().id_salt("explorer_tree_rows").auto_shrink([false, false]);
        if self.scroll_to_selected
            && let Some(index) = self.selected_row(ctx)
        {
            self.scroll_to_selected = false;
            // A few rows of context above it.
            area = area.vertical_scroll_offset(((index as f32 - 3.0) * pitch).max(0.0));
        }
        let selected = self.selected.as_deref();
        let rows = &self.rows;
        let hits = self.hits.as_ref();
        let query = hits.map_or("", |h| h.query.as_str());
        let mut actions = Vec::new();
        area.show_rows(ui, row_height, rows.len(), |ui, range| {
            let views: Vec<RowView> = {
                let store = ctx.state.store();
                rows.get(range).unwrap_or_default().iter().filter_map(|r| RowView::read(&store, r, hits.map(|h| &h.hits))).collect()
            };
            for view in &views {
                row_ui(ui, ctx, view, selected, query, row_height, &mut actions);
            }
        });
        for action in actions {
            match action {
                TreeAction::Toggle { path, child_count } => self.open.toggle(&path, child_count),
                TreeAction::Select(path) => self.selected = Some(path),
                TreeAction::DeleteRetained(asked) => self.confirm_delete = Some(asked),
                TreeAction::Pin { prefix, pinned } => commands.push(UiCommand::PinTopics { prefix, pinned }),
            }
        }
    }

    fn selected_row(&self, ctx: &ViewContext) -> Option<usize> {
        let target = ctx.state.store().find(self.selected.as_deref()?)?;
        self.rows.iter().position(|r| r.id == target)
    }
}


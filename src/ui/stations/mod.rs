//! The Stations tab (issue 16, contract §11): every energy-storage station seen, a tree of its
//! device units and components on the left; on the right the selected place's latest metrics
//! (named by the metric map, each plottable), its `param` report, a command form, the station's
//! command log and the problems of its messages.
//!
//! Facts live in the engine's station table (`engine::stations`), copied out under its read lock
//! each frame (`view`); the page keeps only the selection, the form's fields and the metric map.

use std::path::{Path, PathBuf};

use egui::{CentralPanel, Frame, Panel};

pub mod command_form;
pub mod command_log;
pub mod metric_map;
pub mod node;
pub mod problems;
pub mod tree;
pub mod view;

use command_form::CommandForm;
use metric_map::MapState;
use crate::protocol::storage::metric_map::MetricMap;
use crate::protocol::storage::place::StoragePlace;
use crate::ui::{UiCommand, ViewContext};

/// The page's state: selection, form and metric map.
#[derive(Debug)]
pub struct StationsPage {
    selected: Option<StoragePlace>,
    form: CommandForm,
    map: MapState,
    /// The demo station of the embedded broker runs (the app says so after starting it).
    demo_running: bool,
}

impl StationsPage {
    /// The page naming metrics with the map in `map_path` (read on a thread), else the shipped one.
    pub fn new(map_path: Option<&Path>) -> StationsPage {
        StationsPage { selected: None, form: CommandForm::default(), map: MapState::new(map_path), demo_running: false }
    }

    pub fn selected(&self) -> Option<&StoragePlace> {
        self.selected.as_ref()
    }

    pub fn set_demo_running(&mut self, running: bool) {
        self.demo_running = running;
    }

    pub fn select(&mut self, place: StoragePlace) {
        self.selected = Some(place);
    }

    /// The metric map in use.
    pub fn metric_map(&self) -> &MetricMap {
        self.map.map()
    }

    pub fn map_state(&self) -> &MapState {
        &self.map
    }

    /// Draws the tab. `map_setting` is the persisted metric map file, updated when a file loads.
    pub fn ui(&mut self, ui: &mut egui::Ui, ctx: &ViewContext, map_setting: &mut Option<PathBuf>, commands: &mut Vec<UiCommand>) {
        // Copied out under the read lock, drawn after it is let go.
        let (tree, selected, (counters, unplaced)) = {
            let stations = ctx.state.stations();
            let tree = view::tree(&stations, ctx.now_ms);
            if self.selected.is_none() {
                self.selected = tree.first().map(|s| s.place.clone());
            }
            let selected = self.selected.as_ref().and_then(|place| view::selected(&stations, place, ctx.now_ms));
            (tree, selected, view::overall(&stations))
        };
        if self.map.is_loading() {
            // The thread's answer shows without waiting for a message.
            ui.ctx().request_repaint_after(std::time::Duration::from_millis(100));
        }
        self.map.ui(ui, ctx, map_setting);
        ui.separator();

        Panel::left("stations_tree")
            .resizable(true)
            .default_size(260.0)
            .size_range(180.0..=480.0)
            .frame(Frame::NONE.inner_margin(egui::Margin { right: 6, ..egui::Margin::ZERO }))
            .show(ui, |ui| {
                ui.heading(ctx.tr("Stations"));
                if self.demo_running {
                    if ui.button(format!("■ {}", ctx.tr("Stop demo station"))).clicked() {
                        commands.push(UiCommand::DemoStation(false));
                    }
                } else if ui
                    .button(format!("▶ {}", ctx.tr("Demo station")))
                    .on_hover_text(ctx.tr("Start a simulated storage station (two PCS, a BMS with two racks) on the embedded broker"))
                    .clicked()
                {
                    commands.push(UiCommand::DemoStation(true));
                }
                egui::ScrollArea::vertical().id_salt("stations_tree_scroll").auto_shrink([false, false]).show(ui, |ui| {
                    if tree.is_empty() {
                        ui.weak(ctx.tr("No energy-storage station seen yet. Stations appear as they publish rt or param messages (v1/rt/APP/GROUP/…)."));
                    }
                    if let Some(place) = tree::tree_ui(ui, ctx, &tree, self.selected.as_ref()) {
                        self.selected = Some(place);
                    }
                });
            });
        CentralPanel::no_frame().show(ui, |ui| {
            egui::ScrollArea::both().id_salt("station_page_scroll").auto_shrink([false, false]).show(ui, |ui| {
                match &selected {
                    Some(view) => {
                        node::header_ui(ui, ctx, view);
                        match &view.node {
                            Some(node) => {
                                node::metrics_ui(ui, ctx, node, self.map.map(), commands);
                                node::param_ui(ui, ctx, node, self.map.map());
                            }
                            None => {
                                ui.weak(ctx.tr("Nothing reported from this place itself; its components report below it in the tree."));
                            }
                        }
                        self.form.ui(ui, ctx, &view.place, view.session, commands);
                        command_log::command_log_ui(ui, ctx, &view.commands);
                        problems::problems_ui(ui, ctx, &counters, Some((&view.problems, view.problem_count)), &unplaced);
                    }
                    None => {
                        ui.weak(ctx.tr("Select a station, unit or component on the left."));
                        problems::problems_ui(ui, ctx, &counters, None, &unplaced);
                    }
                }
            });
        });
    }
}

//! The editor's toolbar and its keyboard shortcuts (Ctrl+S, Ctrl+Z, Ctrl+Y / Ctrl+Shift+Z).

use std::path::PathBuf;

use egui::{Button, Key, KeyboardShortcut, Modifiers, Ui};

use super::ModelEditor;
use super::files::PromptFor;
use crate::protocol::model::templates::TEMPLATE_NAMES;
use crate::ui::{UiCommand, ViewContext};

const SAVE: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::S);
const UNDO: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::Z);
const REDO: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::Y);
const REDO_SHIFT: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND.plus(Modifiers::SHIFT), Key::Z);

impl ModelEditor {
    pub(super) fn toolbar_ui(&mut self, ui: &mut Ui, view: &ViewContext, commands: &mut Vec<UiCommand>, recent: &mut [String]) {
        let has_doc = !self.open.is_empty();
        // Point tables and simulation are a product model's; a metric map has neither.
        let has_model = self.active_doc().is_some_and(|d| !d.is_metric_map());
        let (can_undo, can_redo) = self.open.get(self.active).map_or((false, false), |o| (o.doc.can_undo(), o.doc.can_redo()));
        // A text field has its own undo for what is typed in it; ours is for the rest.
        let typing = ui.ctx().memory(|m| m.focused().is_some());
        let (mut save, mut undo, mut redo) = (false, false, false);
        if has_doc && self.review.is_none() && self.guard.is_none() {
            ui.input_mut(|i| {
                save = i.consume_shortcut(&SAVE);
                if !typing {
                    redo = i.consume_shortcut(&REDO_SHIFT) || i.consume_shortcut(&REDO);
                    undo = i.consume_shortcut(&UNDO);
                }
            });
        }
        ui.horizontal_wrapped(|ui| {
            ui.menu_button(view.tr("New model"), |ui| {
                for name in TEMPLATE_NAMES {
                    if ui.button(view.tr(template_title(name))).clicked() {
                        self.new_from_template(name);
                        ui.close();
                    }
                }
                ui.separator();
                if ui.button(view.tr("Metric map (energy storage)")).clicked() {
                    self.new_from_template(super::METRIC_MAP_TEMPLATE);
                    ui.close();
                }
            })
            .response
            .on_hover_text(view.tr("A new model from a template"));
            if ui.button(view.tr("Open…")).clicked() {
                let proposal = self.active_doc().and_then(|d| d.path.clone());
                self.files.ask(PromptFor::Open, proposal.as_deref());
            }
            ui.add_enabled_ui(!recent.is_empty(), |ui| {
                ui.menu_button(view.tr("Recent"), |ui| {
                    let mut chosen = None;
                    for entry in recent.iter() {
                        if ui.button(entry.as_str()).clicked() {
                            chosen = Some(PathBuf::from(entry));
                            ui.close();
                        }
                    }
                    if let Some(path) = chosen {
                        self.open_path(path);
                    }
                });
            });
            ui.separator();
            let busy = self.files.is_busy();
            save |= ui.add_enabled(has_doc && !busy, Button::new(view.tr("Save"))).on_hover_text("Ctrl+S").clicked();
            if ui.add_enabled(has_doc && !busy, Button::new(view.tr("Save as…"))).clicked()
                && let Some(open) = self.open.get(self.active)
            {
                self.files.ask(PromptFor::SaveAs(open.id), open.doc.path.as_deref());
            }
            ui.separator();
            undo |= ui.add_enabled(can_undo, Button::new(format!("↶ {}", view.tr("Undo")))).on_hover_text("Ctrl+Z").clicked();
            redo |= ui.add_enabled(can_redo, Button::new(format!("↷ {}", view.tr("Redo")))).on_hover_text("Ctrl+Y").clicked();
            ui.separator();
            if ui.add_enabled(has_model, Button::new(view.tr("Import table…"))).on_hover_text(view.tr("Points, meters or properties from a CSV or XLSX point table")).clicked() {
                self.import.open(None);
            }
            if ui.add_enabled(has_model && !self.export.is_busy(), Button::new(view.tr("Export table…"))).clicked() {
                self.export.start();
            }
            ui.separator();
            match &self.simulating {
                None => {
                    let hover = view.tr("Start a simulated gateway serving this model on the embedded broker and open its device page");
                    if ui.add_enabled(has_model, Button::new(format!("▶ {}", view.tr("Simulate")))).on_hover_text(hover).clicked() {
                        self.simulate(view, commands);
                    }
                }
                Some(_) => {
                    if ui.button(format!("■ {}", view.tr("Stop simulation"))).clicked() {
                        self.simulating = None;
                        commands.push(UiCommand::StopSimulation);
                    }
                }
            }
        });
        if let Some(open) = self.open.get_mut(self.active) {
            if undo {
                open.doc.undo();
            }
            if redo {
                open.doc.redo();
            }
        }
        if save {
            self.save_active();
        }
    }
}

/// The catalogue key naming template `name`.
fn template_title(name: &str) -> &'static str {
    match name {
        "gateway" => "Gateway",
        "meter" => "Meter",
        "pcs" => "PCS (power conversion)",
        "bms" => "BMS (battery)",
        "pv" => "PV inverter",
        _ => "Other",
    }
}

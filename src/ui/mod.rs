//! The workbench window (eframe/egui 0.37). It draws engine state and sends commands; it never
//! blocks and never awaits. `app.rs` holds the shell and applies every [`UiCommand`]; each panel
//! lives in its own file and owns only its view state.

pub mod app;
pub mod app_api;
pub mod connections;
pub mod context;
pub mod device;
pub mod explorer;
pub mod file_dialog;
pub mod fonts;
pub mod format;
pub mod forms;
pub mod gateways;
pub mod history;
pub mod i18n;
pub mod launch;
pub mod local;
pub mod model_editor;
pub mod model_source;
pub mod path_prompt;
pub mod plot;
pub mod publish;
pub mod recording;
pub mod replay;
pub mod repaint;
pub mod settings;
pub mod stations;
pub mod status_bar;
pub mod top_bar;
pub mod widgets;

pub use context::{SessionView, Sessions, ThemeChoice, UiCommand, ViewContext};

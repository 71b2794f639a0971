//! What the workbench keeps between runs and how it is told where things are, with no egui:
//! link options shared by every command, saved connection profiles and their secrets. The CLI
//! and the window both use it.

pub mod link_args;
pub mod profiles;
pub mod secrets;

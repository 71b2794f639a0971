//! What the workbench keeps between runs and how it is told where things are, with no egui:
//! link options shared by every command, saved connection profiles and their secrets, and where product models are read from. The CLI
//! and the window both use it.

pub mod broker_tls;
pub mod data_dir;
pub mod link_args;
pub mod models;
pub mod point_table;
pub mod profiles;
pub mod secrets;
pub mod storage;

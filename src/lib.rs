//! cems-workbench: commissioning and debugging tool for CEMS gateways (GB/T 35031).
//!
//! Layers (imports point down only): `cli` and `ui` drive the `engine`, which owns the
//! `transport` links; `sim` is a gateway built on the same parts; `protocol` is pure and I/O-free.

pub mod api;
pub mod cli;
pub mod config;
pub mod conformance;
pub mod disk;
pub mod engine;
pub mod fonts;
pub mod protocol;
pub mod sim;
pub mod transport;
pub mod ui;

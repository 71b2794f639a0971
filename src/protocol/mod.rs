//! The wire contract (`shared/protocol/cems-mqtt.md`) and the product model format, with no I/O:
//! a gateway firmware team can read this module on its own.

pub mod app_api;
pub mod auth;
pub mod codes;
pub mod digest;
pub mod envelope;
pub mod frame;
pub mod ids;
pub mod json_num;
pub mod model;
pub mod payload;
pub mod port;
pub mod storage;
pub mod time;
pub mod topic;
pub mod topic_filter;

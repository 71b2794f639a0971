//! Time series of monitoring points, meter registers and JSON paths, for the plots (no egui).
//!
//! One [`SeriesStore`] in the engine's shared state holds a columnar [`Series`] per
//! [`SeriesKey`], fed by the engine core from decoded `point/report`, `point/change`,
//! `point/get`, `meter/report`, `meter/get` and `history/report` payloads (`feed.rs`), and from
//! messages of tracked paths. Bounded per series (retention by sample time, a sample cap) and
//! overall (a byte budget). [`decimate`] turns a window into a bounded number of points for a
//! frame; [`write_csv`] is the one CSV writer; [`Layout`] is the plots' document.

pub mod csv;
pub mod decimate;
pub mod feed;
pub mod key;
pub mod layout;
mod samples;
mod store;
mod summary;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_decimate;

pub use csv::{iso_utc_ms, write_csv};
pub use decimate::{Decimated, decimate, decimate_steps, gap_threshold_ms, hold_last};
pub use key::SeriesKey;
pub use layout::{Layout, PlotLayout, PlotWindow};
pub use samples::{SAMPLE_BYTES, SampleSource, Series, SeriesWindow, Trimmed};
pub use store::{SeriesLimits, SeriesStats, SeriesStore};

//! The layout document: the plots and their series, as a file and as persisted settings alike.

use std::path::Path;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use super::key::SeriesKey;

pub const LAYOUT_VERSION: u32 = 1;
pub const MAX_PLOTS: usize = 64;
pub const MAX_SERIES_PER_PLOT: usize = 64;
pub const MAX_LAYOUT_BYTES: u64 = 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Layout {
    pub version: u32,
    pub plots: Vec<PlotLayout>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlotLayout {
    pub title: String,
    pub window: PlotWindow,
    pub series: Vec<SeriesKey>,
    /// One sub-plot per unit sharing the time axis (else one plot with an axis per unit).
    #[serde(default)]
    pub stacked: bool,
}

/// The time span a plot shows, up to the newest sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum PlotWindow {
    #[serde(rename = "1m")]
    Min1,
    #[default]
    #[serde(rename = "5m")]
    Min5,
    #[serde(rename = "15m")]
    Min15,
    #[serde(rename = "1h")]
    Hour1,
    #[serde(rename = "all")]
    All,
}

impl PlotWindow {
    pub const ALL: [PlotWindow; 5] = [PlotWindow::Min1, PlotWindow::Min5, PlotWindow::Min15, PlotWindow::Hour1, PlotWindow::All];

    /// The span in ms; `None` for everything held.
    pub fn span_ms(&self) -> Option<i64> {
        match self {
            PlotWindow::Min1 => Some(60_000),
            PlotWindow::Min5 => Some(300_000),
            PlotWindow::Min15 => Some(900_000),
            PlotWindow::Hour1 => Some(3_600_000),
            PlotWindow::All => None,
        }
    }

    /// A catalogue key ("1 min" … "All").
    pub fn label(&self) -> &'static str {
        match self {
            PlotWindow::Min1 => "1 min",
            PlotWindow::Min5 => "5 min",
            PlotWindow::Min15 => "15 min",
            PlotWindow::Hour1 => "1 h",
            PlotWindow::All => "All",
        }
    }
}

impl Default for Layout {
    fn default() -> Self {
        Layout { version: LAYOUT_VERSION, plots: Vec::new() }
    }
}

impl Layout {
    /// Reads and checks a layout file; the error names the file and the problem.
    pub fn load(path: &Path) -> anyhow::Result<Layout> {
        let shown = path.display();
        let size = std::fs::metadata(path).with_context(|| format!("layout {shown}"))?.len();
        if size > MAX_LAYOUT_BYTES {
            bail!("layout {shown}: {size} bytes, over the {MAX_LAYOUT_BYTES}-byte limit of a layout file");
        }
        let text = std::fs::read_to_string(path).with_context(|| format!("layout {shown}"))?;
        Layout::from_json(&text).map_err(|e| anyhow::anyhow!("layout {shown}: {e}"))
    }

    /// Parses and checks a layout document: not JSON, a wrong version, a series key that does
    /// not parse, too many plots or series each give a message saying where.
    pub fn from_json(text: &str) -> Result<Layout, String> {
        if text.len() as u64 > MAX_LAYOUT_BYTES {
            return Err(format!("{} bytes, over the {MAX_LAYOUT_BYTES}-byte limit of a layout", text.len()));
        }
        // The version first, so a future layout is told as such rather than as a shape error.
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        match value.get("version") {
            Some(v) if v.as_u64() == Some(u64::from(LAYOUT_VERSION)) => {}
            Some(v) => return Err(format!("version {v}: this workbench reads layout version {LAYOUT_VERSION}")),
            None => return Err(format!("no \"version\" (expected {LAYOUT_VERSION})")),
        }
        let layout: Layout = serde_path_to_error::deserialize(value).map_err(|e| {
            let path = e.path().to_string();
            format!("{path}: {}", e.into_inner())
        })?;
        layout.check()?;
        Ok(layout)
    }

    fn check(&self) -> Result<(), String> {
        if self.plots.len() > MAX_PLOTS {
            return Err(format!("{} plots, over the limit of {MAX_PLOTS}", self.plots.len()));
        }
        for (p, plot) in self.plots.iter().enumerate() {
            if plot.series.len() > MAX_SERIES_PER_PLOT {
                return Err(format!("plots[{p}]: {} series, over the limit of {MAX_SERIES_PER_PLOT} per plot", plot.series.len()));
            }
            for (s, key) in plot.series.iter().enumerate() {
                if let Some(problem) = key.problem() {
                    return Err(format!("plots[{p}].series[{s}]: {problem}"));
                }
            }
        }
        Ok(())
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        // A layout is strings, numbers and bools only: serialising cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Writes the layout atomically.
    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        let mut text = self.to_json();
        text.push('\n');
        crate::disk::write_atomic(path, text.as_bytes()).with_context(|| format!("writing layout {}", path.display()))
    }

    /// Every series of every plot, each once, in order of first appearance.
    pub fn all_series(&self) -> Vec<SeriesKey> {
        let mut seen = std::collections::BTreeSet::new();
        self.plots.iter().flat_map(|p| &p.series).filter(|k| seen.insert(*k)).cloned().collect()
    }
}

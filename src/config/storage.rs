//! The energy-storage profile and metric maps from disk: a user's copy of
//! `assets/profiles/ess-v1.json` (field stations deviate) and metric map files.

use std::path::Path;

use anyhow::{Context, Result};

use crate::protocol::storage::StorageProfile;
use crate::protocol::storage::metric_map::MetricMap;

/// Files larger than this are not a profile or a map (a wrong file picked).
const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

fn read_small(path: &Path, what: &str) -> Result<String> {
    let size = std::fs::metadata(path).with_context(|| format!("cannot read {what} {}", path.display()))?.len();
    if size > MAX_FILE_BYTES {
        anyhow::bail!("{what} {} is {size} bytes; a {what} is at most {MAX_FILE_BYTES} bytes", path.display());
    }
    std::fs::read_to_string(path).with_context(|| format!("cannot read {what} {} (it must be UTF-8 JSON)", path.display()))
}

/// The profile in `path`, or the compiled-in one when `None`.
pub fn read_storage_profile(path: Option<&Path>) -> Result<StorageProfile> {
    let Some(path) = path else { return Ok(StorageProfile::builtin()) };
    let text = read_small(path, "energy-storage profile")?;
    StorageProfile::from_json(&text).with_context(|| format!("{}", path.display()))
}

/// The metric map in `path`, or the shipped one when `None`.
pub fn read_metric_map(path: Option<&Path>) -> Result<MetricMap> {
    let Some(path) = path else { return Ok(MetricMap::builtin()) };
    let text = read_small(path, "metric map")?;
    MetricMap::from_json(&text).with_context(|| format!("{}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_read_and_bad_ones_named() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("ess.json");
        std::fs::write(&good, r#"{"versions":["v2"],"realtime":"rt","parameter":"param","command":"cmd"}"#).unwrap();
        assert_eq!(read_storage_profile(Some(&good)).unwrap().versions, ["v2"]);
        let bad = dir.path().join("bad.json");
        std::fs::write(&bad, "{").unwrap();
        let err = format!("{:#}", read_storage_profile(Some(&bad)).unwrap_err());
        assert!(err.contains("bad.json") && err.contains("energy-storage profile"), "{err}");
        let err = format!("{:#}", read_metric_map(Some(&dir.path().join("missing.json"))).unwrap_err());
        assert!(err.contains("cannot read metric map"), "{err}");
        assert!(read_metric_map(None).unwrap().lookup("SOC").is_some());
    }
}

//! A metric map: names (Chinese and English), units and ranges for the metrics of an
//! energy-storage station's `d`, loaded like a product model. Metrics it does not name still show
//! with their keys.
//!
//! A key is a metric's dotted path (`bms.rack.0.SOC`), a pattern with `*` for one segment
//! (`racks.*.Ucell_max`), or a bare name matching a path's last named segment (`SOC`).

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// What is known of one metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MetricInfo {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub en: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub zh: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub unit: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
}

impl MetricInfo {
    /// The name in Chinese when asked and given, else English, else none.
    pub fn name(&self, chinese: bool) -> Option<&str> {
        let (first, second) = if chinese { (&self.zh, &self.en) } else { (&self.en, &self.zh) };
        [first, second].into_iter().find(|name| !name.is_empty()).map(String::as_str)
    }

    /// Whether `value` lies outside the declared range.
    pub fn out_of_range(&self, value: f64) -> bool {
        self.min.is_some_and(|min| value < min) || self.max.is_some_and(|max| value > max)
    }
}

/// A metric map file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MetricMap {
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    pub metrics: IndexMap<String, MetricInfo>,
}

/// A metric map file that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MetricMapError {
    #[error("metric map is not valid: {message} (at {path})")]
    Shape { path: String, message: String },
    #[error("metric map: metric {key:?}: {problem}")]
    Metric { key: String, problem: String },
}

/// The text of the map shipped for the simulated station: also the editor's template.
pub const BUILTIN_ESS_MAP: &str = include_str!("../../../assets/metric-maps/ess-demo.json");

impl MetricMap {
    /// The map shipped for the simulated station (`assets/metric-maps/ess-demo.json`).
    pub fn builtin() -> MetricMap {
        MetricMap::from_json(BUILTIN_ESS_MAP).unwrap_or_default()
    }

    /// Reads a map file's text and checks every entry.
    pub fn from_json(text: &str) -> Result<MetricMap, MetricMapError> {
        let deserializer = &mut serde_json::Deserializer::from_str(text);
        let map: MetricMap = serde_path_to_error::deserialize(deserializer)
            .map_err(|e| MetricMapError::Shape { path: e.path().to_string(), message: e.inner().to_string() })?;
        map.check()?;
        Ok(map)
    }

    /// What is wrong with `value` as a metric map, as (JSON path like `$.metrics.SOC`, message):
    /// the editor's problem list. Empty when it is a good map.
    pub fn problems_of(value: &serde_json::Value) -> Vec<(String, String)> {
        let parsed: Result<MetricMap, _> = serde_path_to_error::deserialize(value.clone());
        let error = match parsed {
            Ok(map) => match map.check() {
                Ok(()) => return Vec::new(),
                Err(e) => e,
            },
            Err(e) => MetricMapError::Shape { path: e.path().to_string(), message: e.inner().to_string() },
        };
        let (path, message) = match error {
            MetricMapError::Shape { path, message } if path == "." => ("$".to_owned(), message),
            MetricMapError::Shape { path, message } => (format!("$.{path}"), message),
            MetricMapError::Metric { key, problem } => (format!("$.metrics.{key}"), problem),
        };
        vec![(path, message)]
    }

    /// Whether `text` looks like a metric map rather than a product model: a top-level `metrics`.
    pub fn looks_like(value: &serde_json::Value) -> bool {
        value.get("metrics").is_some_and(serde_json::Value::is_object) && value.get("subDevices").is_none()
    }

    fn check(&self) -> Result<(), MetricMapError> {
        for (key, info) in &self.metrics {
            let problem = |problem: &str| MetricMapError::Metric { key: key.clone(), problem: problem.to_owned() };
            if key.is_empty() || key.split('.').any(str::is_empty) {
                return Err(problem("has an empty segment"));
            }
            if let (Some(min), Some(max)) = (info.min, info.max)
                && min > max
            {
                return Err(problem(&format!("min {min} is above max {max}")));
            }
            if [info.min, info.max].into_iter().flatten().any(|v| !v.is_finite()) {
                return Err(problem("min and max must be finite numbers"));
            }
        }
        Ok(())
    }

    /// What the map says of the metric at dotted `path`: the exact key, then a `*` pattern, then
    /// the last segment that is not an array index.
    pub fn lookup(&self, path: &str) -> Option<&MetricInfo> {
        if let Some(info) = self.metrics.get(path) {
            return Some(info);
        }
        let segments: Vec<&str> = path.split('.').collect();
        let pattern_match = self.metrics.iter().find(|(key, _)| {
            key.contains('*') && {
                let pattern: Vec<&str> = key.split('.').collect();
                pattern.len() == segments.len() && pattern.iter().zip(&segments).all(|(p, s)| *p == "*" || p == s)
            }
        });
        if let Some((_, info)) = pattern_match {
            return Some(info);
        }
        let last_name = segments.iter().rev().find(|s| s.parse::<u64>().is_err())?;
        self.metrics.get(*last_name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_map_loads_and_names_the_common_metrics() {
        let map = MetricMap::from_json(BUILTIN_ESS_MAP).unwrap();
        let soc = map.lookup("SOC").unwrap();
        assert_eq!((soc.name(false), soc.name(true), soc.unit.as_str()), (Some("State of charge"), Some("荷电状态"), "%"));
        assert!(map.lookup("P").is_some() && map.lookup("SOH").is_some() && map.lookup("Ucell_max").is_some());
    }

    #[test]
    fn lookup_tries_exact_then_pattern_then_last_name() {
        let map = MetricMap::from_json(
            r#"{"metrics":{"racks.0.U":{"en":"first rack voltage"},"racks.*.U":{"en":"rack voltage","unit":"V"},"U":{"en":"voltage"},"T":{"en":"temperature"}}}"#,
        )
        .unwrap();
        assert_eq!(map.lookup("racks.0.U").unwrap().en, "first rack voltage");
        assert_eq!(map.lookup("racks.3.U").unwrap().en, "rack voltage");
        assert_eq!(map.lookup("pcs.U").unwrap().en, "voltage");
        assert_eq!(map.lookup("temps.T.4").unwrap().en, "temperature");
        assert!(map.lookup("Q").is_none());
    }

    #[test]
    fn problems_name_their_path_for_the_editor() {
        let good: serde_json::Value = serde_json::from_str(BUILTIN_ESS_MAP).unwrap();
        assert!(MetricMap::looks_like(&good) && MetricMap::problems_of(&good).is_empty());
        let bad = serde_json::json!({"metrics": {"SOC": {"min": 9, "max": 1}}});
        assert_eq!(MetricMap::problems_of(&bad), [("$.metrics.SOC".to_owned(), "min 9 is above max 1".to_owned())]);
        let bad = serde_json::json!({"metrics": {"SOC": {"unit": 5}}});
        assert_eq!(MetricMap::problems_of(&bad)[0].0, "$.metrics.SOC.unit");
    }

    #[test]
    fn ranges_are_checked_and_bad_files_refused() {
        let map = MetricMap::from_json(r#"{"metrics":{"SOC":{"min":0,"max":100}}}"#).unwrap();
        let soc = map.lookup("SOC").unwrap();
        assert!(!soc.out_of_range(50.0) && soc.out_of_range(101.0) && soc.out_of_range(-1.0));
        let err = MetricMap::from_json(r#"{"metrics":{"SOC":{"min":10,"max":5}}}"#).unwrap_err();
        assert_eq!(err.to_string(), "metric map: metric \"SOC\": min 10 is above max 5");
        let err = MetricMap::from_json(r#"{"metrics":{"SOC":{"unit":"%","colour":"red"}}}"#).unwrap_err();
        assert!(err.to_string().contains("unknown field `colour`") && err.to_string().contains("metrics.SOC"), "{err}");
        assert!(MetricMap::from_json(r#"{"metrics":{"a..b":{}}}"#).is_err());
        assert!(MetricMap::from_json("[1]").is_err());
    }
}

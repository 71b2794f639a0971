//! The probed master's dynamic values against what this workbench sees of the same gateways
//! over MQTT: a value both have must carry a time within one reporting period of ours, and the
//! same value when the times are equal.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Value, json};

use super::ProbeReport;
use crate::api::apps::Site;
use crate::api::catalog::site_view;
use crate::api::client::ApiClient;
use crate::api::source::ApiSource;
use crate::protocol::app_api::{Family, Interface, Shape};
use crate::protocol::model::ModelSet;
use crate::protocol::time::parse_time;

/// What this workbench sees itself, to compare with.
#[derive(Clone)]
pub struct Observed {
    pub source: Arc<dyn ApiSource>,
    pub models: Arc<ModelSet>,
    /// One reporting period: the most a served time may differ from ours.
    pub tolerance_ms: i64,
}

impl std::fmt::Debug for Observed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Observed").field("tolerance_ms", &self.tolerance_ms).finish_non_exhaustive()
    }
}

/// Pages of 1,000 values read at most (a million values).
const MAX_PAGES: u64 = 1_000;

pub async fn compare(client: &ApiClient, cems: &str, observed: &Observed, report: &mut ProbeReport) {
    let i = Interface { family: Family::Dynamic, shape: Shape::CemsFull };
    let mut served: BTreeMap<(String, String), (Value, i64)> = BTreeMap::new();
    let mut problems = Vec::new();
    for page_no in 1..=MAX_PAGES {
        let answer = match client.call(i, &json!({ "cemsId": cems, "pageNo": page_no, "pageSize": 1000 })).await {
            Ok(e) => e.reply.json().unwrap_or(Value::Null),
            Err(e) => {
                problems.push(format!("{e:#}"));
                break;
            }
        };
        let values = answer["data"]["values"].as_array().cloned().unwrap_or_default();
        for v in &values {
            let (Some(point), Some(parameter), Some(time)) = (v["pointId"].as_str(), v["parameterId"].as_str(), v["time"].as_str()) else { continue };
            if let Ok(ts) = parse_time(time) {
                served.insert((point.to_owned(), parameter.to_owned()), (v["value"].clone(), ts));
            }
        }
        if values.is_empty() || page_no * 1000 >= answer["page"]["total"].as_u64().unwrap_or(0) {
            break;
        }
    }
    let ours = site_view(observed.source.as_ref(), &observed.models, &Site::default_site());
    let mut compared = 0usize;
    for entry in &ours.points {
        for (parameter, latest) in &entry.latest {
            let Some((value, ts)) = served.get(&(entry.point.point_id.clone(), parameter.clone())) else { continue };
            compared += 1;
            let at = format!("{} {parameter}", entry.point.point_id);
            if (ts - latest.ts).abs() > observed.tolerance_ms {
                problems.push(format!("{at}: served time is {} s from what MQTT showed", (ts - latest.ts).abs() / 1000));
            } else if *ts == latest.ts && !same(value, &latest.value) {
                problems.push(format!("{at}: served {value}, MQTT showed {} at the same time", latest.value));
            }
        }
    }
    if compared == 0 && problems.is_empty() {
        problems.push("no value of a gateway seen over MQTT was served: nothing to compare".to_owned());
    }
    report.record_for(i, "mqtt", problems);
}

/// Equal as JSON, numbers compared as numbers (3 and 3.0 are one value).
fn same(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y || (x - y).abs() <= 1e-9 * x.abs().max(y.abs()),
        _ => a == b,
    }
}

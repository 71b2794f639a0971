//! The commissioning facts beside the verdicts: who the gateway is (before and after the run)
//! and its points, named from the models.

use serde_json::json;

use super::model::{Identity, PointRow};
use super::options::RunOptions;
use crate::engine::{EngineHandle, GatewayKey, RequestSpec, SessionId};
use crate::protocol::model::{Lang, ModelSet};
use crate::protocol::payload::{Info, PointV, Versions};

/// Fills `identity` from `info/get` and `ota/version/get` (from the gateway table in a
/// read-only run); `before` says which versions these are.
pub(crate) async fn identity(handle: &EngineHandle, session: SessionId, key: &GatewayKey, options: &RunOptions, identity: &mut Identity, before: bool) {
    let mut info: Option<Info> = None;
    let mut versions: Option<Versions> = None;
    if !options.read_only {
        for (class, action) in [("info", "get"), ("ota", "version/get")] {
            let mut spec = RequestSpec::new(session, &key.pk, &key.dev, class, action, json!({}));
            spec.timeout = options.reply_timeout;
            let Ok(outcome) = handle.call(spec).await else { continue };
            let Ok(reply) = outcome.result else { continue };
            if reply.code != 0 {
                continue;
            }
            if class == "info" {
                info = serde_json::from_value(reply.data).ok();
            } else {
                versions = serde_json::from_value(reply.data).ok();
            }
        }
    }
    {
        let gateways = handle.state.gateways();
        if let Some(record) = gateways.get(key) {
            info = info.or_else(|| record.info.clone());
            if versions.is_none() && !record.versions.is_empty() {
                versions = Some(Versions { modules: record.versions.clone() });
            }
        }
    }
    if let Some(info) = info {
        identity.vendor = Some(info.vendor);
        identity.model = Some(info.model);
        identity.serial = Some(info.serial);
        identity.hw_version = Some(info.hw_version);
        identity.fw_version = Some(info.fw_version);
        identity.sw_version = Some(info.sw_version);
    }
    let list = versions.map(|v| v.modules.into_iter().map(|m| (m.module, m.version)).collect()).unwrap_or_default();
    if before {
        identity.versions_before = list;
    } else {
        identity.versions_after = list;
    }
}

/// The latest value of every point the engine holds for the gateway, with the models' names
/// and units.
pub(crate) fn points(handle: &EngineHandle, key: &GatewayKey, models: &ModelSet) -> Vec<PointRow> {
    let gateways = handle.state.gateways();
    let Some(record) = gateways.get(key) else { return Vec::new() };
    let mut rows = Vec::new();
    for (sub, device) in &record.subs {
        let product = if *sub == key.dev { Some(key.pk.as_str()) } else { record.sub_product(sub) };
        let model = product.and_then(|pk| models.get(pk)).map(|d| d.model());
        for (pid, track) in &device.points {
            let Some(sample) = &track.latest else { continue };
            let def = model.and_then(|m| m.point(pid));
            rows.push(PointRow {
                sub: sub.clone(),
                pid: pid.clone(),
                name_en: def.map(|d| d.name.get(Lang::En).to_owned()).filter(|n| !n.is_empty()),
                name_zh: def.map(|d| d.name.get(Lang::Zh).to_owned()).filter(|n| !n.is_empty()),
                unit: def.and_then(|d| d.spec.unit.clone()),
                value: match &sample.v {
                    PointV::Number(n) => format!("{n}"),
                    PointV::Bool(b) => b.to_string(),
                    PointV::Text(t) => t.clone(),
                },
                q: sample.q,
                ts: sample.ts,
            });
        }
    }
    rows
}

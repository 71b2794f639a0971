//! `gateways`: the gateways seen on a link within a wait, one JSON object per line, each
//! sub-device with the product model it is matched to.

use std::process::ExitCode;

use serde_json::{Map, Value, json};

use crate::config::link_args::LinkArgs;
use crate::config::models::ModelArgs;
use crate::engine::{EngineConfig, GatewayRecord};
use crate::protocol::model::matching::GatewayModels;
use crate::protocol::model::{Lang, ModelSet};

use super::session::{CliSession, models_for_command, EXIT_USAGE, runtime, seconds_arg};

/// `[{"sub","productKey","model","category"}]`: the sub-devices the gateway declared
/// (`Info.subs`, in its order), then those only seen in reports. A declared product key stays
/// even when no model of it is loaded (`model` and `category` null then); an undeclared device
/// gets the model its id and reported points match, or nulls.
pub fn subs_value(g: &GatewayRecord, models: &ModelSet) -> Value {
    let declared = g.info.as_ref().and_then(|i| i.subs.clone()).unwrap_or_default();
    let gateway = GatewayModels::new(models, &g.key.pk, &declared);
    let mut ids: Vec<&str> = declared.iter().map(|d| d.sub.as_str()).collect();
    for id in g.subs.keys() {
        if !ids.contains(&id.as_str()) {
            ids.push(id);
        }
    }
    let subs: Vec<Value> = ids
        .into_iter()
        .map(|id| {
            let seen = g.subs.get(id).map(|s| s.points.keys().chain(s.meters.keys()).map(String::as_str).collect::<Vec<_>>()).unwrap_or_default();
            let model = gateway.model_of(id, &g.key.dev, seen.iter().copied());
            let product_key = g.sub_product(id).map(str::to_owned).or_else(|| model.map(|m| m.product_key.clone()));
            json!({
                "sub": id,
                "productKey": product_key,
                "model": model.map(|m| m.name.get(Lang::En).to_owned()),
                "category": model.map(|m| m.category().to_string()),
            })
        })
        .collect();
    Value::Array(subs)
}

/// The JSON line for one gateway.
pub fn gateway_line(g: &GatewayRecord, models: &ModelSet) -> Value {
    let versions: Map<String, Value> = g.versions.iter().map(|m| (m.module.clone(), Value::String(m.version.clone()))).collect();
    json!({
        "pk": g.key.pk,
        "dev": g.key.dev,
        "online": g.online,
        "reason": g.status_reason,
        "vendor": g.info.as_ref().map(|i| i.vendor.clone()),
        "model": g.info.as_ref().map(|i| i.model.clone()),
        "serial": g.info.as_ref().map(|i| i.serial.clone()),
        "fwVersion": g.info.as_ref().map(|i| i.fw_version.clone()),
        "versions": versions,
        "lastSeen": g.last_seen_ms,
        "subs": subs_value(g, models),
        "points": g.point_count(),
        "activeAlarms": g.alarms.len(),
    })
}

pub fn run(link: &LinkArgs, wait_secs: f64, models: &ModelArgs) -> ExitCode {
    let wait = match seconds_arg("--wait", wait_secs) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let loaded = models_for_command(models);
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let config = EngineConfig { master_duties: false, ..EngineConfig::default() };
    let mut cli = match CliSession::open(&rt, link, "gateways", config, None) {
        Ok(s) => s,
        Err(code) => return code,
    };
    rt.block_on(async move {
        let started = tokio::time::Instant::now();
        if let Err(code) = cli.wait_up(wait).await {
            return code;
        }
        // Retained status arrives at once; info and versions come when gateways (re)connect.
        tokio::time::sleep(wait.saturating_sub(started.elapsed())).await;
        for g in cli.handle.state.gateways().iter() {
            println!("{}", gateway_line(g, &loaded.set));
        }
        cli.handle.shutdown();
        ExitCode::SUCCESS
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{GatewayKey, Gateways};
    use crate::protocol::payload::{Info, Payload, PointV, PointValue, Points, SubRef};

    #[test]
    fn declared_subs_come_first_and_seen_ones_are_matched() {
        let mut gateways = Gateways::new();
        let key = GatewayKey { pk: "PK-GW-01".into(), dev: "GW".into() };
        gateways.announce(&GatewayKey { pk: key.pk.clone(), dev: key.dev.clone() }, 1, 1);
        let subs = vec![SubRef { sub: "meter-1".into(), product_key: "PK-METER-3P".into() }, SubRef { sub: "x-1".into(), product_key: "PK-NOPE".into() }];
        gateways.apply(&key, Payload::Info(Info { subs: Some(subs), ..Info::default() }), 1);
        let point = |sub: &str, pid: &str| PointValue { sub: sub.into(), pid: pid.into(), v: PointV::Number(1.0), q: 0, ts: 1 };
        gateways.apply(&key, Payload::Points(Points { points: vec![point("pcs-1", "runState"), point("odd-1", "zz")] }), 1);
        let value = subs_value(gateways.get(&key).unwrap(), &ModelSet::builtin());
        let rows: Vec<(&str, Option<&str>, Option<&str>)> =
            value.as_array().unwrap().iter().map(|s| (s["sub"].as_str().unwrap(), s["productKey"].as_str(), s["category"].as_str())).collect();
        assert_eq!(rows, [
            ("meter-1", Some("PK-METER-3P"), Some("meter")),
            ("x-1", Some("PK-NOPE"), None),
            ("odd-1", None, None),
            ("pcs-1", Some("PK-PCS-100"), Some("pcs")),
        ]);
        assert_eq!(value[0]["model"], "Three-phase multifunction energy meter");
    }
}

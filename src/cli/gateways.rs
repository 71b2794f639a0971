//! `gateways`: the gateways seen on a link within a wait, one JSON object per line.

use std::process::ExitCode;

use serde_json::{Map, Value, json};

use crate::engine::{EngineConfig, GatewayRecord};

use crate::config::link_args::LinkArgs;
use super::session::{CliSession, EXIT_USAGE, runtime, seconds_arg};

/// The JSON line for one gateway.
pub fn gateway_line(g: &GatewayRecord) -> Value {
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
        "subs": g.subs.keys().collect::<Vec<_>>(),
        "points": g.point_count(),
        "activeAlarms": g.alarms.len(),
    })
}

pub fn run(link: &LinkArgs, wait_secs: f64) -> ExitCode {
    let wait = match seconds_arg("--wait", wait_secs) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
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
            println!("{}", gateway_line(g));
        }
        cli.handle.shutdown();
        ExitCode::SUCCESS
    })
}

//! Issue 10, info and versions: when an upgrade ends done, the engine asks the gateway for its
//! `info/get` and `ota/version/get` by itself, so the overview shows the new firmware.

mod common;

use std::time::Duration;

use bytes::Bytes;
use cems_workbench::engine::{EngineEvent, GatewayKey, OtaSpec, TransferPhase};
use cems_workbench::protocol::model::ModelSet;
use cems_workbench::protocol::time::now_ms;
use cems_workbench::sim::{self, SimConfig};
use cems_workbench::transport::LinkConfig;
use cems_workbench::transport::mqtt::MqttConfig;
use common::{engine, engine_ready, eventually, wait_for};

const PK: &str = "PK-GW-01";
const DEV: &str = "GW-REFRESH";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_finished_upgrade_refreshes_info_and_versions() {
    let files = tempfile::tempdir().unwrap();
    let broker = common::broker().await;
    let (engine, mut events) = engine();
    let session = engine.connect(LinkConfig::Mqtt(MqttConfig::new(broker.url(), "wb-refresh")), engine.default_session_options("t")).unwrap();
    engine_ready(&engine, session).await;
    let mut config = SimConfig::new(ModelSet::builtin(), PK, DEV, LinkConfig::Mqtt(MqttConfig::new(broker.url(), "x")), files.path().to_path_buf());
    config.report_period_ms = Some(5_000);
    let sim = sim::spawn(config).unwrap();
    let key = GatewayKey { pk: PK.into(), dev: DEV.into() };
    eventually(Duration::from_secs(20), "gateway online with its versions", || engine.state.gateways().get(&key).is_some_and(|g| g.online == Some(true) && g.info.is_some() && !g.versions.is_empty())).await;

    let image: Vec<u8> = (0..64 * 1024u32).map(|i| (i * 31 % 251) as u8).collect();
    let id = engine.start_ota(OtaSpec::new(session, PK, DEV, "firmware", "9.9.9", Bytes::from(image))).unwrap();
    let status = wait_for(&mut events, Duration::from_secs(30), "the upgrade to end", |e| match e {
        EngineEvent::Transfer(s) if s.id == id && s.phase.is_final() => Some(s.clone()),
        _ => None,
    })
    .await;
    assert_eq!(status.phase, TransferPhase::Done, "{status:?}");
    let done_at = now_ms();

    // Both asked after the end, by the engine alone, and answered.
    let asked = |class: &str, action: &str| {
        engine.state.gateways().get(&key).is_some_and(|g| g.requests.iter().any(|r| r.class == class && r.action == action && r.done_ms >= done_at - 50 && matches!(r.end, cems_workbench::engine::gateways::RequestEnd::Replied { code: 0, .. })))
    };
    eventually(Duration::from_secs(10), "info/get and ota/version/get after the upgrade", || asked("info", "get") && asked("ota", "version/get")).await;
    let versions = engine.state.gateways().get(&key).map(|g| g.versions.clone()).unwrap_or_default();
    assert!(versions.iter().any(|m| m.module == "firmware" && m.version == "9.9.9"), "{versions:?}");
    sim.stop().await;
}

//! A simulated gateway behind the embedded broker and an engine connected after it, for the
//! conformance tests.
#![allow(dead_code)]

use std::time::Duration;

use bytes::Bytes;
use cems_workbench::conformance::{CancelToken, Catalogue, FirmwareImage, Progress, RunOptions, RunReport, run};
use cems_workbench::engine::{Engine, EngineConfig, EngineHandle, GatewayKey, SessionId};
use cems_workbench::protocol::model::ModelSet;
use cems_workbench::sim::{self, Outage, SimConfig, SimFault, SimHandle};
use cems_workbench::transport::LinkConfig;
use cems_workbench::transport::broker::{BrokerConfig, EmbeddedBroker};
use cems_workbench::transport::mqtt::MqttConfig;
use tokio::sync::mpsc;

pub const PK: &str = "PK-GW-01";

pub struct Bench {
    pub engine: EngineHandle,
    pub session: SessionId,
    pub sim: Option<SimHandle>,
    pub dev: String,
    pub url: String,
    _broker: EmbeddedBroker,
    _files: tempfile::TempDir,
}

pub async fn bench(dev: &str, faults: Vec<SimFault>, outage: Option<Outage>) -> Bench {
    let broker = EmbeddedBroker::start(BrokerConfig { listen: "127.0.0.1:0".parse().unwrap(), ..Default::default() }).await.unwrap();
    let url = format!("mqtt://{}", broker.local_addr());
    let files = tempfile::tempdir().unwrap();
    let mut config = SimConfig::new(ModelSet::builtin(), PK, dev, LinkConfig::Mqtt(MqttConfig::new(&url, "overridden")), files.path().to_path_buf());
    config.report_period_ms = Some(200);
    config.seed = 11;
    config.faults = faults;
    config.outage = outage;
    let sim = sim::spawn(config).unwrap();
    // The gateway first, so its retained status reaches the engine as retained.
    let mut status = sim.link_status();
    tokio::time::timeout(Duration::from_secs(10), status.wait_for(|s| s.connects > 0)).await.expect("sim connects").unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (engine, _events) = Engine::spawn_with(EngineConfig::default(), || {}).unwrap();
    let session = engine.connect(LinkConfig::Mqtt(MqttConfig::new(&url, format!("wb-{dev}"))), engine.default_session_options("test")).unwrap();
    let key = GatewayKey { pk: PK.into(), dev: dev.into() };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let ready = engine.state.gateways().get(&key).is_some_and(|g| g.online == Some(true) && g.info.is_some() && g.point_count() > 10);
        if ready {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "gateway never online in the engine");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Bench { engine, session, sim: Some(sim), dev: dev.into(), url, _broker: broker, _files: files }
}

/// Fast options: short replies' timeout, scaled-down waits, changes allowed, a firmware image.
pub fn options() -> RunOptions {
    let mut options = RunOptions::new(Catalogue::builtin().unwrap(), ModelSet::builtin());
    options.allow_changes = true;
    options.reply_timeout = Duration::from_millis(1500);
    options.transfer_timeout = Duration::from_secs(10);
    options.time_scale = 0.15;
    options.firmware = Some(FirmwareImage { module: "firmware".into(), version: "9.9.9-test".into(), image: Bytes::from(vec![7_u8; 20_000]) });
    options.link_label = "embedded broker".into();
    options
}

impl Bench {
    pub async fn run(&self, options: &RunOptions, cancel: &CancelToken, progress: Option<mpsc::UnboundedSender<Progress>>) -> RunReport {
        tokio::time::timeout(Duration::from_secs(240), run(&self.engine, self.session, (PK, &self.dev), options, cancel, progress)).await.expect("the run ends")
    }

    /// Pushes the meter's Ua over its threshold: the simulator raises overVoltage.
    pub fn raise_alarm(&self) {
        let Some(sim) = &self.sim else { return };
        sim.with_state(|s| {
            let now = s.now_ms();
            if let Some(ua) = s.devices.iter_mut().find(|d| d.sub == "meter-1").and_then(|d| d.points.iter_mut().find(|p| p.pid == "Ua")) {
                ua.force_excursion(true, now, 2_000);
            }
        });
    }
}

pub fn failed_ids(report: &RunReport) -> Vec<String> {
    report.cases.iter().filter(|c| c.verdict.is_failed()).map(|c| c.id.clone()).collect()
}

pub fn verdicts(report: &RunReport) -> String {
    report.cases.iter().map(|c| format!("{} {} {}", c.id, c.verdict.label(), c.verdict.reason().unwrap_or(""))).collect::<Vec<_>>().join("\n")
}

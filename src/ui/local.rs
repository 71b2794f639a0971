//! What a newcomer needs to see the workbench work at once: the embedded MQTT broker on
//! 127.0.0.1 and a demo gateway (the simulator serving the example energy gateway) on it.
//!
//! They come up in the background ([`start_local`]): the window never waits for them, and the
//! app opens its session on the broker when [`LocalEvent::BrokerUp`] arrives.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::mpsc;
use tracing::{info, warn};

use super::repaint::RepaintSignal;
use super::settings::Settings;
use crate::config::broker_tls;
use crate::config::profiles::ProfileStore;
use crate::config::secrets::Secret;
use crate::protocol::model::ModelSet;
use crate::sim::ess::{StationConfig, StationHandle, spawn_station};
use crate::sim::{self, SimConfig, SimHandle};
use crate::transport::LinkConfig;
use crate::transport::broker::{BrokerConfig, Devices, EmbeddedBroker, tls_server_config};
use crate::transport::mqtt::MqttConfig;

/// Product key and device id of the demo gateway (the example energy gateway).
pub const DEMO_PK: &str = "PK-GW-01";
pub const DEMO_DEV: &str = "GW-DEMO-01";
/// The demo gateway reports every second.
pub const DEMO_REPORT_PERIOD_MS: u64 = 1000;
/// The embedded broker's preferred address; a free port is taken when it is in use.
pub const DEFAULT_LISTEN: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 1883);
/// The same with TLS (IANA's port for MQTT over TLS).
pub const DEFAULT_TLS_LISTEN: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 8883);

/// What to bring up locally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalPlan {
    /// Where the embedded broker listens first; on failure it takes a free port on 127.0.0.1.
    pub listen: SocketAddr,
    /// Start the demo gateway on it.
    pub demo: bool,
    /// Admit only the devices and masters of this file (contract §6 signatures), plus the
    /// window's own sessions and the demo gateway with credentials made up for the run.
    pub devices_file: Option<PathBuf>,
    /// Speak TLS with the self-signed certificate kept in (or made in) this folder.
    pub tls_dir: Option<PathBuf>,
}

impl LocalPlan {
    /// What the settings ask for (the demo as `demo` says: the command line may turn it off).
    pub fn of(settings: &Settings, demo: bool) -> LocalPlan {
        let devices_file = Some(settings.broker_devices_file.trim()).filter(|f| !f.is_empty()).map(PathBuf::from);
        let tls_dir = if settings.broker_tls { ProfileStore::default_dir() } else { None };
        let listen = if tls_dir.is_some() { DEFAULT_TLS_LISTEN } else { DEFAULT_LISTEN };
        LocalPlan { listen, demo, devices_file, tls_dir }
    }
}

/// How the window's own sessions reach the embedded broker.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalAccess {
    /// `mqtt://…` or `mqtts://…`.
    pub url: String,
    /// The broker's certificate, trusted as the CA of its TLS.
    pub ca_file: Option<PathBuf>,
    /// The master made up for this run when the broker checks who connects.
    pub master: Option<(String, Secret)>,
}

impl LocalAccess {
    /// A link to the embedded broker as client `client_id`.
    pub fn link_config(&self, client_id: String) -> LinkConfig {
        let mut config = MqttConfig::new(self.url.clone(), client_id);
        config.ca_file = self.ca_file.clone();
        if let Some((user, password)) = &self.master {
            config.username = Some(user.clone());
            config.password = Some(password.expose().to_string());
        }
        LinkConfig::Mqtt(config)
    }
}

/// What the local services report to the app.
#[derive(Debug, Clone, PartialEq)]
pub enum LocalEvent {
    /// The embedded broker listens here; `fallback` when the preferred address was taken.
    BrokerUp { addr: SocketAddr, fallback: bool, access: LocalAccess },
    BrokerFailed(String),
    DemoUp { pk: String, dev: String },
    DemoFailed(String),
}

/// The embedded broker and the demo gateway, alive as long as this value.
pub struct LocalServices {
    events: mpsc::UnboundedReceiver<LocalEvent>,
    tx: mpsc::UnboundedSender<LocalEvent>,
    running: Arc<Mutex<Running>>,
    task: tokio::task::JoinHandle<()>,
    runtime: tokio::runtime::Handle,
    models: ModelSet,
    repaint: RepaintSignal,
    plan: LocalPlan,
}

#[derive(Default)]
struct Running {
    broker: Option<EmbeddedBroker>,
    sim: Option<SimHandle>,
    files_dir: Option<PathBuf>,
    /// How a device reaches the broker, once it listens; `checks_devices` when only the devices
    /// file's devices get in.
    access: Option<LocalAccess>,
    checks_devices: bool,
    /// The model editor's simulated gateway and its folder.
    simulated: Option<(SimHandle, PathBuf)>,
    /// The demo energy-storage station, started from the Stations tab.
    station: Option<StationHandle>,
}

impl Running {
    /// Stops the demo and the broker (waiting until its port is free) and removes the demo's folder.
    async fn shut(mut self) {
        // Dropping the sim asks it to stop.
        self.sim = None;
        self.station = None;
        if let Some((sim, dir)) = self.simulated.take() {
            drop(sim);
            let _ = std::fs::remove_dir_all(dir);
        }
        if let Some(broker) = self.broker.take() {
            broker.stop().await;
        }
        if let Some(dir) = self.files_dir.take() {
            // Best effort: a leftover demo folder in the temp dir harms no one.
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

impl std::fmt::Debug for LocalServices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        f.debug_struct("LocalServices")
            .field("broker", &running.broker.as_ref().map(EmbeddedBroker::local_addr))
            .field("demo", &running.sim.is_some())
            .field("plan", &self.plan)
            .finish()
    }
}

impl LocalServices {
    /// Whatever has happened since the last call, without waiting.
    pub fn poll(&mut self) -> Vec<LocalEvent> {
        let mut out = Vec::new();
        while let Ok(event) = self.events.try_recv() {
            out.push(event);
        }
        out
    }

    /// The embedded broker's address, once it listens.
    pub fn broker_addr(&self) -> Option<SocketAddr> {
        self.running.lock().unwrap_or_else(PoisonError::into_inner).broker.as_ref().map(EmbeddedBroker::local_addr)
    }

    /// Starts a simulated gateway serving `models` (gateway `pk`, device `dev`) on the embedded
    /// broker, in place of the one started before.
    pub fn simulate(&self, models: ModelSet, pk: &str, dev: &str) -> Result<(), String> {
        let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(access) = running.access.clone() else {
            return Err("the embedded broker is not up".into());
        };
        if running.checks_devices {
            return Err("the embedded broker admits only the devices of its devices file: clear that file in the settings to simulate a model".into());
        }
        if let Some((old, dir)) = running.simulated.take() {
            drop(old);
            let _ = std::fs::remove_dir_all(dir);
        }
        let files_dir = std::env::temp_dir().join(format!("cems-workbench-sim-{}-{}", std::process::id(), rand::random::<u32>()));
        let link = LocalAccess { master: None, ..access }.link_config(format!("{pk}.{dev}"));
        let mut config = SimConfig::new(models, pk, dev, link, files_dir.clone());
        config.report_period_ms = Some(DEMO_REPORT_PERIOD_MS);
        // The simulator spawns its tasks on the runtime it is started in.
        let _in_runtime = self.runtime.enter();
        let sim = sim::spawn(config).map_err(|e| e.to_string())?;
        running.simulated = Some((sim, files_dir));
        info!("simulating {pk}/{dev} for the model editor");
        Ok(())
    }

    /// Starts the demo energy-storage station (`sim --ess`: two PCS, a BMS with two racks) on the
    /// embedded broker, beside the demo gateway.
    pub fn start_station(&self) -> Result<(), String> {
        let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(access) = running.access.clone() else {
            return Err("the embedded broker is not up".into());
        };
        if running.checks_devices {
            return Err("the embedded broker admits only the devices of its devices file: clear that file in the settings to start the demo station".into());
        }
        // An empty client id: the station names itself after its application and group.
        let link = LocalAccess { master: None, ..access }.link_config(String::new());
        let _in_runtime = self.runtime.enter();
        let station = spawn_station(StationConfig::new(link)).map_err(|e| e.to_string())?;
        running.station = Some(station);
        info!("demo energy-storage station started");
        Ok(())
    }

    /// Stops the demo station, if one runs.
    pub fn stop_station(&self) {
        let taken = self.running.lock().unwrap_or_else(PoisonError::into_inner).station.take();
        drop(taken);
    }

    /// Stops the model editor's simulated gateway, if one runs.
    pub fn stop_simulation(&self) {
        let taken = self.running.lock().unwrap_or_else(PoisonError::into_inner).simulated.take();
        if let Some((sim, dir)) = taken {
            drop(sim);
            let _ = std::fs::remove_dir_all(dir);
        }
    }

    /// What the services were last started with.
    pub fn plan(&self) -> &LocalPlan {
        &self.plan
    }

    /// Stops the broker and the demo and brings them up again with `plan` (a devices file or TLS
    /// changed in the settings), in the background; events come as at the first start.
    pub fn restart(&mut self, plan: LocalPlan) {
        self.task.abort();
        let previous = std::mem::take(&mut *self.running.lock().unwrap_or_else(PoisonError::into_inner));
        let (tx, running, repaint, models) = (self.tx.clone(), self.running.clone(), self.repaint.clone(), self.models.clone());
        let next = plan.clone();
        self.task = self.runtime.spawn(async move {
            previous.shut().await;
            bring_up(next, models, tx, running, repaint).await;
        });
        self.plan = plan;
    }
}

impl Drop for LocalServices {
    fn drop(&mut self) {
        self.task.abort();
        let running = std::mem::take(&mut *self.running.lock().unwrap_or_else(PoisonError::into_inner));
        // Dropping the broker closes its listener; the sim stops when dropped.
        drop(running.sim);
        drop(running.station);
        if let Some((sim, dir)) = running.simulated {
            drop(sim);
            let _ = std::fs::remove_dir_all(dir);
        }
        drop(running.broker);
        if let Some(dir) = running.files_dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Starts the embedded broker (and the demo gateway on it) on `runtime`, in the background.
pub fn start_local(runtime: &tokio::runtime::Handle, plan: LocalPlan, models: ModelSet, repaint: RepaintSignal) -> LocalServices {
    let (tx, events) = mpsc::unbounded_channel();
    let running = Arc::new(Mutex::new(Running::default()));
    let task = runtime.spawn(bring_up(plan.clone(), models.clone(), tx.clone(), running.clone(), repaint.clone()));
    LocalServices { events, tx, running, task, runtime: runtime.clone(), models, repaint, plan }
}

/// A random secret for credentials that live as long as this run (never written anywhere).
fn made_up_secret() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// Who the broker admits and how the window and the demo get in: the devices file plus a master
/// for the window and the demo gateway, with credentials made up for the run.
struct Door {
    devices: Option<Devices>,
    master: Option<(String, Secret)>,
    demo_secret: Option<String>,
}

fn door(plan: &LocalPlan) -> Result<Door, String> {
    let Some(file) = &plan.devices_file else {
        return Ok(Door { devices: None, master: None, demo_secret: None });
    };
    let listed = Devices::load(file).map_err(|e| format!("devices file {e}"))?;
    let user = format!("cems-workbench-{}", std::process::id());
    let password = made_up_secret();
    let mut devices = listed.with_master(&user, &password);
    let demo_secret = plan.demo.then(made_up_secret);
    if let Some(secret) = &demo_secret {
        devices = devices.with_device(DEMO_PK, DEMO_DEV, secret);
    }
    Ok(Door { devices: Some(devices), master: Some((user, Secret::new(password))), demo_secret })
}

/// The TLS settings and the certificate to trust, when the plan asks for TLS.
fn tls(plan: &LocalPlan) -> Result<Option<(Arc<rustls::ServerConfig>, PathBuf)>, String> {
    let Some(dir) = &plan.tls_dir else { return Ok(None) };
    let files = broker_tls::ensure_self_signed(dir, plan.listen.ip()).map_err(|e| format!("TLS certificate: {e:#}"))?;
    let config = tls_server_config(&files.cert, &files.key).map_err(|e| e.to_string())?;
    info!("embedded broker TLS certificate: {}", files.cert.display());
    Ok(Some((config, files.cert)))
}

async fn bring_up(plan: LocalPlan, models: ModelSet, tx: mpsc::UnboundedSender<LocalEvent>, running: Arc<Mutex<Running>>, repaint: RepaintSignal) {
    let send = |event: LocalEvent| {
        // The app is gone when nobody listens: nothing left to tell.
        let _ = tx.send(event);
        repaint.request();
    };
    // A devices file or certificate that cannot be used must not leave an open broker behind.
    let (door, tls) = match door(&plan).and_then(|door| Ok((door, tls(&plan)?))) {
        Ok(both) => both,
        Err(e) => return send(LocalEvent::BrokerFailed(e)),
    };
    let (tls_config, ca_file) = match tls {
        Some((config, cert)) => (Some(config), Some(cert)),
        None => (None, None),
    };
    let config = BrokerConfig { listen: plan.listen, devices: door.devices.clone(), tls: tls_config, ..BrokerConfig::default() };
    let (broker, fallback) = match EmbeddedBroker::start(config.clone()).await {
        Ok(broker) => (broker, false),
        Err(first) if plan.listen.port() != 0 => {
            warn!("embedded broker: {first}; taking a free port instead");
            match EmbeddedBroker::start(BrokerConfig { listen: SocketAddr::new(plan.listen.ip(), 0), ..config }).await {
                Ok(broker) => (broker, true),
                Err(e) => return send(LocalEvent::BrokerFailed(e.to_string())),
            }
        }
        Err(e) => return send(LocalEvent::BrokerFailed(e.to_string())),
    };
    let addr = broker.local_addr();
    // stdout for other tools and scripts; the log for people.
    println!("listening on {addr}");
    info!("embedded MQTT broker listening on {addr}");
    let access = LocalAccess { url: broker.url(), ca_file, master: door.master };
    {
        let mut running = running.lock().unwrap_or_else(PoisonError::into_inner);
        running.broker = Some(broker);
        running.access = Some(access.clone());
        running.checks_devices = door.devices.is_some();
    }
    send(LocalEvent::BrokerUp { addr, fallback, access: access.clone() });
    if !plan.demo {
        return;
    }
    // One folder per demo: tests run several in one process.
    static DEMOS: AtomicU32 = AtomicU32::new(0);
    let n = DEMOS.fetch_add(1, Ordering::Relaxed);
    let files_dir = std::env::temp_dir().join(format!("cems-workbench-demo-{}-{n}", std::process::id()));
    // The demo is a device, not a master: its own signed credentials, the broker's CA.
    let link = LocalAccess { master: None, ..access }.link_config(format!("{DEMO_PK}.{DEMO_DEV}"));
    let mut config = SimConfig::new(models, DEMO_PK, DEMO_DEV, link, files_dir.clone());
    config.secret = door.demo_secret;
    // Faster than the model's own periods (5 s to 15 min) so a newcomer sees values move.
    config.report_period_ms = Some(DEMO_REPORT_PERIOD_MS);
    match sim::spawn(config) {
        Ok(sim) => {
            let mut running = running.lock().unwrap_or_else(PoisonError::into_inner);
            running.sim = Some(sim);
            running.files_dir = Some(files_dir);
            drop(running);
            info!("demo gateway {DEMO_PK}/{DEMO_DEV} started on {addr}");
            send(LocalEvent::DemoUp { pk: DEMO_PK.into(), dev: DEMO_DEV.into() });
        }
        Err(e) => send(LocalEvent::DemoFailed(e.to_string())),
    }
}

/// The client id of the workbench's own MQTT sessions.
pub fn client_id() -> String {
    format!("cems-workbench-{}", std::process::id())
}


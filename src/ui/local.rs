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
use crate::protocol::model::ModelSet;
use crate::sim::{self, SimConfig, SimHandle};
use crate::transport::LinkConfig;
use crate::transport::broker::{BrokerConfig, EmbeddedBroker};
use crate::transport::mqtt::MqttConfig;

/// Product key and device id of the demo gateway (the example energy gateway).
pub const DEMO_PK: &str = "PK-GW-01";
pub const DEMO_DEV: &str = "GW-DEMO-01";
/// The demo gateway reports every second.
pub const DEMO_REPORT_PERIOD_MS: u64 = 1000;
/// The embedded broker's preferred address; a free port is taken when it is in use.
pub const DEFAULT_LISTEN: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 1883);

/// What to bring up locally.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalPlan {
    /// Where the embedded broker listens first; on failure it takes a free port on 127.0.0.1.
    pub listen: SocketAddr,
    /// Start the demo gateway on it.
    pub demo: bool,
}

/// What the local services report to the app.
#[derive(Debug, Clone, PartialEq)]
pub enum LocalEvent {
    /// The embedded broker listens here; `fallback` when the preferred address was taken.
    BrokerUp { addr: SocketAddr, fallback: bool },
    BrokerFailed(String),
    DemoUp { pk: String, dev: String },
    DemoFailed(String),
}

/// The embedded broker and the demo gateway, alive as long as this value.
pub struct LocalServices {
    events: mpsc::UnboundedReceiver<LocalEvent>,
    running: Arc<Mutex<Running>>,
    task: tokio::task::JoinHandle<()>,
}

#[derive(Default)]
struct Running {
    broker: Option<EmbeddedBroker>,
    sim: Option<SimHandle>,
    files_dir: Option<PathBuf>,
}

impl std::fmt::Debug for LocalServices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        f.debug_struct("LocalServices")
            .field("broker", &running.broker.as_ref().map(EmbeddedBroker::local_addr))
            .field("demo", &running.sim.is_some())
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
}

impl Drop for LocalServices {
    fn drop(&mut self) {
        self.task.abort();
        let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        // Dropping the sim asks it to stop; dropping the broker closes its listener.
        running.sim = None;
        running.broker = None;
        if let Some(dir) = running.files_dir.take() {
            // Best effort: a leftover demo folder in the temp dir harms no one.
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Starts the embedded broker (and the demo gateway on it) on `runtime`, in the background.
pub fn start_local(runtime: &tokio::runtime::Handle, plan: LocalPlan, models: ModelSet, repaint: RepaintSignal) -> LocalServices {
    let (tx, events) = mpsc::unbounded_channel();
    let running = Arc::new(Mutex::new(Running::default()));
    let task = runtime.spawn(bring_up(plan, models, tx, running.clone(), repaint));
    LocalServices { events, running, task }
}

async fn bring_up(plan: LocalPlan, models: ModelSet, tx: mpsc::UnboundedSender<LocalEvent>, running: Arc<Mutex<Running>>, repaint: RepaintSignal) {
    let send = |event: LocalEvent| {
        // The app is gone when nobody listens: nothing left to tell.
        let _ = tx.send(event);
        repaint.request();
    };
    let (broker, fallback) = match EmbeddedBroker::start(BrokerConfig { listen: plan.listen, ..BrokerConfig::default() }).await {
        Ok(broker) => (broker, false),
        Err(first) if plan.listen.port() != 0 => {
            warn!("embedded broker: {first}; taking a free port instead");
            match EmbeddedBroker::start(BrokerConfig { listen: SocketAddr::new(plan.listen.ip(), 0), ..BrokerConfig::default() }).await {
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
    let url = broker.url();
    running.lock().unwrap_or_else(PoisonError::into_inner).broker = Some(broker);
    send(LocalEvent::BrokerUp { addr, fallback });
    if !plan.demo {
        return;
    }
    // One folder per demo: tests run several in one process.
    static DEMOS: AtomicU32 = AtomicU32::new(0);
    let n = DEMOS.fetch_add(1, Ordering::Relaxed);
    let files_dir = std::env::temp_dir().join(format!("cems-workbench-demo-{}-{n}", std::process::id()));
    let link = LinkConfig::Mqtt(MqttConfig::new(url, format!("{DEMO_PK}.{DEMO_DEV}")));
    let mut config = SimConfig::new(models, DEMO_PK, DEMO_DEV, link, files_dir.clone());
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


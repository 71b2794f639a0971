//! Serving the App API from the window: `ApiService` over the window's own engine state, its
//! models and point history, with `ApiServer` on the app's tokio runtime. Binding happens on the
//! runtime; the window looks for the outcome each frame and never waits for it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, mpsc};

use crate::api::apps::{SiteEntry, sites_from};
use crate::api::{ApiConfig, ApiData, ApiServer, ApiService, ListenOptions, Site};
use crate::engine::SharedState;
use crate::protocol::model::ModelSet;

/// What the window's server is doing.
#[derive(Default)]
pub enum Serving {
    #[default]
    Off,
    /// Bound or refused soon.
    Starting { outcome: mpsc::Receiver<Result<String, String>>, running: Running },
    /// Answering at `url` (`http://127.0.0.1:8686/api`).
    On { url: String, running: Running },
    /// Why it does not serve, as shown.
    Failed(String),
}

/// A server task and what it answers from; dropping it stops the server.
pub struct Running {
    /// Dropped to stop: the server's shutdown future ends when its sender goes.
    _stop: tokio::sync::oneshot::Sender<()>,
    data: Arc<ApiData>,
    pub sites: Vec<Site>,
    /// No apps file was found: every call is refused with 1002.
    pub warning: Option<String>,
}

/// Where to serve and with which apps, as the settings give them.
pub struct ServeRequest<'a> {
    pub listen: &'a str,
    /// Empty: `<data dir>/api-apps.json` when it exists.
    pub apps_file: &'a str,
    /// The settings' sites; empty: the apps file's.
    pub sites: &'a [SiteEntry],
    pub state: &'a SharedState,
    pub models: &'a ModelSet,
    /// Read when the engine has no history attached (another workbench writes it).
    pub history: Option<PathBuf>,
}

impl Serving {
    /// Starts a server (stopping the one before); errors land in [`Serving::Failed`].
    pub fn start(&mut self, runtime: Option<&tokio::runtime::Handle>, request: ServeRequest<'_>) {
        *self = Serving::Off;
        *self = match start(runtime, request) {
            Ok(serving) => serving,
            Err(message) => Serving::Failed(message),
        };
    }

    pub fn stop(&mut self) {
        *self = Serving::Off;
    }

    /// Takes the bind's outcome when it is there.
    pub fn poll(&mut self) {
        let Serving::Starting { outcome, .. } = self else { return };
        let result = match outcome.try_recv() {
            Err(mpsc::TryRecvError::Empty) => return,
            Ok(result) => result,
            Err(mpsc::TryRecvError::Disconnected) => Err("the App API server task ended before it listened".to_owned()),
        };
        *self = match (result, std::mem::take(self)) {
            (Ok(url), Serving::Starting { running, .. }) => Serving::On { url, running },
            (Err(message), _) => Serving::Failed(message),
            (Ok(_), other) => other,
        };
    }

    /// The base URL while serving.
    pub fn url(&self) -> Option<&str> {
        match self {
            Serving::On { url, .. } => Some(url),
            _ => None,
        }
    }

    pub fn error(&self) -> Option<&str> {
        match self {
            Serving::Failed(message) => Some(message),
            _ => None,
        }
    }

    pub fn is_starting(&self) -> bool {
        matches!(self, Serving::Starting { .. })
    }

    pub fn running(&self) -> Option<&Running> {
        match self {
            Serving::Starting { running, .. } | Serving::On { running, .. } => Some(running),
            _ => None,
        }
    }

    /// The window reloaded its models: the answers use them from now on.
    pub fn set_models(&self, models: &ModelSet) {
        if let Some(running) = self.running() {
            running.data.set_models(models.clone());
        }
    }
}

fn start(runtime: Option<&tokio::runtime::Handle>, request: ServeRequest<'_>) -> Result<Serving, String> {
    let runtime = runtime.ok_or("the window has no async runtime to serve on")?;
    let text = request.listen.trim();
    let listen: SocketAddr = text.parse().map_err(|_| format!("listen address {text:?}: expected an address and port, e.g. 127.0.0.1:8686"))?;
    // The window has no certificate settings: other addresses are for `api serve` with TLS.
    if !listen.ip().is_loopback() {
        return Err(format!("{listen} is not a loopback address: the window serves on loopback only (use `cems-workbench api serve --tls-cert … --tls-key …` for other addresses)"));
    }
    let typed = request.apps_file.trim();
    let apps = if typed.is_empty() { None } else { Some(Path::new(typed)) };
    let (mut config, warning) = ApiConfig::load(apps).map_err(|e| format!("{e:#}"))?;
    if !request.sites.is_empty() {
        config.sites = sites_from(request.sites.to_vec()).map_err(|e| format!("Settings, App API {e:#}"))?;
    }
    let sites = config.sites.clone();
    let data = Arc::new(ApiData::new(Box::new(request.state.clone()), request.models.clone(), request.history));
    let service = Arc::new(ApiService::new(data.clone(), config));
    let options = ListenOptions { listen, tls: None, plain_http: false };
    let (outcome_tx, outcome) = mpsc::channel();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    runtime.spawn(async move {
        match ApiServer::bind(&options).await {
            Ok(server) => {
                let url = format!("{}://{}{}", server.scheme(), server.local_addr, service.base);
                let _ = outcome_tx.send(Ok(url));
                // Ends when the window drops the sender (switched off, or closed).
                server.serve(service, async {
                    let _ = stopped.await;
                })
                .await;
            }
            Err(e) => {
                let _ = outcome_tx.send(Err(format!("{e:#}")));
            }
        }
    });
    Ok(Serving::Starting { outcome, running: Running { _stop: stop, data, sites, warning } })
}

//! The "App API" tab (GB/T 35031.5, `shared/protocol/app-api.md`): call any interface of a
//! master's API (the window's own by default) with the fields filled from the model, see the
//! signed request and the answer as a table and as JSON, and run the probe as a table of
//! verdicts. The window's own server is [`serve::Serving`], switched in the Settings popup.
//! Calls run on a thread blocking on the app's runtime; the tab polls them each frame.

pub mod form;
pub mod serve;
pub mod settings_ui;
mod sites_ui;
mod table;
mod view;

use std::time::Duration;

use crate::api::probe::{Observed, ProbeOptions, ProbeReport, probe};
use crate::api::{ApiClient, Exchange, HttpVersion};
use crate::engine::SharedState;
use crate::protocol::app_api::time::parse_request_time;
use crate::protocol::model::ModelSet;
use crate::ui::connections::background::{Pending, Poll};
use form::{CallForm, Choices};
use serve::Serving;

/// The longest a served value's time may differ from what the window saw (the probe's compare).
const COMPARE_TOLERANCE_MS: i64 = 60_000;

/// The tab's state and the window's server.
#[derive(Default)]
pub struct AppApiPage {
    runtime: Option<tokio::runtime::Handle>,
    pub serving: Serving,
    pub form: CallForm,
    choices: Choices,
    choices_for: Option<String>,
    call: Option<Pending<Result<Exchange, String>>>,
    /// The last call's exchange, or why it could not be made.
    last: Option<Result<Exchange, String>>,
    probe: Option<Pending<Result<ProbeReport, String>>>,
    report: Option<Result<ProbeReport, String>>,
    /// Compare the dynamic values with what this window's links show.
    pub compare_with_links: bool,
    /// The CA file's dialog while it is open, and why none could open.
    ca_dialog: Option<crate::ui::file_dialog::Dialog>,
    ca_problem: Option<crate::ui::file_dialog::DialogProblem>,
}

impl AppApiPage {
    /// Calls and the server run on `runtime` (the window's; taken while it is entered).
    pub fn new(runtime: Option<tokio::runtime::Handle>) -> AppApiPage {
        AppApiPage { runtime, ..AppApiPage::default() }
    }

    /// Starts (or restarts) the window's server on the window's runtime.
    pub fn start_serving(&mut self, request: serve::ServeRequest<'_>) {
        self.serving.start(self.runtime.as_ref(), request);
        // The sites may differ now.
        self.choices_for = None;
    }

    /// The last call's exchange or error.
    pub fn last(&self) -> Option<&Result<Exchange, String>> {
        self.last.as_ref()
    }

    pub fn report(&self) -> Option<&Result<ProbeReport, String>> {
        self.report.as_ref()
    }

    pub fn busy(&self) -> bool {
        self.call.is_some() || self.probe.is_some() || self.serving.is_starting()
    }

    /// Takes finished work; asks for another frame while some runs.
    pub fn poll(&mut self, ctx: &egui::Context) {
        self.serving.poll();
        if let Some(call) = &self.call {
            match call.poll() {
                Poll::Waiting => {}
                Poll::Ready(result) => {
                    self.last = Some(result);
                    self.call = None;
                }
                Poll::Lost => {
                    self.last = Some(Err("the call's thread ended without an answer".to_owned()));
                    self.call = None;
                }
            }
        }
        if let Some(running) = &self.probe {
            match running.poll() {
                Poll::Waiting => {}
                Poll::Ready(result) => {
                    self.report = Some(result);
                    self.probe = None;
                }
                Poll::Lost => {
                    self.report = Some(Err("the probe's thread ended without a report".to_owned()));
                    self.probe = None;
                }
            }
        }
        if self.busy() {
            ctx.request_repaint_after(Duration::from_millis(50));
        }
    }

    /// The URL the form calls: the typed one, else the window's own server.
    pub fn target_url(&self) -> Option<String> {
        let typed = self.form.url.trim();
        if typed.is_empty() { self.serving.url().map(str::to_owned) } else { Some(typed.to_owned()) }
    }

    fn client(&self) -> Result<(ApiClient, tokio::runtime::Handle), String> {
        let url = self.target_url().ok_or("no URL: type one, or switch on serving in Settings")?;
        let version = if self.form.http2 { HttpVersion::Http2 } else { HttpVersion::Http1 };
        let ca = self.form.server_ca.trim();
        let ca = (url.starts_with("https://") && !ca.is_empty()).then(|| std::path::Path::new(ca));
        let client = ApiClient::new(&url, self.form.app_id.trim(), &self.form.secret, version, ca).map_err(|e| format!("{e:#}"))?;
        let runtime = self.runtime.clone().ok_or("the window has no async runtime")?;
        Ok((client, runtime))
    }

    /// Sends the form's request.
    pub fn send(&mut self) {
        let (client, runtime) = match self.client() {
            Ok(pair) => pair,
            Err(message) => return self.last = Some(Err(message)),
        };
        let interface = self.form.interface;
        let body = self.form.body();
        match Pending::spawn("app-api-call", move || runtime.block_on(client.call(interface, &body)).map_err(|e| format!("{e:#}"))) {
            Ok(pending) => self.call = Some(pending),
            Err(e) => self.last = Some(Err(format!("cannot start the call: {e}"))),
        }
    }

    /// Runs the probe on the form's server, site and range.
    pub fn run_probe(&mut self, state: &SharedState, models: &ModelSet) {
        let (client, runtime) = match self.client() {
            Ok(pair) => pair,
            Err(message) => return self.report = Some(Err(message)),
        };
        let now = crate::protocol::time::now_ms();
        let to_ms = parse_request_time(self.form.to.trim()).unwrap_or(now);
        let from_ms = parse_request_time(self.form.from.trim()).unwrap_or(to_ms - 86_400_000);
        let observed = self.compare_with_links.then(|| Observed {
            source: std::sync::Arc::new(state.clone()),
            models: std::sync::Arc::new(models.clone()),
            tolerance_ms: COMPARE_TOLERANCE_MS,
        });
        let options = ProbeOptions { cems_id: self.form.cems_id.clone(), from_ms, to_ms, observed };
        match Pending::spawn("app-api-probe", move || Ok(runtime.block_on(probe(&client, &options)))) {
            Ok(pending) => self.probe = Some(pending),
            Err(e) => self.report = Some(Err(format!("cannot start the probe: {e}"))),
        }
    }

    /// The ids offered, read again when the site changes or on request.
    fn refresh_choices(&mut self, state: &SharedState, models: &ModelSet, force: bool) {
        if !force && self.choices_for.as_deref() == Some(self.form.cems_id.as_str()) {
            return;
        }
        let sites = self.serving.running().map(|r| r.sites.clone()).unwrap_or_default();
        self.choices = Choices::read(state, models, &sites, &self.form.cems_id);
        self.choices_for = Some(self.form.cems_id.clone());
    }
}

//! What every panel gets each frame: read access to the engine's state and a list to push
//! [`UiCommand`]s into. Panels own only their view state; the app applies the commands in one
//! place (`app.rs`), after the frame, so no panel mutates shared data (the rerun habit).

use std::collections::BTreeMap;

use super::model_editor::simulate::SimulationPlan;
use crate::engine::series::SeriesKey;
use crate::engine::{FileDownloadSpec, FileUploadSpec, GatewayKey, OtaSpec, RequestSpec, SessionId, SharedState};
use crate::protocol::model::{Lang, ModelSet};
use crate::protocol::topic::TopicProfile;
use crate::transport::{LinkConfig, LinkKind, LinkState, Message};

/// One session as the UI shows it, kept up to date from engine events.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionView {
    pub id: SessionId,
    /// What the user called it (profile name) or the link's target.
    pub label: String,
    /// `mqtt://host:port` or the serial port path.
    pub target: String,
    pub kind: LinkKind,
    pub state: LinkState,
    /// Connection attempts so far (reconnects included).
    pub attempts: u32,
    pub frames_dropped: u64,
    /// The saved profile this session was opened from, if any.
    pub profile: Option<String>,
    /// Marked read-only (a live site, or a replay): forms say so instead of sending.
    pub read_only: bool,
    /// A replay's progress (`LinkKind::Replay` only).
    pub replay: Option<super::replay::ReplayLink>,
}

/// Sessions by id, in opening order.
pub type Sessions = BTreeMap<SessionId, SessionView>;

/// Dark or light.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum ThemeChoice {
    #[default]
    Dark,
    Light,
}

/// Everything a panel may ask for. Applied by `WorkbenchApp::apply` after the frame.
#[derive(Debug)]
pub enum UiCommand {
    /// `read_only`: only the master's duties are published on it (a live site).
    Connect { config: LinkConfig, label: String, profile: Option<String>, read_only: bool },
    Disconnect(SessionId),
    /// Add a filter at `qos` (0 or 1) to an MQTT session, or change its QoS.
    Subscribe { session: SessionId, filter: String, qos: u8 },
    Unsubscribe { session: SessionId, filter: String },
    Publish { session: SessionId, message: Message },
    Request(RequestSpec),
    /// Select a topic in the explorer (by path, never by row).
    SelectTopic(String),
    OpenGateway(GatewayKey),
    SetLanguage(Lang),
    SetTheme(ThemeChoice),
    ClearStore,
    /// Keep the topics starting with `prefix` when the store is full (up to the pinned share of
    /// its budget), or take that pin back.
    PinTopics { prefix: String, pinned: bool },
    /// Upgrade a gateway's module with a firmware image (`ota/upgrade`, contract §8).
    StartOta(OtaSpec),
    /// Push a file to a gateway (`file/download`).
    StartFileDownload(FileDownloadSpec),
    /// Pull a file from a gateway into a local file (`file/upload` + `file/read`).
    StartFileUpload(FileUploadSpec),
    /// Cancel the transfer task with this `taskId` / `fileId`.
    CancelTransfer(String),
    /// Read the product models again (bundled, the user's folder, the settings' folder, `--models`).
    ReloadModels,
    /// Stop the embedded broker and the demo gateway and start them again with the settings'
    /// devices file and TLS choice.
    RestartLocal,
    /// Add a series to plot panel `plot` of the Plots tab and show that tab. `None`: the plot
    /// last used (a new one when there is none); `Some(i)` with `i` past the last plot (e.g.
    /// `usize::MAX`): a new plot. A series already in that plot stays once.
    PlotSeries { key: SeriesKey, plot: Option<usize> },
    /// Send a control command to an energy-storage station; its outcome lands in the station's
    /// command log in the shared state.
    StorageCommand(crate::engine::stations::StorageCommandSpec),
    /// Start (or restart) the simulated gateway of the model editor on the embedded broker,
    /// decode with its models, and open its device page.
    SimulateModel(Box<SimulationPlan>),
    /// Stop the model editor's simulated gateway.
    StopSimulation,
    /// Start (`true`) or stop the demo energy-storage station on the embedded broker.
    DemoStation(bool),
    /// Serve the App API from this window (again, with the settings' address and apps file),
    /// or stop serving it.
    ServeAppApi(bool),
    /// Close the window (the user agreed to lose unsaved changes).
    Quit,
    /// Record every message of every session to a new file in the recordings folder.
    StartRecording,
    StopRecording,
    /// Pause, resume, speed or seek of a replay session.
    ReplayControl { session: SessionId, control: crate::transport::replay::ReplayControl },
    /// Start a conformance run prepared by a device page's Conformance tab.
    RunConformance(Box<super::device::conformance::ConformanceLaunch>),
}

/// The read side handed to panels for one frame.
pub struct ViewContext<'a> {
    pub lang: Lang,
    pub state: &'a SharedState,
    pub sessions: &'a Sessions,
    pub models: &'a ModelSet,
    pub profile: &'a TopicProfile,
    /// Epoch ms of this frame, for "last seen" and rates.
    pub now_ms: i64,
}

impl ViewContext<'_> {
    /// The catalogue's text for `key` in the current language.
    pub fn tr(&self, key: &'static str) -> &'static str {
        super::i18n::tr(self.lang, key)
    }

    /// The first session that is up, for actions that need one when the user has not chosen.
    pub fn default_session(&self) -> Option<SessionId> {
        self.sessions.values().find(|s| s.state == LinkState::Up).or_else(|| self.sessions.values().next()).map(|s| s.id)
    }

    /// Whether a form may send on `session`, or the catalogue key of why not (shown in place of
    /// the send button's effect). Every form that publishes asks this first.
    pub fn can_send(&self, session: SessionId) -> Result<(), &'static str> {
        match self.sessions.get(&session) {
            None => Err("No session: connect first."),
            Some(s) if s.read_only => Err("Read-only session: nothing is sent."),
            Some(s) if s.state != LinkState::Up => Err("The session is not connected."),
            Some(_) => Ok(()),
        }
    }
}

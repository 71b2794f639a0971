//! A replay is a link that plays an MCAP recording: every face opens it like a broker or a
//! serial port (`LinkConfig::Replay`), and the engine sees what it saw live.
//!
//! The file is read streaming (one chunk in memory, `reader.rs`) on a blocking thread; the link
//! task (`player.rs`) paces the messages by their recorded receive time (`log_time`) at a factor
//! or as fast as the engine takes them, and sends each as [`LinkEvent::Recorded`] with that time.
//! States: `Connecting`, `Up` once the file opened, then `Down { reason }` at the end — "end of
//! recording (N messages)" or the damage ("recording damaged after N messages at byte B: …") —
//! where it stays until a seek back plays it again or it is closed. A file that is not MCAP is
//! `Down` with the reason, then `Closed`. Controls come as `LinkCommand::Replay`; a seek back
//! first sends [`LinkEvent::Rewound`] so the engine forgets what this session stored. A replay
//! never publishes: a publish sent to it is answered with `LinkEvent::PublishDropped`.
//!
//! [`LinkEvent::Recorded`]: crate::transport::LinkEvent::Recorded
//! [`LinkEvent::Rewound`]: crate::transport::LinkEvent::Rewound

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::mpsc;

use super::link::{LINK_EVENT_CAPACITY, LinkCounters, LinkEvent, LinkHandle, LinkKind};

mod chunk;
mod player;
mod reader;
mod summary;

pub use super::replay_control::{MAX_FACTOR, MIN_FACTOR, ReplayControl, ReplayProgress, ReplaySnapshot, ReplaySpeed};
pub use chunk::{RECORD_HEAD as RECORD_FRAMING, salvage_cut_chunk};
pub use reader::{MAX_RECORD_BYTES, McapEntry, McapMessage, McapReader, ReadDamage, RecordedChannel, ReplayError, ns_to_ms};
pub use summary::{SummaryFacts, read_summary};

/// How to open a replay.
#[derive(Debug, Clone)]
pub struct ReplayConfig {
    pub path: PathBuf,
    pub speed: ReplaySpeed,
    /// Opened and held before the first message until `ReplayControl::Resume`.
    pub start_paused: bool,
    /// Where the link shows its progress; a face keeps a clone (also on the link's handle).
    pub progress: Arc<ReplayProgress>,
}

impl ReplayConfig {
    /// At 1×, playing at once.
    pub fn new(path: impl Into<PathBuf>) -> ReplayConfig {
        ReplayConfig { path: path.into(), speed: ReplaySpeed::default(), start_paused: false, progress: Arc::default() }
    }

    pub fn with_speed(mut self, speed: ReplaySpeed) -> ReplayConfig {
        self.speed = speed;
        self
    }

    /// What the link's label is: `replay:` and the file.
    pub fn label(&self) -> String {
        format!("replay:{}", self.path.display())
    }
}

/// Starts a replay link task on the current tokio runtime.
pub fn spawn(config: ReplayConfig) -> (LinkHandle, mpsc::Receiver<LinkEvent>) {
    let (command_tx, command_rx) = mpsc::unbounded_channel();
    let (event_tx, event_rx) = mpsc::channel(LINK_EVENT_CAPACITY);
    let label = config.label();
    let progress = config.progress.clone();
    let player = player::Player::new(config.path, config.speed, config.start_paused, command_rx, event_tx, progress.clone());
    tokio::spawn(player.run());
    let handle = LinkHandle::new(LinkKind::Replay, label, command_tx, Arc::new(LinkCounters::default())).with_replay_progress(progress);
    (handle, event_rx)
}

#[cfg(test)]
mod tests;

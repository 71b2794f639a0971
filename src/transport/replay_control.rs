//! What a replay is told ([`ReplayControl`], [`ReplaySpeed`]) and what it shows
//! ([`ReplayProgress`]). Plain vocabulary, below the link vocabulary that carries it (`link.rs`)
//! and the replay link that acts on it (`replay/`); re-exported as `transport::replay::…`.

use std::sync::{Mutex, PoisonError};

/// How fast a replay plays: a factor of the recorded pace, or as fast as the reader takes it.
#[derive(Debug, Clone, Copy)]
pub enum ReplaySpeed {
    /// 1.0 plays as recorded, 10.0 ten times faster. Always finite and above 0 (see [`Self::factor`]).
    Factor(f64),
    Max,
}

impl Default for ReplaySpeed {
    fn default() -> Self {
        ReplaySpeed::Factor(1.0)
    }
}

// By bits, so a command carrying a speed can be compared (and is `Eq`) like the other commands.
impl PartialEq for ReplaySpeed {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (ReplaySpeed::Factor(a), ReplaySpeed::Factor(b)) => a.to_bits() == b.to_bits(),
            (ReplaySpeed::Max, ReplaySpeed::Max) => true,
            _ => false,
        }
    }
}

impl Eq for ReplaySpeed {}

/// The slowest and fastest factors a replay takes; others are brought within.
pub const MIN_FACTOR: f64 = 0.001;
pub const MAX_FACTOR: f64 = 1_000_000.0;

impl ReplaySpeed {
    /// `max`, or a factor such as `10`, `0.5` or `10x`.
    pub fn parse(text: &str) -> Result<ReplaySpeed, String> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("max") {
            return Ok(ReplaySpeed::Max);
        }
        let number = text.strip_suffix(['x', 'X']).unwrap_or(text);
        match number.parse::<f64>() {
            Ok(f) if f.is_finite() && (MIN_FACTOR..=MAX_FACTOR).contains(&f) => Ok(ReplaySpeed::Factor(f)),
            _ => Err(format!("speed {text:?}: expected max or a factor from {MIN_FACTOR} to {MAX_FACTOR} (1 plays as recorded)")),
        }
    }

    /// The factor, within [`MIN_FACTOR`]..=[`MAX_FACTOR`] (a NaN plays as recorded); `None` for Max.
    pub fn factor(self) -> Option<f64> {
        match self {
            ReplaySpeed::Factor(f) if f.is_nan() => Some(1.0),
            ReplaySpeed::Factor(f) => Some(f.clamp(MIN_FACTOR, MAX_FACTOR)),
            ReplaySpeed::Max => None,
        }
    }
}

impl std::fmt::Display for ReplaySpeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.factor() {
            Some(factor) => write!(f, "{factor}×"),
            None => f.write_str("max"),
        }
    }
}

/// A command to a replay link (`LinkCommand::Replay`); other links ignore it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayControl {
    /// Hold the next message; a seek still fast-forwards to its target while paused.
    Pause,
    Resume,
    Speed(ReplaySpeed),
    /// Go to a recorded time (epoch ms). Forward: the messages before it are played at once,
    /// unpaced. Back: `LinkEvent::Rewound`, then the same from the file's start.
    Seek { to_ms: i64 },
}

/// Where a replay stands, for a progress bar: a copy taken under a short lock.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReplaySnapshot {
    /// The file opened as MCAP (false until then, and for a file that is not one).
    pub opened: bool,
    /// Recorded time of the last message played.
    pub position_ms: Option<i64>,
    /// First and last recorded times: from the file's summary when it has one, else the first
    /// message and the latest one read so far.
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
    /// Messages in the file, from its summary.
    pub total_messages: Option<u64>,
    /// Messages played since the start or the last rewind.
    pub messages: u64,
    pub paused: bool,
    pub speed: ReplaySpeed,
    /// Fast-forwarding to this recorded time.
    pub seeking_to: Option<i64>,
    /// Played to the end (or to damage); a seek back plays again.
    pub finished: bool,
    /// Why the reading stopped early: "recording damaged after N messages at byte B: …".
    pub damage: Option<String>,
}

/// Shared between a replay link (writer) and the faces (readers); see [`ReplaySnapshot`].
#[derive(Debug, Default)]
pub struct ReplayProgress(Mutex<ReplaySnapshot>);

impl ReplayProgress {
    pub fn snapshot(&self) -> ReplaySnapshot {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    pub(super) fn update<T>(&self, change: impl FnOnce(&mut ReplaySnapshot) -> T) -> T {
        change(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

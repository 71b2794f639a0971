//! Where the answers' facts come from: an engine's shared state (`api serve`, the window), or a
//! gateway table held on its own (tests, a fixed lab snapshot).

use std::path::PathBuf;
use std::sync::RwLock;

use crate::engine::{Gateways, SharedState};

/// The gateway table and the point history an API server answers from.
pub trait ApiSource: Send + Sync {
    /// Runs `read` on the gateway table under its read lock (kept short: copy out, let go).
    fn read_gateways(&self, read: &mut dyn FnMut(&Gateways));
    /// The point history being written, if any.
    fn history_path(&self) -> Option<PathBuf>;
}

impl ApiSource for SharedState {
    fn read_gateways(&self, read: &mut dyn FnMut(&Gateways)) {
        read(&self.gateways());
    }

    fn history_path(&self) -> Option<PathBuf> {
        self.history().map(|(path, _)| path)
    }
}

/// A gateway table of its own and, optionally, a history file.
#[derive(Debug, Default)]
pub struct FixedSource {
    pub gateways: RwLock<Gateways>,
    pub history: Option<PathBuf>,
}

impl ApiSource for FixedSource {
    fn read_gateways(&self, read: &mut dyn FnMut(&Gateways)) {
        read(&self.gateways.read().unwrap_or_else(|e| e.into_inner()));
    }

    fn history_path(&self) -> Option<PathBuf> {
        self.history.clone()
    }
}

/// A source shared with its writer (a test or a window changing the table while serving).
impl<T: ApiSource + ?Sized> ApiSource for std::sync::Arc<T> {
    fn read_gateways(&self, read: &mut dyn FnMut(&Gateways)) {
        (**self).read_gateways(read);
    }

    fn history_path(&self) -> Option<PathBuf> {
        (**self).history_path()
    }
}

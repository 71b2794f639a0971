//! How threads that start before the window (the engine, the local services) ask it to repaint.

use std::sync::{Arc, OnceLock};

/// Lets threads that start before the window (the engine, the local services) ask it to repaint:
/// the egui context is set once it exists; requests before that are dropped (the first frame
/// comes anyway).
#[derive(Debug, Clone, Default)]
pub struct RepaintSignal(Arc<OnceLock<egui::Context>>);

impl RepaintSignal {
    pub fn set(&self, ctx: &egui::Context) {
        // Set once: a second window would be a bug, and the first context stays valid.
        let _ = self.0.set(ctx.clone());
    }

    pub fn request(&self) {
        if let Some(ctx) = self.0.get() {
            ctx.request_repaint();
        }
    }
}


//! The dialog's work off the UI thread: reading the table, and planning the import (rows to
//! entries, applied to the model, validated), which for a 50,000-row sheet takes a while.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::Value;

use crate::config::point_table::{ColumnField, ImportPlan, Section, Table, apply_plan, import_errors, plan_import, read_table};
use crate::ui::connections::background::{Pending, Poll};

/// A read or a plan under way, with its progress (0..1) as f32 bits.
pub struct Job<T> {
    pending: Pending<T>,
    progress: Arc<AtomicU32>,
}

impl<T: Send + 'static> Job<T> {
    fn spawn(name: &str, ctx: &egui::Context, work: impl FnOnce(&dyn Fn(f32)) -> T + Send + 'static) -> Result<Job<T>, String> {
        let progress = Arc::new(AtomicU32::new(0));
        let shared = Arc::clone(&progress);
        let ctx = ctx.clone();
        let pending = Pending::spawn(name, move || {
            let report = |f: f32| {
                shared.store(f.to_bits(), Ordering::Relaxed);
                ctx.request_repaint();
            };
            let result = work(&report);
            ctx.request_repaint();
            result
        })
        .map_err(|e| e.to_string())?;
        Ok(Job { pending, progress })
    }

    pub fn progress(&self) -> f32 {
        f32::from_bits(self.progress.load(Ordering::Relaxed))
    }

    /// The result once there; Err when the thread died.
    pub fn poll(&self) -> Option<Result<T, ()>> {
        match self.pending.poll() {
            Poll::Waiting => None,
            Poll::Ready(t) => Some(Ok(t)),
            Poll::Lost => Some(Err(())),
        }
    }
}

/// Reads `path` (its `sheet`, the first when None).
pub fn start_read(ctx: &egui::Context, path: PathBuf, sheet: Option<String>) -> Result<Job<Result<Table, String>>, String> {
    Job::spawn("point-table-read", ctx, move |progress| read_table(&path, sheet.as_deref(), progress).map_err(|e| e.to_string()))
}

/// What an import would do, worked out in full.
pub struct Planned {
    pub plan: ImportPlan,
    /// The model with the accepted rows in it.
    pub value: Value,
    /// Validation errors of that model (`path: message`).
    pub errors: Vec<String>,
}

/// What the plan is made from; a change to any of it plans again.
#[derive(Clone, PartialEq)]
pub struct PlanInput {
    pub header_index: usize,
    pub mapping: Vec<ColumnField>,
    pub section: Section,
}

pub fn start_plan(ctx: &egui::Context, table: Arc<Table>, input: PlanInput, doc: Value) -> Result<Job<Planned>, String> {
    Job::spawn("point-table-plan", ctx, move |progress| {
        let plan = plan_import(&table.rows, input.header_index, &input.mapping, input.section, &doc);
        progress(0.5);
        let value = apply_plan(&doc, &plan);
        let errors = import_errors(&value, "import");
        Planned { plan, value, errors }
    })
}

//! Writing off the engine's hot path: a thread takes batches from a bounded queue and writes
//! everything queued in one transaction per tick. Offering never blocks; a full queue or a
//! stopped writer is counted as refused. A write error stops writing (what was committed stays)
//! and is kept for the engine to show; nothing here panics.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::batch::HistoryBatch;
use super::db::HistoryDb;
use super::error::HistoryError;
use super::retention::PruneReport;

/// How the writer queues, groups and prunes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriterOptions {
    /// Batches (messages' worth) waiting at most; past it offers are refused.
    pub queue_batches: usize,
    /// Items (samples, alarm events, acks) per transaction at most.
    pub items_per_transaction: u64,
    /// Retention runs this often.
    pub prune_every: Duration,
    /// How long the first batch of a transaction waits for more. Each commit appends every page
    /// it touched to the write-ahead log: committing each burst of a busy link separately wrote
    /// the same pages hundreds of times a second. A crash loses at most this much.
    pub max_delay: Duration,
}

impl Default for WriterOptions {
    fn default() -> Self {
        WriterOptions { queue_batches: 8_192, items_per_transaction: 200_000, prune_every: Duration::from_secs(300), max_delay: Duration::from_millis(250) }
    }
}

/// The writer's counters; items are samples, alarm events and acknowledgements.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriterStats {
    pub offered: u64,
    /// Not taken: the queue was full or the writer had stopped.
    pub refused: u64,
    /// Taken but not stored: in a transaction that failed, or queued when the writer stopped.
    pub lost: u64,
    pub samples_written: u64,
    pub samples_duplicate: u64,
    pub alarms_written: u64,
    pub transactions: u64,
    pub pruned: u64,
    /// True once a write failed: nothing more is written.
    pub stopped: bool,
    pub last_error: Option<HistoryError>,
}

#[derive(Debug, Default)]
struct Shared {
    offered: AtomicU64,
    refused: AtomicU64,
    lost: AtomicU64,
    samples_written: AtomicU64,
    samples_duplicate: AtomicU64,
    alarms_written: AtomicU64,
    transactions: AtomicU64,
    pruned: AtomicU64,
    stopped: AtomicBool,
    last_error: Mutex<Option<HistoryError>>,
}

impl Shared {
    fn snapshot(&self) -> WriterStats {
        let n = |a: &AtomicU64| a.load(Ordering::Relaxed);
        WriterStats {
            offered: n(&self.offered),
            refused: n(&self.refused),
            lost: n(&self.lost),
            samples_written: n(&self.samples_written),
            samples_duplicate: n(&self.samples_duplicate),
            alarms_written: n(&self.alarms_written),
            transactions: n(&self.transactions),
            pruned: n(&self.pruned),
            stopped: self.stopped.load(Ordering::Relaxed),
            last_error: self.last_error(),
        }
    }

    fn last_error(&self) -> Option<HistoryError> {
        self.last_error.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn set_error(&self, error: HistoryError) {
        tracing::warn!("{error}");
        *self.last_error.lock().unwrap_or_else(|e| e.into_inner()) = Some(error);
    }
}

enum Job {
    Batch(HistoryBatch),
    /// Answered once everything queued before it is written.
    Flush(SyncSender<()>),
    Prune(SyncSender<Result<PruneReport, HistoryError>>),
}

/// Starts the writer thread of a history database.
pub struct HistoryWriter;

impl HistoryWriter {
    pub fn spawn(db: HistoryDb) -> Result<HistoryHandle, HistoryError> {
        Self::spawn_with(db, WriterOptions::default())
    }

    pub fn spawn_with(db: HistoryDb, options: WriterOptions) -> Result<HistoryHandle, HistoryError> {
        let path = db.path().to_owned();
        let (tx, rx) = mpsc::sync_channel(options.queue_batches.max(1));
        let shared = Arc::new(Shared::default());
        let thread_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name("history-writer".to_owned())
            .spawn(move || run(db, rx, &thread_shared, options))
            .map_err(|e| HistoryError::Writer { path: path.clone(), cause: format!("cannot start its thread: {e}") })?;
        Ok(HistoryHandle { jobs: Some(tx), shared, thread: Some(thread), path })
    }
}

/// The engine's side of the writer. Dropping it writes what is queued and ends the thread.
#[derive(Debug)]
pub struct HistoryHandle {
    jobs: Option<SyncSender<Job>>,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<HistoryDb>>,
    path: PathBuf,
}

/// A cheap, clonable view of the writer's counters (for a status bar).
#[derive(Debug, Clone)]
pub struct HistoryMonitor(Arc<Shared>);

impl HistoryMonitor {
    pub fn stats(&self) -> WriterStats {
        self.0.snapshot()
    }

    pub fn last_error(&self) -> Option<HistoryError> {
        self.0.last_error()
    }
}

impl HistoryHandle {
    /// Queues a batch without ever blocking; false (counted in `refused`) when the queue is
    /// full or the writer has stopped.
    pub fn offer(&self, batch: HistoryBatch) -> bool {
        if batch.is_empty() {
            return true;
        }
        let items = batch.items();
        self.shared.offered.fetch_add(items, Ordering::Relaxed);
        let taken = !self.shared.stopped.load(Ordering::Relaxed) && self.jobs.as_ref().is_some_and(|jobs| jobs.try_send(Job::Batch(batch)).is_ok());
        if !taken {
            self.shared.refused.fetch_add(items, Ordering::Relaxed);
        }
        taken
    }

    /// Queues a batch, waiting for room (the benchmark; never the engine's loop).
    pub(super) fn send_waiting(&self, batch: HistoryBatch) -> bool {
        self.shared.offered.fetch_add(batch.items(), Ordering::Relaxed);
        self.jobs.as_ref().is_some_and(|jobs| jobs.send(Job::Batch(batch)).is_ok())
    }

    /// Waits until everything queued before this call is written (or lost). Blocks: for tests,
    /// shutdown and the CLI.
    pub fn flush(&self) -> bool {
        let (tx, rx) = mpsc::sync_channel(1);
        self.send_job(Job::Flush(tx)) && rx.recv().is_ok()
    }

    /// Applies retention now, after what is queued. Blocks.
    pub fn prune_now(&self) -> Result<PruneReport, HistoryError> {
        let (tx, rx) = mpsc::sync_channel(1);
        let gone = || HistoryError::Writer { path: self.path.clone(), cause: "it has stopped".to_owned() };
        if !self.send_job(Job::Prune(tx)) {
            return Err(gone());
        }
        rx.recv().map_err(|_| gone())?
    }

    fn send_job(&self, job: Job) -> bool {
        self.jobs.as_ref().is_some_and(|jobs| match jobs.try_send(job) {
            Ok(()) => true,
            // A full queue: this caller may wait.
            Err(TrySendError::Full(job)) => jobs.send(job).is_ok(),
            Err(TrySendError::Disconnected(_)) => false,
        })
    }

    pub fn stats(&self) -> WriterStats {
        self.shared.snapshot()
    }

    /// The write error that stopped the writer (or a failed prune), for the engine's notice.
    pub fn last_error(&self) -> Option<HistoryError> {
        self.shared.last_error()
    }

    pub fn monitor(&self) -> HistoryMonitor {
        HistoryMonitor(self.shared.clone())
    }

    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// Writes what is queued, ends the thread and gives the database back.
    pub fn close(mut self) -> Result<HistoryDb, HistoryError> {
        self.jobs = None;
        let thread = self.thread.take();
        thread
            .ok_or_else(|| HistoryError::Writer { path: self.path.clone(), cause: "already closed".to_owned() })?
            .join()
            .map_err(|_| HistoryError::Writer { path: self.path.clone(), cause: "its thread failed".to_owned() })
    }
}

impl Drop for HistoryHandle {
    fn drop(&mut self) {
        self.jobs = None;
        if let Some(thread) = self.thread.take() {
            // A failed thread has nothing more to write.
            let _ = thread.join();
        }
    }
}

/// What one tick gathered from the queue.
#[derive(Default)]
struct Tick {
    pending: Vec<HistoryBatch>,
    items: u64,
    flushes: Vec<SyncSender<()>>,
    prunes: Vec<SyncSender<Result<PruneReport, HistoryError>>>,
}

impl Tick {
    fn take(&mut self, job: Job, shared: &Shared) {
        match job {
            Job::Batch(b) if shared.stopped.load(Ordering::Relaxed) => {
                shared.lost.fetch_add(b.items(), Ordering::Relaxed);
            }
            Job::Batch(b) => {
                self.items += b.items();
                self.pending.push(b);
            }
            Job::Flush(done) => self.flushes.push(done),
            Job::Prune(done) => self.prunes.push(done),
        }
    }

    /// A flush or prune waits for what came before it, not for what comes after.
    fn wants_more(&self, options: &WriterOptions) -> bool {
        self.items < options.items_per_transaction && self.flushes.is_empty() && self.prunes.is_empty()
    }
}

fn run(mut db: HistoryDb, jobs: Receiver<Job>, shared: &Shared, options: WriterOptions) -> HistoryDb {
    let mut next_prune = Instant::now() + options.prune_every;
    loop {
        let mut tick = Tick::default();
        match jobs.recv_timeout(next_prune.saturating_duration_since(Instant::now())) {
            Ok(job) => tick.take(job, shared),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        // What comes within `max_delay` joins this tick's transaction, up to its bound; a flush or
        // a prune ends the wait.
        let deadline = Instant::now() + options.max_delay;
        while tick.wants_more(&options) {
            let wait = deadline.saturating_duration_since(Instant::now());
            let job = if tick.pending.is_empty() || wait.is_zero() { jobs.try_recv().ok() } else { jobs.recv_timeout(wait).ok() };
            let Some(job) = job else { break };
            tick.take(job, shared);
        }
        write(&mut db, &mut tick.pending, shared);
        for done in tick.flushes.drain(..) {
            // The asker may have given up waiting.
            let _ = done.send(());
        }
        if !tick.prunes.is_empty() || Instant::now() >= next_prune {
            next_prune = Instant::now() + options.prune_every;
            let result = if shared.stopped.load(Ordering::Relaxed) { Ok(PruneReport::default()) } else { db.prune_now() };
            match &result {
                Ok(report) => {
                    shared.pruned.fetch_add(report.removed(), Ordering::Relaxed);
                }
                Err(e) => shared.set_error(e.clone()),
            }
            for done in tick.prunes.drain(..) {
                let _ = done.send(result.clone());
            }
        }
    }
    db
}

fn write(db: &mut HistoryDb, pending: &mut Vec<HistoryBatch>, shared: &Shared) {
    if pending.is_empty() {
        return;
    }
    match db.write(pending) {
        Ok(counts) => {
            shared.samples_written.fetch_add(counts.samples_new, Ordering::Relaxed);
            shared.samples_duplicate.fetch_add(counts.samples_duplicate, Ordering::Relaxed);
            shared.alarms_written.fetch_add(counts.alarms_new, Ordering::Relaxed);
            shared.transactions.fetch_add(1, Ordering::Relaxed);
        }
        Err(e) => {
            let items: u64 = pending.iter().map(HistoryBatch::items).sum();
            shared.lost.fetch_add(items, Ordering::Relaxed);
            shared.stopped.store(true, Ordering::Relaxed);
            shared.set_error(e);
        }
    }
    pending.clear();
}

//! A conformance run off the UI thread: the tab prepares a [`ConformanceLaunch`] (options, the
//! channels back to it) and pushes it as a command; the window starts it on its engine and
//! runtime. The run is a task on the window's runtime, so leaving
//! the tab or the page never stops it; only a cancel (or closing the page) does. Progress comes
//! back stamped with the time it happened, manual steps wait in a queue the tab answers.

use std::collections::{BTreeSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{mpsc, oneshot};

use crate::conformance::{CancelToken, ManualAnswer, ManualHandler, ManualPrompt, Progress, RunOptions, RunReport, run};
use crate::engine::{EngineHandle, GatewayKey, SessionId};
use crate::protocol::time::now_ms;

/// What the run's thread tells the tab.
#[derive(Debug)]
pub enum RunEvent {
    /// A progress event and the epoch ms it was said at.
    Progress { at_ms: i64, progress: Progress },
    Finished(Box<RunReport>),
    /// The run could not start.
    Failed(String),
}

/// A manual step waiting for the person's answer.
#[derive(Debug)]
pub struct ManualStep {
    pub prompt: ManualPrompt,
    answer: oneshot::Sender<ManualAnswer>,
}

impl ManualStep {
    /// The run stopped waiting (cancelled, or the case's time ran out).
    pub fn abandoned(&self) -> bool {
        self.answer.is_closed()
    }

    pub fn answer(self, answer: ManualAnswer) {
        // The run may have stopped waiting meanwhile; nothing to tell then.
        let _ = self.answer.send(answer);
    }
}

/// The steps asked for and not answered yet, shared by the run's handler and the tab.
#[derive(Debug, Clone, Default)]
pub struct ManualQueue(Arc<Mutex<VecDeque<ManualStep>>>);

impl ManualQueue {
    fn lock(&self) -> MutexGuard<'_, VecDeque<ManualStep>> {
        // A panic elsewhere while holding it leaves the queue usable.
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Drops the steps the run no longer waits for; the first one still waiting.
    pub fn front_prompt(&self) -> Option<ManualPrompt> {
        let mut queue = self.lock();
        queue.retain(|s| !s.abandoned());
        queue.front().map(|s| s.prompt.clone())
    }

    pub fn answer_front(&self, answer: ManualAnswer) {
        if let Some(step) = self.lock().pop_front() {
            step.answer(answer);
        }
    }

    pub fn waiting(&self) -> usize {
        self.lock().iter().filter(|s| !s.abandoned()).count()
    }

    /// The handler the runner calls: queues the step and wakes the window to show it.
    fn handler(&self, repaint: egui::Context) -> ManualHandler {
        let queue = self.clone();
        Arc::new(move |prompt: ManualPrompt| {
            let (tx, rx) = oneshot::channel();
            queue.lock().push_back(ManualStep { prompt, answer: tx });
            repaint.request_repaint();
            rx
        })
    }
}

/// The gateways with a run under way in this window: one run per gateway at a time.
static RUNNING: Mutex<BTreeSet<GatewayKey>> = Mutex::new(BTreeSet::new());

fn running() -> MutexGuard<'static, BTreeSet<GatewayKey>> {
    RUNNING.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Holds a gateway's place while its run is under way; gives it back when dropped.
#[derive(Debug)]
struct RunClaim(GatewayKey);

impl RunClaim {
    fn take(key: &GatewayKey) -> Option<RunClaim> {
        running().insert(key.clone()).then(|| RunClaim(key.clone()))
    }
}

impl Drop for RunClaim {
    fn drop(&mut self) {
        running().remove(&self.0);
    }
}

/// Whether a run against `key` is under way in this window.
pub fn is_running(key: &GatewayKey) -> bool {
    running().contains(key)
}

/// A run ready to start: the window's command loop calls [`ConformanceLaunch::start`] with
/// its engine and runtime. Tests reach the options here (e.g. `time_scale`) before starting.
pub struct ConformanceLaunch {
    pub session: SessionId,
    pub key: GatewayKey,
    pub options: RunOptions,
    cancel: CancelToken,
    events: mpsc::UnboundedSender<RunEvent>,
    repaint: egui::Context,
    claim: RunClaim,
}

impl std::fmt::Debug for ConformanceLaunch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConformanceLaunch").field("session", &self.session).field("key", &self.key).field("cases", &self.options.cases).finish_non_exhaustive()
    }
}

impl ConformanceLaunch {
    /// Starts the run as a task on `runtime`; says through the events why it could not.
    pub fn start(self, engine: &EngineHandle, runtime: Option<&tokio::runtime::Handle>) {
        let Some(runtime) = runtime.cloned() else {
            let _ = self.events.send(RunEvent::Failed("the window has no async runtime".to_owned()));
            return;
        };
        // A task, not a thread blocking on the runtime: when the window closes mid-run the
        // runtime drops it quietly.
        runtime.spawn(self.run(engine.clone()));
    }

    async fn run(self, engine: EngineHandle) {
        let ConformanceLaunch { session, key, options, cancel, events, repaint, claim } = self;
        let (tx, mut rx) = mpsc::unbounded_channel();
        // Stamped as they come, so a case's evidence reads in wall-clock time.
        let forward = async {
            while let Some(progress) = rx.recv().await {
                let _ = events.send(RunEvent::Progress { at_ms: now_ms(), progress });
                repaint.request_repaint();
            }
        };
        let (report, ()) = tokio::join!(run(&engine, session, (&key.pk, &key.dev), &options, &cancel, Some(tx)), forward);
        drop(claim);
        let _ = events.send(RunEvent::Finished(Box::new(report)));
        repaint.request_repaint();
    }
}

/// The tab's side of a run under way.
#[derive(Debug)]
pub struct ActiveRun {
    events: mpsc::UnboundedReceiver<RunEvent>,
    cancel: CancelToken,
    pub manual: ManualQueue,
}

impl ActiveRun {
    /// A run of `options` against `key` on `session`, or None when one is already under way for
    /// this gateway. The launch goes to the window; this stays with the tab.
    pub fn prepare(session: SessionId, key: &GatewayKey, mut options: RunOptions, repaint: &egui::Context) -> Option<(ActiveRun, ConformanceLaunch)> {
        let claim = RunClaim::take(key)?;
        let (events_tx, events) = mpsc::unbounded_channel();
        let cancel = CancelToken::new();
        let manual = ManualQueue::default();
        options.interactive = Some(manual.handler(repaint.clone()));
        let launch = ConformanceLaunch { session, key: key.clone(), options, cancel: cancel.clone(), events: events_tx, repaint: repaint.clone(), claim };
        Some((ActiveRun { events, cancel, manual }, launch))
    }

    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    pub fn cancelling(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// The events so far, and whether the run's side has gone (its report was the last one).
    pub fn drain(&mut self) -> (Vec<RunEvent>, bool) {
        let mut out = Vec::new();
        loop {
            match self.events.try_recv() {
                Ok(event) => out.push(event),
                Err(mpsc::error::TryRecvError::Empty) => return (out, false),
                Err(mpsc::error::TryRecvError::Disconnected) => return (out, true),
            }
        }
    }
}

impl Drop for ActiveRun {
    /// The page closed: nobody will see the run, so it stops rather than go on changing the
    /// gateway unattended.
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

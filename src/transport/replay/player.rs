//! The replay link's task: a pass reads the file on a blocking thread, this task paces what it
//! reads by recorded time and takes the controls. A rewind drops the pass (its thread ends at
//! its next send) and starts a new one from the file's start.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::transport::replay_control::{ReplayControl, ReplayProgress, ReplaySpeed};
use super::reader::{McapMessage, McapReader, ReadDamage};
use super::summary::{SummaryFacts, read_summary};
use crate::protocol::json_num::thousands;
use crate::transport::{LinkCommand, LinkEvent, LinkState};

/// Messages a pass reads ahead of the player.
const PASS_QUEUE: usize = 1024;

enum PassItem {
    Opened(Option<SummaryFacts>),
    Failed(String),
    Message(McapMessage),
    End(Option<ReadDamage>),
}

/// Reads the whole file once, front to back, into a bounded channel; stops when it is dropped.
fn start_pass(path: &Path) -> mpsc::Receiver<PassItem> {
    let (tx, rx) = mpsc::channel(PASS_QUEUE);
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let mut reader = match McapReader::open(&path) {
            Ok(r) => r,
            Err(e) => {
                // The player may be gone already; nobody to tell.
                let _ = tx.blocking_send(PassItem::Failed(e.to_string()));
                return;
            }
        };
        if tx.blocking_send(PassItem::Opened(read_summary(&path))).is_err() {
            return;
        }
        loop {
            let item = match reader.next_message() {
                Ok(Some(message)) => PassItem::Message(message),
                Ok(None) => PassItem::End(None),
                Err(damage) => PassItem::End(Some(damage)),
            };
            let last = matches!(item, PassItem::End(_));
            if tx.blocking_send(item).is_err() || last {
                return;
            }
        }
    });
    rx
}

pub(super) struct Player {
    path: PathBuf,
    commands: mpsc::UnboundedReceiver<LinkCommand>,
    events: mpsc::Sender<LinkEvent>,
    progress: Arc<ReplayProgress>,
    pass: Option<mpsc::Receiver<PassItem>>,
    /// Read, waiting for its time.
    next: Option<McapMessage>,
    paused: bool,
    speed: ReplaySpeed,
    /// (wall time, recorded time) that pacing counts from; set again on resume and speed changes.
    anchor: Option<(Instant, i64)>,
    /// Fast-forwarding: messages recorded before this play at once.
    target: Option<i64>,
    position: Option<i64>,
    played: u64,
    up: bool,
}

impl Player {
    pub(super) fn new(
        path: PathBuf,
        speed: ReplaySpeed,
        paused: bool,
        commands: mpsc::UnboundedReceiver<LinkCommand>,
        events: mpsc::Sender<LinkEvent>,
        progress: Arc<ReplayProgress>,
    ) -> Player {
        progress.update(|p| {
            p.speed = speed;
            p.paused = paused;
        });
        Player { path, commands, events, progress, pass: None, next: None, paused, speed, anchor: None, target: None, position: None, played: 0, up: false }
    }

    pub(super) async fn run(mut self) {
        if !self.emit(LinkEvent::State(LinkState::Connecting { attempt: 1 })).await {
            return;
        }
        self.pass = Some(start_pass(&self.path));
        loop {
            // Commands first and without waiting, so a pause or a close is never behind a flood.
            match self.commands.try_recv() {
                Ok(LinkCommand::Close) | Err(mpsc::error::TryRecvError::Disconnected) => break,
                Ok(command) => {
                    if !self.command(command).await {
                        return;
                    }
                    continue;
                }
                Err(mpsc::error::TryRecvError::Empty) => {}
            }
            let due = self.due();
            // Fast path (Max, fast-forward, a backlog): no timer and no select per message.
            if self.next.is_some() && due.is_some_and(|d| d <= Instant::now()) {
                if !self.play_next().await {
                    return;
                }
                continue;
            }
            let want_item = self.next.is_none() && self.pass.is_some() && (!self.paused || self.target.is_some());
            if want_item && let Some(Ok(item)) = self.pass.as_mut().map(|rx| rx.try_recv()) {
                if !self.item(Some(item)).await {
                    return;
                }
                continue;
            }
            tokio::select! {
                biased;
                command = self.commands.recv() => match command {
                    Some(LinkCommand::Close) | None => break,
                    Some(command) => if !self.command(command).await { return },
                },
                item = recv(&mut self.pass), if want_item => if !self.item(item).await { return },
                () = sleep_until(due), if self.next.is_some() && due.is_some() => if !self.play_next().await { return },
            }
        }
        let _ = self.events.send(LinkEvent::State(LinkState::Closed)).await;
    }

    /// When the message waiting should go: at once when fast-forwarding or at Max, never while
    /// paused, else at its recorded distance from the anchor scaled by the speed.
    fn due(&mut self) -> Option<Instant> {
        let next = self.next.as_ref()?.log_ms();
        if self.target.is_some_and(|t| next < t) {
            return Some(Instant::now());
        }
        if let Some(target) = self.target.take() {
            // Arrived: pacing goes on from the target, so the gap to the next message is kept.
            self.anchor = Some((Instant::now(), target));
            self.position = Some(self.position.map_or(target, |p| p.max(target)));
            self.progress.update(|p| p.seeking_to = None);
        }
        if self.paused {
            return None;
        }
        let Some(factor) = self.speed.factor() else { return Some(Instant::now()) };
        let (wall, recorded) = *self.anchor.get_or_insert((Instant::now(), next));
        let ahead_ms = (next.saturating_sub(recorded)).max(0) as f64 / factor;
        // A gap of years at 0.001× still fits a Duration; beyond a day it is a day at a time.
        let ahead = std::time::Duration::from_secs_f64((ahead_ms / 1000.0).min(86_400.0));
        Some(wall + ahead)
    }

    async fn play_next(&mut self) -> bool {
        let Some(message) = self.next.take() else { return true };
        let received_ms = message.log_ms();
        if !self.emit(LinkEvent::Recorded { message: message.to_message(), received_ms }).await {
            return false;
        }
        self.played += 1;
        self.position = Some(received_ms);
        let played = self.played;
        self.progress.update(|p| {
            p.position_ms = Some(received_ms);
            p.messages = played;
            p.start_ms = Some(p.start_ms.map_or(received_ms, |s| s.min(received_ms)));
            p.end_ms = Some(p.end_ms.map_or(received_ms, |e| e.max(received_ms)));
        });
        true
    }

    async fn item(&mut self, item: Option<PassItem>) -> bool {
        match item {
            Some(PassItem::Message(message)) => self.next = Some(message),
            Some(PassItem::Opened(summary)) => {
                self.progress.update(|p| {
                    p.opened = true;
                    if let Some(facts) = summary.filter(|f| f.messages > 0) {
                        p.start_ms = Some(facts.start_ms);
                        p.end_ms = Some(facts.end_ms);
                        p.total_messages = Some(facts.messages);
                    }
                });
                if !self.up {
                    self.up = true;
                    return self.emit(LinkEvent::State(LinkState::Up)).await;
                }
            }
            Some(PassItem::Failed(reason)) => {
                // Not a recording: nothing to retry, the link ends.
                self.pass = None;
                self.progress.update(|p| {
                    p.finished = true;
                    p.damage = Some(reason.clone());
                });
                let _ = self.emit(LinkEvent::State(LinkState::Down { reason })).await;
                let _ = self.emit(LinkEvent::State(LinkState::Closed)).await;
                return false;
            }
            Some(PassItem::End(damage)) => return self.finish(damage.map(|d| d.to_string())).await,
            None => return self.finish(Some("the reading stopped unexpectedly".into())).await,
        }
        true
    }

    /// Played to the end or to damage: the link stays, Down with the reason, until a seek back.
    async fn finish(&mut self, damage: Option<String>) -> bool {
        self.pass = None;
        self.target = None;
        self.up = false;
        let reason = damage.clone().unwrap_or_else(|| format!("end of recording ({} messages)", thousands(self.played)));
        self.progress.update(|p| {
            p.finished = true;
            p.seeking_to = None;
            p.damage = damage;
        });
        self.emit(LinkEvent::State(LinkState::Down { reason })).await
    }

    async fn command(&mut self, command: LinkCommand) -> bool {
        match command {
            LinkCommand::Publish(message) | LinkCommand::PublishBulk(message) => {
                return self.emit(LinkEvent::PublishDropped { topic: message.topic, reason: "a replay does not publish".into() }).await;
            }
            LinkCommand::Replay(control) => return self.control(control).await,
            // A replay plays the whole file; what the engine keeps is its business.
            LinkCommand::Subscribe(_) | LinkCommand::Unsubscribe(_) | LinkCommand::Close => {}
        }
        true
    }

    async fn control(&mut self, control: ReplayControl) -> bool {
        match control {
            ReplayControl::Pause => {
                self.paused = true;
                self.anchor = None;
            }
            ReplayControl::Resume => {
                self.paused = false;
                self.anchor = self.position.map(|p| (Instant::now(), p));
            }
            ReplayControl::Speed(speed) => {
                self.speed = speed;
                self.anchor = self.position.map(|p| (Instant::now(), p));
            }
            ReplayControl::Seek { to_ms } => return self.seek(to_ms).await,
        }
        let (paused, speed) = (self.paused, self.speed);
        self.progress.update(|p| {
            p.paused = paused;
            p.speed = speed;
        });
        true
    }

    async fn seek(&mut self, to_ms: i64) -> bool {
        let back = self.position.is_some_and(|p| to_ms < p);
        if !back && self.pass.is_none() && self.next.is_none() {
            // Past the end of a finished replay: nothing left to play.
            return true;
        }
        if back {
            if !self.emit(LinkEvent::Rewound).await {
                return false;
            }
            self.pass = Some(start_pass(&self.path));
            self.next = None;
            self.position = None;
            self.played = 0;
            self.progress.update(|p| {
                p.position_ms = None;
                p.messages = 0;
                p.finished = false;
                p.damage = None;
            });
        }
        self.target = Some(to_ms);
        self.anchor = None;
        self.progress.update(|p| p.seeking_to = Some(to_ms));
        true
    }

    /// False when the engine stopped listening: the task ends.
    async fn emit(&self, event: LinkEvent) -> bool {
        self.events.send(event).await.is_ok()
    }
}

async fn recv(pass: &mut Option<mpsc::Receiver<PassItem>>) -> Option<PassItem> {
    match pass {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(due: Option<Instant>) {
    match due {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

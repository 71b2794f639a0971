//! The gateway's own requests (`alarm/report`, `history/report`, chunk requests, `time/sync`):
//! sending them through the outbox, what their replies and their giving up mean, and starting
//! the chunk requests and history batches that can go now.

use std::sync::PoisonError;

use serde_json::{Value, json};
use tokio::time::Instant;

use super::Runtime;
use super::sizing::payload_limit;
use crate::protocol::codes;
use crate::protocol::envelope::{Envelope, parse_envelope};
use crate::protocol::payload::{TimeReply, to_data};
use crate::protocol::time::TimeSample;
use crate::sim::downloads;
use crate::sim::log::Level;
use crate::sim::outage::{Answered, Lane};
use crate::sim::outbox::Purpose;
use crate::sim::state::SimState;

/// `time/sync` attempts per connection, each with a new id and a fresh t1.
const TIME_SYNC_ATTEMPTS: u32 = 3;

impl Runtime {
    /// A reply to one of the gateway's own requests.
    pub(super) fn on_reply(&mut self, state: &mut SimState, payload: &[u8]) {
        let reply = match parse_envelope(payload) {
            Ok(Envelope::Reply(r)) => r,
            Ok(Envelope::Request(r)) => {
                tracing::debug!(dev = %self.dev, "a request envelope on a reply topic: {}", r.id);
                return;
            }
            Err(e) => {
                let now = state.now_ms();
                state.log.push(now, Level::Warn, "protocol", format!("bad reply envelope: {}", e.reason));
                return;
            }
        };
        let Some(pending) = self.outbox.take(&reply.id) else {
            // A late answer to a request already retried and answered, or given up.
            return;
        };
        let now = state.now_ms();
        match pending.purpose {
            Purpose::Alarm if reply.code == codes::OK => state.counters.alarms_acked += 1,
            Purpose::Alarm => state.log.push(now, Level::Warn, "alarm", format!("alarm report refused: code {} {}", reply.code, reply.msg.unwrap_or_default())),
            Purpose::History { batch_id, .. } => match state.history.answered(&batch_id, reply.code, Instant::now() + self.outbox.retry_after()) {
                Answered::Retry => {
                    let after = self.outbox.retry_after().as_secs_f64();
                    state.log.push(now, Level::Warn, "history", format!("batch {batch_id} refused: code {}; retrying in {after} s", reply.code));
                }
                Answered::RecallDropped(n) => {
                    state.log.push(now, Level::Warn, "history", format!("recall batch {batch_id} refused: code {}; dropped the recall's {n} batches", reply.code));
                }
                Answered::Acked | Answered::Unknown => {}
            },
            Purpose::Chunk { ota, id, offset } => {
                let outs = downloads::on_chunk_reply(state, ota, &id, offset, &reply);
                for out in outs {
                    self.emit(state, out);
                }
                if !state.transfers.iter().any(|t| t.ota == ota && t.id == id) {
                    self.outbox.forget(|p| matches!(p, Purpose::Chunk { ota: o, id: i, .. } if *o == ota && *i == id));
                }
            }
            // The t1 of the attempt this reply answers: each attempt has its own id.
            Purpose::TimeSync { t1, .. } => match serde_json::from_value::<TimeReply>(reply.data.clone()) {
                Ok(r) if reply.code == codes::OK => {
                    let sample = TimeSample { t1, t2: r.t2, t3: r.t3, t4: now };
                    state.master_offset_ms = Some(sample.offset_ms());
                    let text = format!("time/sync: master clock is {:+.1} ms from ours, round trip {} ms", sample.offset_ms(), sample.round_trip_ms());
                    state.log.push(now, Level::Info, "time", text);
                }
                Ok(_) => state.log.push(now, Level::Warn, "time", format!("time/sync refused: code {}", reply.code)),
                Err(e) => state.log.push(now, Level::Warn, "time", format!("time/sync reply: {e}")),
            },
        }
        self.pump(state);
    }

    pub(super) fn gave_up(&mut self, state: &mut SimState, purpose: Purpose) {
        let now = state.now_ms();
        match purpose {
            Purpose::Alarm => {
                state.counters.alarms_given_up += 1;
                state.log.push(now, Level::Warn, "alarm", "alarm report unanswered after 3 sends; given up");
            }
            Purpose::Chunk { ota, id, offset } => {
                state.log.push(now, Level::Warn, "transfer", format!("{id}: chunk at {offset} unanswered after 3 sends; asking again"));
                for out in downloads::on_chunk_gave_up(state, ota, &id, offset) {
                    self.emit(state, out);
                }
                if !state.transfers.iter().any(|t| t.ota == ota && t.id == id) {
                    self.outbox.forget(|p| matches!(p, Purpose::Chunk { ota: o, id: i, .. } if *o == ota && *i == id));
                }
            }
            // A resend would carry a stale t1 (and the master would replay its earlier reply to
            // the same id): a new attempt asks afresh.
            Purpose::TimeSync { attempt, .. } if attempt < TIME_SYNC_ATTEMPTS => {
                state.log.push(now, Level::Info, "time", format!("time/sync attempt {attempt} unanswered; asking again"));
                self.send_time_sync(state, attempt + 1);
            }
            Purpose::TimeSync { attempt, .. } => state.log.push(now, Level::Warn, "time", format!("time/sync unanswered after {attempt} attempts")),
            Purpose::History { batch_id, recall: true } => {
                let n = state.history.give_up_recall();
                state.log.push(now, Level::Warn, "history", format!("recall batch {batch_id} unacknowledged after 3 sends; dropped the recall's {n} batches"));
            }
            // Outage history is never given up.
            Purpose::History { recall: false, .. } => {}
        }
    }

    /// The link will never send a publish to `topic`: requests waiting on it are not resent
    /// (a history batch is deleted, an alarm report given up).
    pub(super) fn on_publish_dropped(&mut self, topic: &str, reason: &str) {
        let shared = self.shared.clone();
        let mut state = shared.lock().unwrap_or_else(PoisonError::into_inner);
        let now = state.now_ms();
        state.counters.publishes_dropped += 1;
        state.log.push(now, Level::Warn, "link", format!("the link dropped a message to {topic}: {reason}"));
        // Chunk and time requests are small and give up by themselves.
        let dropped = self.outbox.take_if(|p| p.topic == topic && matches!(p.purpose, Purpose::History { .. } | Purpose::Alarm));
        for pending in dropped {
            match pending.purpose {
                Purpose::History { batch_id, .. } => {
                    state.history.drop_batch(&batch_id);
                }
                Purpose::Alarm => state.counters.alarms_given_up += 1,
                Purpose::Chunk { .. } | Purpose::TimeSync { .. } => {}
            }
        }
        self.pump(&mut state);
    }

    /// Starts the chunk requests and history batches that can go now.
    pub(super) fn pump(&mut self, state: &mut SimState) {
        if !self.online() {
            return;
        }
        for ask in downloads::chunk_asks(state) {
            state.counters.chunk_requests_sent += 1;
            let purpose = Purpose::Chunk { ota: ask.ota, id: ask.id.clone(), offset: ask.offset };
            if !self.send_request(state, ask.class, ask.action, ask.data, purpose) {
                // Never sent, so never answered or given up by the outbox: count it as a round.
                for out in downloads::on_chunk_gave_up(state, ask.ota, &ask.id, ask.offset) {
                    self.emit(state, out);
                }
            }
        }
        // A batch the link cannot carry is deleted, and the next one goes.
        while let Some((batch, lane)) = state.history.next_to_send(Instant::now()) {
            let id = self.ids.next_id();
            batch.request_id = Some(id.clone());
            let data = to_data(&batch.report);
            let batch_id = batch.report.batch_id.clone();
            state.history.sent += 1;
            let purpose = Purpose::History { batch_id, recall: lane == Lane::Recall };
            if self.send_request_with_id(state, id, "history", "report", data, purpose) {
                break;
            }
        }
    }

    /// A request the gateway waits on; tracked for retries. False when it was dropped (see
    /// [`Runtime::send_request_with_id`]).
    pub(super) fn send_request(&mut self, state: &mut SimState, class: &str, action: &str, data: Value, purpose: Purpose) -> bool {
        let id = self.ids.next_id();
        self.send_request_with_id(state, id, class, action, data, purpose)
    }

    /// Attempt `attempt` of `time/sync`: a new id and the sim's clock now as t1.
    pub(super) fn send_time_sync(&mut self, state: &mut SimState, attempt: u32) {
        let t1 = state.now_ms();
        self.send_request(state, "time", "sync", json!({"t1": t1}), Purpose::TimeSync { t1, attempt });
    }

    /// False when the request was dropped instead: the link could never carry it, so it is not
    /// kept for resends (a history batch is deleted).
    pub(super) fn send_request_with_id(&mut self, state: &mut SimState, id: String, class: &str, action: &str, data: Value, purpose: Purpose) -> bool {
        let (Some(topic), Some(payload)) = (self.topic(class, action), self.envelope(state, id.clone(), data)) else {
            return false;
        };
        if self.refuse_oversize(state, &topic, payload.len()) {
            if let Purpose::History { batch_id, .. } = &purpose {
                state.history.drop_batch(batch_id);
            }
            return false;
        }
        let sent = self.online();
        if sent {
            self.send_raw(topic.clone(), payload.clone(), 1, false);
        }
        self.outbox.insert(id, topic, payload, purpose, Instant::now(), sent);
        true
    }

    /// True (logged and counted) when a `len`-byte payload to `topic` is more than the link
    /// carries: a serial link would drop it, and resending it would never help.
    pub(super) fn refuse_oversize(&self, state: &mut SimState, topic: &str, len: usize) -> bool {
        let limit = payload_limit(&self.link_config, topic);
        if len <= limit {
            return false;
        }
        let now = state.now_ms();
        state.counters.publishes_dropped += 1;
        state.log.push(now, Level::Warn, "link", format!("not sent: a {len}-byte message to {topic} is over the link's {limit}-byte limit"));
        true
    }
}

//! Alarm history of one gateway (§6.12): raise and clear paired into one row with its start,
//! end and acknowledgement state, and the recalls of `history/get` (§6.13) counted per batch.
//! Both bounded; filled by the engine core, which knows the report ids it acknowledged.

use std::collections::VecDeque;

use crate::protocol::payload::{Alarm, AlarmState, PointV};

/// Alarm rows kept per gateway (oldest dropped first).
pub const ALARM_LOG_CAPACITY: usize = 500;
/// Acknowledgement ids seen on the downlink before their report, kept per gateway.
const EARLY_ACKS: usize = 256;
/// Recalls kept per gateway.
pub const RECALL_CAPACITY: usize = 50;
/// Batches listed per recall (the counts go on past it).
pub const RECALL_BATCHES: usize = 1_000;

/// Who acknowledged the report that carried an alarm: an `alarm/report`, or the
/// `history/report` batch it came in (acknowledged with its batch, §6.13).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckState {
    /// Our acknowledgement was seen back on the downlink.
    Us,
    /// An acknowledgement we did not send was seen (another master).
    Other,
    /// Ours was published, not seen back yet.
    Sent,
    /// Reported, no acknowledgement seen and we sent none.
    None,
    /// Not known: the alarm came from an `alarm/get` reply, not a report.
    Unknown,
}

impl AckState {
    /// The word the CLI prints and the window translates.
    pub fn as_str(self) -> &'static str {
        match self {
            AckState::Us => "us",
            AckState::Other => "other",
            AckState::Sent => "sent",
            AckState::None => "none",
            AckState::Unknown => "unknown",
        }
    }
}

/// One alarm from its raise to its clear.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmRow {
    pub alarm_id: String,
    pub sub: String,
    pub pid: Option<String>,
    pub alarm_type: String,
    pub level: u8,
    pub value: Option<PointV>,
    pub threshold: Option<f64>,
    pub desc: Option<String>,
    /// Raise time (gateway clock); `None` for a clear whose raise was never seen.
    pub start_ts: Option<i64>,
    /// Clear time; `None` while active.
    pub end_ts: Option<i64>,
    /// The `id` of the report that raised it (or cleared it, without a raise).
    pub report_id: Option<String>,
    pub ack: AckState,
    /// When we first heard of it (our clock).
    pub received_ms: i64,
}

impl AlarmRow {
    pub fn active(&self) -> bool {
        self.end_ts.is_none()
    }

    /// Raise to clear, when both are known.
    pub fn duration_ms(&self) -> Option<i64> {
        Some(self.end_ts?.saturating_sub(self.start_ts?))
    }
}

/// One `history/report` batch of a recall.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchCount {
    pub batch_id: String,
    pub new: u64,
    pub duplicates: u64,
    pub received_ms: i64,
}

/// One `history/get` and the batches that answered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recall {
    pub recall_id: String,
    /// From the `history/get` reply; `None` until it arrives.
    pub expected: Option<u64>,
    pub batches: Vec<BatchCount>,
    /// Distinct batches received (a batch resent counts once here, its rows as duplicates).
    pub received: u64,
    pub new: u64,
    pub duplicates: u64,
    pub started_ms: i64,
    /// When the reply or a batch last arrived (batches past the listed ones included): a recall
    /// silent since long is stalled.
    pub last_ms: i64,
}

impl Recall {
    /// True once every announced batch has arrived.
    pub fn done(&self) -> bool {
        self.expected.is_some_and(|n| self.received >= n)
    }
}

/// The alarm rows and recalls of one gateway.
#[derive(Debug, Clone, Default)]
pub struct AlarmLog {
    pub rows: VecDeque<AlarmRow>,
    early_acks: VecDeque<String>,
    pub recalls: VecDeque<Recall>,
}

impl AlarmLog {
    /// Applies alarm events of report `report_id`: an `alarm/report`, or a `history/report` batch
    /// (its rows take the batch's acknowledgement); `None` for an `alarm/get` reply. `acked` is
    /// true when our master duties answered that report.
    pub(super) fn add(&mut self, alarms: &[Alarm], report_id: Option<&str>, acked: bool, now_ms: i64) {
        let mut ack = match (report_id, acked) {
            (None, _) => AckState::Unknown,
            (Some(_), true) => AckState::Sent,
            (Some(_), false) => AckState::None,
        };
        // Another master's acknowledgement may arrive before the report reaches us.
        if let Some(id) = report_id
            && self.early_acks.iter().any(|a| a == id)
        {
            ack = if acked { AckState::Us } else { AckState::Other };
        }
        for a in alarms {
            let open = self.rows.iter_mut().rev().find(|r| r.alarm_id == a.alarm_id && r.active());
            match (a.state, open) {
                (AlarmState::Raised, Some(row)) => {
                    // A repeat of the raise: the row keeps its start, takes the latest value.
                    row.value = a.value.clone();
                    row.level = a.level;
                    // Known from `alarm/get` so far: a report of the raise tells its acknowledgement.
                    if row.ack == AckState::Unknown
                        && let Some(id) = report_id
                    {
                        row.report_id = Some(id.to_owned());
                        row.ack = ack;
                    }
                }
                (AlarmState::Cleared, Some(row)) => {
                    if row.start_ts.is_none_or(|s| a.ts >= s) {
                        row.end_ts = Some(a.ts);
                    }
                }
                (state, None) => {
                    // A clear already paired (a history replay) adds nothing.
                    let known = self.rows.iter().any(|r| r.alarm_id == a.alarm_id && (r.start_ts == Some(a.ts) || r.end_ts == Some(a.ts)));
                    if known {
                        continue;
                    }
                    let raised = state == AlarmState::Raised;
                    self.rows.push_back(AlarmRow {
                        alarm_id: a.alarm_id.clone(),
                        sub: a.sub.clone(),
                        pid: a.pid.clone(),
                        alarm_type: a.alarm_type.clone(),
                        level: a.level,
                        value: a.value.clone(),
                        threshold: a.threshold,
                        desc: a.desc.clone(),
                        start_ts: raised.then_some(a.ts),
                        end_ts: (!raised).then_some(a.ts),
                        report_id: report_id.map(str::to_owned),
                        ack: if report_id.is_some() { ack } else { AckState::Unknown },
                        received_ms: now_ms,
                    });
                    if self.rows.len() > ALARM_LOG_CAPACITY {
                        self.rows.pop_front();
                    }
                }
            }
        }
    }

    /// An acknowledgement (a reply to the `alarm/report` or `history/report` with `id`) seen on
    /// the downlink.
    pub(super) fn ack_seen(&mut self, id: &str) {
        let mut matched = false;
        for row in self.rows.iter_mut().filter(|r| r.report_id.as_deref() == Some(id)) {
            matched = true;
            row.ack = match row.ack {
                AckState::Sent | AckState::Us => AckState::Us,
                _ => AckState::Other,
            };
        }
        if !matched {
            self.early_acks.push_back(id.to_owned());
            if self.early_acks.len() > EARLY_ACKS {
                self.early_acks.pop_front();
            }
        }
    }

    /// A `history/get` reply: the recall `recall_id` will send `batches` batches.
    pub(super) fn recall_announced(&mut self, recall_id: &str, batches: u64, now_ms: i64) {
        let recall = self.recall_mut(recall_id, now_ms);
        recall.expected = Some(batches);
        recall.last_ms = now_ms;
    }

    /// A batch of recall `recall_id` with `new` rows not held before and `duplicates` held.
    pub(super) fn recall_batch(&mut self, recall_id: &str, batch_id: &str, new: u64, duplicates: u64, now_ms: i64) {
        let recall = self.recall_mut(recall_id, now_ms);
        recall.last_ms = now_ms;
        recall.new += new;
        recall.duplicates += duplicates;
        if let Some(b) = recall.batches.iter_mut().find(|b| b.batch_id == batch_id) {
            b.new += new;
            b.duplicates += duplicates;
            return;
        }
        recall.received += 1;
        if recall.batches.len() < RECALL_BATCHES {
            recall.batches.push(BatchCount { batch_id: batch_id.to_owned(), new, duplicates, received_ms: now_ms });
        }
    }

    fn recall_mut(&mut self, recall_id: &str, now_ms: i64) -> &mut Recall {
        let at = match self.recalls.iter().position(|r| r.recall_id == recall_id) {
            Some(at) => at,
            None => {
                if self.recalls.len() >= RECALL_CAPACITY {
                    self.recalls.pop_front();
                }
                self.recalls.push_back(Recall {
                    recall_id: recall_id.to_owned(),
                    expected: None,
                    batches: Vec::new(),
                    received: 0,
                    new: 0,
                    duplicates: 0,
                    started_ms: now_ms,
                    last_ms: now_ms,
                });
                self.recalls.len() - 1
            }
        };
        &mut self.recalls[at]
    }

    pub fn recall(&self, recall_id: &str) -> Option<&Recall> {
        self.recalls.iter().find(|r| r.recall_id == recall_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alarm(id: &str, state: AlarmState, ts: i64) -> Alarm {
        Alarm {
            alarm_id: id.into(),
            sub: "m1".into(),
            pid: None,
            alarm_type: "overVoltage".into(),
            level: 2,
            state,
            value: None,
            threshold: None,
            ts,
            desc: None,
        }
    }

    #[test]
    fn raise_and_clear_pair_into_one_row_with_ack() {
        let mut log = AlarmLog::default();
        log.add(&[alarm("a1", AlarmState::Raised, 1_000)], Some("r1"), true, 5);
        assert_eq!(log.rows[0].ack, AckState::Sent);
        log.ack_seen("r1");
        assert_eq!(log.rows[0].ack, AckState::Us);
        log.add(&[alarm("a1", AlarmState::Cleared, 4_000)], Some("r2"), true, 6);
        assert_eq!(log.rows.len(), 1);
        assert_eq!(log.rows[0].duration_ms(), Some(3_000));
        // Replayed from history: no new row.
        log.add(&[alarm("a1", AlarmState::Cleared, 4_000)], Some("r3"), true, 7);
        assert_eq!(log.rows.len(), 1);
    }

    #[test]
    fn an_ack_we_did_not_send_is_another_masters_even_when_early() {
        let mut log = AlarmLog::default();
        log.ack_seen("r9");
        log.add(&[alarm("a2", AlarmState::Raised, 1)], Some("r9"), false, 5);
        assert_eq!(log.rows[0].ack, AckState::Other);
        log.add(&[alarm("a3", AlarmState::Raised, 1)], Some("r10"), false, 5);
        assert_eq!(log.rows[1].ack, AckState::None);
        log.ack_seen("r10");
        assert_eq!(log.rows[1].ack, AckState::Other);
    }

    #[test]
    fn alarms_of_a_history_batch_take_the_batch_acknowledgement() {
        let mut log = AlarmLog::default();
        // Stored while offline, raised and cleared: one row, acknowledged with its batch "h1".
        log.add(&[alarm("a4", AlarmState::Raised, 10), alarm("a4", AlarmState::Cleared, 20)], Some("h1"), true, 5);
        assert_eq!((log.rows.len(), log.rows[0].report_id.as_deref(), log.rows[0].ack), (1, Some("h1"), AckState::Sent));
        log.ack_seen("h1");
        assert_eq!(log.rows[0].ack, AckState::Us);
        // A batch another master answered, before or after it reaches us.
        log.ack_seen("h2");
        log.add(&[alarm("a5", AlarmState::Raised, 30)], Some("h2"), false, 6);
        log.add(&[alarm("a6", AlarmState::Raised, 30)], Some("h3"), false, 6);
        assert_eq!((log.rows[1].ack, log.rows[2].ack), (AckState::Other, AckState::None));
        log.ack_seen("h3");
        assert_eq!(log.rows[2].ack, AckState::Other);
    }

    #[test]
    fn a_report_of_an_alarm_known_from_alarm_get_tells_its_acknowledgement() {
        let mut log = AlarmLog::default();
        log.add(&[alarm("a7", AlarmState::Raised, 10)], None, false, 5);
        assert_eq!(log.rows[0].ack, AckState::Unknown);
        // The batch that carries its raise, answered by us.
        log.add(&[alarm("a7", AlarmState::Raised, 10)], Some("h4"), true, 6);
        assert_eq!((log.rows.len(), log.rows[0].report_id.as_deref(), log.rows[0].ack), (1, Some("h4"), AckState::Sent));
        log.ack_seen("h4");
        assert_eq!(log.rows[0].ack, AckState::Us);
        // A later repeat does not take the row from the report that told it.
        log.add(&[alarm("a7", AlarmState::Raised, 10)], Some("h5"), false, 7);
        assert_eq!((log.rows[0].report_id.as_deref(), log.rows[0].ack), (Some("h4"), AckState::Us));
    }

    #[test]
    fn recall_counts_batches_once_and_ends_when_all_arrived() {
        let mut log = AlarmLog::default();
        log.recall_batch("q", "b1", 3, 1, 1);
        log.recall_announced("q", 2, 1);
        assert!(!log.recall("q").is_some_and(Recall::done));
        log.recall_batch("q", "b1", 0, 4, 2);
        log.recall_batch("q", "b2", 2, 0, 3);
        let r = log.recall("q").cloned().unwrap_or_else(|| panic!("no recall"));
        assert!(r.done());
        assert_eq!((r.received, r.new, r.duplicates, r.batches.len()), (2, 5, 5, 2));
    }
}

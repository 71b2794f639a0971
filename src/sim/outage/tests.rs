//! Tests of batching, the history queue and the offline buffer (built only under #[cfg(test)]).

use super::*;
use crate::protocol::payload::{AlarmState, PointV};
use indexmap::IndexMap;

fn point(ts: i64) -> Item {
    Item::Point(PointValue { sub: "meter-1".into(), pid: "Ua".into(), v: PointV::Number(230.12), q: 0, ts })
}

#[test]
fn batches_fit_and_keep_order() {
    let mut items: Vec<Item> = (0..5_000).rev().map(point).collect();
    items.push(Item::Reading(Reading { sub: "meter-1".into(), ts: 2_500, values: IndexMap::from([("EpImp".into(), 1.5)]) }));
    items.push(Item::Alarm(Alarm {
        alarm_id: "a".into(), sub: "meter-1".into(), pid: Some("Ua".into()), alarm_type: "overVoltage".into(), level: 2,
        state: AlarmState::Raised, value: None, threshold: None, ts: 4_000, desc: None,
    }));
    let mut n = 0;
    let batches = make_batches(items, BATCH_MAX_BYTES, None, || {
        n += 1;
        format!("b{n}")
    });
    assert!(batches.len() > 3, "{}", batches.len());
    let mut last_ts = i64::MIN;
    let mut total = 0;
    for b in &batches {
        let env = Request { id: "y".repeat(64), ts: 1_700_000_000_000, ver: "1.0".into(), data: to_data(b) };
        let bytes = env.to_bytes().unwrap();
        assert!(bytes.len() <= BATCH_MAX_BYTES, "{}", bytes.len());
        for p in &b.points {
            assert!(p.ts >= last_ts);
            last_ts = p.ts;
        }
        total += b.points.len() + b.readings.as_ref().map_or(0, Vec::len) + b.alarms.as_ref().map_or(0, Vec::len);
    }
    assert_eq!(total, 5_002);
    assert_eq!(batches[0].batch_id, "b1");
    assert!(batches.iter().all(|b| b.recall_id.is_none()), "outage history answers no recall");
    assert!(to_data(&batches[0]).get("recallId").is_none());
}

#[test]
fn batches_fit_a_smaller_limit_too() {
    // Over serial a batch must leave room in the frame for the topic and header.
    let limit = BATCH_MAX_BYTES - 60;
    let batches = make_batches((0..5_000).map(point).collect(), limit, None, || "b".repeat(64));
    assert!(batches.len() > 3);
    for b in &batches {
        let env = Request { id: "y".repeat(64), ts: 1_700_000_000_000, ver: "1.0".into(), data: to_data(b) };
        let bytes = env.to_bytes().unwrap();
        assert!(bytes.len() <= limit, "{} > {limit}", bytes.len());
    }
    // A recall's batches carry its id and still fit.
    let recall = make_batches((0..5_000).map(point).collect(), limit, Some(&"r".repeat(64)), || "b".repeat(64));
    for b in &recall {
        assert_eq!(b.recall_id.as_deref(), Some("r".repeat(64).as_str()));
        let env = Request { id: "y".repeat(64), ts: 1_700_000_000_000, ver: "1.0".into(), data: to_data(b) };
        assert!(env.to_bytes().unwrap().len() <= limit);
    }
    assert!(make_batches((0..10).map(point).collect(), usize::MAX, None, || "b".into()).len() == 1);
}

#[test]
fn queue_deletes_only_on_code_0() {
    let now = Instant::now();
    let mut q = HistoryQueue::default();
    q.push(make_batches((0..10).map(point).collect(), BATCH_MAX_BYTES, None, || "b1".into()));
    let (b, lane) = q.next_to_send(now).unwrap();
    assert_eq!(lane, Lane::Outage);
    b.request_id = Some("r1".into());
    assert!(q.next_to_send(now).is_none(), "one outstanding at a time");
    assert_eq!(q.answered("b1", 1, now + std::time::Duration::from_secs(10)), Answered::Retry);
    assert_eq!(q.len(), 1);
    assert!(q.next_to_send(now).is_none(), "waits before retrying");
    assert!(q.next_to_send(now + std::time::Duration::from_secs(11)).is_some());
    assert_eq!(q.answered("other", 0, now), Answered::Unknown);
    assert_eq!(q.answered("b1", 0, now), Answered::Acked);
    assert!(q.is_empty());
    assert_eq!(q.acked, 1);
}

#[test]
fn outage_history_goes_before_recalls_and_recalls_are_dropped_not_retried() {
    let now = Instant::now();
    let mut q = HistoryQueue::default();
    q.push_recall(vec![report("r1"), report("r2")]);
    let (b, lane) = q.next_to_send(now).unwrap();
    assert_eq!((b.report.batch_id.as_str(), lane), ("r1", Lane::Recall));
    b.request_id = Some("x".into());
    // Outage history arriving while a recall batch is out waits for that one only.
    q.push(vec![report("o1")]);
    assert!(q.next_to_send(now).is_none());
    assert_eq!(q.answered("r1", 0, now), Answered::Acked);
    let (b, lane) = q.next_to_send(now).unwrap();
    assert_eq!((b.report.batch_id.as_str(), lane), ("o1", Lane::Outage), "outage first");
    b.request_id = Some("y".into());
    assert_eq!(q.answered("o1", 0, now), Answered::Acked);
    assert_eq!(q.next_to_send(now).map(|(b, _)| b.report.batch_id.clone()).as_deref(), Some("r2"));
    // A refused recall batch drops the rest of the recall.
    assert_eq!(q.answered("r2", 5, now), Answered::RecallDropped(1));
    assert!(q.is_empty());
    assert_eq!((q.acked, q.dropped), (2, 1));
    q.push_recall(vec![report("r3"), report("r4")]);
    assert_eq!(q.give_up_recall(), 2);
    q.push(vec![report("o2")]);
    assert!(q.drop_batch("o2"));
    assert!(!q.drop_batch("o2"));
    assert_eq!(q.dropped, 4);
}

fn report(batch_id: &str) -> HistoryReport {
    HistoryReport { batch_id: batch_id.into(), recall_id: None, points: Vec::new(), readings: None, alarms: None }
}

#[test]
fn offline_buffer_is_bounded() {
    let mut buf = OfflineBuffer::default();
    for ts in 0..(OFFLINE_CAPACITY as i64 + 5) {
        buf.push(point(ts));
    }
    assert_eq!(buf.len(), OFFLINE_CAPACITY);
    assert_eq!(buf.dropped, 5);
    assert_eq!(buf.take_all()[0].ts(), 5);
}

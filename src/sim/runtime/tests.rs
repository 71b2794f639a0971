//! Tests of the runtime's sizing and dropping (built only under #[cfg(test)]), on an in-memory
//! serial cable.

use super::*;
use crate::protocol::envelope::MAX_ID_LEN;
use crate::sim::SimTuning;
use crate::transport::{mqtt, serial};
use crate::protocol::model::ModelSet;
use crate::protocol::payload::{Alarm, AlarmState, HistoryReport, PointV, PointValue};
use crate::protocol::frame;
use crate::transport::serial::SerialConfig;

const PK: &str = "PK-GW-01";
const DEV: &str = "GW-0001";

/// A runtime on one end of an in-memory serial cable (nobody at the other end), online.
fn serial_runtime(dir: &std::path::Path) -> (Runtime, tokio::io::DuplexStream) {
    let (ours, theirs) = tokio::io::duplex(1 << 20);
    let config = SimConfig::new(ModelSet::builtin(), PK, DEV, LinkConfig::Serial(SerialConfig::stream(ours)), dir.to_path_buf());
    let state = SimState::new(&config.models, PK, DEV, dir.to_path_buf(), 1, None).unwrap();
    let (mut runtime, _status) = Runtime::new(config, SimTuning::default(), Arc::new(Mutex::new(state))).unwrap();
    runtime.link_up = true;
    (runtime, theirs)
}

fn point(i: usize) -> PointValue {
    PointValue { sub: "meter-1".into(), pid: format!("P{i}"), v: PointV::Number(230.125), q: 0, ts: 1_700_000_000_000 + i as i64 }
}

#[test]
fn point_reports_are_cut_to_fit_a_serial_frame() {
    let topic = "cems/v1/PK-GW-01/GW-0001/up/point/report";
    let limit = serial::max_payload_bytes(topic);
    let points: Vec<PointValue> = (0..3_000).map(point).collect();
    // 1000 points, the old cut, do not fit one frame.
    let thousand = Request::new("x", to_data(&Points { points: points[..1_000].to_vec() })).to_bytes().unwrap();
    assert!(thousand.len() > limit, "{} <= {limit}", thousand.len());
    let runs = split_to_fit(points, "points", POINTS_PER_MESSAGE, limit);
    assert_eq!(runs.iter().map(Vec::len).sum::<usize>(), 3_000);
    for run in &runs {
        let envelope = Request { id: "x".repeat(MAX_ID_LEN), ts: i64::MAX, ver: PROTOCOL_VERSION.into(), data: to_data(&Points { points: run.clone() }) };
        let payload = envelope.to_bytes().unwrap();
        assert!(payload.len() <= limit, "{} > {limit}", payload.len());
        assert!(frame::encode(&frame::Frame::publish(topic, payload)).is_ok());
    }
    // Over MQTT the count still caps a message.
    let mqtt = LinkConfig::Mqtt(mqtt::MqttConfig::new("mqtt://h", "c"));
    let runs = split_to_fit((0..2_500).map(point).collect(), "points", POINTS_PER_MESSAGE, payload_limit(&mqtt, topic));
    assert_eq!(runs.iter().map(Vec::len).collect::<Vec<_>>(), [1_000, 1_000, 500]);
}

#[tokio::test]
async fn history_batches_are_sized_for_the_serial_link() {
    let dir = tempfile::tempdir().unwrap();
    let (runtime, _cable) = serial_runtime(dir.path());
    let limit = runtime.state().batch_max_bytes;
    assert_eq!(limit, serial::max_payload_bytes("cems/v1/PK-GW-01/GW-0001/up/history/report"));
    assert!(limit < BATCH_MAX_BYTES);
}

#[tokio::test]
async fn a_request_the_link_cannot_carry_is_dropped_not_resent_forever() {
    let dir = tempfile::tempdir().unwrap();
    let (mut runtime, _cable) = serial_runtime(dir.path());
    let shared = runtime.shared.clone();
    let mut state = shared.lock().unwrap();
    // One alarm bigger than a frame: its batch can never go over serial.
    let huge = Alarm {
        alarm_id: "a1".into(), sub: "meter-1".into(), pid: None, alarm_type: "x".into(), level: 1, state: AlarmState::Raised,
        value: None, threshold: None, ts: 1, desc: Some("d".repeat(frame::MAX_FRAME_LEN)),
    };
    let big = HistoryReport { batch_id: "big".into(), recall_id: None, points: Vec::new(), readings: None, alarms: Some(vec![huge]) };
    let small = HistoryReport { batch_id: "small".into(), recall_id: None, points: vec![point(1)], readings: None, alarms: None };
    state.history.push(vec![big, small]);
    runtime.pump(&mut state);
    assert_eq!(state.counters.publishes_dropped, 1);
    assert_eq!(state.history.dropped, 1);
    assert_eq!(state.history.len(), 1, "the next batch went out");
    assert!(runtime.outbox.has(|p| matches!(p, Purpose::History { batch_id, .. } if batch_id == "small")));
    assert!(!runtime.outbox.has(|p| matches!(p, Purpose::History { batch_id, .. } if batch_id == "big")));
    drop(state);

    // A refusal the sim could not foresee, reported by the link: the batch is deleted too.
    let topic = runtime.topic("history", "report").unwrap();
    runtime.on_event(Some(LinkEvent::PublishDropped { topic, reason: "refused".into() }));
    let state = shared.lock().unwrap();
    assert_eq!((state.counters.publishes_dropped, state.history.dropped), (2, 2));
    assert!(state.history.is_empty());
    assert!(!runtime.outbox.has(|p| matches!(p, Purpose::History { .. })), "nothing left to resend");
}

#[tokio::test]
async fn replies_and_log_uploads_are_sized_for_the_serial_link() {
    let dir = tempfile::tempdir().unwrap();
    let (mut runtime, _cable) = serial_runtime(dir.path());
    let shared = runtime.shared.clone();
    {
        let mut state = shared.lock().unwrap();
        // The handlers cut replies to what the longest reply topic leaves of a frame.
        let longest = "cems/v1/PK-GW-01/GW-0001/up/ota/version/get/reply";
        assert_eq!(state.reply_max_bytes, serial::max_payload_bytes(longest));
        // Some 250 KB of log waiting for upload: four frames' worth.
        state.log.upload = true;
        for i in 0..1_000 {
            state.log.push(i, crate::sim::log::Level::Warn, "test", "w".repeat(600));
        }
    }
    runtime.on_tick();
    let mut state = shared.lock().unwrap();
    assert!(state.log.take_unsent().is_empty(), "the tick took the upload");
    assert_eq!(state.counters.publishes_dropped, 0, "the upload went out in several log/report messages, none refused");
}

#[test]
fn link_states_are_logged_as_words() {
    assert_eq!(describe_link_state(&LinkState::Down { reason: "connection refused".into() }), "down: connection refused");
    assert_eq!(describe_link_state(&LinkState::Connecting { attempt: 3 }), "connecting (attempt 3)");
    assert_eq!(describe_link_state(&LinkState::Closed), "closed");
}

use serde_json::json;

use super::*;
use crate::engine::requests::{ReplyInfo, RequestFailure};
use crate::protocol::codes::code_name;
use crate::protocol::payload::{Alarm, AlarmState, Alarms, FileEntry, FileList, PointV, PropertyFailure, PropertySetReply, Props, TimeReply};

fn pv(sub: &str, pid: &str, v: f64, ts: i64) -> PointValue {
    PointValue { sub: sub.into(), pid: pid.into(), v: PointV::Number(v), q: 0, ts }
}

#[test]
fn duplicates_are_stored_once() {
    let mut g = Gateways::new();
    g.announce(&GatewayKey { pk: ("PK").to_owned(), dev: ("GW").to_owned() }, 1, 0);
    let key = GatewayKey { pk: "PK".into(), dev: "GW".into() };
    let batch = [pv("m1", "Ua", 230.0, 10), pv("m1", "Ua", 231.0, 20), pv("m1", "Ub", 229.0, 10)];
    assert_eq!(g.add_points(&key, &batch, 0), 3);
    assert_eq!(g.add_points(&key, &batch, 0), 0);
    assert_eq!(g.history_stats(), HistoryStats { rows_stored: 3, duplicates: 3 });
    let track = &g.get(&key).unwrap().subs["m1"].points["Ua"];
    assert_eq!(track.latest.as_ref().unwrap().ts, 20);
}

#[test]
fn late_history_leaves_latest_the_latest() {
    let mut g = Gateways::new();
    g.announce(&GatewayKey { pk: ("PK").to_owned(), dev: ("GW").to_owned() }, 1, 0);
    let key = GatewayKey { pk: "PK".into(), dev: "GW".into() };
    g.add_points(&key, &[pv("m1", "P", 1.0, 100), pv("m1", "P", 3.0, 300)], 0);
    g.add_points(&key, &[pv("m1", "P", 2.0, 200)], 0);
    let track = &g.get(&key).unwrap().subs["m1"].points["P"];
    assert_eq!(track.latest.as_ref().unwrap().ts, 300);
    assert_eq!(track.latest.as_ref().unwrap().v, PointV::Number(3.0));
}

#[test]
fn alarms_raise_and_clear() {
    let mut g = Gateways::new();
    g.announce(&GatewayKey { pk: ("PK").to_owned(), dev: ("GW").to_owned() }, 1, 0);
    let key = GatewayKey { pk: "PK".into(), dev: "GW".into() };
    let mut a = Alarm {
        alarm_id: "a1".into(), sub: "m1".into(), pid: None, alarm_type: "overVoltage".into(), level: 2,
        state: AlarmState::Raised, value: None, threshold: None, ts: 1, desc: None,
    };
    g.apply(&key, Payload::Alarms(Alarms { alarms: vec![a.clone()] }), 0);
    assert_eq!(g.get(&key).unwrap().alarms.len(), 1);
    a.state = AlarmState::Cleared;
    a.ts = 5;
    g.apply(&key, Payload::Alarms(Alarms { alarms: vec![a.clone()] }), 0);
    assert!(g.get(&key).unwrap().alarms.is_empty());
    // The raise at ts 1, replayed from history after the clear, stays cleared.
    a.state = AlarmState::Raised;
    a.ts = 1;
    g.apply(&key, Payload::Alarms(Alarms { alarms: vec![a] }), 0);
    assert!(g.get(&key).unwrap().alarms.is_empty());
}

fn gateway() -> (Gateways, GatewayKey) {
    let mut g = Gateways::new();
    g.announce(&GatewayKey { pk: ("PK").to_owned(), dev: ("GW").to_owned() }, 1, 0);
    (g, GatewayKey { pk: "PK".into(), dev: "GW".into() })
}

fn outcome(class: &str, action: &str, result: Result<ReplyInfo, RequestFailure>) -> RequestOutcome {
    RequestOutcome { id: format!("{class}-{action}"), session: 1, pk: "PK".into(), dev: "GW".into(), class: class.into(), action: action.into(), result, latency_ms: 12.5 }
}

fn replied(code: i64, msg: Option<&str>, data: serde_json::Value) -> Result<ReplyInfo, RequestFailure> {
    Ok(ReplyInfo { code, name: code_name(code), msg: msg.map(str::to_owned), data })
}

#[test]
fn a_time_reply_gives_the_offset_with_t4_the_time_it_was_received() {
    let (mut g, key) = gateway();
    // Sent at 1000 (ours), received by the gateway at 1600 and answered at 1610 (its clock),
    // back here at 1030: the gateway is 590 ms ahead, 20 ms were spent on the network.
    assert!(g.apply(&key, Payload::TimeReply(TimeReply { t1: 1000, t2: 1600, t3: 1610 }), 1030));
    assert_eq!(g.get(&key).unwrap().clock, Some(ClockOffset { offset_ms: 590.0, round_trip_ms: 20, measured_ms: 1030 }));
}

#[test]
fn a_file_list_replaces_the_previous_one() {
    let (mut g, key) = gateway();
    let entry = |name: &str| FileEntry { name: name.into(), size: 3, mtime: 7 };
    assert!(g.apply(&key, Payload::FileList(FileList { files: vec![entry("a.csv"), entry("b.csv")] }), 100));
    assert!(g.apply(&key, Payload::FileList(FileList { files: vec![entry("c.csv")] }), 200));
    assert_eq!(g.get(&key).unwrap().files, Some(FileListing { files: vec![entry("c.csv")], received_ms: 200 }));
}

#[test]
fn the_request_log_keeps_each_end_and_the_items_a_set_could_not_apply() {
    let (mut g, key) = gateway();
    g.log_request(&outcome("info", "get", replied(0, None, json!({"vendor": "V"}))), 50);
    // Contract §3: code 2 is the first failure's; "reportPeriod" was applied, only "nope" was not.
    let failed = json!({"failed": [{"key": "nope", "code": 2, "msg": "no property \"nope\""}]});
    g.log_request(&outcome("property", "set", replied(2, Some("1 of 2 properties not set"), failed)), 60);
    // An item without its own msg is shown with its code's name.
    g.log_request(&outcome("port", "set", replied(7, None, json!({"failed": [{"portId": "P9", "code": 7}]}))), 70);
    g.log_request(&outcome("time", "get", Err(RequestFailure::Timeout { after_ms: 10_000 })), 80);
    let log: Vec<_> = g.get(&key).unwrap().requests.iter().cloned().collect();
    assert_eq!(log.len(), 4);
    assert_eq!((log[0].id.as_str(), &log[0].end, log[0].latency_ms, log[0].done_ms), ("info-get", &RequestEnd::Replied { code: 0, name: "ok", msg: None }, 12.5, 50));
    assert!(log[0].failed.is_empty());
    assert_eq!(log[1].end, RequestEnd::Replied { code: 2, name: "unsupported", msg: Some("1 of 2 properties not set".into()) });
    assert_eq!(log[1].failed, vec!["nope: 2 no property \"nope\"".to_owned()]);
    assert_eq!(log[2].failed, vec!["P9: 7 not_found".to_owned()]);
    assert_eq!((&log[3].end, log[3].failed.len()), (&RequestEnd::Failed(RequestFailure::Timeout { after_ms: 10_000 }), 0));
}

#[test]
fn a_set_reply_alone_changes_no_property_and_the_request_log_is_bounded() {
    let (mut g, key) = gateway();
    g.apply(&key, Payload::Props(Props { props: json!({"reportPeriod": 10}).as_object().cloned().unwrap() }), 0);
    // The reply names what failed, not the values applied: those come by property/report or get.
    let reply = PropertySetReply { failed: vec![PropertyFailure { key: "nope".into(), code: 2, msg: None }] };
    assert!(!g.apply(&key, Payload::PropertySetReply(reply), 1));
    assert_eq!(g.get(&key).unwrap().properties.get("reportPeriod"), Some(&json!(10)));
    for i in 0..REQUEST_LOG_CAPACITY + 5 {
        g.log_request(&outcome("info", "get", replied(0, None, json!({}))), i as i64);
    }
    let requests = &g.get(&key).unwrap().requests;
    assert_eq!(requests.len(), REQUEST_LOG_CAPACITY);
    assert_eq!(requests.front().map(|r| r.done_ms), Some(5), "the oldest go first");
    // A gateway never seen has no record to log into.
    let mut stranger = outcome("info", "get", replied(0, None, json!({})));
    stranger.dev = "OTHER".into();
    g.log_request(&stranger, 0);
    assert!(g.get(&GatewayKey { pk: "PK".into(), dev: "OTHER".into() }).is_none());
}

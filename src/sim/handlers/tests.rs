//! Tests of the down-request handlers (built only under #[cfg(test)]), without a broker.

use super::*;
use crate::protocol::envelope::Request;
use crate::protocol::model::ModelSet;
use crate::protocol::payload::{OtaStep, PointV, PointValue};
use crate::sim::outage::Item;

const PK: &str = "PK-GW-01";
const DEV: &str = "GW-0001";

pub(super) fn state() -> (SimState, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let state = SimState::new(&ModelSet::builtin(), PK, DEV, dir.path().to_path_buf(), 7, Some(200)).unwrap();
    (state, dir)
}

pub(super) fn topic(class_action: &str) -> CemsTopic {
    let (class, action) = class_action.split_once('/').unwrap();
    CemsTopic::new(PK, DEV, Dir::Down, class, action)
}

pub(super) fn send(state: &mut SimState, class_action: &str, id: &str, data: Value) -> Handled {
    let bytes = Request::new(id, data).to_bytes().unwrap();
    handle_down(state, &topic(class_action), &bytes)
}

/// The reply's code, data and msg.
pub(super) fn call(state: &mut SimState, class_action: &str, data: Value) -> (i64, Value, String) {
    let id = format!("t-{}", state.counters.requests_answered + 1);
    let reply = send(state, class_action, &id, data).reply.expect("a reply");
    assert_eq!(reply.id, id);
    (reply.code, reply.data, reply.msg.unwrap_or_default())
}

fn code(state: &mut SimState, class_action: &str, data: Value) -> i64 {
    call(state, class_action, data).0
}

#[test]
fn unsupported_class_or_action_is_code_2() {
    let (mut st, _dir) = state();
    assert_eq!(code(&mut st, "vendorx/blob", json!({})), codes::UNSUPPORTED);
    assert_eq!(code(&mut st, "point/delete", json!({})), codes::UNSUPPORTED);
    // An up-direction action sent down is not a request the gateway takes.
    assert_eq!(code(&mut st, "point/report", json!({"points": []})), codes::UNSUPPORTED);
}

#[test]
fn bad_envelopes_are_code_3_when_the_id_can_be_read() {
    let (mut st, _dir) = state();
    let h = handle_down(&mut st, &topic("info/get"), br#"{"id":"m1","ts":"x","ver":"1.0","data":{}}"#);
    let reply = h.reply.unwrap();
    assert_eq!((reply.id.as_str(), reply.code), ("m1", codes::BAD_FORMAT));
    assert!(reply.msg.unwrap().contains("ts"));
    let h = handle_down(&mut st, &topic("info/get"), br#"{"id":"m2","ts":1,"code":0}"#);
    assert_eq!(h.reply.unwrap().code, codes::BAD_FORMAT);
    let h = handle_down(&mut st, &topic("info/get"), b"not json");
    assert!(h.reply.is_none());
    assert_eq!(st.counters.malformed_ignored, 1);
    // Data of the wrong shape is a parameter error, naming the field.
    let (c, _, msg) = call(&mut st, "time/get", json!({"t1": "soon"}));
    assert_eq!(c, codes::BAD_PARAM);
    assert!(msg.starts_with("data.t1"), "{msg}");
}

#[test]
fn duplicate_ids_replay_the_first_reply() {
    let (mut st, _dir) = state();
    let first = send(&mut st, "point/set", "dup-1", json!({"sub": "pcs-1", "pid": "Pset", "value": 20})).reply.unwrap();
    assert_eq!(first.code, 0);
    // Same id, different content: the earlier reply comes back and nothing is done again.
    let again = send(&mut st, "point/set", "dup-1", json!({"sub": "pcs-1", "pid": "Pset", "value": 50}));
    assert_eq!(again.reply.unwrap(), first);
    assert!(again.out.is_empty());
    let pcs = st.device_index("pcs-1").unwrap();
    assert_eq!(st.devices[pcs].point("Pset").unwrap().value, PointV::Number(20.0));
    assert_eq!(st.counters.duplicates_replayed, 1);
    // A replayed OTA accept does not start a second transfer.
    let ota = json!({"taskId": "t1", "module": "firmware", "version": "2.0.0", "size": 1000, "sha256": "0".repeat(64), "chunkSize": 512});
    assert_eq!(send(&mut st, "ota/upgrade", "up-1", ota.clone()).reply.unwrap().code, 0);
    assert_eq!(send(&mut st, "ota/upgrade", "up-1", ota).reply.unwrap().code, 0);
    assert_eq!(st.transfers.len(), 1);
}

#[test]
fn two_masters_reusing_an_id_on_different_requests_both_get_answers() {
    let (mut st, _dir) = state();
    // Master A's id "1" is a point/get, master B's id "1" an info/get: not a duplicate.
    let a = send(&mut st, "point/get", "1", json!({"sub": "meter-1", "pids": ["Ua"]})).reply.unwrap();
    assert_eq!(a.code, 0);
    assert!(a.data.get("points").is_some(), "{a:?}");
    let b = send(&mut st, "info/get", "1", json!({})).reply.unwrap();
    assert_eq!((b.code, b.data["serial"].as_str()), (0, Some(DEV)), "{b:?}");
    assert_eq!(st.counters.duplicates_replayed, 0);
    // A retry of either (same class/action, same id) still replays.
    assert_eq!(send(&mut st, "info/get", "1", json!({})).reply.unwrap(), b);
    assert_eq!(st.counters.duplicates_replayed, 1);
}

#[test]
fn commands_follow_the_model() {
    let (mut st, _dir) = state();
    assert_eq!(code(&mut st, "command/request", json!({"cmd": "reboot", "params": {"delay": 5}})), 0);
    assert_eq!(code(&mut st, "command/request", json!({"cmd": "reboot", "params": {"delay": 601}})), codes::BAD_PARAM);
    assert_eq!(code(&mut st, "command/request", json!({"cmd": "selfDestruct", "params": {}})), codes::UNSUPPORTED);
    assert_eq!(code(&mut st, "command/request", json!({"cmd": "start", "sub": "pcs-9", "params": {}})), codes::NOT_FOUND);
    assert_eq!(code(&mut st, "command/request", json!({"cmd": "reread", "params": {"sub": "meter-1"}})), 0);
    let (c, data, _) = call(&mut st, "command/request", json!({"cmd": "start", "sub": "pcs-1", "params": {}}));
    assert_eq!(c, 0);
    assert_eq!(data, json!({"runState": 1}));
    let (c, data, _) = call(&mut st, "command/request", json!({"cmd": "schedule", "sub": "pcs-1", "params": {"slots": [{"start": "08:00", "power": 10}]}}));
    assert_eq!((c, data), (0, json!({"accepted": 1})));
    // The gateway's commands are not the meter's.
    assert_eq!(code(&mut st, "command/request", json!({"cmd": "reboot", "sub": "meter-1", "params": {}})), codes::UNSUPPORTED);
}

#[test]
fn points_get_and_set() {
    let (mut st, _dir) = state();
    let (c, data, _) = call(&mut st, "point/get", json!({}));
    assert_eq!(c, 0);
    let total = st.devices.iter().map(|d| d.points.len()).sum::<usize>();
    assert_eq!(data["points"].as_array().unwrap().len(), total);
    let (_, data, _) = call(&mut st, "point/get", json!({"sub": "meter-1", "pids": ["Ua", "F"]}));
    let pids: Vec<&str> = data["points"].as_array().unwrap().iter().map(|p| p["pid"].as_str().unwrap()).collect();
    assert_eq!(pids, ["Ua", "F"]);
    assert_eq!(data["points"][0]["sub"], "meter-1");
    assert_eq!(code(&mut st, "point/get", json!({"sub": "meter-1", "pids": ["Nope"]})), codes::NOT_FOUND);
    assert_eq!(code(&mut st, "point/get", json!({"sub": "meter-9"})), codes::NOT_FOUND);

    assert_eq!(code(&mut st, "point/set", json!({"sub": "meter-1", "pid": "Ua", "value": 220})), codes::DENIED);
    assert_eq!(code(&mut st, "point/set", json!({"sub": "pcs-1", "pid": "Pset", "value": 150})), codes::BAD_PARAM);
    assert_eq!(code(&mut st, "point/set", json!({"sub": "pcs-1", "pid": "Pset", "value": "high"})), codes::BAD_PARAM);
    assert_eq!(code(&mut st, "point/set", json!({"sub": "pcs-1", "pid": "Nope", "value": 1})), codes::NOT_FOUND);
    assert_eq!(code(&mut st, "point/set", json!({"sub": "pcs-9", "pid": "Pset", "value": 1})), codes::NOT_FOUND);
    let (c, data, _) = call(&mut st, "point/set", json!({"sub": "pcs-1", "pid": "Pset", "value": -42.5}));
    assert_eq!((c, data), (0, json!({"value": -42.5})));
    // The new value shows in the next report.
    std::thread::sleep(std::time::Duration::from_millis(250));
    let reported: Vec<PointValue> = st
        .sample(false)
        .into_iter()
        .filter_map(|o| match o {
            Outgoing::Points { change: false, points } => Some(points),
            _ => None,
        })
        .flatten()
        .collect();
    let pset = reported.iter().find(|p| p.sub == "pcs-1" && p.pid == "Pset").unwrap();
    assert_eq!(pset.v, PointV::Number(-42.5));
    // A digital setpoint goes out as a change at once.
    let h = send(&mut st, "point/set", "brk", json!({"sub": "pcs-1", "pid": "gridSwitch", "value": 0}));
    assert_eq!(h.reply.unwrap().code, 0);
    assert!(matches!(&h.out[0], Outgoing::Points { change: true, points } if points[0].v == PointV::Number(0.0)));
}

#[test]
fn properties_ports_and_meters() {
    let (mut st, _dir) = state();
    let (_, data, _) = call(&mut st, "property/get", json!({"keys": ["reportPeriod", "fwVersion"]}));
    assert_eq!(data, json!({"props": {"reportPeriod": 60, "fwVersion": "1.0.0"}}));
    let (c, data, msg) = call(&mut st, "property/set", json!({"props": {"reportPeriod": 5, "fwVersion": "9", "nope": 1, "logLevel": "loud"}}));
    // Some failed: the code of the first failure (contract §3), every failure with its own.
    assert_eq!(c, codes::DENIED, "{msg}");
    assert!(msg.contains("3 of 4"), "{msg}");
    let failed: Vec<(String, i64)> = data["failed"].as_array().unwrap().iter().map(|f| (f["key"].as_str().unwrap().to_owned(), f["code"].as_i64().unwrap())).collect();
    assert_eq!(failed, [("fwVersion".into(), codes::DENIED), ("nope".into(), codes::UNSUPPORTED), ("logLevel".into(), codes::BAD_PARAM)]);
    assert!(data["failed"].as_array().unwrap().iter().all(|f| f["msg"].as_str().is_some_and(|m| !m.is_empty())), "{data}");
    assert_eq!(st.period_override_ms, Some(5_000), "what could be set was set");
    let (c, data, _) = call(&mut st, "property/set", json!({"props": {"reportPeriod": 0}}));
    assert_eq!((c, &data["failed"][0]["key"]), (codes::BAD_PARAM, &json!("reportPeriod")));
    assert_eq!(st.props["reportPeriod"], 5, "out of range: not applied");
    let (c, data, _) = call(&mut st, "property/set", json!({"props": {"nope": 1, "reportPeriod": 0}}));
    assert_eq!((c, data["failed"].as_array().unwrap().len()), (codes::UNSUPPORTED, 2), "the first failure's code");
    let (c, data, msg) = call(&mut st, "property/set", json!({"props": {"reportPeriod": 10}}));
    assert_eq!((c, data, msg.as_str()), (0, json!({"failed": []}), ""), "full success");

    let (_, data, _) = call(&mut st, "port/get", json!({"portIds": ["COM1"]}));
    assert_eq!(data["ports"][0]["params"]["baud"], 9600);
    assert_eq!(code(&mut st, "port/get", json!({"portIds": ["COM9"]})), codes::NOT_FOUND);
    let set = json!({"ports": [{"portId": "COM1", "params": {"baud": 19200, "protocol": "dlt645-2007"}},
                               {"portId": "COM2", "params": {"dataBits": 9}},
                               {"portId": "COM9", "params": {}}]});
    let (c, data, _) = call(&mut st, "port/set", set);
    assert_eq!(c, codes::BAD_PARAM, "the first failure, COM2's");
    let failed: Vec<(&str, i64)> = data["failed"].as_array().unwrap().iter().map(|f| (f["portId"].as_str().unwrap(), f["code"].as_i64().unwrap())).collect();
    assert_eq!(failed, [("COM2", codes::BAD_PARAM), ("COM9", codes::NOT_FOUND)]);
    assert!(data["failed"][0]["msg"].as_str().unwrap().contains("dataBits"), "{data}");
    let (c, data, _) = call(&mut st, "port/set", json!({"ports": [{"portId": "COM9", "params": {}}, {"portId": "COM2", "params": {"dataBits": 9}}]}));
    assert_eq!((c, data["failed"].as_array().unwrap().len()), (codes::NOT_FOUND, 2));
    assert_eq!(call(&mut st, "port/set", json!({"ports": [{"portId": "COM2", "params": {"baud": 4800}}]})).1, json!({"failed": []}));
    let (_, data, _) = call(&mut st, "port/get", json!({}));
    assert_eq!(data["ports"][0]["protocol"], "dlt645-2007");
    assert_eq!(data["ports"].as_array().unwrap().len(), 3);

    st.sample(true);
    let now = st.now_ms();
    let (_, data, _) = call(&mut st, "meter/get", json!({"sub": "meter-1", "from": now - 60_000, "to": now + 1}));
    assert_eq!(data["readings"].as_array().unwrap().len(), 1);
    assert!(data["readings"][0]["values"]["EpImp"].as_f64().unwrap() > 0.0);
    assert_eq!(code(&mut st, "meter/get", json!({"from": 10, "to": 5})), codes::BAD_PARAM);
    assert_eq!(code(&mut st, "meter/get", json!({"sub": "x", "from": 0, "to": 5})), codes::NOT_FOUND);
}

#[test]
fn ota_upgrade_codes() {
    let (mut st, _dir) = state();
    let ota = |module: &str, version: &str, chunk: u32| {
        json!({"taskId": format!("task-{module}-{version}-{chunk}"), "module": module, "version": version, "size": 4096, "sha256": "ab".repeat(32), "chunkSize": chunk})
    };
    assert_eq!(code(&mut st, "ota/upgrade", ota("firmware", "1.0.0", 1024)), codes::SAME_VERSION);
    assert_eq!(code(&mut st, "ota/upgrade", ota("firmware", "2.0.0", 100)), codes::BAD_PARAM);
    assert_eq!(code(&mut st, "ota/upgrade", ota("firmware", "2.0.0", 70_000)), codes::BAD_PARAM);
    assert_eq!(code(&mut st, "ota/upgrade", ota("bootloader", "2.0.0", 1024)), codes::NOT_FOUND);
    let mut big = ota("app", "2.0.0", 1024);
    big["size"] = json!(1u64 << 40);
    assert_eq!(code(&mut st, "ota/upgrade", big), codes::NO_SPACE);
    let h = send(&mut st, "ota/upgrade", "u1", ota("firmware", "2.0.0", 1024));
    assert_eq!(h.reply.unwrap().code, 0);
    assert!(matches!(&h.out[0], Outgoing::Other { class: "ota", action: "progress", data } if data["step"] == "accepted"));
    assert_eq!(code(&mut st, "ota/upgrade", ota("firmware", "3.0.0", 1024)), codes::BUSY);
    let (_, data, _) = call(&mut st, "ota/version/get", json!({}));
    assert_eq!(data["modules"][0], json!({"module": "firmware", "version": "1.0.0"}));
    assert_eq!(st.tasks.back().unwrap().step, OtaStep::Accepted);
}

#[test]
fn files_download_upload_read_list() {
    let (mut st, dir) = state();
    let dl = |name: &str| json!({"fileId": "f1", "name": name, "size": 10, "sha256": "ab".repeat(32), "chunkSize": 1024});
    for hostile in ["../etc/passwd", "/abs", "a/b", "..", ""] {
        assert_eq!(code(&mut st, "file/download", dl(hostile)), codes::BAD_PARAM, "{hostile:?}");
    }
    assert_eq!(code(&mut st, "file/download", dl("config.json")), 0);
    assert_eq!(code(&mut st, "file/upload", json!({"fileId": "u1", "name": "missing.log"})), codes::NOT_FOUND);
    assert_eq!(code(&mut st, "file/upload", json!({"fileId": "u1", "name": "../x"})), codes::BAD_PARAM);
    std::fs::write(dir.path().join("gw.log"), b"line one\nline two\n").unwrap();
    let (c, data, _) = call(&mut st, "file/upload", json!({"fileId": "u1", "name": "gw.log"}));
    assert_eq!(c, 0);
    assert_eq!(data["size"], 18);
    assert_eq!(data["sha256"], crate::protocol::digest::sha256_hex(b"line one\nline two\n"));
    let (c, data, _) = call(&mut st, "file/read", json!({"fileId": "u1", "offset": 5, "length": 256}));
    assert_eq!(c, 0);
    assert_eq!(BASE64.decode(data["data"].as_str().unwrap()).unwrap(), b"one\nline two\n");
    assert_eq!(code(&mut st, "file/read", json!({"fileId": "u1", "offset": 50, "length": 256})), codes::BAD_PARAM);
    assert_eq!(code(&mut st, "file/read", json!({"fileId": "u9", "offset": 0, "length": 256})), codes::NOT_FOUND);
    let (_, data, _) = call(&mut st, "file/list", json!({}));
    assert_eq!(data["files"][0]["name"], "gw.log");
    assert_eq!(code(&mut st, "file/list", json!({"folder": "/etc"})), codes::NOT_FOUND);
}

#[test]
fn time_info_log_alarm_history_message() {
    let (mut st, _dir) = state();
    let (c, data, _) = call(&mut st, "time/get", json!({"t1": 5}));
    assert_eq!(c, 0);
    assert_eq!(data["t1"], 5);
    assert!(data["t3"].as_i64().unwrap() >= data["t2"].as_i64().unwrap());
    let (_, data, _) = call(&mut st, "time/set", json!({"time": 1_000_000_000_000i64}));
    assert!(data["before"].as_i64().unwrap() > 1_600_000_000_000);
    assert!((st.now_ms() - 1_000_000_000_000).abs() < 5_000);
    assert_eq!(code(&mut st, "time/set", json!({"time": -1})), codes::BAD_PARAM);

    let (_, data, _) = call(&mut st, "info/get", json!({}));
    assert_eq!((data["serial"].as_str(), data["model"].as_str()), (Some(DEV), Some("EG-2000")));

    assert_eq!(code(&mut st, "log/config", json!({"level": "verbose", "upload": true})), codes::BAD_PARAM);
    assert_eq!(code(&mut st, "log/config", json!({"level": "debug", "upload": false})), 0);
    let (_, data, _) = call(&mut st, "log/get", json!({"from": 0, "to": i64::MAX}));
    assert!(!data["entries"].as_array().unwrap().is_empty());

    let (_, data, _) = call(&mut st, "alarm/get", json!({}));
    assert_eq!(data, json!({"alarms": []}));

    st.recent.record(&Item::Point(PointValue { sub: "meter-1".into(), pid: "Ua".into(), v: PointV::Number(231.0), q: 0, ts: 1_000 }));
    let (c, data, _) = call(&mut st, "history/get", json!({"from": 0, "to": 2_000, "sub": "meter-1"}));
    assert_eq!((c, data), (0, json!({"batches": 1})));
    assert_eq!(st.history.len(), 1);
    assert_eq!(code(&mut st, "history/get", json!({"from": 5, "to": 1})), codes::BAD_PARAM);
    // One recall at a time: another while its batches are pending is refused, not queued.
    let (c, _, msg) = call(&mut st, "history/get", json!({"from": 0, "to": 2_000}));
    assert_eq!(c, codes::BUSY, "{msg}");
    assert_eq!(st.history.len(), 1);
    assert_eq!(st.history.give_up_recall(), 1);
    assert_eq!(code(&mut st, "history/get", json!({"from": 0, "to": 2_000})), 0);

    // A report: logged, never answered.
    let h = send(&mut st, "message/down", "msg-1", json!({"type": "notice", "content": "hello"}));
    assert!(h.reply.is_none());
    assert!(st.log.query(0, i64::MAX, None).iter().any(|e| e.msg.contains("hello")));
}

#[test]
fn recalls_carry_the_request_id_info_names_each_subs_product() {
    let (mut st, _dir) = state();
    st.recent.record(&Item::Point(PointValue { sub: "meter-1".into(), pid: "Ua".into(), v: PointV::Number(231.0), q: 0, ts: 1_000 }));
    let reply = send(&mut st, "history/get", "hg-7", json!({"from": 0, "to": 2_000})).reply.unwrap();
    assert_eq!(reply.code, 0);
    let (batch, _) = st.history.next_to_send(tokio::time::Instant::now()).unwrap();
    assert_eq!(batch.report.recall_id.as_deref(), Some("hg-7"));
    assert_eq!(to_data(&batch.report)["recallId"], "hg-7", "on the wire as recallId");

    let (_, info, _) = call(&mut st, "info/get", json!({}));
    let expected: Vec<Value> = st.snapshot().subs.iter().map(|(sub, pk)| json!({"sub": sub, "productKey": pk})).collect();
    assert!(expected.len() >= 2, "the built-in gateway has sub-devices");
    assert_eq!(info["subs"], json!(expected));
}

#[test]
fn file_read_over_serial_is_at_most_32_kib() {
    let (mut st, dir) = state();
    std::fs::write(dir.path().join("big.bin"), vec![7u8; 70_000]).unwrap();
    let read = |length: u32| json!({"fileId": "big.bin", "offset": 0, "length": length});
    assert_eq!(code(&mut st, "file/read", read(40_000)), 0, "over MQTT up to 64 KiB");
    assert_eq!(code(&mut st, "file/read", read(65_537)), codes::BAD_PARAM);
    st.chunk_max_bytes = crate::protocol::payload::SERIAL_MAX_CHUNK;
    let (c, _, msg) = call(&mut st, "file/read", read(40_000));
    assert_eq!(c, codes::BAD_PARAM);
    assert!(msg.contains("serial") && msg.contains("32768"), "{msg}");
    let (c, data, _) = call(&mut st, "file/read", read(32_768));
    assert_eq!((c, BASE64.decode(data["data"].as_str().unwrap()).unwrap().len()), (0, 32_768));
}

#[test]
fn log_entries_read_as_text_not_rust_debug() {
    use crate::protocol::payload::{Alarm, AlarmState};
    let (mut st, _dir) = state();
    assert_eq!(code(&mut st, "log/config", json!({"level": "debug", "upload": true})), 0);
    assert_eq!(code(&mut st, "point/set", json!({"sub": "pcs-1", "pid": "Pset", "value": 20.5})), 0);
    assert_eq!(code(&mut st, "point/set", json!({"sub": "pcs-1", "pid": "gridSwitch", "value": 0})), 0);
    assert_eq!(code(&mut st, "point/set", json!({"sub": "pcs-1", "pid": "Pset", "value": "high"})), codes::BAD_PARAM);
    call(&mut st, "property/set", json!({"props": {"reportPeriod": 0, "nope": true, "logLevel": "debug"}}));
    call(&mut st, "port/set", json!({"ports": [{"portId": "COM1", "params": {"protocol": "x"}}, {"portId": "COM9", "params": {}}]}));
    call(&mut st, "command/request", json!({"cmd": "reread", "params": {"sub": "meter-1"}}));
    call(&mut st, "command/request", json!({"cmd": "start", "sub": "nobody", "params": {}}));
    let now = st.now_ms();
    let alarm = |state, value| Alarm {
        alarm_id: "a1".into(), sub: "meter-1".into(), pid: Some("Ua".into()), alarm_type: "overVoltage".into(), level: 2, state,
        value, threshold: Some(253.0), ts: now, desc: None,
    };
    let raised = alarm(AlarmState::Raised, Some(PointV::Number(260.5)));
    let cleared = alarm(AlarmState::Cleared, None);
    st.record_outgoing_parts(Vec::new(), Vec::new(), vec![raised, cleared], Vec::new());
    st.record_outgoing_parts(Vec::new(), Vec::new(), vec![alarm(AlarmState::Raised, Some(PointV::Text("hot".into())))], Vec::new());

    let (_, data, _) = call(&mut st, "log/get", json!({"from": 0, "to": i64::MAX}));
    let msgs: Vec<String> = data["entries"].as_array().unwrap().iter().map(|e| e["msg"].as_str().unwrap().to_owned()).collect();
    let uploaded: Vec<String> = st.log.take_unsent().into_iter().map(|e| e.msg).collect();
    assert!(msgs.iter().any(|m| m.contains("raised on meter-1/Ua: 260.5 (threshold 253)")), "{msgs:#?}");
    assert!(msgs.iter().any(|m| m.contains("Ua: \"hot\"")), "{msgs:#?}");
    assert!(msgs.iter().any(|m| m.contains("pcs-1/Pset set to 20.5")), "{msgs:#?}");
    assert!(msgs.iter().any(|m| m.contains("pcs-1/gridSwitch set to 0")), "{msgs:#?}");
    for msg in msgs.iter().chain(&uploaded) {
        for debug in ["Some(", "None", "Number(", "Text(", "Bool(", " { "] {
            assert!(!msg.contains(debug), "Rust debug text {debug:?} in a log entry: {msg}");
        }
    }
}

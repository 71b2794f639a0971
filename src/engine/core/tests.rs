//! The loop's routing of replies into the gateway table, without a link: messages are handed
//! to `handle_message` as a link would, requests put in the pending table as a send would.

use std::time::Duration;

use super::*;
use crate::engine::gateways::RequestEnd;
use crate::protocol::payload::FileEntry;

const S: SessionId = 1;

fn core() -> EngineCore {
    // No discovery: its requests would fill the request log with "no session" failures.
    let config = EngineConfig { discover: false, ..EngineConfig::default() };
    let state = SharedState::new(&config);
    // Nobody reads the events here; the core ignores a closed channel.
    let (events, _) = mpsc::channel(EVENT_BATCHES);
    // Only an announced gateway has a row: this one said it is online.
    state.gateways.write().unwrap().announce(&key(), S, 0);
    EngineCore::new(config, state, Arc::new(IdGenerator::new("t")), (events, Default::default()), Box::new(|| {}))
}

fn key() -> GatewayKey {
    GatewayKey { pk: "PK".into(), dev: "GW".into() }
}

/// The gateway's reply to `class/action` request `id`, as it arrives from the link.
fn reply(core: &mut EngineCore, class_action: &str, id: &str, code: i64, data: Value) {
    let mut body = json!({"id": id, "ts": 1, "code": code, "data": data});
    if code != codes::OK {
        body["msg"] = json!("refused");
    }
    let payload = serde_json::to_vec(&body).unwrap();
    core.handle_message(S, Message::new(format!("cems/v1/PK/GW/up/{class_action}/reply"), payload, 1, false));
}

/// A request that went out `ago` earlier and waits for its reply.
fn pending(core: &mut EngineCore, class: &str, action: &str, id: &str, data: Value, ago: Duration) {
    let sent = Instant::now().checked_sub(ago).unwrap();
    assert!(core.pending.insert(id.into(), RequestSpec::new(S, "PK", "GW", class, action, data), sent, None).is_none());
}

#[test]
fn a_file_list_reply_lands_only_with_code_0() {
    let mut core = core();
    let files = |name: &str| json!({"files": [{"name": name, "size": 10, "mtime": 5}]});
    let before = now_ms();
    pending(&mut core, "file", "list", "fl-1", json!({}), Duration::ZERO);
    reply(&mut core, "file/list", "fl-1", 0, files("a.csv"));
    let after = now_ms();
    let listing = core.state.gateways().get(&key()).and_then(|g| g.files.clone()).unwrap();
    assert_eq!(listing.files, vec![FileEntry { name: "a.csv".into(), size: 10, mtime: 5 }]);
    assert!((before..=after).contains(&listing.received_ms), "{listing:?}");
    // A refusal keeps the listing the page shows, even one whose data has the listing's shape.
    pending(&mut core, "file", "list", "fl-2", json!({}), Duration::ZERO);
    reply(&mut core, "file/list", "fl-2", codes::BUSY, files("b.csv"));
    assert_eq!(core.state.gateways().get(&key()).and_then(|g| g.files.clone()), Some(listing));
}

#[test]
fn a_time_get_reply_measures_the_clock_on_receipt_and_the_request_log_keeps_its_end() {
    let mut core = core();
    let t1 = now_ms() - 40;
    pending(&mut core, "time", "get", "tg-1", json!({"t1": t1}), Duration::from_millis(40));
    // The gateway is a second ahead and took 1 ms to answer.
    let before = now_ms();
    reply(&mut core, "time/get", "tg-1", 0, json!({"t1": t1, "t2": t1 + 1020, "t3": t1 + 1021}));
    let after = now_ms();
    let record = core.state.gateways().get(&key()).cloned().unwrap();
    let clock = record.clock.unwrap();
    let t4 = clock.measured_ms;
    assert!((before..=after).contains(&t4), "t4 is when the reply was received: {t4} not in {before}..={after}");
    assert_eq!(clock.offset_ms, ((1020 + (t1 + 1021 - t4)) as f64) / 2.0);
    assert_eq!(clock.round_trip_ms, (t4 - t1) - 1);
    let [logged] = record.requests.iter().collect::<Vec<_>>()[..] else { panic!("one request logged: {:?}", record.requests) };
    assert_eq!((logged.id.as_str(), logged.class.as_str(), logged.action.as_str()), ("tg-1", "time", "get"));
    assert_eq!(logged.end, RequestEnd::Replied { code: 0, name: "ok", msg: None });
    assert!(logged.latency_ms >= 40.0, "latency counts from the send: {}", logged.latency_ms);
    assert!((before..=after).contains(&logged.done_ms));
    assert!(core.pending.is_empty());
}

#[test]
fn a_partly_failed_property_set_keeps_its_failures_in_the_request_log() {
    let mut core = core();
    pending(&mut core, "property", "get", "pg-1", json!({}), Duration::ZERO);
    reply(&mut core, "property/get", "pg-1", 0, json!({"props": {"reportPeriod": 10}}));
    pending(&mut core, "property", "set", "ps-1", json!({"props": {"reportPeriod": 30, "nonsense": 1}}), Duration::ZERO);
    // Contract §3: code 2 is the first failure's; reportPeriod was applied, nonsense was not.
    let failed = json!({"failed": [{"key": "nonsense", "code": 2, "msg": "no property \"nonsense\""}]});
    reply(&mut core, "property/set", "ps-1", codes::UNSUPPORTED, failed);
    let record = core.state.gateways().get(&key()).cloned().unwrap();
    let logged = record.requests.back().unwrap();
    assert_eq!(logged.end, RequestEnd::Replied { code: 2, name: "unsupported", msg: Some("refused".into()) });
    assert_eq!(logged.failed, vec!["nonsense: 2 no property \"nonsense\"".to_owned()]);
    // The reply does not carry the applied value: the property stays as last reported until
    // the gateway's property/report (or a get) says otherwise.
    assert_eq!(record.properties.get("reportPeriod"), Some(&json!(10)));
}

/// A reply as it arrives on gateway `dev`'s reply topic.
fn reply_from(core: &mut EngineCore, dev: &str, class_action: &str, id: &str, data: Value) {
    let payload = serde_json::to_vec(&json!({"id": id, "ts": 1, "code": 0, "data": data})).unwrap();
    core.handle_message(S, Message::new(format!("cems/v1/PK/{dev}/up/{class_action}/reply"), payload, 1, false));
}

#[test]
fn only_the_awaited_reply_is_recorded_and_completes_its_request() {
    let mut core = core();
    let props = |v: i64| json!({"props": {"reportPeriod": v}});
    // Nobody asked: stored for the explorer, not recorded.
    reply(&mut core, "property/get", "nobody-asked", 0, props(1));
    pending(&mut core, "property", "get", "pg-9", json!({}), Duration::ZERO);
    // The right id on another gateway's topic, and on this gateway's topic of another class.
    reply_from(&mut core, "OTHER", "property/get", "pg-9", props(2));
    reply(&mut core, "info/get", "pg-9", 0, json!({"vendor": "V", "model": "EVIL", "serial": "S", "hwVersion": "1", "fwVersion": "2", "swVersion": "3", "uptime": 1}));
    // Over another link: the same topic and id are another broker's gateway.
    let payload = serde_json::to_vec(&json!({"id": "pg-9", "ts": 1, "code": 0, "data": props(3)})).unwrap();
    core.handle_message(S + 1, Message::new("cems/v1/PK/GW/up/property/get/reply", payload, 1, false));
    assert_eq!((core.pending.len(), core.pending.unmatched()), (1, 4), "still waiting for its own answer");
    let gateways = core.state.gateways();
    let ours = gateways.get(&key());
    assert!(ours.is_none_or(|g| g.properties.is_empty() && g.info.is_none() && g.requests.is_empty()), "{:?}", ours.map(|g| (&g.properties, &g.info)));
    let other = GatewayKey { pk: "PK".into(), dev: "OTHER".into() };
    assert!(gateways.get(&other).is_none_or(|g| g.properties.is_empty()));
    drop(gateways);
    assert!(core.state.store().find("cems/v1/PK/OTHER/up/property/get/reply").is_some(), "kept in the topic store");

    reply(&mut core, "property/get", "pg-9", 0, props(30));
    assert!(core.pending.is_empty());
    let record = core.state.gateways().get(&key()).cloned().unwrap();
    assert_eq!(record.properties.get("reportPeriod"), Some(&json!(30)));
    assert_eq!(record.requests.len(), 1);
}

#[test]
fn a_row_made_by_an_awaited_info_reply_takes_the_replys_session() {
    let mut core = core();
    let sent = Instant::now().checked_sub(Duration::from_millis(5)).unwrap();
    core.pending.insert("inf-1".into(), RequestSpec::new(S, "PK", "GW-NEW", "info", "get", json!({})), sent, None);
    let info = json!({"vendor": "v", "model": "m", "serial": "s", "hwVersion": "1", "fwVersion": "1", "swVersion": "1", "uptime": 3});
    reply_from(&mut core, "GW-NEW", "info/get", "inf-1", info);
    let gateways = core.state.gateways();
    let record = gateways.get(&GatewayKey { pk: "PK".into(), dev: "GW-NEW".into() }).expect("a row from the info the gateway gave");
    assert_eq!(record.session, S, "requests to it must go over the session it answered on");
    assert!(record.info.is_some());
}

//! The engine over the embedded broker, against a hand-driven gateway: master duties,
//! correlation, timeouts and dead links.

mod common;

use std::time::Duration;

use cems_workbench::engine::requests::RequestFailure;
use cems_workbench::engine::{EngineEvent, GatewayKey, RequestSpec};
use cems_workbench::protocol::envelope::{Envelope, Request, parse_envelope};
use cems_workbench::transport::mqtt::MqttConfig;
use cems_workbench::transport::{LinkConfig, LinkEvent, LinkState, Message, spawn_link};
use common::{broker, engine, engine_ready, eventually, wait_for};
use serde_json::json;
use tokio::sync::mpsc::Receiver;

/// A raw MQTT client standing in for a gateway.
async fn raw_gateway(url: &str, pk: &str, dev: &str) -> (cems_workbench::transport::LinkHandle, Receiver<LinkEvent>) {
    let mut config = MqttConfig::new(url, format!("{pk}.{dev}"));
    config.subscriptions = vec![format!("cems/v1/{pk}/{dev}/down/#")];
    let (link, mut events) = spawn_link(LinkConfig::Mqtt(config));
    loop {
        match tokio::time::timeout(Duration::from_secs(5), events.recv()).await {
            Ok(Some(LinkEvent::State(LinkState::Up))) => break,
            Ok(Some(_)) => {}
            other => panic!("raw gateway did not connect: {other:?}"),
        }
    }
    // Up comes with the ConnAck, before the broker has taken the subscription: a probe through
    // our own filter proves it is in place, so nothing the engine sends next can be missed.
    let probe = format!("cems/v1/{pk}/{dev}/down/probe/ready");
    link.publish(Message::new(probe.clone(), b"{}".to_vec(), 1, false)).unwrap();
    loop {
        match tokio::time::timeout(Duration::from_secs(5), events.recv()).await {
            Ok(Some(LinkEvent::Message(m))) if m.topic == probe => break,
            Ok(Some(_)) => {}
            other => panic!("raw gateway's subscription never became active: {other:?}"),
        }
    }
    // A gateway announces itself first (contract §4): only then does a master give it a row.
    let status = json!({"id": format!("st-{dev}"), "ts": 1, "ver": "1.0", "data": {"online": true}});
    link.publish(Message::new(format!("cems/v1/{pk}/{dev}/up/status"), serde_json::to_vec(&status).unwrap(), 1, true)).unwrap();
    (link, events)
}

async fn next_message(events: &mut Receiver<LinkEvent>, topic_suffix: &str) -> (String, Envelope) {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), events.recv()).await {
            Ok(Some(LinkEvent::Message(m))) if m.topic.ends_with(topic_suffix) => {
                let env = parse_envelope(&m.payload).expect("engine sends valid envelopes");
                return (m.topic, env);
            }
            Ok(Some(_)) => {}
            other => panic!("no message on …{topic_suffix}: {other:?}"),
        }
    }
}

fn publish(link: &cems_workbench::transport::LinkHandle, topic: &str, data: serde_json::Value, id: &str) {
    let payload = Request { id: id.into(), ts: 1, ver: "1.0".into(), data }.to_bytes().unwrap();
    link.publish(Message::new(topic, payload, 1, false)).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_broker_address_reports_down_quickly() {
    let (engine, mut events) = engine();
    let port = common::free_port();
    let session = engine
        .connect(LinkConfig::Mqtt(MqttConfig::new(format!("mqtt://127.0.0.1:{port}"), "wb-test")), engine.default_session_options("dead"))
        .unwrap();
    let reason = wait_for(&mut events, Duration::from_secs(3), "Down", |e| match e {
        EngineEvent::SessionState { session: s, state: LinkState::Down { reason }, .. } if *s == session => Some(reason.clone()),
        _ => None,
    })
    .await;
    assert!(reason.contains("refused") && reason.contains(&port.to_string()), "{reason}");
    // A request on a dead link ends with a timeout carrying its id, not a hang.
    let mut spec = RequestSpec::new(session, "PK01", "GW-1", "info", "get", json!({}));
    spec.timeout = Duration::from_millis(300);
    let id = engine.request(spec).unwrap();
    let out = wait_for(&mut events, Duration::from_secs(3), "timeout", |e| match e {
        EngineEvent::RequestDone(o) => Some(o.clone()),
        _ => None,
    })
    .await;
    assert_eq!(out.id, id);
    assert_eq!(out.result, Err(RequestFailure::Timeout { after_ms: 300 }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_gateway_times_out_and_answers_are_correlated_by_id() {
    let broker = broker().await;
    let (engine, mut events) = engine();
    let session = engine.connect(LinkConfig::Mqtt(MqttConfig::new(broker.url(), "wb-test")), engine.default_session_options("t")).unwrap();
    wait_for(&mut events, Duration::from_secs(5), "Up", |e| matches!(e, EngineEvent::SessionState { state: LinkState::Up, .. }).then_some(())).await;
    engine_ready(&engine, session).await;
    let (gw, mut gw_events) = raw_gateway(&broker.url(), "PK01", "GW-1").await;

    // Nobody answers: the outcome is a timeout with the request's id.
    let mut spec = RequestSpec::new(session, "PK01", "GW-1", "point", "get", json!({}));
    spec.timeout = Duration::from_millis(400);
    let silent_call = engine.call(spec);
    let (_, env) = next_message(&mut gw_events, "/down/point/get").await;
    let out = silent_call.await.unwrap();
    assert_eq!(out.id, env.id());
    assert!(matches!(out.result, Err(RequestFailure::Timeout { after_ms: 400 })));

    // Two requests in flight, answered in reverse order: each gets its own reply.
    let a = engine.call(RequestSpec::new(session, "PK01", "GW-1", "time", "get", json!({"t1": 1})));
    let b = engine.call(RequestSpec::new(session, "PK01", "GW-1", "info", "get", json!({})));
    let (a_out, b_out, ()) = tokio::join!(a, b, async {
        let (_, ea) = next_message(&mut gw_events, "/down/time/get").await;
        let (_, eb) = next_message(&mut gw_events, "/down/info/get").await;
        let info = json!({"vendor":"V","model":"M","serial":"S","hwVersion":"1","fwVersion":"2","swVersion":"3","uptime":5});
        gw.publish(Message::new("cems/v1/PK01/GW-1/up/info/get/reply",
            serde_json::to_vec(&json!({"id": eb.id(), "ts": 2, "code": 0, "data": info})).unwrap(), 1, false)).unwrap();
        gw.publish(Message::new("cems/v1/PK01/GW-1/up/time/get/reply",
            serde_json::to_vec(&json!({"id": ea.id(), "ts": 2, "code": 150, "msg": "clock locked", "data": {}})).unwrap(), 1, false)).unwrap();
    });
    let (a_out, b_out) = (a_out.unwrap(), b_out.unwrap());
    let a_reply = a_out.result.unwrap();
    assert_eq!((a_reply.code, a_reply.name, a_reply.msg.as_deref()), (150, "vendor", Some("clock locked")));
    assert_eq!(b_out.result.unwrap().data["vendor"], "V");
    // The info reply also fills the gateway table.
    let key = GatewayKey { pk: "PK01".into(), dev: "GW-1".into() };
    assert_eq!(engine.state.gateways().get(&key).and_then(|g| g.info.clone()).map(|i| i.model), Some("M".into()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn master_acknowledges_alarms_and_history_answers_time_sync_and_dedupes() {
    let broker = broker().await;
    let (engine, mut events) = engine();
    let session = engine.connect(LinkConfig::Mqtt(MqttConfig::new(broker.url(), "wb-test")), engine.default_session_options("t")).unwrap();
    wait_for(&mut events, Duration::from_secs(5), "Up", |e| matches!(e, EngineEvent::SessionState { state: LinkState::Up, .. }).then_some(())).await;
    engine_ready(&engine, session).await;
    let (gw, mut gw_events) = raw_gateway(&broker.url(), "PK01", "GW-2").await;
    let base = "cems/v1/PK01/GW-2/up";

    let alarm = json!({"alarms": [{"alarmId": "a1", "sub": "m1", "pid": "Ua", "type": "overVoltage", "level": 2, "state": "raised", "value": 260.1, "threshold": 253, "ts": 10}]});
    publish(&gw, &format!("{base}/alarm/report"), alarm, "al-1");
    let (topic, env) = next_message(&mut gw_events, "/alarm/report/reply").await;
    assert_eq!(topic, "cems/v1/PK01/GW-2/down/alarm/report/reply");
    assert!(matches!(&env, Envelope::Reply(r) if r.id == "al-1" && r.code == 0));

    let batch = json!({"batchId": "b1", "points": [
        {"sub": "m1", "pid": "Ua", "v": 230.0, "q": 0, "ts": 1000},
        {"sub": "m1", "pid": "Ua", "v": 231.0, "q": 0, "ts": 2000}]});
    for _ in 0..2 {
        // The same batch twice (a lost acknowledgement): stored once, acknowledged twice.
        publish(&gw, &format!("{base}/history/report"), batch.clone(), "h-1");
        let (_, env) = next_message(&mut gw_events, "/history/report/reply").await;
        assert!(matches!(&env, Envelope::Reply(r) if r.code == 0 && r.data["batchId"] == "b1"), "{env:?}");
    }
    let key = GatewayKey { pk: "PK01".into(), dev: "GW-2".into() };
    eventually(Duration::from_secs(2), "history stored once", || {
        let g = engine.state.gateways();
        let series = engine.state.series();
        let rows = series.get(&cems_workbench::engine::series::SeriesKey::point("PK01", "GW-2", "m1", "Ua")).map(|s| s.len());
        rows == Some(2) && g.history_stats().duplicates == 2
    })
    .await;
    assert_eq!(engine.state.gateways().get(&key).unwrap().alarms.len(), 1);

    publish(&gw, &format!("{base}/time/sync"), json!({"t1": 5}), "ts-1");
    let (_, env) = next_message(&mut gw_events, "/time/sync/reply").await;
    let Envelope::Reply(r) = env else { panic!("reply expected") };
    assert_eq!(r.data["t1"], 5);
    assert!(r.data["t3"].as_i64().unwrap() >= r.data["t2"].as_i64().unwrap());

    // A malformed alarm report with a readable id gets code 3 (bad_format).
    gw.publish(Message::new(format!("{base}/alarm/report"), br#"{"id":"bad-1","ts":"x"}"#.to_vec(), 1, false)).unwrap();
    let (_, env) = next_message(&mut gw_events, "/alarm/report/reply").await;
    assert!(matches!(&env, Envelope::Reply(r) if r.id == "bad-1" && r.code == 3), "{env:?}");
    // And the store kept everything, including the bad payload.
    let store = engine.state.store();
    assert!(store.find(&format!("{base}/alarm/report")).is_some_and(|n| store.history(n).len() == 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn master_duties_can_be_switched_off() {
    let broker = broker().await;
    let (engine, mut events) = engine();
    let session = engine.connect(LinkConfig::Mqtt(MqttConfig::new(broker.url(), "wb-passive")), engine.default_session_options("t")).unwrap();
    engine.send(cems_workbench::engine::EngineCommand::SetMasterDuties(false)).unwrap();
    wait_for(&mut events, Duration::from_secs(5), "Up", |e| matches!(e, EngineEvent::SessionState { state: LinkState::Up, .. }).then_some(())).await;
    engine_ready(&engine, session).await;
    let (gw, mut gw_events) = raw_gateway(&broker.url(), "PK01", "GW-3").await;
    let alarm = json!({"alarms": [{"alarmId": "a1", "sub": "m1", "type": "x", "level": 1, "state": "raised", "ts": 10}]});
    publish(&gw, "cems/v1/PK01/GW-3/up/alarm/report", alarm, "al-9");
    let silent = tokio::time::timeout(Duration::from_millis(800), next_message_opt(&mut gw_events)).await;
    assert!(silent.is_err(), "a passive engine must not acknowledge: {silent:?}");
    // The alarm is still tracked.
    let key = GatewayKey { pk: "PK01".into(), dev: "GW-3".into() };
    eventually(Duration::from_secs(2), "alarm tracked", || engine.state.gateways().get(&key).is_some_and(|g| g.alarms.len() == 1)).await;
}

/// The next acknowledgement of an alarm report (discovery requests also arrive: skipped).
async fn next_message_opt(events: &mut Receiver<LinkEvent>) -> Message {
    loop {
        if let Some(LinkEvent::Message(m)) = events.recv().await
            && m.topic.ends_with("/alarm/report/reply")
        {
            return m;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ten_megabyte_payload_is_stored_truncated_and_the_engine_goes_on() {
    let broker = broker().await;
    let (engine, mut events) = engine();
    let session = engine.connect(LinkConfig::Mqtt(MqttConfig::new(broker.url(), "wb-big")), engine.default_session_options("t")).unwrap();
    wait_for(&mut events, Duration::from_secs(5), "Up", |e| matches!(e, EngineEvent::SessionState { state: LinkState::Up, .. }).then_some(())).await;
    engine_ready(&engine, session).await;
    let (gw, _gw_events) = raw_gateway(&broker.url(), "PK01", "GW-BIG").await;
    let big = vec![b'x'; 10 * 1024 * 1024];
    gw.publish(Message::new("cems/v1/PK01/GW-BIG/up/point/report", big, 1, false)).unwrap();
    let text = wait_for(&mut events, Duration::from_secs(10), "a notice about the bad payload", |e| match e {
        EngineEvent::Notice { text, .. } if text.contains("point/report") => Some(text.clone()),
        _ => None,
    })
    .await;
    assert!(text.contains("limit"), "{text}");
    {
        let store = engine.state.store();
        let node = store.find("cems/v1/PK01/GW-BIG/up/point/report").expect("stored");
        let msg = store.latest(node).expect("a message");
        assert!(msg.truncated && msg.original_len == 10 * 1024 * 1024 && msg.payload.len() <= 1024 * 1024);
        assert_eq!(store.stats().truncated, 1);
    }
    // Still working: a small request round trip on the same session.
    let mut spec = RequestSpec::new(session, "PK01", "GW-BIG", "info", "get", json!({}));
    spec.timeout = Duration::from_millis(300);
    assert!(matches!(engine.call(spec).await.unwrap().result, Err(RequestFailure::Timeout { .. })));
}

//! A hostile client on the same broker (issue R, items 1 and 2): a flood of invented gateways
//! must not cost a real gateway its acknowledgements, and traffic under unknown or oversized
//! ids must not grow the gateway table.

mod common;

use std::time::{Duration, Instant};

use cems_workbench::engine::gateways::limits::{MAX_GATEWAYS, Refused};
use cems_workbench::engine::{EngineEvent, GatewayKey};
use cems_workbench::engine::discovery_limits::{BURST, RATE_PER_SEC};
use cems_workbench::transport::mqtt::MqttConfig;
use cems_workbench::transport::{LinkConfig, LinkEvent, LinkHandle, LinkState, Message, spawn_link};
use common::{broker, engine, engine_ready, wait_for};
use serde_json::json;
use tokio::sync::mpsc::Receiver;

async fn client(url: &str, id: &str, subscriptions: Vec<String>) -> (LinkHandle, Receiver<LinkEvent>) {
    let mut config = MqttConfig::new(url, id);
    config.subscriptions = subscriptions;
    let (link, mut events) = spawn_link(LinkConfig::Mqtt(config));
    loop {
        match tokio::time::timeout(Duration::from_secs(5), events.recv()).await {
            Ok(Some(LinkEvent::State(LinkState::Up))) => break,
            Ok(Some(_)) => {}
            other => panic!("client {id} did not connect: {other:?}"),
        }
    }
    // Up comes with the ConnAck, before the SUBSCRIBE is taken: give the broker a moment.
    tokio::time::sleep(Duration::from_millis(300)).await;
    (link, events)
}

fn envelope(id: &str, data: serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(&json!({"id": id, "ts": 1, "ver": "1.0", "data": data})).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_status_flood_does_not_cost_a_real_gateway_its_acknowledgements() {
    let broker = broker().await;
    let (engine, mut events) = engine();
    let session = engine.connect(LinkConfig::Mqtt(MqttConfig::new(broker.url(), "wb-flood")), engine.default_session_options("t")).unwrap();
    wait_for(&mut events, Duration::from_secs(5), "Up", |e| matches!(e, EngineEvent::SessionState { state: LinkState::Up, .. }).then_some(())).await;
    engine_ready(&engine, session).await;

    // A watcher counts what the engine sends to the invented gateways.
    let (_watcher, mut watched) = client(&broker.url(), "watcher", vec!["cems/v1/PK-FAKE/+/down/#".into()]).await;
    let (gw, mut gw_events) = client(&broker.url(), "PK01.GW-REAL", vec!["cems/v1/PK01/GW-REAL/down/#".into()]).await;
    gw.publish(Message::new("cems/v1/PK01/GW-REAL/up/status", envelope("st-1", json!({"online": true})), 1, true)).unwrap();

    let started = Instant::now();
    let (flooder, _flood_events) = client(&broker.url(), "flooder", Vec::new()).await;
    const FAKES: usize = 20_000;
    for i in 0..FAKES {
        let topic = format!("cems/v1/PK-FAKE/F-{i}/up/status");
        flooder.publish(Message::new(topic, envelope(&format!("s{i}"), json!({"online": true})), 0, false)).unwrap();
    }
    for n in 0..20 {
        let alarm = json!({"alarms": [{"alarmId": format!("a{n}"), "sub": "m1", "type": "overVoltage", "level": 2, "state": "raised", "ts": 1_000 + n}]});
        gw.publish(Message::new("cems/v1/PK01/GW-REAL/up/alarm/report", envelope(&format!("al-{n}"), alarm), 1, false)).unwrap();
    }

    let mut acked = std::collections::BTreeSet::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while acked.len() < 20 {
        match tokio::time::timeout_at(deadline, gw_events.recv()).await {
            Ok(Some(LinkEvent::Message(m))) if m.topic.ends_with("/alarm/report/reply") => {
                let reply: serde_json::Value = serde_json::from_slice(&m.payload).unwrap();
                acked.insert(reply["id"].as_str().unwrap_or_default().to_owned());
            }
            Ok(Some(_)) => {}
            other => panic!("{} of 20 alarm reports acknowledged ({other:?})", acked.len()),
        }
    }
    let acked_after = started.elapsed().as_secs_f64();

    // Discovery goes out at its rate, not once per invented gateway: count for 2 s more.
    let mut asked = 0usize;
    let window_end = tokio::time::Instant::now() + Duration::from_secs(2);
    while let Ok(Some(event)) = tokio::time::timeout_at(window_end, watched.recv()).await {
        if matches!(event, LinkEvent::Message(_)) {
            asked += 1;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    // Two requests (info/get, ota/version/get) per gateway asked.
    let allowed = 2 * (BURST + RATE_PER_SEC * (elapsed + 1.0)) as usize;
    assert!(asked <= allowed, "{asked} discovery requests to invented gateways in {elapsed:.1} s (at most {allowed}); acknowledged after {acked_after:.1} s");
    assert!(asked > 0, "discovery still works for announced gateways");

    let gateways = engine.state.gateways();
    assert!(gateways.len() <= MAX_GATEWAYS, "{} rows", gateways.len());
    assert!(gateways.get(&GatewayKey { pk: "PK01".into(), dev: "GW-REAL".into() }).is_some_and(|g| g.alarms.len() == 20));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_and_oversized_ids_get_no_row_and_are_counted() {
    let broker = broker().await;
    let (engine, mut events) = engine();
    let session = engine.connect(LinkConfig::Mqtt(MqttConfig::new(broker.url(), "wb-ids")), engine.default_session_options("t")).unwrap();
    wait_for(&mut events, Duration::from_secs(5), "Up", |e| matches!(e, EngineEvent::SessionState { state: LinkState::Up, .. }).then_some(())).await;
    engine_ready(&engine, session).await;
    let (client, _events) = client(&broker.url(), "hostile", Vec::new()).await;
    client.publish(Message::new("cems/v1/PK01/GW-ANN/up/status", envelope("st", json!({"online": true})), 1, false)).unwrap();
    let long_sub = "s".repeat(960);
    for i in 0..2_000 {
        let points = json!({"points": [{"sub": long_sub, "pid": "Ua", "v": 1.0, "q": 0, "ts": i}]});
        // Under an id that never announced itself, and under an announced one with a bad sub id.
        client.publish(Message::new("cems/v1/PK01/GW-GHOST/up/point/report", envelope(&format!("g{i}"), points.clone()), 1, false)).unwrap();
        client.publish(Message::new("cems/v1/PK01/GW-ANN/up/point/report", envelope(&format!("p{i}"), points), 1, false)).unwrap();
    }
    let refused = |r: Refused| r.bad_ids >= 2_000 && r.unannounced >= 2_000;
    common::eventually(Duration::from_secs(30), "every report refused", || refused(engine.state.gateways().refused())).await;
    let gateways = engine.state.gateways();
    assert!(gateways.get(&GatewayKey { pk: "PK01".into(), dev: "GW-GHOST".into() }).is_none(), "no row without an announcement");
    let announced = gateways.get(&GatewayKey { pk: "PK01".into(), dev: "GW-ANN".into() }).expect("announced");
    assert!(announced.subs.is_empty(), "a 960-character sub id is not a key");
    assert_eq!(gateways.history_stats().rows_stored, 0, "refused rows cost no dedup memory");
}

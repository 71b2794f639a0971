//! Issue 16, the engine's side of the energy-storage profile, against a hand-written station on
//! the embedded broker: units and components from the topic and from `ns`, `param`, bad input
//! counted and shown, commands matched by `code`, answered twice, unasked, or timed out.

mod common;

use std::time::Duration;

use cems_workbench::engine::stations::{CommandOrigin, CommandState, StorageCommandOutcome, StorageCommandSpec};
use cems_workbench::engine::{EngineCommand, EngineEvent};
use cems_workbench::protocol::storage::place::StoragePlace;
use cems_workbench::protocol::storage::parse_payload;
use cems_workbench::transport::mqtt::MqttConfig;
use cems_workbench::transport::{LinkConfig, LinkEvent, LinkHandle, LinkState, Message, spawn_link};
use common::{broker, engine, eventually, wait_for};
use serde_json::{Map, Value, json};
use tokio::sync::mpsc::Receiver;

async fn station(url: &str) -> (LinkHandle, Receiver<LinkEvent>) {
    let mut config = MqttConfig::new(url, "station-under-test");
    config.subscriptions = vec!["v1/cmd/#".to_owned()];
    let (link, mut events) = spawn_link(LinkConfig::Mqtt(config));
    loop {
        match tokio::time::timeout(Duration::from_secs(5), events.recv()).await {
            Ok(Some(LinkEvent::State(LinkState::Up))) => return (link, events),
            Ok(Some(_)) => {}
            other => panic!("the station did not connect: {other:?}"),
        }
    }
}

fn publish(link: &LinkHandle, topic: &str, payload: Value) {
    link.publish(Message::new(topic, serde_json::to_vec(&payload).unwrap(), 1, false)).unwrap();
}

/// The next command request the station gets: (topic, code).
async fn next_request(events: &mut Receiver<LinkEvent>) -> (String, String) {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), events.recv()).await {
            Ok(Some(LinkEvent::Message(m))) => {
                let payload = parse_payload(&m.payload).unwrap();
                if payload.te.as_deref() == Some("req") {
                    return (m.topic, payload.code.unwrap().as_str().unwrap().to_owned());
                }
            }
            Ok(Some(_)) => {}
            other => panic!("no command reached the station: {other:?}"),
        }
    }
}

fn place(text: &str) -> StoragePlace {
    StoragePlace::parse_path(text).unwrap()
}

fn d(value: Value) -> Map<String, Value> {
    value.as_object().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stations_fill_from_topics_and_ns_and_commands_meet_their_answers() {
    let broker = broker().await;
    let (engine, mut events) = engine();
    let session = engine.connect(LinkConfig::Mqtt(MqttConfig::new(broker.url(), "wb-ess")), engine.default_session_options("ess")).unwrap();
    wait_for(&mut events, Duration::from_secs(5), "engine up", |e| matches!(e, EngineEvent::SessionState { state: LinkState::Up, .. }).then_some(())).await;
    let (st, mut st_events) = station(&broker.url()).await;

    // The engine's subscription takes a moment after its ConnAck: publish until the station shows.
    let pcs = json!({"t": 1_700_000_000_000_i64, "s": "METRIC", "d": {"P": 120.5, "Q": -3, "state": "running", "nested": {"Udc": 760}}});
    eventually(Duration::from_secs(5), "station seen", || {
        publish(&st, "v1/rt/ess/st1/pcs1", pcs.clone());
        !engine.state.stations().is_empty()
    })
    .await;
    publish(&st, "v1/rt/ess/st1", json!({"t": 2, "ns": "st1.bms1.rack2", "d": {"SOC": 55.5, "cells": [{"U": 3.31}, {"U": 3.29}]}}));
    publish(&st, "v1/param/ess/st1/pcs1", json!({"t": 3, "d": {"Pmax": 250, "mode": "auto"}}));
    // Bad input: a short topic, `d` not an object, not JSON at all.
    publish(&st, "v1/rt/ess", json!({"t": 4, "d": {}}));
    publish(&st, "v1/rt/ess/st1/pcs2", json!({"t": 5, "d": [1, 2]}));
    st.publish(Message::new("v1/param/ess/st1/pcs2", "{not json", 1, false)).unwrap();
    eventually(Duration::from_secs(5), "every message read", || engine.state.stations().counters().unreadable == 3).await;

    {
        let stations = engine.state.stations();
        let s = stations.get(&place("ess/st1")).unwrap();
        let pcs1 = &s.nodes[&Some("pcs1".to_owned())];
        assert_eq!(pcs1.metrics["P"].value, 120.5);
        assert_eq!(pcs1.metrics["nested.Udc"].pointer, "/d/nested/Udc");
        assert_eq!(pcs1.other_fields["state"], "running");
        assert_eq!(pcs1.param.as_ref().unwrap().d["Pmax"], 250);
        let rack = &s.nodes[&Some("bms1/rack2".to_owned())];
        assert_eq!(rack.place.to_string(), "ess/st1/bms1/rack2");
        assert_eq!(rack.metrics["cells.1.U"].value, 3.29);
        // A plot of the rack follows its own topic, not the group topic it shares.
        assert_eq!(rack.plot_topic, "v1/rt/ess/st1/bms1/rack2");
        let reasons: Vec<&str> = s.problems.iter().map(|p| p.reason.as_str()).collect();
        assert!(reasons.contains(&"payload field `d`: expected an object, found array"), "{reasons:?}");
        assert!(reasons.iter().any(|r| r.starts_with("payload is not valid JSON")), "{reasons:?}");
        assert!(stations.unplaced()[0].reason.starts_with("topic: 3 segments"));
    }

    // A command answered once: done, with its latency.
    let (tx, rx) = tokio::sync::oneshot::channel();
    let spec = StorageCommandSpec { session, place: place("ess/st1/pcs1"), version: None, d: d(json!({"cmd": "start"})), timeout: None };
    engine.send(EngineCommand::StorageCommand { spec, reply: Some(tx) }).unwrap();
    let (topic, code) = next_request(&mut st_events).await;
    assert_eq!(topic, "v1/cmd/ess/st1/pcs1");
    publish(&st, &topic, json!({"t": 6, "code": code, "s": "CMD", "te": "resp", "d": {"result": 0, "msg": "started"}}));
    let outcome: StorageCommandOutcome = tokio::time::timeout(Duration::from_secs(5), rx).await.unwrap().unwrap();
    assert!(matches!(&outcome.state, CommandState::Answered { result: 0, msg, latency_ms, .. } if msg == "started" && *latency_ms >= 0), "{outcome:?}");
    // Answered again: counted and shown, the first answer stands.
    publish(&st, &topic, json!({"t": 7, "code": code, "te": "resp", "d": {"result": 1}}));
    // An answer nobody asked for.
    publish(&st, &topic, json!({"t": 8, "code": "nobody-asked", "te": "resp", "d": {"result": 0}}));
    eventually(Duration::from_secs(5), "stray answers counted", || {
        let c = engine.state.stations().counters();
        c.duplicate_answers == 1 && c.unsolicited_answers == 1
    })
    .await;
    {
        let stations = engine.state.stations();
        let s = stations.get(&place("ess/st1")).unwrap();
        let record = s.commands.iter().find(|c| c.code == code).unwrap();
        assert_eq!((record.origin, record.extra_answers, record.state.verdict()), (CommandOrigin::Ours, 1, "done"));
        let reasons: Vec<&str> = s.problems.iter().map(|p| p.reason.as_str()).collect();
        assert!(reasons.contains(&format!("code {code} answered 2 times").as_str()), "{reasons:?}");
        assert!(reasons.contains(&"an answer with code nobody-asked to no command seen"), "{reasons:?}");
    }

    // Refused, and then a command nobody answers: it times out.
    let (tx, rx) = tokio::sync::oneshot::channel();
    let spec = StorageCommandSpec { session, place: place("ess/st1/pcs2"), version: None, d: d(json!({"Pset": 900})), timeout: None };
    engine.send(EngineCommand::StorageCommand { spec, reply: Some(tx) }).unwrap();
    let (topic, code) = next_request(&mut st_events).await;
    publish(&st, &topic, json!({"t": 9, "code": code, "te": "resp", "d": {"result": 2, "msg": "Pset 900 kW is outside ±250 kW"}}));
    let outcome = tokio::time::timeout(Duration::from_secs(5), rx).await.unwrap().unwrap();
    assert_eq!(outcome.state.verdict(), "refused");
    let (tx, rx) = tokio::sync::oneshot::channel();
    let spec = StorageCommandSpec { session, place: place("ess/st1/bms1"), version: None, d: d(json!({"cmd": "reset"})), timeout: Some(Duration::from_millis(300)) };
    engine.send(EngineCommand::StorageCommand { spec, reply: Some(tx) }).unwrap();
    let outcome = tokio::time::timeout(Duration::from_secs(5), rx).await.unwrap().unwrap();
    assert!(matches!(outcome.state, CommandState::TimedOut { after_ms } if after_ms >= 300), "{outcome:?}");
    assert_eq!(engine.state.stations().counters().timeouts, 1);

    // A command on a session that does not exist never leaves, and says why.
    let (tx, rx) = tokio::sync::oneshot::channel();
    let spec = StorageCommandSpec { session: 999, place: place("ess/st1/pcs1"), version: None, d: d(json!({"cmd": "stop"})), timeout: None };
    engine.send(EngineCommand::StorageCommand { spec, reply: Some(tx) }).unwrap();
    let outcome = tokio::time::timeout(Duration::from_secs(5), rx).await.unwrap().unwrap();
    assert_eq!(outcome.state, CommandState::NotSent { reason: "no session 999".into() });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_simulated_station_fills_the_table_and_answers_commands_by_code() {
    use cems_workbench::sim::ess::{StationConfig, spawn_station};
    let broker = broker().await;
    let (engine, mut events) = engine();
    let session = engine.connect(LinkConfig::Mqtt(MqttConfig::new(broker.url(), "wb-ess-sim")), engine.default_session_options("ess")).unwrap();
    wait_for(&mut events, Duration::from_secs(5), "engine up", |e| matches!(e, EngineEvent::SessionState { state: LinkState::Up, .. }).then_some(())).await;
    let mut config = StationConfig::new(LinkConfig::Mqtt(MqttConfig::new(broker.url(), "")));
    config.interval_ms = 200;
    let station = spawn_station(config).unwrap();
    let wanted = ["pcs1", "pcs2", "bms1", "bms1/rack1", "bms1/rack2"];
    eventually(Duration::from_secs(10), "every unit and rack", || {
        let stations = engine.state.stations();
        stations.get(&place("ess/station-1")).is_some_and(|s| wanted.iter().all(|w| s.nodes.get(&Some((*w).to_owned())).is_some_and(|n| !n.metrics.is_empty())))
    })
    .await;
    {
        let stations = engine.state.stations();
        let s = stations.get(&place("ess/station-1")).unwrap();
        assert!(s.nodes[&Some("bms1/rack1".to_owned())].metrics.contains_key("cells.15.U"));
        assert!(s.nodes[&Some("pcs1".to_owned())].param.as_ref().is_some_and(|p| p.d.contains_key("Pmax")));
        assert_eq!(stations.counters().unreadable, 0);
    }
    let call = |d: Value| {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let spec = StorageCommandSpec { session, place: place("ess/station-1/pcs1"), version: None, d: d.as_object().unwrap().clone(), timeout: None };
        engine.send(EngineCommand::StorageCommand { spec, reply: Some(tx) }).unwrap();
        rx
    };
    let done = tokio::time::timeout(Duration::from_secs(10), call(json!({"Pset": -100}))).await.unwrap().unwrap();
    assert_eq!(done.state.verdict(), "done", "{done:?}");
    let refused = tokio::time::timeout(Duration::from_secs(10), call(json!({"Pset": 600}))).await.unwrap().unwrap();
    assert!(matches!(&refused.state, CommandState::Answered { msg, .. } if msg.contains("outside")), "{refused:?}");
    // The new setpoint comes back in the unit's param report.
    eventually(Duration::from_secs(10), "param with the new Pset", || {
        let stations = engine.state.stations();
        let s = stations.get(&place("ess/station-1")).unwrap();
        s.nodes[&Some("pcs1".to_owned())].param.as_ref().is_some_and(|p| p.d.get("Pset").and_then(Value::as_f64) == Some(-100.0))
    })
    .await;
    assert_eq!(engine.state.stations().counters().duplicate_answers, 0);
    station.stop().await;
}

#[test]
fn ess_call_and_stations_on_the_command_line() {
    use std::process::Command;
    let rt = tokio::runtime::Runtime::new().unwrap();
    let broker = rt.block_on(broker());
    let url = broker.url();
    let _station = {
        let _in = rt.enter();
        let mut config = cems_workbench::sim::ess::StationConfig::new(LinkConfig::Mqtt(MqttConfig::new(url.clone(), "")));
        config.interval_ms = 200;
        cems_workbench::sim::ess::spawn_station(config).unwrap()
    };
    let bin = env!("CARGO_BIN_EXE_cems-workbench");
    let out = Command::new(bin).args(["ess", "call", "ess/station-1/pcs2", r#"{"cmd":"stop"}"#, "--broker", &url]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let line: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((line["verdict"].as_str(), line["place"].as_str(), line["result"].as_i64()), (Some("done"), Some("ess/station-1/pcs2"), Some(0)));
    let out = Command::new(bin).args(["ess", "call", "ess/station-1/pcs2", r#"{"Pset":9000}"#, "--broker", &url]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "refused is exit 1");
    let out = Command::new(bin).args(["ess", "call", "ess/station-1/pcs2", "[1]", "--broker", &url]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "a d that is not an object is a usage error");
    let out = Command::new(bin).args(["ess", "stations", "--wait", "1.5", "--broker", &url]).output().unwrap();
    assert!(out.status.success());
    let station: Value = serde_json::from_slice(out.stdout.split(|b| *b == b'\n').next().unwrap()).unwrap();
    assert_eq!(station["place"], "ess/station-1");
    assert!(station["nodes"].as_array().unwrap().len() >= 5, "{station}");
}

//! The Stations tab (issue 16) under egui_kittest: the whole window on a real engine, a link to
//! the embedded broker, and a hand-written energy-storage station publishing on it. The tree of
//! units and components (from the topic and from `ns`), metric names from the map in English and
//! Chinese, a metric plotted by its 📈 button, Start answered by the station and logged as done
//! with its latency, bad JSON refused before anything goes, problems counted, a metric map loaded.

mod common;

use std::time::{Duration, Instant};

use cems_workbench::engine::{Engine, EngineConfig};
use cems_workbench::protocol::model::Lang;
use cems_workbench::protocol::storage::parse_payload;
use cems_workbench::protocol::storage::place::StoragePlace;
use cems_workbench::transport::broker::EmbeddedBroker;
use cems_workbench::transport::mqtt::MqttConfig;
use cems_workbench::transport::{LinkConfig, LinkEvent, LinkHandle, LinkState, Message, spawn_link};
use cems_workbench::ui::app::{Startup, Tab, WorkbenchApp};
use cems_workbench::ui::UiCommand;
use cems_workbench::ui::settings::Settings;
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use serde_json::{Value, json};
use tokio::sync::mpsc::Receiver;

/// What must outlive the frames; the runtime last.
struct Bench {
    station: LinkHandle,
    station_events: Receiver<LinkEvent>,
    _broker: EmbeddedBroker,
    rt: tokio::runtime::Runtime,
}

fn start() -> (Harness<'static, WorkbenchApp>, Bench) {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().worker_threads(2).build().expect("test runtime");
    let broker = rt.block_on(common::broker());
    let url = broker.url();
    let _entered = rt.enter();
    let (engine, events) = Engine::spawn_with(EngineConfig::default(), || {}).expect("engine");
    let mut config = MqttConfig::new(url.clone(), "station-under-test");
    config.subscriptions = vec!["v1/cmd/#".to_owned()];
    let (station, mut station_events) = spawn_link(LinkConfig::Mqtt(config));
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match station_events.try_recv() {
            Ok(LinkEvent::State(LinkState::Up)) => break,
            Ok(_) => {}
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
        assert!(Instant::now() < deadline, "the station did not connect");
    }
    let settings = Settings { lang: Lang::En, start_broker: false, start_demo: false, ..Settings::default() };
    let link = Some((LinkConfig::Mqtt(MqttConfig::new(url, "wb-ui-stations")), "lab".to_owned()));
    let harness = Harness::builder()
        .with_size(egui::vec2(1400.0, 2400.0))
        .build_eframe(move |cc| WorkbenchApp::new(&cc.egui_ctx, engine, events, cems_workbench::protocol::model::ModelSet::builtin(), settings, Startup { link, ..Startup::default() }));
    drop(_entered);
    (harness, Bench { station, station_events, _broker: broker, rt })
}

fn publish(link: &LinkHandle, topic: &str, payload: Value) {
    link.publish(Message::new(topic, serde_json::to_vec(&payload).unwrap(), 1, false)).unwrap();
}

/// Runs frames, letting the engine work in between, until `done` holds.
fn run_until(harness: &mut Harness<'static, WorkbenchApp>, what: &str, mut done: impl FnMut(&mut Harness<'static, WorkbenchApp>) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        harness.run_steps(2);
        if done(harness) {
            harness.run_steps(2);
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(30));
    }
}

/// What a node shows: a label's text is its value in AccessKit, a widget's is its label.
fn text(node: &egui_kittest::Node<'_>) -> String {
    let node = node.accesskit_node();
    let text = if node.role() == Role::Label { node.value() } else { node.label() };
    text.unwrap_or_default()
}

fn shows(harness: &Harness<'static, WorkbenchApp>, wanted: &str) -> bool {
    harness.query_all_by_label(wanted).next().is_some()
}

fn click(harness: &mut Harness<'static, WorkbenchApp>, label: &str) {
    harness.query_all_by_label(label).next().unwrap_or_else(|| panic!("no {label:?} shown")).click();
    harness.run_steps(2);
}

fn place(text: &str) -> StoragePlace {
    StoragePlace::parse_path(text).unwrap()
}

/// A station with a PCS (unit in the topic), a rack of a BMS (in `ns`), a `param` report and a
/// message whose `d` is not an object, all read by the engine, and the Stations tab open.
fn station_shown() -> (Harness<'static, WorkbenchApp>, Bench) {
    let (mut harness, bench) = start();
    run_until(&mut harness, "the session up", |h| h.state().sessions().values().any(|s| s.state == LinkState::Up));
    let pcs = json!({"t": 1_700_000_000_000_i64, "s": "METRIC", "d": {"P": 120.5, "SOC": 150, "state": "running"}});
    // The engine's subscription takes a moment after its ConnAck: publish until the station shows.
    run_until(&mut harness, "the station seen", |h| {
        publish(&bench.station, "v1/rt/ess/st1/pcs1", pcs.clone());
        !h.state().engine().state.stations().is_empty()
    });
    publish(&bench.station, "v1/rt/ess/st1", json!({"t": 2, "ns": "st1.bms1.rack2", "d": {"SOC": 55.5, "cells": [{"U": 3.31}, {"U": 3.29}]}}));
    publish(&bench.station, "v1/param/ess/st1/pcs1", json!({"t": 3, "d": {"Pmax": 250, "mode": "auto"}}));
    publish(&bench.station, "v1/rt/ess/st1/pcs2", json!({"t": 4, "d": [1, 2]}));
    run_until(&mut harness, "every message read", |h| {
        let stations = h.state().engine().state.stations();
        stations.counters().unreadable == 1 && stations.get(&place("ess/st1")).is_some_and(|s| s.nodes.len() == 2 && s.nodes.values().any(|n| n.param.is_some()))
    });
    click(&mut harness, "Stations (1)");
    assert_eq!(*harness.state().active_tab(), Tab::Stations);
    (harness, bench)
}

#[test]
fn the_tree_names_metrics_from_the_map_and_plots_them() {
    let (mut harness, _bench) = station_shown();
    // The tree: the station, the unit from the topic, the unit and rack from `ns`.
    for label in ["ess/st1", "pcs1", "bms1", "rack2"] {
        assert!(shows(&harness, label), "{label} not in the tree");
    }
    click(&mut harness, "pcs1");
    assert_eq!(harness.state().stations().selected(), Some(&place("ess/st1/pcs1")));
    assert!(shows(&harness, "ess/st1/pcs1"), "the header names the place");
    // Names and units from the shipped map; the key and value beside them.
    for label in ["Active power", "P", "120.5", "kW", "State of charge", "150", "%"] {
        assert!(shows(&harness, label), "{label:?} not shown");
    }
    // Not a number: below the table, as sent.
    assert!(shows(&harness, "running"));
    // The param report with its names.
    for label in ["Rated active power", "Pmax", "250", "mode", "auto"] {
        assert!(shows(&harness, label), "param {label:?} not shown");
    }

    click(&mut harness, "Plot P");
    let wanted = ("v1/rt/ess/st1/pcs1".to_owned(), "/d/P".to_owned());
    assert!(harness.state().plots().path_series().contains(&wanted), "{:?}", harness.state().plots().path_series());
    assert_eq!(*harness.state().active_tab(), Tab::Plots);

    // The rack placed by `ns` plots from its own topic.
    click(&mut harness, "Stations (1)");
    click(&mut harness, "rack2");
    assert!(shows(&harness, "Cell voltage") && shows(&harness, "3.29") && shows(&harness, "cells.1.U"));
    click(&mut harness, "Plot cells.1.U");
    let wanted = ("v1/rt/ess/st1/bms1/rack2".to_owned(), "/d/cells/1/U".to_owned());
    assert!(harness.state().plots().path_series().contains(&wanted), "{:?}", harness.state().plots().path_series());

    // In Chinese: the map's Chinese names and the tab's title.
    click(&mut harness, "中文");
    click(&mut harness, "储能电站 (1)");
    click(&mut harness, "pcs1");
    assert!(shows(&harness, "有功功率") && shows(&harness, "荷电状态"), "Chinese names not shown");
    assert!(shows(&harness, "实时数据（2）"));
}

#[test]
fn start_is_answered_and_bad_json_goes_nowhere() {
    let (mut harness, mut bench) = station_shown();
    click(&mut harness, "pcs1");
    click(&mut harness, "Start");
    // The station gets the request and answers it.
    let (topic, code) = {
        let mut found = None;
        run_until(&mut harness, "the command at the station", |_| {
            while let Ok(event) = bench.station_events.try_recv() {
                if let LinkEvent::Message(m) = event {
                    let payload = parse_payload(&m.payload).unwrap();
                    if payload.te.as_deref() == Some("req") {
                        assert_eq!(payload.d["cmd"], "start");
                        found = Some((m.topic, payload.code.unwrap().as_str().unwrap().to_owned()));
                    }
                }
            }
            found.is_some()
        });
        found.unwrap()
    };
    assert_eq!(topic, "v1/cmd/ess/st1/pcs1");
    publish(&bench.station, &topic, json!({"t": 5, "code": code, "s": "CMD", "te": "resp", "d": {"result": 0, "msg": "started"}}));
    run_until(&mut harness, "the log says done", |h| shows(h, "done"));
    assert!(shows(&harness, &code) && shows(&harness, "0: started") && shows(&harness, "ours"));
    let latency = harness.query_all_by_label_contains(" ms").map(|n| text(&n)).find(|t| t.strip_suffix(" ms").is_some_and(|n| n.parse::<i64>().is_ok()));
    assert!(latency.is_some(), "no latency shown");

    // Bad JSON in the raw editor: said, and nothing sent.
    let editor = harness.get_by_label("Command d (JSON)");
    editor.focus();
    editor.type_text(r#"{"Pset": }"#);
    harness.run_steps(2);
    click(&mut harness, "Send JSON");
    assert!(harness.query_all_by_label_contains("Invalid JSON").next().is_some(), "no error shown");
    // A setpoint that is not a number: said, and nothing sent.
    let field = harness.get_by_label("Power setpoint (kW)");
    field.focus();
    field.type_text("fast");
    harness.run_steps(2);
    click(&mut harness, "Send setpoint");
    assert!(harness.query_all_by_label_contains("Not a power in kW").next().is_some(), "no setpoint error shown");
    for _ in 0..10 {
        harness.run_steps(1);
        std::thread::sleep(Duration::from_millis(30));
    }
    let commands = harness.state().engine().state.stations().get(&place("ess/st1")).map_or(0, |s| s.commands.len());
    assert_eq!(commands, 1, "a refused form sent a command");
    while let Ok(event) = bench.station_events.try_recv() {
        if let LinkEvent::Message(m) = event {
            assert_ne!(parse_payload(&m.payload).unwrap().te.as_deref(), Some("req"), "a request reached the station");
        }
    }

    // Problems: the `d` that is not an object, counted and listed.
    assert!(shows(&harness, "Unreadable messages"));
    assert!(shows(&harness, "payload field `d`: expected an object, found array"));
    assert!(shows(&harness, "v1/rt/ess/st1/pcs2"));

    // The station's session gone: the form says why and Start sends nothing.
    let session = harness.state().engine().state.stations().get(&place("ess/st1")).map(|s| s.session).unwrap();
    harness.state_mut().apply(vec![UiCommand::Disconnect(session)]);
    run_until(&mut harness, "the form refusing", |h| shows(h, "No session: connect first."));
    click(&mut harness, "Start");
    harness.run_steps(4);
    let commands = harness.state().engine().state.stations().get(&place("ess/st1")).map_or(0, |s| s.commands.len());
    assert_eq!(commands, 1, "a command went without a session");
    let _ = &bench.rt;
}

#[test]
fn a_metric_map_file_loads_and_a_bad_one_keeps_the_old() {
    let (mut harness, _bench) = station_shown();
    click(&mut harness, "pcs1");
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"metrics":{"P":{"min":5,"max":1}}}"#).unwrap();
    harness.get_by_label("Metric map file").set_text_value_accesskit(&bad.display().to_string());
    harness.run_steps(2);
    click(&mut harness, "Load");
    run_until(&mut harness, "the error shown", |h| h.query_all_by_label_contains("Metric map not loaded").next().is_some());
    assert!(harness.query_all_by_label_contains("min 5 is above max 1").next().is_some());
    assert!(shows(&harness, "Active power"), "the old map was dropped");
    assert_eq!(harness.state().settings().ess_metric_map, None);

    let good = dir.path().join("site.json");
    std::fs::write(&good, r#"{"name":"site","metrics":{"P":{"en":"Grid power","zh":"电网功率","unit":"MW"}}}"#).unwrap();
    harness.get_by_label("Metric map file").set_text_value_accesskit(&good.display().to_string());
    harness.run_steps(2);
    click(&mut harness, "Load");
    run_until(&mut harness, "the new map in use", |h| shows(h, "Grid power"));
    assert!(shows(&harness, "site") && shows(&harness, "MW"));
    // SOC is not in the new map: shown by its key.
    assert!(!shows(&harness, "State of charge"));
    assert_eq!(harness.state().settings().ess_metric_map.as_deref(), Some(good.as_path()));
}

/// "▶ Demo station" starts the simulated station on the embedded broker: its units fill the tree
/// from the window's own session; "■ Stop demo station" stops it.
#[test]
fn the_demo_station_starts_from_the_tab_beside_the_embedded_broker() {
    use cems_workbench::protocol::model::ModelSet;
    use cems_workbench::ui::local::{LocalPlan, start_local};
    use cems_workbench::ui::repaint::RepaintSignal;
    use std::net::{Ipv4Addr, SocketAddr};
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().worker_threads(2).build().expect("test runtime");
    let entered = rt.enter();
    let repaint = RepaintSignal::default();
    let notify = repaint.clone();
    let (engine, events) = Engine::spawn_with(EngineConfig::default(), move || notify.request()).expect("engine");
    let plan = LocalPlan { listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), demo: false, devices_file: None, tls_dir: None };
    let local = Some(start_local(rt.handle(), plan, ModelSet::builtin(), repaint.clone()));
    let settings = Settings { lang: Lang::En, ..Settings::default() };
    let mut h = Harness::builder().with_size(egui::vec2(1400.0, 1200.0)).build_eframe(move |cc| {
        repaint.set(&cc.egui_ctx);
        WorkbenchApp::new(&cc.egui_ctx, engine, events, ModelSet::builtin(), settings, Startup { local, ..Startup::default() })
    });
    drop(entered);
    h.query_all_by_label_contains("Stations").next().expect("the Stations tab").click();
    h.run_steps(2);
    assert_eq!(*h.state().active_tab(), Tab::Stations);
    run_until(&mut h, "the broker up and the window's session on it", |h| h.state().engine().state.stations().is_empty() && shows(h, "▶ Demo station") && h.state().sessions().values().any(|s| s.state == LinkState::Up));
    click(&mut h, "▶ Demo station");
    run_until(&mut h, "the demo station's racks in the table", |h| {
        let stations = h.state().engine().state.stations();
        stations.get(&place("ess/station-1")).is_some_and(|s| s.nodes.contains_key(&Some("bms1/rack2".to_owned())))
    });
    run_until(&mut h, "the tree shows it", |h| shows(h, "■ Stop demo station") && h.query_all_by_label_contains("rack2").next().is_some());
    click(&mut h, "■ Stop demo station");
    assert!(shows(&h, "▶ Demo station"));
    drop(h);
    drop(rt);
}

//! The energy-storage station simulator against the embedded broker, with the test acting as a
//! bare master: `rt` from every unit and rack (racks placed by `ns`), `param` at start and on
//! change, commands answered by `code` or refused with a reason, and the faults.

use std::collections::BTreeSet;
use std::time::Duration;

use cems_workbench::protocol::storage::place::place_of;
use cems_workbench::protocol::storage::{StoragePayload, StorageProfile, parse_payload};
use cems_workbench::sim::ess::{StationConfig, StationFault, StationHandle, spawn_station};
use cems_workbench::transport::broker::{BrokerConfig, EmbeddedBroker};
use cems_workbench::transport::mqtt::MqttConfig;
use cems_workbench::transport::{LinkConfig, LinkEvent, LinkHandle, Message, spawn_link};
use serde_json::{Value, json};
use tokio::sync::mpsc;

mod common;

const PCS1_CMD: &str = "v1/cmd/ess/station-1/pcs1";
const GROUP_CMD: &str = "v1/cmd/ess/station-1";

/// A bare MQTT client under `v1/#`, keeping every storage message it sees.
struct Master {
    link: LinkHandle,
    events: mpsc::Receiver<LinkEvent>,
    profile: StorageProfile,
    /// (topic, qos, retain, payload) of every message that parsed, in order.
    seen: Vec<(String, u8, bool, StoragePayload)>,
}

impl Master {
    async fn connect(url: &str) -> Master {
        let mut config = MqttConfig::new(url, "ess-test-master");
        config.subscriptions = vec!["v1/#".into()];
        let (link, events) = spawn_link(LinkConfig::Mqtt(config));
        let mut master = Master { link, events, profile: StorageProfile::builtin(), seen: Vec::new() };
        // Up comes with the ConnAck, before the SUBSCRIBE is in force: a probe that comes back says it is.
        let probe = "v1/rt/probe/probe";
        master.link.publish(Message::new(probe, r#"{"t":0,"d":{}}"#, 1, false)).unwrap();
        master.wait("the probe", |t, _| (t == probe).then_some(())).await;
        master
    }

    /// Publishes raw bytes on `topic` (QoS 1).
    fn publish(&self, topic: &str, payload: impl Into<bytes::Bytes>) {
        self.link.publish(Message::new(topic, payload.into(), 1, false)).unwrap();
    }

    fn command(&self, topic: &str, code: &str, d: Value) {
        let payload = StoragePayload::command(cems_workbench::protocol::time::now_ms(), code, d.as_object().cloned().unwrap());
        self.publish(topic, serde_json::to_vec(&payload).unwrap());
    }

    /// The next message for which `pick` returns Some; 10 s at most.
    async fn wait<T>(&mut self, what: &str, mut pick: impl FnMut(&str, &StoragePayload) -> Option<T>) -> T {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let event = match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some(event)) => event,
                Ok(None) => panic!("master link ended while waiting for {what}"),
                Err(_) => panic!("timed out waiting for {what}; seen {:#?}", self.seen.iter().rev().take(12).collect::<Vec<_>>()),
            };
            let LinkEvent::Message(message) = event else { continue };
            let Ok(payload) = parse_payload(&message.payload) else { continue };
            self.seen.push((message.topic.clone(), message.qos, message.retain, payload.clone()));
            if let Some(found) = pick(&message.topic, &payload) {
                return found;
            }
        }
    }

    /// The station's answer to `code`: its `d`.
    async fn answer(&mut self, code: &str) -> Value {
        self.wait(&format!("the answer to {code}"), |_, p| is_answer(p, code).then(|| Value::Object(p.d.clone()))).await
    }

    /// Sends a command and returns its answer's `(result, msg)`.
    async fn call(&mut self, topic: &str, code: &str, d: Value) -> (i64, String) {
        self.command(topic, code, d);
        let answer = self.answer(code).await;
        (answer["result"].as_i64().unwrap(), answer["msg"].as_str().unwrap().to_owned())
    }

    /// Lets `n` more `rt` rounds of pcs1 go by: whatever the station sent before them has arrived.
    async fn let_rounds_pass(&mut self, n: usize) {
        for i in 0..n {
            self.wait(&format!("rt round {i}"), |t, _| (t == "v1/rt/ess/station-1/pcs1").then_some(())).await;
        }
    }

    fn answers_to(&self, code: &str) -> usize {
        self.seen.iter().filter(|(_, _, _, p)| is_answer(p, code)).count()
    }
}

fn is_answer(payload: &StoragePayload, code: &str) -> bool {
    payload.te.as_deref() == Some("resp") && payload.code == Some(json!(code))
}

async fn broker() -> (EmbeddedBroker, String) {
    let broker = EmbeddedBroker::start(BrokerConfig { listen: "127.0.0.1:0".parse().unwrap(), ..Default::default() }).await.unwrap();
    let url = format!("mqtt://{}", broker.local_addr());
    (broker, url)
}

fn station(url: &str, faults: Vec<StationFault>) -> StationHandle {
    let config = StationConfig { interval_ms: 100, seed: 7, faults, ..StationConfig::new(LinkConfig::Mqtt(MqttConfig::new(url, ""))) };
    spawn_station(config).unwrap()
}

fn sorted_keys(payload: &StoragePayload) -> Vec<&str> {
    let mut keys: Vec<&str> = payload.d.keys().map(String::as_str).collect();
    keys.sort_unstable();
    keys
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_unit_and_rack_reports_and_the_parameters_come_at_start() {
    let (_broker, url) = broker().await;
    let mut master = Master::connect(&url).await;
    let station = station(&url, Vec::new());
    let profile = master.profile.clone();

    let mut places = BTreeSet::new();
    let mut params = BTreeSet::new();
    master
        .wait("rt from every unit and rack, param from both PCS units", |topic, payload| {
            let parts = profile.parse_topic(topic)?;
            let place = place_of(&parts, payload.ns.as_deref()).place;
            match parts.message_type.as_str() {
                "rt" => places.insert(place.to_string()),
                "param" => params.insert(place.to_string()),
                _ => false,
            };
            (places.len() == 5 && params.len() == 2).then_some(())
        })
        .await;
    let expected = ["ess/station-1/bms1", "ess/station-1/bms1/rack1", "ess/station-1/bms1/rack2", "ess/station-1/pcs1", "ess/station-1/pcs2"];
    assert_eq!(places.iter().map(String::as_str).collect::<Vec<_>>(), expected);
    assert_eq!(params.iter().map(String::as_str).collect::<Vec<_>>(), ["ess/station-1/pcs1", "ess/station-1/pcs2"]);

    let latest = |topic: &str, ns: Option<&str>| {
        master.seen.iter().rev().find(|(t, _, _, p)| t == topic && p.ns.as_deref() == ns && p.te.is_none()).cloned().unwrap()
    };
    // rumqttd forwards at the subscription's QoS: the QoS test runs over mosquitto, below.
    let (_, _, retain, pcs) = latest("v1/rt/ess/station-1/pcs2", None);
    assert_eq!((retain, pcs.s.as_deref()), (false, Some("METRIC")), "rt is not retained, a METRIC");
    assert_eq!(
        sorted_keys(&pcs),
        ["E_chg", "E_dis", "F", "Ia", "Ib", "Ic", "Idc", "P", "PF", "Pset", "Q", "Tmod", "Ua", "Ub", "Uc", "Udc", "fault", "state"]
    );
    assert!((49.5..50.5).contains(&pcs.d["F"].as_f64().unwrap()));
    let (_, _, _, bms) = latest("v1/rt/ess/station-1/bms1", None);
    assert_eq!(sorted_keys(&bms), ["Pchg_max", "Pdis_max", "SOC", "SOH"]);
    assert!((0.0..=100.0).contains(&bms.d["SOC"].as_f64().unwrap()));
    let (_, _, _, rack) = latest("v1/rt/ess/station-1", Some("station-1.bms1.rack2"));
    assert_eq!(sorted_keys(&rack), ["I", "SOC", "SOH", "Tcell_max", "Tcell_min", "U", "Ucell_max", "Ucell_min", "cells"]);
    let cells = rack.d["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 16);
    let highest = cells.iter().map(|c| c["U"].as_f64().unwrap()).fold(f64::MIN, f64::max);
    assert_eq!(highest, rack.d["Ucell_max"].as_f64().unwrap(), "Ucell_max is the highest cell");

    let (_, _, retain, param) = latest("v1/param/ess/station-1/pcs1", None);
    assert!(!retain, "param is not retained");
    assert_eq!(Value::Object(param.d), json!({"Pmax": 250.0, "Pchg_max": 250.0, "Pdis_max": 250.0, "SOC_min": 5.0, "SOC_max": 95.0, "Pset": 120.0, "mode": "PQ"}));

    let counters = station.snapshot().counters;
    assert!(counters.realtime_sent >= 5 && counters.param_sent == 2 && counters.connects == 1, "{counters:?}");
    station.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_are_carried_out_answered_by_code_or_refused_with_a_reason() {
    let (_broker, url) = broker().await;
    let mut master = Master::connect(&url).await;
    let station = station(&url, Vec::new());
    master.let_rounds_pass(1).await;

    assert_eq!(master.call(PCS1_CMD, "c-stop", json!({"cmd": "stop"})).await, (0, "pcs1: stopped".to_owned()));
    let p = master.wait("pcs1 at 0 kW", |t, p| (t == "v1/rt/ess/station-1/pcs1" && p.d["state"] == 0).then(|| p.d["P"].clone())).await;
    assert_eq!(p, json!(0.0), "a stopped PCS gives no power");

    assert_eq!(master.call(PCS1_CMD, "c-pset", json!({"Pset": -100})).await, (0, "pcs1: Pset -100 kW".to_owned()));
    let pset = master.wait("param with the new Pset", |t, p| (t == "v1/param/ess/station-1/pcs1").then(|| p.d["Pset"].clone())).await;
    assert_eq!(pset, json!(-100.0));
    assert_eq!(master.call(PCS1_CMD, "c-start", json!({"cmd": "start"})).await.0, 0);
    let p = master
        .wait("pcs1 charging at its setpoint", |t, p| {
            if t != "v1/rt/ess/station-1/pcs1" {
                return None;
            }
            let p = p.d["P"].as_f64()?;
            ((p + 100.0).abs() < 3.0).then_some(p)
        })
        .await;
    assert!(p < 0.0);
    let snapshot = station.snapshot();
    assert!(snapshot.pcs[0].running && snapshot.pcs[0].pset_kw == -100.0, "{snapshot:?}");

    // Refusals, each with its reason.
    assert_eq!(master.call(PCS1_CMD, "c-600", json!({"Pset": 600})).await, (1, "Pset 600 kW is outside ±250 kW".to_owned()));
    let (result, msg) = master.call(PCS1_CMD, "c-reboot", json!({"cmd": "reboot"})).await;
    assert!(result != 0 && msg.starts_with("unknown command \"reboot\""), "{msg}");
    let (result, msg) = master.call("v1/cmd/ess/station-1/pcs7", "c-pcs7", json!({"cmd": "start"})).await;
    assert!(result != 0 && msg.contains("no device unit \"pcs7\""), "{msg}");
    assert_eq!(station.snapshot().pcs[0].pset_kw, -100.0, "refused commands change nothing");

    // The group topic, placed by ns or addressed to the whole station.
    let request = json!({"t": 1, "ns": "station-1.pcs2", "code": "c-ns", "s": "CMD", "te": "req", "d": {"Pset": 42}});
    master.publish(GROUP_CMD, request.to_string());
    let answer = master.answer("c-ns").await;
    assert_eq!(answer, json!({"result": 0, "msg": "pcs2: Pset 42 kW"}));
    assert_eq!(master.call(GROUP_CMD, "c-all", json!({"Pset": 300})).await, (0, "station-1: Pset 300 kW (150 kW each)".to_owned()));
    assert!(station.snapshot().pcs.iter().all(|p| p.pset_kw == 150.0));

    // A payload that does not parse is refused if its code can be read, ignored otherwise.
    master.publish(PCS1_CMD, r#"{"t":1,"code":"c-bad","s":"CMD","te":"req","d":"start"}"#);
    let answer = master.answer("c-bad").await;
    assert_ne!(answer["result"], 0);
    assert_eq!(answer["msg"], "payload field `d`: expected an object, found string \"start\"");
    master.publish(PCS1_CMD, "not json at all");
    master.publish(PCS1_CMD, r#"{"t":1,"d":{"cmd":"stop"}}"#);
    master.let_rounds_pass(3).await;

    let codes = ["c-stop", "c-pset", "c-start", "c-600", "c-reboot", "c-pcs7", "c-ns", "c-all", "c-bad"];
    for code in codes {
        assert_eq!(master.answers_to(code), 1, "one answer to {code}");
    }
    let counters = station.snapshot().counters;
    assert_eq!((counters.commands_done, counters.commands_refused, counters.answers_sent), (5, 4, 9), "{counters:?}");
    assert_eq!(counters.malformed_ignored, 2, "{counters:?}");
    assert_eq!(counters.responses_ignored, 9, "its own answers come back and are ignored: {counters:?}");
    assert!(station.snapshot().pcs[0].running, "the command without code was not carried out");
    station.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answer_twice_sends_every_answer_twice() {
    let (_broker, url) = broker().await;
    let mut master = Master::connect(&url).await;
    let station = station(&url, vec![StationFault::AnswerTwice]);
    master.let_rounds_pass(1).await;
    master.command(PCS1_CMD, "twice", json!({"Pset": 10}));
    let mut answers = 0;
    master.wait("two answers", |_, p| {
        answers += usize::from(is_answer(p, "twice"));
        (answers == 2).then_some(())
    })
    .await;
    master.let_rounds_pass(2).await;
    assert_eq!(master.answers_to("twice"), 2);
    assert_eq!(station.snapshot().counters.commands_done, 1, "carried out once");
    station.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_answer_carries_the_command_out_in_silence() {
    let (_broker, url) = broker().await;
    let mut master = Master::connect(&url).await;
    let station = station(&url, vec![StationFault::NoAnswer]);
    master.let_rounds_pass(1).await;
    master.command(PCS1_CMD, "silent", json!({"Pset": 77}));
    let pset = master.wait("param with the new Pset", |t, p| (t == "v1/param/ess/station-1/pcs1" && p.d["Pset"] == 77.0).then_some(())).await;
    assert_eq!(pset, ());
    master.let_rounds_pass(3).await;
    assert_eq!(master.answers_to("silent"), 0);
    let counters = station.snapshot().counters;
    assert_eq!((counters.commands_done, counters.answers_sent, counters.answers_withheld), (1, 0, 1));
    station.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_answer_comes_after_the_effect() {
    let (_broker, url) = broker().await;
    let mut master = Master::connect(&url).await;
    let station = station(&url, vec![StationFault::SlowAnswer(400)]);
    master.let_rounds_pass(1).await;
    master.command(PCS1_CMD, "slow", json!({"Pset": 55}));
    let first = master
        .wait("the param change or the answer", |t, p| {
            if is_answer(p, "slow") {
                Some("answer")
            } else {
                (t == "v1/param/ess/station-1/pcs1" && p.d["Pset"] == 55.0).then_some("param")
            }
        })
        .await;
    assert_eq!(first, "param", "the command takes effect at once, its answer comes late");
    assert_eq!(master.answer("slow").await["result"], 0);
    assert_eq!(master.answers_to("slow"), 1);
    station.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rt_goes_at_qos_0_param_and_answers_at_qos_1() {
    // mosquitto delivers at the lower of the publish and subscription QoS, so what arrives
    // under a QoS 1 subscription is what the station sent.
    let Some(mosquitto) = common::Mosquitto::start() else {
        common::skip_or_fail("mosquitto not found");
        return;
    };
    let url = mosquitto.url();
    let mut master = Master::connect(&url).await;
    let station = station(&url, Vec::new());
    master.let_rounds_pass(1).await;
    master.command(PCS1_CMD, "q-1", json!({"Pset": 12}));
    master.answer("q-1").await;
    master.wait("param with the new Pset", |t, p| (t == "v1/param/ess/station-1/pcs1" && p.d["Pset"] == 12.0).then_some(())).await;
    master.let_rounds_pass(1).await;
    let qos_of = |wanted: &dyn Fn(&str, &StoragePayload) -> bool| -> BTreeSet<u8> {
        master.seen.iter().filter(|(t, _, _, p)| wanted(t, p)).map(|(_, q, _, _)| *q).collect()
    };
    assert_eq!(qos_of(&|t, _| t.starts_with("v1/rt/ess/")), BTreeSet::from([0]));
    assert_eq!(qos_of(&|t, _| t.starts_with("v1/param/")), BTreeSet::from([1]));
    assert_eq!(qos_of(&|_, p| is_answer(p, "q-1")), BTreeSet::from([1]));
    assert!(master.seen.iter().all(|(_, _, retain, _)| !retain), "nothing is retained");
    station.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_serves_a_station_and_says_so_in_json() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let (_broker, url) = broker().await;
    let mut master = Master::connect(&url).await;
    let bin = env!("CARGO_BIN_EXE_cems-workbench");
    // A station option without --ess: refused at once (else it would serve a gateway until killed).
    let mut gateway = Command::new(bin)
        .args(["sim", "--group", "g9", "--model", "PK-GW-01", "--dev", "GW-1", "--broker", &url])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut status = None;
    for _ in 0..500 {
        status = gateway.try_wait().unwrap();
        if status.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let Some(status) = status else {
        let _ = gateway.kill();
        panic!("sim --group without --ess did not exit");
    };
    let mut err = String::new();
    std::io::Read::read_to_string(&mut gateway.stderr.take().unwrap(), &mut err).unwrap();
    assert_eq!(status.code(), Some(2), "a usage error: {err}");
    assert!(err.contains("--group is an option of the energy-storage station"), "{err}");

    let mut child = Command::new(bin)
        .args(["sim", "--ess", "--group", "g9", "--interval-ms", "100", "--ess-fault", "answer-twice", "--broker", &url])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let read = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).map(|_| line)
    });
    let Ok(line) = tokio::time::timeout(Duration::from_secs(10), read).await else {
        let _ = child.kill();
        panic!("sim --ess printed no line");
    };
    let line = line.unwrap().unwrap();
    let online: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
    assert_eq!((online["online"].as_str(), online["connect"].as_u64()), (Some("ess/g9"), Some(1)), "{online}");
    assert_eq!(online["units"], json!(["pcs1", "pcs2", "bms1"]));

    master.wait("rt of g9", |t, _| (t == "v1/rt/ess/g9/bms1").then_some(())).await;
    master.command("v1/cmd/ess/g9/pcs2", "cli-1", json!({"cmd": "stop"}));
    let mut answers = 0;
    master.wait("two answers (answer-twice)", |_, p| {
        answers += usize::from(is_answer(p, "cli-1"));
        (answers == 2).then_some(())
    })
    .await;
    let _ = child.kill();
    let _ = child.wait();
}

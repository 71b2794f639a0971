//! The simulator against a hostile master on the same broker (issue 9, item 6): big vendor
//! messages must not grow its log without bound, a `log/get` larger than one message is paged
//! instead of dropped, a reply over 256 KiB is answered with an error, a clock set to the end of
//! time is refused, and an envelope of another `ver` is code 3.

use std::time::Duration;

use cems_workbench::protocol::envelope::{Envelope, MAX_PAYLOAD_BYTES, Reply, Request};
use cems_workbench::protocol::time::now_ms;
use cems_workbench::protocol::topic::{CemsTopic, Dir};
use cems_workbench::sim;
use cems_workbench::transport::Message;
use serde_json::{Value, json};

mod sim_support;

use sim_support::{Master, PK, broker, sim_config};

/// A started simulator and a master that has seen its announcement.
async fn start(dev: &str) -> (cems_workbench::transport::broker::EmbeddedBroker, Master, sim::SimHandle, tempfile::TempDir) {
    let (broker, url) = broker().await;
    let mut master = Master::connect(&url, dev).await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = sim_config(&url, dev, dir.path());
    // Quiet: the log should hold what the test sends, not a minute of samples.
    config.report_period_ms = Some(60_000);
    let sim = sim::spawn(config).unwrap();
    master.wait("the announcement", 10, |t, _, _, _| (t == "ota/version").then_some(())).await;
    (broker, master, sim, dir)
}

/// Publishes `payload` as is on the down topic of `class_action`.
fn publish_raw(master: &Master, class_action: &str, payload: Vec<u8>) {
    let (class, action) = class_action.split_once('/').unwrap();
    let topic = master.profile.build(&CemsTopic::new(PK, &master.dev, Dir::Down, class, action)).unwrap();
    master.link.publish(Message::new(topic, payload, 1, false)).unwrap();
}

fn entries(data: &Value) -> &Vec<Value> {
    data["entries"].as_array().unwrap_or_else(|| panic!("no entries: {data}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn big_vendor_messages_are_logged_as_excerpts_and_log_get_is_answered() {
    let (_broker, mut master, sim, _dir) = start("GW-LIM-MSG").await;
    // 900 messages of 250 KB, then 8 log/get: verbatim, the log would hold 250 MB, each log/get
    // reply (remembered for replays) as much again, and none of them could be sent.
    let blob = "A".repeat(250_000);
    for i in 0..900 {
        master.request("message/down", &format!("md-{i}"), json!({"type": "bulk", "content": blob}));
    }
    for n in 0..8 {
        let reply = master.call("log/get", &format!("lg-big-{n}"), json!({"from": 0, "to": i64::MAX})).await;
        assert_eq!(reply.code, 0, "{:?}", reply.msg);
        assert!(reply.to_bytes().is_ok(), "the reply fits one message");
    }
    let reply = master.call("log/get", "lg-big", json!({"from": 0, "to": i64::MAX})).await;
    let vendor: Vec<&Value> = entries(&reply.data).iter().filter(|e| e["module"] == "message").collect();
    assert!(!vendor.is_empty() && vendor.len() <= 900, "{} entries", vendor.len());
    let remembered = sim.with_state(|s| s.replies.bytes());
    // Nine pages of 256 KiB at most (the cache itself holds 8 MiB at most).
    assert!(remembered <= 9 * MAX_PAYLOAD_BYTES, "{remembered} bytes of replies remembered");
    for e in &vendor {
        let msg = e["msg"].as_str().unwrap();
        assert!(msg.chars().count() <= 512, "an excerpt, not the content: {} chars", msg.chars().count());
        assert!(msg.starts_with("bulk: AAAA") && msg.ends_with("(250000 bytes)"), "an excerpt saying how big it was: {msg}");
    }
    let held: usize = sim.with_state(|s| s.log.query(0, i64::MAX, None).iter().map(|e| e.msg.len() + e.module.len()).sum());
    assert!(held < 1 << 20, "the log holds {held} bytes");
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_larger_than_one_reply_is_paged_by_from() {
    let (_broker, mut master, sim, _dir) = start("GW-LIM-PAGE").await;
    // 1,000 entries of some 500 bytes: more than one 256 KiB reply carries.
    let filler = "x".repeat(1_000);
    for i in 0..1_000 {
        master.request("message/down", &format!("mp-{i}"), json!({"type": "fill", "content": format!("m{i:04}-{filler}")}));
    }
    // The last one is in the log before paging starts.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !sim.with_state(|s| s.log.query(0, i64::MAX, None).iter().any(|e| e.msg.contains("m0999-"))) {
        assert!(tokio::time::Instant::now() < deadline, "the messages did not all arrive");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut from = 0_i64;
    let mut seen: Vec<usize> = Vec::new();
    let mut pages = 0;
    loop {
        pages += 1;
        assert!(pages <= 10, "paging does not end");
        let reply = master.call("log/get", &format!("lp-{pages}"), json!({"from": from, "to": i64::MAX})).await;
        assert_eq!(reply.code, 0, "{:?}", reply.msg);
        let bytes = reply.to_bytes().expect("a page fits the 256 KiB limit");
        assert!(bytes.len() <= MAX_PAYLOAD_BYTES);
        let page = entries(&reply.data);
        assert!(!page.is_empty(), "page {pages} is empty");
        for e in page {
            if let Some(i) = e["msg"].as_str().and_then(|m| m.split_once(": m")).and_then(|(_, rest)| rest.get(..4)).and_then(|n| n.parse().ok()) {
                seen.push(i);
            }
        }
        let last_ts = page.last().and_then(|e| e["ts"].as_i64()).unwrap();
        if reply.data["truncated"] != true {
            break;
        }
        from = last_ts + 1;
    }
    assert!(pages >= 2, "the log needed more than one page");
    // Oldest first, none twice, none skipped at a page boundary, up to the newest.
    assert!(seen.windows(2).all(|w| w[1] == w[0] + 1), "gaps or repeats across pages: {} entries", seen.len());
    assert_eq!(seen.last(), Some(&999));
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_over_256_kib_is_answered_with_an_error_not_dropped() {
    let (_broker, mut master, sim, _dir) = start("GW-LIM-BIG").await;
    // A wrong-typed t1 of 120,000 tabs: the error message quotes it, and each 2-byte `\t` of the
    // request becomes 3 bytes in the reply, 360 KB in all.
    let t1 = "\t".repeat(120_000);
    let reply = master.call("time/get", "tg-big", json!({"t1": t1})).await;
    assert_eq!(reply.code, 4, "{:?}", reply.msg.as_deref().map(|m| &m[..m.len().min(80)]));
    let msg = reply.msg.unwrap_or_default();
    assert!(msg.starts_with("data.t1"), "names the field: {}", &msg[..msg.len().min(80)]);
    assert!(msg.chars().count() <= 512, "the message is cut: {} chars", msg.chars().count());
    // The same id again replays the same (small) reply.
    let again = master.call("time/get", "tg-big", json!({"t1": t1})).await;
    assert_eq!((again.code, again.msg.as_deref()), (4, Some(msg.as_str())));
    assert_eq!(sim.snapshot().counters.duplicates_replayed, 1);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_set_outside_2000_to_2100_is_bad_param() {
    let (_broker, mut master, sim, _dir) = start("GW-LIM-TIME").await;
    for (i, time) in [i64::MAX, 946_684_799_999, 4_102_444_800_000, -1].into_iter().enumerate() {
        let reply = master.call("time/set", &format!("ts-{i}"), json!({"time": time})).await;
        assert_eq!(reply.code, 4, "time {time}: {:?}", reply.msg);
        assert!(reply.msg.as_deref().is_some_and(|m| m.contains("2000") && m.contains("2100")), "{:?}", reply.msg);
    }
    // The clock was left alone: later stamps are now, not i64::MAX.
    let reply = master.call("time/get", "tg-1", json!({"t1": now_ms()})).await;
    assert_eq!(reply.code, 0);
    let t2 = reply.data["t2"].as_i64().unwrap();
    assert!((t2 - now_ms()).abs() < 60_000, "t2 {t2}");
    assert!((reply.ts - now_ms()).abs() < 60_000, "ts {}", reply.ts);
    // A sane time is still taken.
    let in_2030 = 1_893_456_000_000_i64;
    assert_eq!(master.call("time/set", "ts-ok", json!({"time": in_2030})).await.code, 0);
    let reply = master.call("time/get", "tg-2", json!({"t1": now_ms()})).await;
    assert!((reply.data["t2"].as_i64().unwrap() - in_2030).abs() < 60_000);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_envelope_of_another_ver_is_code_3() {
    let (_broker, mut master, sim, _dir) = start("GW-LIM-VER").await;
    for (id, ver) in [("v-2", "2.0"), ("v-0", "0.9"), ("v-x", "1.0.0-evil"), ("v-e", "")] {
        let reply = info_get_with_ver(&mut master, id, ver).await;
        assert_eq!(reply.code, 3, "ver {ver:?}: {:?}", reply.msg);
        assert!(reply.msg.as_deref().is_some_and(|m| m.contains("ver")), "{:?}", reply.msg);
    }
    // 1.x is the same major version: still served.
    let reply = info_get_with_ver(&mut master, "v-11", "1.1").await;
    assert_eq!(reply.code, 0, "{:?}", reply.msg);
    assert_eq!(master.call("info/get", "v-10", json!({})).await.code, 0);
    sim.stop().await;
}

/// `info/get` in an envelope whose `ver` is `ver`, and its reply.
async fn info_get_with_ver(master: &mut Master, id: &str, ver: &str) -> Reply {
    let request = Request { id: id.into(), ts: now_ms(), ver: ver.into(), data: json!({}) };
    publish_raw(master, "info/get", serde_json::to_vec(&request).unwrap());
    let what = format!("the reply to ver {ver:?}");
    master
        .wait(&what, 10, |t, reply, env, _| match env {
            Envelope::Reply(r) if reply && t == "info/get" && r.id == id => Some(r.clone()),
            _ => None,
        })
        .await
}

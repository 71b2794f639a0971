//! `watch` with its stdout stalled (a pipe nobody reads) while a client floods the broker: its
//! memory stays bounded (issue R, item 2). The engine drops forwarded messages past its budget
//! and says so; before, every message piled up in an unbounded channel (990 MB seen).

mod common;

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

use cems_workbench::transport::mqtt::MqttConfig;
use cems_workbench::transport::{LinkConfig, LinkEvent, LinkState, Message, spawn_link};

/// Resident memory of a process, from /proc (Linux; elsewhere the test says it is skipped).
fn rss_bytes(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_reader_keeps_watch_memory_bounded() {
    if !std::path::Path::new("/proc/self/status").exists() {
        println!("skipped: /proc not found (the memory of another process is read from it)");
        return;
    }
    let broker = common::broker().await;
    let mut watch = Command::new(env!("CARGO_BIN_EXE_cems-workbench"))
        .args(["watch", "--broker", &broker.url(), "--filter", "flood/#"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("watch starts");
    let pid = watch.id();
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let (flooder, mut events) = spawn_link(LinkConfig::Mqtt(MqttConfig::new(broker.url(), "flooder")));
    loop {
        match tokio::time::timeout(Duration::from_secs(5), events.recv()).await {
            Ok(Some(LinkEvent::State(LinkState::Up))) => break,
            Ok(Some(_)) => {}
            other => panic!("flooder did not connect: {other:?}"),
        }
    }
    // 600 MB through a reader that takes nothing: stdout's pipe fills after 64 KiB.
    let payload = vec![b'x'; 200 * 1024];
    let mut peak = 0;
    for round in 0..30 {
        for i in 0..100 {
            flooder.publish(Message::new(format!("flood/{round}/{i}"), payload.clone(), 0, false)).unwrap();
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
        peak = peak.max(rss_bytes(pid).unwrap_or(0));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    peak = peak.max(rss_bytes(pid).unwrap_or(0));
    let _ = watch.kill();
    let _ = watch.wait();
    let mut stderr = String::new();
    if let Some(mut e) = watch.stderr.take() {
        let _ = e.read_to_string(&mut stderr);
    }
    println!("watch peak RSS with stdout stalled, 600 MB sent: {} MB", peak / (1024 * 1024));
    // The engine's forward budget is 64 MiB; the store keeps 1 MiB per topic at most, 512 MiB in
    // all, and evicts: a bound well under the 600 MB sent.
    assert!(peak < 400 * 1024 * 1024, "watch grew to {} MB with its stdout stalled\n{stderr}", peak / (1024 * 1024));
}

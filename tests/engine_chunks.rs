//! The engine as the master serving chunk requests (contract §8) to a hand-driven gateway: it
//! answers only for a task it announced, with code 7 once that task is cancelled, and stays
//! silent for an id it never announced, which another master on the broker may own.

mod common;

use std::time::Duration;

use bytes::Bytes;
use cems_workbench::engine::{EngineEvent, OtaSpec, TransferPhase};
use cems_workbench::protocol::envelope::{Envelope, Reply, Request, parse_envelope};
use cems_workbench::transport::mqtt::MqttConfig;
use cems_workbench::transport::{LinkConfig, LinkEvent, LinkHandle, LinkState, Message, spawn_link};
use common::{broker, engine, engine_ready, wait_for};
use serde_json::json;
use tokio::sync::mpsc::Receiver;

const PK: &str = "PK01";
const DEV: &str = "GW-CHUNK";

/// A gateway client subscribed to its downlink, the subscription proven in place.
async fn raw_gateway(url: &str) -> (LinkHandle, Receiver<LinkEvent>) {
    let mut config = MqttConfig::new(url, format!("{PK}.{DEV}"));
    config.subscriptions = vec![format!("cems/v1/{PK}/{DEV}/down/#")];
    let (link, mut events) = spawn_link(LinkConfig::Mqtt(config));
    let probe = format!("cems/v1/{PK}/{DEV}/down/probe/ready");
    let mut up = false;
    loop {
        match tokio::time::timeout(Duration::from_secs(5), events.recv()).await {
            Ok(Some(LinkEvent::State(LinkState::Up))) if !up => {
                up = true;
                link.publish(Message::new(probe.clone(), b"{}".to_vec(), 1, false)).unwrap();
            }
            Ok(Some(LinkEvent::Message(m))) if m.topic == probe => return (link, events),
            Ok(Some(_)) => {}
            other => panic!("raw gateway did not come up: {other:?}"),
        }
    }
}

fn ask_chunk(gw: &LinkHandle, id: &str, task_id: &str) {
    let payload = Request::new(id, json!({"taskId": task_id, "offset": 0, "length": 256})).to_bytes().unwrap();
    gw.publish(Message::new(format!("cems/v1/{PK}/{DEV}/up/ota/chunk/get"), payload, 1, false)).unwrap();
}

/// Every chunk reply up to and including the one to request `id`, in the order they came.
async fn replies_until(events: &mut Receiver<LinkEvent>, id: &str) -> Vec<Reply> {
    let mut replies = Vec::new();
    loop {
        match tokio::time::timeout(Duration::from_secs(10), events.recv()).await {
            Ok(Some(LinkEvent::Message(m))) if m.topic.ends_with("/ota/chunk/get/reply") => {
                let Ok(Envelope::Reply(reply)) = parse_envelope(&m.payload) else { panic!("not a reply on {}", m.topic) };
                let last = reply.id == id;
                replies.push(reply);
                if last {
                    return replies;
                }
            }
            Ok(Some(_)) => {}
            other => panic!("no reply to {id}: {other:?}"),
        }
    }
}

/// The `ota/upgrade` the engine sends, answered with code 0.
async fn accept_upgrade(gw: &LinkHandle, events: &mut Receiver<LinkEvent>) -> String {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), events.recv()).await {
            Ok(Some(LinkEvent::Message(m))) if m.topic.ends_with("/down/ota/upgrade") => {
                let Ok(Envelope::Request(request)) = parse_envelope(&m.payload) else { panic!("a request expected") };
                let reply = Reply::ok(&request.id, json!({}));
                gw.publish(Message::new(format!("{}/reply", m.topic.replace("/down/", "/up/")), reply.to_bytes().unwrap(), 1, false)).unwrap();
                return request.data["taskId"].as_str().unwrap().to_owned();
            }
            Ok(Some(_)) => {}
            other => panic!("no ota/upgrade: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunks_are_answered_only_for_announced_tasks() {
    let broker = broker().await;
    let (engine, mut events) = engine();
    let session = engine.connect(LinkConfig::Mqtt(MqttConfig::new(broker.url(), "wb-chunks")), engine.default_session_options("t")).unwrap();
    wait_for(&mut events, Duration::from_secs(5), "Up", |e| matches!(e, EngineEvent::SessionState { state: LinkState::Up, .. }).then_some(())).await;
    engine_ready(&engine, session).await;
    let (gw, mut gw_events) = raw_gateway(&broker.url()).await;

    let image = Bytes::from((0..=255u8).cycle().take(4096).collect::<Vec<_>>());
    let mut spec = OtaSpec::new(session, PK, DEV, "firmware", "2.0.0", image);
    spec.chunk_size = 256;
    let task = engine.start_ota(spec).unwrap();
    assert_eq!(accept_upgrade(&gw, &mut gw_events).await, task);

    // The engine handles one message after another: the reply to the request sent second comes
    // after anything it would have said to the first.
    ask_chunk(&gw, "c-stranger", "another-masters-task");
    ask_chunk(&gw, "c-1", &task);
    let replies = replies_until(&mut gw_events, "c-1").await;
    assert_eq!(replies.iter().map(|r| (r.id.as_str(), r.code)).collect::<Vec<_>>(), [("c-1", 0)], "silence for a task never announced");

    engine.cancel_transfer(&task).unwrap();
    wait_for(&mut events, Duration::from_secs(5), "cancelled", |e| match e {
        EngineEvent::Transfer(status) if status.id == task && status.phase == TransferPhase::Cancelled => Some(()),
        _ => None,
    })
    .await;
    ask_chunk(&gw, "c-stranger-2", "another-masters-task");
    ask_chunk(&gw, "c-2", &task);
    let replies = replies_until(&mut gw_events, "c-2").await;
    assert_eq!(replies.iter().map(|r| (r.id.as_str(), r.code)).collect::<Vec<_>>(), [("c-2", 7)], "code 7 once cancelled, still silence for the stranger");
}

//! Issue 9, item 1: a flood of bulk publishes (discovery requests to 40,000 invented gateways)
//! must not push out the master's duties (acknowledgements, replies, user requests) queued on
//! the same link while it is down or slow. MQTT against the embedded broker, serial on a pipe.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use cems_workbench::protocol::frame::{FrameDecoder, FrameKind};
use cems_workbench::transport::mqtt::MqttConfig;
use cems_workbench::transport::serial::SerialConfig;
use cems_workbench::transport::{LinkConfig, LinkEvent, LinkHandle, LinkState, Message, spawn_link};
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc::Receiver;
use tokio::time::{Instant, timeout};

const BULK: usize = 40_000;
const ESSENTIAL: usize = 20;
const BULK_CAP: usize = 1_000;

/// The flood, in the order an engine would send it: essential publishes spread through it.
fn flood(link: &LinkHandle) {
    for i in 0..BULK {
        if i % (BULK / ESSENTIAL) == 0 {
            let k = i / (BULK / ESSENTIAL);
            link.publish(Message::new(format!("prio/ack/{k}"), format!("ack {k}"), 1, false)).unwrap();
        }
        link.publish_bulk(Message::new(format!("prio/bulk/{i}"), "discovery", 1, false)).unwrap();
    }
}

/// A door in front of the broker: nothing listens on `port` (connection refused) until it opens,
/// then each connection is relayed to the broker.
async fn open_door(port: u16, broker: SocketAddr) {
    let listener = TcpListener::bind(("127.0.0.1", port)).await.expect("door port still free");
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            tokio::spawn(async move {
                let Ok(mut upstream) = TcpStream::connect(broker).await else { return };
                let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
            });
        }
    });
}

async fn wait_up(events: &mut Receiver<LinkEvent>) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match timeout(deadline.saturating_duration_since(Instant::now()), events.recv()).await {
            Ok(Some(LinkEvent::State(LinkState::Up))) => return,
            Ok(Some(_)) => {}
            _ => panic!("link not up within 5 s"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqtt_essential_publishes_survive_a_bulk_flood_while_the_link_is_down() {
    let broker = common::broker().await;
    // The subscriber, in force before the flooder gets through.
    let mut sub_config = MqttConfig::new(broker.url(), "watcher");
    sub_config.subscriptions = vec!["prio/#".into()];
    let (watcher, mut seen) = spawn_link(LinkConfig::Mqtt(sub_config));
    wait_up(&mut seen).await;
    loop {
        watcher.publish(Message::new("prio/probe", "p", 1, false)).unwrap();
        match timeout(Duration::from_millis(300), seen.recv()).await {
            Ok(Some(LinkEvent::Message(m))) if m.topic == "prio/probe" => break,
            Ok(None) => panic!("watcher ended"),
            _ => {}
        }
    }

    // The flooder's broker is away: everything queues.
    let door = common::free_port();
    let (flooder, mut flooder_events) = spawn_link(LinkConfig::Mqtt(MqttConfig::new(format!("mqtt://127.0.0.1:{door}"), "flooder")));
    flood(&flooder);
    common::eventually(Duration::from_secs(10), "the flood to be queued", || flooder.dropped_publishes().bulk as usize == BULK - BULK_CAP).await;
    assert_eq!(flooder.dropped_publishes().essential, 0);
    open_door(door, broker.local_addr()).await;
    wait_up(&mut flooder_events).await;

    let mut order = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    let (mut acks, mut bulk) = (0, 0);
    while (acks < ESSENTIAL || bulk < BULK_CAP) && Instant::now() < deadline {
        match timeout(deadline.saturating_duration_since(Instant::now()), seen.recv()).await {
            Ok(Some(LinkEvent::Message(m))) if m.topic.starts_with("prio/ack/") => {
                acks += 1;
                order.push(m.topic);
            }
            Ok(Some(LinkEvent::Message(m))) if m.topic.starts_with("prio/bulk/") => {
                bulk += 1;
                order.push(m.topic);
            }
            Ok(Some(_)) => {}
            _ => break,
        }
    }
    assert_eq!(acks, ESSENTIAL, "every acknowledgement delivered ({bulk} bulk arrived)");
    assert_eq!(bulk, BULK_CAP, "the newest {BULK_CAP} bulk publishes delivered");
    // Essential ones went first, in the order they were given.
    let expected: Vec<String> = (0..ESSENTIAL).map(|k| format!("prio/ack/{k}")).collect();
    assert_eq!(order[..ESSENTIAL], expected[..]);
    assert_eq!(order[ESSENTIAL], format!("prio/bulk/{}", BULK - BULK_CAP));
    assert_eq!(flooder.dropped_publishes().bulk as usize, BULK - BULK_CAP);
    assert_eq!(flooder.dropped_publishes().essential, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serial_essential_publishes_survive_a_bulk_flood_on_a_slow_port() {
    // A pipe with a tiny buffer nobody reads yet: the link's writer is stuck after a few frames
    // (the ping, the first acknowledgement, a handful of bulk ones), and everything else queues.
    const EARLY: usize = 16;
    let (ours, mut theirs) = tokio::io::duplex(256);
    let (link, _events) = spawn_link(LinkConfig::Serial(SerialConfig::stream(ours)));
    flood(&link);
    common::eventually(Duration::from_secs(10), "the flood to be queued", || link.dropped_publishes().bulk as usize >= BULK - BULK_CAP - EARLY).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let dropped = link.dropped_publishes();
    assert_eq!(dropped.essential, 0);

    let mut decoder = FrameDecoder::new();
    let mut topics = Vec::new();
    let mut buffer = vec![0u8; 64 * 1024];
    // Until the port has been quiet for a second: the queue is drained.
    while let Ok(Ok(n)) = timeout(Duration::from_secs(1), theirs.read(&mut buffer)).await {
        if n == 0 {
            break;
        }
        for frame in decoder.push(&buffer[..n]).into_iter().flatten() {
            if frame.kind == FrameKind::Publish {
                topics.push(frame.topic);
            }
        }
    }
    let acks: Vec<&String> = topics.iter().filter(|t| t.starts_with("prio/ack/")).collect();
    let expected: Vec<String> = (0..ESSENTIAL).map(|k| format!("prio/ack/{k}")).collect();
    assert_eq!(acks, expected.iter().collect::<Vec<_>>(), "every acknowledgement framed, in order ({} frames)", topics.len());
    // Every bulk publish was either framed or counted as dropped, and no more than the cap waited.
    let bulk = topics.iter().filter(|t| t.starts_with("prio/bulk/")).count();
    assert_eq!(bulk + dropped.bulk as usize, BULK, "{bulk} bulk frames, {} dropped", dropped.bulk);
    assert!(bulk <= BULK_CAP + EARLY, "{bulk} bulk frames");
    // The acknowledgements went before the queued bulk frames.
    let last_ack = topics.iter().rposition(|t| t.starts_with("prio/ack/")).unwrap_or(0);
    assert!(last_ack < ESSENTIAL + EARLY, "last acknowledgement at {last_ack}");
    link.close();
}

//! Serial links over pseudo-terminals: real ptys, the real frame codec, short timings where the
//! contract's 5 s / 15 s would only slow the test down.

use std::time::Duration;

use cems_workbench::protocol::frame::{self, Frame, FrameDecoder, FrameKind};
use cems_workbench::transport::serial::{self, SerialConfig, SerialTiming};
use cems_workbench::transport::{LinkEvent, LinkState, Message};
use tokio::io::{AsyncReadExt, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::sync::mpsc::{self, Receiver};
use tokio::time::{Instant, timeout};
use tokio_serial::{SerialPort, SerialStream};

const WAIT: Duration = Duration::from_secs(5);

type Events = Receiver<LinkEvent>;

async fn wait_event(events: &mut Events, within: Duration, wanted: impl Fn(&LinkEvent) -> bool) -> LinkEvent {
    let deadline = Instant::now() + within;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match timeout(left, events.recv()).await {
            Ok(Some(event)) if wanted(&event) => return event,
            Ok(Some(event)) => seen.push(event),
            _ => panic!("event not seen within {within:?}; seen: {seen:?}"),
        }
    }
}

async fn wait_state(events: &mut Events, within: Duration, wanted: impl Fn(&LinkState) -> bool) -> LinkState {
    match wait_event(events, within, |e| matches!(e, LinkEvent::State(s) if wanted(s))).await {
        LinkEvent::State(state) => state,
        _ => unreachable!(),
    }
}

async fn wait_message(events: &mut Events, topic: &str) -> Message {
    match wait_event(events, WAIT, |e| matches!(e, LinkEvent::Message(m) if m.topic == topic)).await {
        LinkEvent::Message(message) => message,
        _ => unreachable!(),
    }
}

fn wire(frame: &Frame) -> Vec<u8> {
    frame::encode(frame).unwrap()
}

/// The test's end of a pty: decoded frames arrive on a channel, raw bytes go out.
struct Peer {
    frames: mpsc::UnboundedReceiver<Frame>,
    writer: WriteHalf<SerialStream>,
    reader: tokio::task::JoinHandle<()>,
}

impl Drop for Peer {
    fn drop(&mut self) {
        // The reader task holds the other half of the pty: stop it so the port really closes.
        self.reader.abort();
    }
}

impl Peer {
    fn new(stream: SerialStream) -> Peer {
        let (mut reader, writer): (ReadHalf<SerialStream>, _) = tokio::io::split(stream);
        let (tx, frames) = mpsc::unbounded_channel();
        let reader = tokio::spawn(async move {
            let mut decoder = FrameDecoder::new();
            let mut buffer = vec![0u8; 4096];
            while let Ok(count) = reader.read(&mut buffer).await {
                if count == 0 {
                    break;
                }
                for frame in decoder.push(&buffer[..count]).into_iter().flatten() {
                    if tx.send(frame).is_err() {
                        return;
                    }
                }
            }
        });
        Peer { frames, writer, reader }
    }

    async fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).await.unwrap();
        self.writer.flush().await.unwrap();
    }

    /// The next frame matching `wanted`, skipping others.
    async fn expect(&mut self, wanted: impl Fn(&Frame) -> bool) -> Frame {
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match timeout(left, self.frames.recv()).await {
                Ok(Some(frame)) if wanted(&frame) => return frame,
                Ok(Some(_)) => {}
                _ => panic!("expected frame not received"),
            }
        }
    }
}

#[tokio::test]
async fn two_links_on_a_pty_pair_exchange_publishes_both_ways() {
    let (master, slave) = SerialStream::pair().unwrap();
    let (workbench, mut wb_events) = serial::spawn(SerialConfig::stream(master));
    let (gateway, mut gw_events) = serial::spawn(SerialConfig::stream(slave));
    // Each side pings on open; the other's ping is the first frame each sees.
    assert_eq!(wait_state(&mut wb_events, WAIT, |_| true).await, LinkState::Connecting { attempt: 1 });
    wait_state(&mut wb_events, Duration::from_secs(2), |s| *s == LinkState::Up).await;
    wait_state(&mut gw_events, Duration::from_secs(2), |s| *s == LinkState::Up).await;

    let status = Message::new("cems/v1/PK01/GW-0001/up/status", r#"{"online":true}"#, 1, true);
    gateway.publish(status.clone()).unwrap();
    let got = wait_message(&mut wb_events, &status.topic).await;
    // Serial carries no QoS or retain flag.
    assert_eq!(got, Message { qos: 0, retain: false, ..status });
    workbench.publish(Message::new("cems/v1/PK01/GW-0001/down/info/get", "{}", 1, false)).unwrap();
    assert_eq!(wait_message(&mut gw_events, "cems/v1/PK01/GW-0001/down/info/get").await.payload, "{}");

    // Large frames both ways at once: neither side may wait for the other to read.
    let big = vec![0x42u8; 60_000];
    for i in 0..20 {
        workbench.publish(Message::new(format!("down/{i}"), big.clone(), 0, false)).unwrap();
        gateway.publish(Message::new(format!("up/{i}"), big.clone(), 0, false)).unwrap();
    }
    assert_eq!(wait_message(&mut gw_events, "down/19").await.payload.len(), big.len());
    assert_eq!(wait_message(&mut wb_events, "up/19").await.payload.len(), big.len());

    // Subscriptions mean nothing on serial and do no harm.
    workbench.subscribe("cems/v1/#").unwrap();
    workbench.close();
    wait_state(&mut wb_events, WAIT, |s| *s == LinkState::Closed).await;
    // The other end loses its port; a stream cannot be reopened, so that link ends too.
    let LinkState::Down { reason } = wait_state(&mut gw_events, WAIT, |s| matches!(s, LinkState::Down { .. })).await
    else {
        unreachable!()
    };
    assert!(reason.contains("stream"), "{reason}");
    wait_state(&mut gw_events, WAIT, |s| *s == LinkState::Closed).await;
}

#[tokio::test]
async fn garbage_between_frames_is_counted_and_skipped() {
    let (master, slave) = SerialStream::pair().unwrap();
    let mut peer = Peer::new(master);
    let (link, mut events) = serial::spawn(SerialConfig::stream(slave));
    // The contract: a workbench opening a port starts with a ping.
    assert_eq!(peer.expect(|_| true).await.kind, FrameKind::Ping);

    let mut bytes = b"\x13\x37garbage\x00".to_vec();
    bytes.extend(wire(&Frame::publish("up/one", b"1".to_vec())));
    bytes.extend(b"\xff\xfe\x00\x00\x00");
    bytes.extend(wire(&Frame::publish("up/two", b"2".to_vec())));
    bytes.extend(wire(&Frame::ping()));
    // Split mid-frame to exercise resynchronisation across reads.
    let (first, second) = bytes.split_at(20);
    peer.send(first).await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    peer.send(second).await;

    wait_state(&mut events, WAIT, |s| *s == LinkState::Up).await;
    assert_eq!(wait_message(&mut events, "up/one").await.payload, "1");
    assert_eq!(wait_message(&mut events, "up/two").await.payload, "2");
    wait_event(&mut events, WAIT, |e| *e == LinkEvent::FramesDropped { total: 2 }).await;
    // Every ping is answered.
    peer.expect(|f| f.kind == FrameKind::Pong).await;

    // Too big for a frame once topic and header are counted: dropped and reported as an event
    // naming the topic; the link carries on. The largest payload that fits goes through.
    let fits = serial::max_payload_bytes("down/huge");
    assert_eq!(fits, frame::MAX_FRAME_LEN - 7 - "down/huge".len());
    link.publish(Message::new("down/huge", vec![1u8; fits + 1], 0, false)).unwrap();
    link.publish(Message::new("down/small", "ok", 0, false)).unwrap();
    let dropped = wait_event(&mut events, WAIT, |e| matches!(e, LinkEvent::PublishDropped { .. })).await;
    let LinkEvent::PublishDropped { topic, reason } = dropped else { unreachable!() };
    assert_eq!(topic, "down/huge");
    assert!(reason.contains(&format!("at most {}", frame::MAX_FRAME_LEN)), "{reason}");
    let next = peer.expect(|f| f.kind == FrameKind::Publish).await;
    assert_eq!((next.topic.as_str(), next.payload.as_slice()), ("down/small", b"ok".as_slice()));
    link.publish(Message::new("down/huge", vec![1u8; fits], 0, false)).unwrap();
    let next = peer.expect(|f| f.kind == FrameKind::Publish).await;
    assert_eq!((next.topic.as_str(), next.payload.len()), ("down/huge", fits));

    peer.send(b"\x05\x00").await;
    wait_event(&mut events, WAIT, |e| *e == LinkEvent::FramesDropped { total: 3 }).await;
}

#[tokio::test]
async fn silence_takes_the_link_down_and_a_frame_brings_it_back() {
    let (master, slave) = SerialStream::pair().unwrap();
    let mut peer = Peer::new(master);
    let mut config = SerialConfig::stream(slave);
    config.timing = SerialTiming {
        ping_after: Duration::from_millis(150),
        down_after: Duration::from_millis(500),
        reopen_every: Duration::from_secs(1),
    };
    let (_link, mut events) = serial::spawn(config);
    let started = Instant::now();
    let down = wait_state(&mut events, Duration::from_secs(2), |s| matches!(s, LinkState::Down { .. })).await;
    assert_eq!(down, LinkState::Down { reason: "no frame for 0.5 s".into() });
    assert!(started.elapsed() >= Duration::from_millis(500));
    // The port stays open and keeps pinging: the opening ping plus one per silent 150 ms.
    for _ in 0..4 {
        peer.expect(|f| f.kind == FrameKind::Ping).await;
    }
    peer.send(&wire(&Frame::pong())).await;
    wait_state(&mut events, Duration::from_secs(1), |s| *s == LinkState::Up).await;
}

#[tokio::test]
async fn a_device_path_is_opened_and_reopened_after_it_vanishes() {
    let dir = tempfile::tempdir().unwrap();
    let port_path = dir.path().join("ttyGATEWAY");
    let port = port_path.to_str().unwrap().to_string();

    let (master, slave) = SerialStream::pair().unwrap();
    std::os::unix::fs::symlink(slave.name().unwrap(), &port_path).unwrap();
    let mut peer = Peer::new(master);
    let mut config = SerialConfig::path(&port);
    config.timing.reopen_every = Duration::from_millis(200);
    let (link, mut events) = serial::spawn(config);
    assert_eq!(link.label, port);

    assert_eq!(peer.expect(|_| true).await.kind, FrameKind::Ping);
    peer.send(&wire(&Frame::publish("cems/v1/PK01/GW-0001/up/status", b"{}".to_vec()))).await;
    wait_state(&mut events, WAIT, |s| *s == LinkState::Up).await;
    wait_message(&mut events, "cems/v1/PK01/GW-0001/up/status").await;
    link.publish(Message::new("cems/v1/PK01/GW-0001/down/info/get", "{}", 1, false)).unwrap();
    let frame = peer.expect(|f| f.kind == FrameKind::Publish).await;
    assert_eq!(frame.topic, "cems/v1/PK01/GW-0001/down/info/get");

    // Unplug: the pty disappears with its master, and its name with it (as udev removes a
    // /dev/serial/by-id link). Removing the link also keeps the pty number, which another test
    // process may reuse at once, out of reach.
    std::fs::remove_file(&port_path).unwrap();
    drop(peer);
    drop(slave);
    let LinkState::Down { reason } = wait_state(&mut events, WAIT, |s| matches!(s, LinkState::Down { .. })).await
    else {
        unreachable!()
    };
    assert!(reason.contains(&port), "{reason}");
    let LinkState::Down { reason } = wait_state(&mut events, WAIT, |s| matches!(s, LinkState::Down { .. })).await
    else {
        unreachable!()
    };
    assert_eq!(reason, format!("cannot open {port}: No such file or directory"));

    // Plug back in (a new pty behind the same path): the link reopens it and pings again.
    let (master, slave) = SerialStream::pair().unwrap();
    std::os::unix::fs::symlink(slave.name().unwrap(), &port_path).unwrap();
    let mut peer = Peer::new(master);
    let LinkState::Connecting { attempt } =
        wait_state(&mut events, WAIT, |s| matches!(s, LinkState::Connecting { .. })).await
    else {
        unreachable!()
    };
    assert!(attempt >= 3, "attempt {attempt}");
    peer.expect(|f| f.kind == FrameKind::Ping).await;
    peer.send(&wire(&Frame::ping())).await;
    wait_state(&mut events, WAIT, |s| *s == LinkState::Up).await;
    peer.expect(|f| f.kind == FrameKind::Pong).await;
    drop(slave);

    link.close();
    wait_state(&mut events, WAIT, |s| *s == LinkState::Closed).await;
}

#[tokio::test]
async fn a_missing_device_is_down_with_its_path() {
    let (link, mut events) = serial::spawn(SerialConfig::path("/dev/ttyCEMS-missing"));
    let started = Instant::now();
    let down = wait_state(&mut events, Duration::from_secs(1), |s| matches!(s, LinkState::Down { .. })).await;
    assert_eq!(down, LinkState::Down { reason: "cannot open /dev/ttyCEMS-missing: No such file or directory".into() });
    assert!(started.elapsed() < Duration::from_secs(1));
    // Publishes wait (bounded) for the port; closing while waiting ends the link.
    link.publish(Message::new("t", "queued", 0, false)).unwrap();
    wait_state(&mut events, Duration::from_secs(2), |s| *s == LinkState::Connecting { attempt: 2 }).await;
    link.close();
    wait_state(&mut events, Duration::from_secs(2), |s| *s == LinkState::Closed).await;
}

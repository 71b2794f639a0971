//! Serial link (contract §10): (topic, payload) pairs as COBS frames on a byte stream, with
//! ping/pong liveness instead of a broker.
//!
//! On open the link sends a ping. It is `Up` once a frame arrives, `Down` after a silence of
//! 15 s (the port stays open and pinging) or when the port fails; a device path is then reopened
//! every second. Reading and writing run side by side: two links writing large frames at each
//! other must not wait on each other's reads. Frames wait in two lanes, essential before bulk,
//! as on MQTT (see `lane.rs`).

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_serial::SerialPortBuilderExt;
use tracing::{debug, info, warn};

use super::lane::{Lane, Priority};
use super::link::{
    LINK_EVENT_CAPACITY, LinkCommand, LinkCounters, LinkEvent, LinkHandle, LinkKind, LinkState, MAX_PENDING_BULK,
    MAX_PENDING_BULK_BYTES, MAX_PENDING_ESSENTIAL, MAX_PENDING_ESSENTIAL_BYTES, Message,
};
use crate::protocol::frame::{self, Frame, FrameDecoder, FrameKind};
pub use crate::protocol::port::Parity;

/// Bytes a publish frame adds to its topic and payload: type (1), topic length (2), CRC (4).
pub const FRAME_OVERHEAD_BYTES: usize = 7;

/// The largest payload that fits one frame with `topic` (contract §10: a decoded frame is at
/// most `MAX_FRAME_LEN` bytes, header, topic and CRC included).
pub fn max_payload_bytes(topic: &str) -> usize {
    frame::MAX_FRAME_LEN.saturating_sub(FRAME_OVERHEAD_BYTES + topic.len())
}

/// Line settings; the contract's default is 115200 8N1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SerialSettings {
    pub baud: u32,
    pub data_bits: u8,
    pub parity: Parity,
    pub stop_bits: u8,
}

impl Default for SerialSettings {
    fn default() -> Self {
        SerialSettings { baud: 115_200, data_bits: 8, parity: Parity::None, stop_bits: 1 }
    }
}

/// Liveness timing; the defaults are the contract's (§10). Tests shorten them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SerialTiming {
    /// Send a ping after this long without receiving anything.
    pub ping_after: Duration,
    /// The link is down after this long without a frame.
    pub down_after: Duration,
    /// How often a vanished device path is tried again.
    pub reopen_every: Duration,
}

impl Default for SerialTiming {
    fn default() -> Self {
        SerialTiming {
            ping_after: Duration::from_secs(5),
            down_after: Duration::from_secs(15),
            reopen_every: Duration::from_secs(1),
        }
    }
}

/// Anything a serial link can run on: a port, a pty, one end of an in-memory pipe.
pub trait SerialIo: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> SerialIo for T {}

/// A ready-made stream, handed to the first link that takes it (tests, ports opened elsewhere).
#[derive(Clone)]
pub struct StreamSlot(Arc<Mutex<Option<Box<dyn SerialIo>>>>);

impl StreamSlot {
    pub fn new(stream: impl SerialIo + 'static) -> StreamSlot {
        StreamSlot(Arc::new(Mutex::new(Some(Box::new(stream)))))
    }

    fn take(&self) -> Option<Box<dyn SerialIo>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).take()
    }
}

impl fmt::Debug for StreamSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ready = self.0.lock().unwrap_or_else(PoisonError::into_inner).is_some();
        f.write_str(if ready { "StreamSlot(ready)" } else { "StreamSlot(taken)" })
    }
}

/// Where the bytes come from.
#[derive(Debug, Clone)]
pub enum SerialSource {
    /// Open the device at `SerialConfig::path`, and reopen it when it vanishes.
    Device,
    /// Use this stream once; when it fails the link ends.
    Stream(StreamSlot),
}

#[derive(Debug, Clone)]
pub struct SerialConfig {
    /// Device path (`/dev/ttyUSB0`, `COM3`); for a stream source, only a label.
    pub path: String,
    pub settings: SerialSettings,
    pub source: SerialSource,
    pub timing: SerialTiming,
}

impl SerialConfig {
    /// A device at `path`, 115200 8N1.
    pub fn path(path: impl Into<String>) -> SerialConfig {
        SerialConfig {
            path: path.into(),
            settings: SerialSettings::default(),
            source: SerialSource::Device,
            timing: SerialTiming::default(),
        }
    }

    /// A ready stream (a pty in tests); `path` is set to `"stream"` as a label.
    pub fn stream(stream: impl SerialIo + 'static) -> SerialConfig {
        SerialConfig {
            path: "stream".into(),
            settings: SerialSettings::default(),
            source: SerialSource::Stream(StreamSlot::new(stream)),
            timing: SerialTiming::default(),
        }
    }
}

/// Starts a serial link task on the current tokio runtime.
pub fn spawn(config: SerialConfig) -> (LinkHandle, mpsc::Receiver<LinkEvent>) {
    let (command_tx, command_rx) = mpsc::unbounded_channel();
    let (event_tx, event_rx) = mpsc::channel(LINK_EVENT_CAPACITY);
    let label = config.path.clone();
    let counters = Arc::new(LinkCounters::default());
    tokio::spawn(run(config, command_rx, event_tx, counters.clone()));
    (LinkHandle::new(LinkKind::Serial, label, command_tx, counters), event_rx)
}

/// Why a port could not be had.
enum OpenError {
    /// May work later (device unplugged, busy).
    Retry(String),
    /// Never will (bad settings, a stream already used).
    Fatal(String),
}

enum SessionEnd {
    Closed,
    Lost(String),
}

type Writing = Pin<Box<dyn Future<Output = (WriteHalf<Box<dyn SerialIo>>, io::Result<()>)> + Send>>;

/// How long `Close` waits for queued frames to go out.
const CLOSE_FLUSH: Duration = Duration::from_secs(2);
const READ_BUFFER_BYTES: usize = 8 * 1024;

impl SerialLink {
    fn new(
        path: String,
        timing: SerialTiming,
        commands: mpsc::UnboundedReceiver<LinkCommand>,
        events: mpsc::Sender<LinkEvent>,
        counters: Arc<LinkCounters>,
    ) -> SerialLink {
        SerialLink {
            path,
            timing,
            events,
            commands,
            commands_open: true,
            essential: Lane::new(MAX_PENDING_ESSENTIAL, MAX_PENDING_ESSENTIAL_BYTES),
            bulk: Lane::new(MAX_PENDING_BULK, MAX_PENDING_BULK_BYTES),
            counters,
            dropped_frames: 0,
            ping_pending: false,
            pong_pending: false,
        }
    }
}

async fn run(
    config: SerialConfig,
    commands: mpsc::UnboundedReceiver<LinkCommand>,
    events: mpsc::Sender<LinkEvent>,
    counters: Arc<LinkCounters>,
) {
    let mut link = SerialLink::new(config.path.clone(), config.timing, commands, events, counters);
    let mut attempt: u32 = 0;
    loop {
        attempt = attempt.saturating_add(1);
        link.emit_state(LinkState::Connecting { attempt }).await;
        let opened = match &config.source {
            SerialSource::Device => open_device(&config.path, &config.settings),
            SerialSource::Stream(slot) => slot.take().ok_or_else(|| {
                OpenError::Fatal(format!("{}: the stream was already used by another link", config.path))
            }),
        };
        match opened {
            Ok(stream) => match link.session(stream).await {
                SessionEnd::Closed => break,
                SessionEnd::Lost(reason) => {
                    info!(port = %link.path, "{reason}");
                    link.emit_state(LinkState::Down { reason }).await;
                    if matches!(config.source, SerialSource::Stream(_)) {
                        break;
                    }
                }
            },
            Err(OpenError::Fatal(reason)) => {
                warn!(port = %link.path, "{reason}");
                link.emit_state(LinkState::Down { reason }).await;
                break;
            }
            Err(OpenError::Retry(reason)) => {
                debug!(port = %link.path, "{reason}");
                link.emit_state(LinkState::Down { reason }).await;
            }
        }
        if !link.wait_offline(config.timing.reopen_every).await {
            break;
        }
    }
    // Refuse commands before saying Closed, so that a handle fails as soon as it is reported.
    link.commands.close();
    link.emit_state(LinkState::Closed).await;
}

fn open_device(path: &str, settings: &SerialSettings) -> Result<Box<dyn SerialIo>, OpenError> {
    let bad = |what: String| OpenError::Fatal(format!("bad settings for {path}: {what}"));
    let data_bits = match settings.data_bits {
        5 => tokio_serial::DataBits::Five,
        6 => tokio_serial::DataBits::Six,
        7 => tokio_serial::DataBits::Seven,
        8 => tokio_serial::DataBits::Eight,
        other => return Err(bad(format!("{other} data bits, expected 5 to 8"))),
    };
    let stop_bits = match settings.stop_bits {
        1 => tokio_serial::StopBits::One,
        2 => tokio_serial::StopBits::Two,
        other => return Err(bad(format!("{other} stop bits, expected 1 or 2"))),
    };
    if settings.baud == 0 {
        return Err(bad("baud rate 0".into()));
    }
    let parity = match settings.parity {
        Parity::None => tokio_serial::Parity::None,
        Parity::Odd => tokio_serial::Parity::Odd,
        Parity::Even => tokio_serial::Parity::Even,
        other => return Err(bad(format!("{other} parity: the serial drivers offer none, odd and even"))),
    };
    tokio_serial::new(path, settings.baud)
        .data_bits(data_bits)
        .parity(parity)
        .stop_bits(stop_bits)
        .flow_control(tokio_serial::FlowControl::None)
        .open_native_async()
        .map(|stream| Box::new(stream) as Box<dyn SerialIo>)
        .map_err(|e| OpenError::Retry(format!("cannot open {path}: {e}")))
}

/// An encoded publish frame and its topic (to name it if it is dropped).
struct Queued {
    topic: String,
    frame: Vec<u8>,
}

struct SerialLink {
    path: String,
    timing: SerialTiming,
    events: mpsc::Sender<LinkEvent>,
    commands: mpsc::UnboundedReceiver<LinkCommand>,
    commands_open: bool,
    /// Encoded publish frames waiting for the port, essential ones first (`MAX_PENDING_*`).
    essential: Lane<Queued>,
    bulk: Lane<Queued>,
    counters: Arc<LinkCounters>,
    /// Bad frames since the link started, over all sessions.
    dropped_frames: u64,
    /// Control frames go out before queued publishes; one of each is enough.
    ping_pending: bool,
    pong_pending: bool,
}

impl SerialLink {
    async fn emit(&self, event: LinkEvent) {
        // Nobody listening is not an error: a handle may be used only to publish.
        let _ = self.events.send(event).await;
    }

    async fn emit_state(&self, state: LinkState) {
        debug!(port = %self.path, ?state, "serial link state");
        self.emit(LinkEvent::State(state)).await;
    }

    /// Waits while the port is closed, queueing publishes; false when the link is to close.
    async fn wait_offline(&mut self, duration: Duration) -> bool {
        let sleep = tokio::time::sleep(duration);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                _ = &mut sleep => return true,
                command = self.commands.recv(), if self.commands_open => match command {
                    Some(LinkCommand::Publish(message)) => self.enqueue(message, Priority::Essential).await,
                    Some(LinkCommand::PublishBulk(message)) => self.enqueue(message, Priority::Bulk).await,
                    Some(LinkCommand::Subscribe(_) | LinkCommand::Unsubscribe(_) | LinkCommand::Replay(_)) => {}
                    Some(LinkCommand::Close) => return false,
                    None => {
                        self.commands_open = false;
                        return false;
                    }
                },
            }
        }
    }

    /// Queues a publish as an encoded frame in its lane. One that cannot be framed (too large,
    /// topic too long) is dropped and reported, so the sender learns it will never arrive; so is
    /// an essential one pushed out by the essential caps. Bulk ones pushed out are counted.
    async fn enqueue(&mut self, message: Message, priority: Priority) {
        let frame = Frame::publish(message.topic, message.payload.to_vec());
        let bytes = match frame::encode(&frame) {
            Ok(bytes) => bytes,
            Err(e) => {
                let reason = format!("not sent over {}: {e}", self.path);
                warn!(port = %self.path, "dropping a publish to {}: {reason}", frame.topic);
                self.emit(LinkEvent::PublishDropped { topic: frame.topic, reason }).await;
                return;
            }
        };
        let size = bytes.len();
        let queued = Queued { topic: frame.topic, frame: bytes };
        match priority {
            Priority::Bulk => {
                let dropped = self.bulk.push_back(queued, size).len() as u64;
                if dropped > 0 {
                    let before = self.counters.get().bulk;
                    self.counters.add_bulk(dropped);
                    // Once, then every 1000: a long outage or a flood must not flood the log.
                    if before.is_multiple_of(1000) {
                        warn!(port = %self.path, "more than {MAX_PENDING_BULK} bulk publishes pending: dropped the oldest ({} dropped so far)", before + dropped);
                    }
                }
            }
            Priority::Essential => {
                let dropped = self.essential.push_back(queued, size);
                self.counters.add_essential(dropped.len() as u64);
                for old in dropped {
                    let reason = format!(
                        "more than {MAX_PENDING_ESSENTIAL} essential publishes (or {} MiB) waiting for {}: dropped the oldest",
                        MAX_PENDING_ESSENTIAL_BYTES / (1024 * 1024),
                        self.path
                    );
                    warn!(port = %self.path, "dropping a publish to {}: {reason}", old.topic);
                    self.emit(LinkEvent::PublishDropped { topic: old.topic, reason }).await;
                }
            }
        }
    }

    fn next_frame(&mut self) -> Option<Vec<u8>> {
        let control = if self.pong_pending {
            self.pong_pending = false;
            Some(Frame::pong())
        } else if self.ping_pending {
            self.ping_pending = false;
            Some(Frame::ping())
        } else {
            None
        };
        match control {
            // Ping and pong always encode; an error here would be a codec bug, so skip the frame.
            Some(frame) => frame::encode(&frame).ok(),
            None => self.essential.pop_front().or_else(|| self.bulk.pop_front()).map(|q| q.frame),
        }
    }

    /// Runs one open port until it fails or the link closes.
    async fn session(&mut self, stream: Box<dyn SerialIo>) -> SessionEnd {
        let (mut reader, writer): (ReadHalf<Box<dyn SerialIo>>, _) = tokio::io::split(stream);
        let mut writer = Some(writer);
        let mut writing: Option<Writing> = None;
        let mut decoder = FrameDecoder::new();
        let dropped_before = self.dropped_frames;
        let mut buffer = vec![0u8; READ_BUFFER_BYTES];
        let opened = Instant::now();
        let mut last_frame = opened;
        let mut last_ping = opened;
        // Up: a frame arrived since the open or since the last silence.
        let mut up = false;
        let mut silent = false;
        let mut closing: Option<Instant> = None;
        // The contract: a workbench opening a port starts with a ping.
        self.ping_pending = true;
        self.pong_pending = false;
        loop {
            // The write half is in `writer` exactly when no write is under way.
            if writer.is_some()
                && let Some(bytes) = self.next_frame()
                && let Some(mut half) = writer.take()
            {
                writing = Some(Box::pin(async move {
                    let result = async {
                        half.write_all(&bytes).await?;
                        half.flush().await
                    }
                    .await;
                    (half, result)
                }));
            }
            if let Some(deadline) = closing
                && (writing.is_none() || Instant::now() >= deadline)
            {
                return SessionEnd::Closed;
            }
            let ping_due = last_frame.max(last_ping) + self.timing.ping_after;
            let down_due = last_frame + self.timing.down_after;
            let mut wake = if silent { ping_due } else { ping_due.min(down_due) };
            if let Some(deadline) = closing {
                wake = wake.min(deadline);
            }
            tokio::select! {
                (half, result) = wait_for(&mut writing) => {
                    writing = None;
                    if let Err(e) = result {
                        return SessionEnd::Lost(format!("write error on {}: {e}", self.path));
                    }
                    writer = Some(half);
                }
                read = reader.read(&mut buffer) => {
                    let count = match read {
                        Ok(0) => return SessionEnd::Lost(format!("{} closed (end of stream)", self.path)),
                        Ok(count) => count,
                        Err(e) => return SessionEnd::Lost(format!("read error on {}: {e}", self.path)),
                    };
                    for result in decoder.push(buffer.get(..count).unwrap_or_default()) {
                        let frame = match result {
                            Ok(frame) => frame,
                            Err(e) => {
                                debug!(port = %self.path, "dropped a bad frame: {e}");
                                continue;
                            }
                        };
                        last_frame = Instant::now();
                        if !up {
                            up = true;
                            silent = false;
                            self.emit_state(LinkState::Up).await;
                        }
                        match frame.kind {
                            FrameKind::Ping => self.pong_pending = true,
                            FrameKind::Pong => {}
                            FrameKind::Publish => {
                                let message = Message::new(frame.topic, frame.payload, 0, false);
                                self.emit(LinkEvent::Message(message)).await;
                            }
                        }
                    }
                    let total = dropped_before + decoder.dropped();
                    if total > self.dropped_frames {
                        self.dropped_frames = total;
                        self.emit(LinkEvent::FramesDropped { total }).await;
                    }
                }
                command = self.commands.recv(), if self.commands_open && closing.is_none() => match command {
                    Some(LinkCommand::Publish(message)) => self.enqueue(message, Priority::Essential).await,
                    Some(LinkCommand::PublishBulk(message)) => self.enqueue(message, Priority::Bulk).await,
                    // No subscriptions on serial: each side sends everything meant for the other.
                    Some(LinkCommand::Subscribe(_) | LinkCommand::Unsubscribe(_) | LinkCommand::Replay(_)) => {}
                    Some(LinkCommand::Close) => closing = Some(Instant::now() + CLOSE_FLUSH),
                    None => {
                        self.commands_open = false;
                        closing = Some(Instant::now() + CLOSE_FLUSH);
                    }
                },
                _ = tokio::time::sleep_until(wake) => {
                    let now = Instant::now();
                    if !silent && now >= down_due {
                        silent = true;
                        up = false;
                        let reason = format!("no frame for {}", seconds(self.timing.down_after));
                        info!(port = %self.path, "{reason}");
                        self.emit_state(LinkState::Down { reason }).await;
                    }
                    if now >= ping_due {
                        self.ping_pending = true;
                        last_ping = now;
                    }
                }
            }
        }
    }
}

/// Awaits the write in progress, or never when there is none.
async fn wait_for(writing: &mut Option<Writing>) -> (WriteHalf<Box<dyn SerialIo>>, io::Result<()>) {
    match writing {
        Some(future) => future.await,
        None => std::future::pending().await,
    }
}

/// `15 s`, or `0.5 s` for the short timings of tests.
fn seconds(duration: Duration) -> String {
    if duration.subsec_millis() == 0 {
        format!("{} s", duration.as_secs())
    } else {
        format!("{:.1} s", duration.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_the_contract() {
        assert_eq!(seconds(Duration::from_secs(15)), "15 s");
        assert_eq!(seconds(Duration::from_millis(500)), "0.5 s");
    }

    #[test]
    fn bad_settings_are_fatal_and_name_the_port() {
        for settings in [
            SerialSettings { data_bits: 9, ..SerialSettings::default() },
            SerialSettings { stop_bits: 3, ..SerialSettings::default() },
            SerialSettings { baud: 0, ..SerialSettings::default() },
        ] {
            let Err(OpenError::Fatal(reason)) = open_device("/dev/ttyX9", &settings) else {
                panic!("{settings:?} accepted");
            };
            assert!(reason.contains("/dev/ttyX9"), "{reason}");
        }
    }

    #[tokio::test]
    async fn a_missing_device_names_the_path() {
        let Err(OpenError::Retry(reason)) = open_device("/dev/does-not-exist", &SerialSettings::default()) else {
            panic!("opened a missing device");
        };
        assert_eq!(reason, "cannot open /dev/does-not-exist: No such file or directory");
    }

    #[tokio::test]
    async fn pending_publishes_are_capped_and_oversized_ones_dropped() {
        let (_tx, commands) = mpsc::unbounded_channel();
        let (events, mut rx) = mpsc::channel(1);
        let counters = Arc::new(LinkCounters::default());
        let mut link = SerialLink::new("p".into(), SerialTiming::default(), commands, events, counters.clone());
        // The largest payload that fits goes; one byte more is dropped and reported.
        link.enqueue(Message::new("t", vec![1u8; max_payload_bytes("t")], 0, false), Priority::Essential).await;
        assert_eq!(link.essential.len(), 1);
        assert!(rx.try_recv().is_err());
        link.enqueue(Message::new("t", vec![1u8; max_payload_bytes("t") + 1], 0, false), Priority::Essential).await;
        assert_eq!(link.essential.len(), 1);
        let Ok(LinkEvent::PublishDropped { topic, reason }) = rx.try_recv() else { panic!("no drop reported") };
        assert_eq!(topic, "t");
        assert!(reason.contains("65537 bytes decoded, at most 65536"), "{reason}");
        link.essential.clear();
        link.enqueue(Message::new("ack", "a", 0, false), Priority::Essential).await;
        for i in 0..(MAX_PENDING_BULK + 5) {
            link.enqueue(Message::new("t", i.to_string(), 0, false), Priority::Bulk).await;
        }
        assert_eq!((link.essential.len(), link.bulk.len()), (1, MAX_PENDING_BULK));
        assert_eq!(counters.get().bulk, 5);
        // Essential first, then the oldest bulk frame kept.
        assert_eq!(link.next_frame(), frame::encode(&Frame::publish("ack", b"a".to_vec())).ok());
        assert_eq!(link.next_frame(), frame::encode(&Frame::publish("t", b"5".to_vec())).ok());
        link.pong_pending = true;
        assert_eq!(link.next_frame(), frame::encode(&Frame::pong()).ok());
    }
}

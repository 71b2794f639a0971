//! rumqttd 0.20 logs `no-connection id N is already gone` at ERROR each time its router meets a
//! connection that has just left (15,192 lines in one busy run). It is harmless: the router
//! drops the stale notification and goes on. This layer keeps those lines off stderr and counts
//! them; the broker says the count at debug level now and then ([`say_count`], from its own task:
//! an event raised inside a layer is not dispatched), so a flood of short-lived clients does not
//! drown real errors.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer};

/// How many of those lines were kept off the log since the process started.
static STALE_CONNECTION_NOTICES: AtomicU64 = AtomicU64::new(0);
/// The count when [`say_count`] last said it.
static SAID: AtomicU64 = AtomicU64::new(0);

/// The count so far (for tests and the broker's status).
pub fn stale_connection_notices() -> u64 {
    STALE_CONNECTION_NOTICES.load(Ordering::Relaxed)
}

/// One debug line with the count, when it grew since the last.
pub fn say_count() {
    let n = stale_connection_notices();
    let said = SAID.swap(n, Ordering::Relaxed);
    if n > said {
        tracing::debug!(target: "cems_workbench::broker", "the embedded broker met a connection that had already left {} times ({n} in all; harmless, not logged each time)", n - said);
    }
}

/// The layer to add to the process's subscriber.
#[derive(Debug, Default, Clone, Copy)]
pub struct BrokerNoise;

#[derive(Default)]
struct Message(String);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.push_str(value);
        }
    }
}

/// True for rumqttd's harmless stale-connection line.
fn is_stale_connection_notice(event: &Event<'_>) -> bool {
    let meta = event.metadata();
    if *meta.level() != Level::ERROR || !meta.target().starts_with("rumqttd::router") {
        return false;
    }
    let mut message = Message::default();
    event.record(&mut message);
    message.0.starts_with("no-connection id ") && message.0.ends_with(" is already gone")
}

impl<S: Subscriber> Layer<S> for BrokerNoise {
    fn event_enabled(&self, event: &Event<'_>, _ctx: Context<'_, S>) -> bool {
        if !is_stale_connection_notice(event) {
            return true;
        }
        STALE_CONNECTION_NOTICES.fetch_add(1, Ordering::Relaxed);
        false
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::layer::SubscriberExt;

    use super::*;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_stale_connection_flood_is_counted_and_said_once_real_errors_pass() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::registry()
            .with(BrokerNoise)
            .with(tracing_subscriber::fmt::layer().with_writer(move || writer.clone()).with_ansi(false))
            .with(tracing_subscriber::filter::LevelFilter::DEBUG);
        let before = stale_connection_notices();
        tracing::subscriber::with_default(subscriber, || {
            for id in 0..1_500 {
                tracing::error!(target: "rumqttd::router::routing", "no-connection id {} is already gone", id);
            }
            tracing::error!(target: "rumqttd::router::routing", "no space for new connection");
            say_count();
            say_count();
        });
        let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        assert!(!text.contains("is already gone"), "{text}");
        assert!(text.contains("no space for new connection"), "a real error still shows: {text}");
        let summaries: Vec<&str> = text.lines().filter(|l| l.contains("had already left")).collect();
        assert_eq!(summaries.len(), 1, "said once, not again while the count stands: {text}");
        assert!(summaries[0].contains("DEBUG"), "{text}");
        assert!(stale_connection_notices() >= before + 1_500);
    }
}

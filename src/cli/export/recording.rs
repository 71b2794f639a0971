//! Exporting from a recording: its messages decoded as the engine decodes them (topic profile,
//! envelope, payload) into series by the one extraction ([`feed_payload`] over `samples_of`),
//! and its gateways' `status`/`info` into a gateway table for the headers; or a range cut as MCAP.

use std::collections::BTreeSet;
use std::ops::ControlFlow;
use std::path::Path;
use std::process::ExitCode;

use serde_json::json;

use super::Collected;
use crate::engine::recording::{RecordedMessage, cut, read_messages};
use crate::engine::series::feed::feed_payload;
use crate::engine::series::{SeriesLimits, SeriesStore, iso_utc_ms};
use crate::engine::{GatewayKey, Gateways};
use crate::protocol::codes;
use crate::protocol::envelope::{Envelope, parse_envelope};
use crate::protocol::payload;
use crate::protocol::topic::{Dir, TopicProfile};

/// `--out FILE.mcap`: the messages received in [from_ms, to_ms] as a complete, smaller MCAP.
pub fn cut_to(input: &Path, out: &Path, from_ms: i64, to_ms: i64) -> ExitCode {
    match cut(input, from_ms, to_ms, out) {
        Ok(report) => {
            if let Some(damage) = &report.damage {
                eprintln!("warning: {}: {damage}; the export holds what came before", input.display());
            }
            let line = json!({
                "out": out.display().to_string(),
                "messages": report.messages,
                "bytes": report.bytes,
                "from": iso_utc_ms(from_ms),
                "to": iso_utc_ms(to_ms),
                "fromMs": from_ms,
                "toMs": to_ms,
                "damage": report.damage,
            });
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Every point and meter series of the recording (only the `wanted` labels when any are
/// given); the range is applied when the CSV is written.
pub fn collect(input: &Path, wanted: &BTreeSet<String>) -> Result<Collected, String> {
    let profile = TopicProfile::builtin();
    let limits = SeriesLimits { retention_ms: i64::MAX, max_samples: usize::MAX, total_bytes: usize::MAX };
    let mut store = SeriesStore::new(limits);
    let mut gateways = Gateways::new();
    let report = read_messages(input, |message| {
        decode_into(&profile, &message, &mut store, &mut gateways);
        ControlFlow::Continue(())
    })
    .map_err(|e| e.to_string())?;
    if let Some(damage) = &report.damage {
        eprintln!("warning: {}: {damage}; exporting what came before", input.display());
    }
    let keys: Vec<_> = store.keys().filter(|k| k.gateway().is_some() && (wanted.is_empty() || wanted.contains(&k.label()))).cloned().collect();
    let columns = keys.into_iter().filter_map(|key| Some((key.clone(), store.get(&key)?.clone()))).collect();
    Ok(Collected { columns, gateways })
}

/// One recorded message into the series and the gateway table: uplink reports, and replies
/// that succeeded (a recording has no pending requests to match them to, so every successful
/// reply counts, as a listener sees them).
fn decode_into(profile: &TopicProfile, message: &RecordedMessage, store: &mut SeriesStore, gateways: &mut Gateways) {
    let Ok(topic) = profile.parse(&message.topic) else { return };
    if topic.dir != Dir::Up {
        return;
    }
    let data = match parse_envelope(&message.payload) {
        Ok(Envelope::Request(request)) if !topic.reply => request.data,
        Ok(Envelope::Reply(reply)) if topic.reply && reply.code == codes::OK => reply.data,
        _ => return,
    };
    let Ok(typed) = payload::decode(&topic.class, &topic.action, topic.reply, &data).typed else { return };
    feed_payload(store, &topic.pk, &topic.dev, &typed);
    let key = GatewayKey { pk: topic.pk.clone(), dev: topic.dev.clone() };
    // A recording may start after the gateway announced itself: every gateway with data gets a
    // row here, so its sub-devices' points name their models in the headers.
    if gateways.get(&key).is_none() {
        gateways.announce(&key, 0, message.log_ms);
    }
    gateways.apply(&key, typed, message.log_ms);
}

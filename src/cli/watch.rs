//! `watch`: every message on a link, one JSON object per line. A CEMS message whose `data` the
//! product models describe gains `"notes": {"<JSON pointer into the line>": "<text>"}`.

use std::collections::HashMap;
use std::io::Write;
use std::process::ExitCode;

use bytes::Bytes;
use serde_json::{Map, Value, json};

use crate::config::link_args::LinkArgs;
use crate::config::models::ModelArgs;
use crate::engine::store::StoreLimits;
use crate::engine::{EngineCommand, EngineConfig, EngineEvent};
use crate::protocol::envelope::{Envelope, parse_envelope_value};
use crate::protocol::model::describe::{DataNote, DataRef, describe_data};
use crate::protocol::model::matching::GatewayModels;
use crate::protocol::model::{Lang, ModelSet};
use crate::protocol::payload::{Payload, SubRef, decode};
use crate::protocol::topic::TopicProfile;
use crate::protocol::topic_filter::check_filter;
use crate::transport::{LinkState, Message, Subscription};

use super::session::{CliSession, models_for_command, runtime};

/// The JSON line printed for one message: payload parsed as JSON, else as text.
pub fn message_line(message: &Message, received_ms: i64) -> Value {
    json!({
        "topic": message.topic,
        "qos": message.qos,
        "retain": message.retain,
        "ts": received_ms,
        "payload": payload_value(&message.payload),
    })
}

fn payload_value(payload: &Bytes) -> Value {
    serde_json::from_slice::<Value>(payload).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(payload).into_owned()))
}

/// Notes as a `notes` object, each pointer prefixed with where the envelope sits in the printed
/// line (`/payload` for `watch`, "" for `call`); `None` when there is nothing to say, so a line
/// without notes keeps its old shape.
pub fn notes_value(notes: Vec<DataNote>, prefix: &str) -> Option<Value> {
    if notes.is_empty() {
        return None;
    }
    let map: Map<String, Value> = notes.into_iter().map(|n| (format!("{prefix}{}", n.pointer), Value::String(n.text))).collect();
    Some(Value::Object(map))
}

/// Describes the messages of one watch: the models, and each gateway's declared sub-devices as
/// its latest `info` in this session gave them (a watcher asks nothing, so until a gateway
/// reconnects its sub-devices are matched by id).
pub struct Describer {
    models: ModelSet,
    profile: TopicProfile,
    lang: Lang,
    declared: HashMap<(String, String), Vec<SubRef>>,
}

impl Describer {
    pub fn new(models: ModelSet, profile: TopicProfile, lang: Lang) -> Self {
        Describer { models, profile, lang, declared: HashMap::new() }
    }

    /// The printed line of one message ([`message_line`]) with its `notes` when it has any.
    pub fn line(&mut self, message: &Message, received_ms: i64) -> Value {
        let mut line = message_line(message, received_ms);
        if let (Some(notes), Some(obj)) = (self.notes(message), line.as_object_mut()) {
            obj.insert("notes".into(), notes);
        }
        line
    }

    /// The `notes` of one message, `None` for a message that is not CEMS or has nothing noted.
    pub fn notes(&mut self, message: &Message) -> Option<Value> {
        let cems = self.profile.parse(&message.topic).ok()?;
        let value = serde_json::from_slice::<Value>(&message.payload).ok()?;
        let envelope = parse_envelope_value(value).ok()?;
        let reply = matches!(envelope, Envelope::Reply(_));
        let ok = !matches!(&envelope, Envelope::Reply(r) if r.code != 0);
        let data = envelope.data();
        let info = matches!((cems.class.as_str(), cems.action.as_str(), reply), ("info", "report", false) | ("info", "get", true));
        if info
            && ok
            && let Ok(Payload::Info(info)) = decode(&cems.class, &cems.action, reply, data).typed
        {
            self.declared.insert((cems.pk.clone(), cems.dev.clone()), info.subs.unwrap_or_default());
        }
        let declared = self.declared.get(&(cems.pk.clone(), cems.dev.clone())).map(Vec::as_slice).unwrap_or_default();
        let models = GatewayModels::new(&self.models, &cems.pk, declared);
        let msg = DataRef::new(&cems.class, &cems.action, reply, &cems.dev, data);
        notes_value(describe_data(&msg, &models, self.lang), "/payload")
    }
}

/// `FILTER[:QOS]` of `--sub`: a trailing `:<digits>` is the QoS (0 or 1), else QoS 1.
pub fn parse_subscription(text: &str) -> Result<Subscription, String> {
    let (filter, qos) = match text.rsplit_once(':') {
        Some((filter, qos)) if !qos.is_empty() && qos.bytes().all(|b| b.is_ascii_digit()) => match qos {
            "0" => (filter, 0),
            "1" => (filter, 1),
            _ => return Err(format!("QoS {qos}: expected 0 or 1")),
        },
        _ => (text, Subscription::default_qos()),
    };
    check_filter(filter).map_err(|p| format!("{filter:?} is not an MQTT filter: {}", p.as_str()))?;
    Ok(Subscription::new(filter, qos))
}

/// What `watch` subscribes to: `--filter` (QoS 1) and every `--sub`, or `#` when neither.
pub fn watch_subscriptions(filter: Option<String>, subs: Vec<Subscription>) -> Vec<Subscription> {
    let mut all: Vec<Subscription> = filter.map(Subscription::from).into_iter().collect();
    all.extend(subs);
    if all.is_empty() {
        all.push(Subscription::from("#"));
    }
    all
}

pub fn run(link: &LinkArgs, filter: Option<String>, subs: Vec<Subscription>, count: Option<u64>, models: &ModelArgs, lang: Lang) -> ExitCode {
    let loaded = models_for_command(models);
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    // A watcher is passive: it neither acknowledges on the gateways' behalf nor asks them anything.
    // Watch prints what it forwards and reads nothing back from the store: keep that one small.
    let store_limits = StoreLimits { total_bytes: 32 * 1024 * 1024, ..StoreLimits::default() };
    let config = EngineConfig { master_duties: false, forward_messages: true, discover: false, store_limits, ..EngineConfig::default() };
    // None at connect: each goes as its own Subscribe, with its QoS, right behind the Connect.
    let mut cli = match CliSession::open(&rt, link, "watch", config, Some(Vec::new())) {
        Ok(s) => s,
        Err(code) => return code,
    };
    for Subscription { filter, qos } in watch_subscriptions(filter, subs) {
        if cli.handle.send(EngineCommand::Subscribe { session: cli.session, filter, qos }).is_err() {
            eprintln!("error: {}: the engine stopped", cli.label);
            return ExitCode::from(super::session::EXIT_LINK);
        }
    }
    let mut describer = Describer::new(loaded.set, (*cli.handle.profile).clone(), lang);
    rt.block_on(async move {
        let mut printed = 0u64;
        let stdout = std::io::stdout();
        // One Ctrl-C future for the whole run, so a press during a long batch is not lost.
        let ctrl_c = tokio::signal::ctrl_c();
        tokio::pin!(ctrl_c);
        loop {
            let batch = tokio::select! {
                b = cli.events.next_batch() => b,
                _ = &mut ctrl_c => None,
            };
            let Some(batch) = batch else { break };
            let mut out = stdout.lock();
            for event in batch {
                match event {
                    EngineEvent::Message { message, received_ms, .. } => {
                        let line = describer.line(&message, received_ms);
                        if writeln!(out, "{line}").is_err() {
                            // stdout closed (a pipe to `head`): nothing more to do.
                            return ExitCode::SUCCESS;
                        }
                        printed += 1;
                        if count.is_some_and(|n| printed >= n) {
                            let _ = out.flush();
                            cli.handle.shutdown();
                            return ExitCode::SUCCESS;
                        }
                    }
                    EngineEvent::SessionState { state: LinkState::Down { reason }, .. } => eprintln!("{}: down: {reason}", cli.label),
                    EngineEvent::SessionState { state: LinkState::Up, .. } => eprintln!("{}: up", cli.label),
                    EngineEvent::FramesDropped { total, .. } => eprintln!("{}: {total} bad frames dropped so far", cli.label),
                    // Messages dropped while our stdout was stalled, among others.
                    EngineEvent::Notice { session: None, text } => eprintln!("{}: {text}", cli.label),
                    _ => {}
                }
            }
            let _ = out.flush();
        }
        cli.handle.shutdown();
        ExitCode::SUCCESS
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscriptions_take_an_optional_qos() {
        assert_eq!(parse_subscription("plant/meter/#:0"), Ok(Subscription::new("plant/meter/#", 0)));
        assert_eq!(parse_subscription("plant/+/power"), Ok(Subscription::new("plant/+/power", 1)));
        // A colon inside a level is part of the filter.
        assert_eq!(parse_subscription("urn:dev/x"), Ok(Subscription::new("urn:dev/x", 1)));
        assert_eq!(parse_subscription("a/b:7:1"), Ok(Subscription::new("a/b:7", 1)));
        assert!(parse_subscription("a/#:2").unwrap_err().contains("expected 0 or 1"));
        assert!(parse_subscription("a/#/b").unwrap_err().contains("# may only be the last level"));
        assert!(parse_subscription(":1").unwrap_err().contains("not empty"));
        assert_eq!(watch_subscriptions(None, Vec::new()), vec![Subscription::from("#")]);
        assert_eq!(
            watch_subscriptions(Some("lab/#".into()), vec![Subscription::new("plant/#", 0)]),
            vec![Subscription::new("lab/#", 1), Subscription::new("plant/#", 0)]
        );
    }

    #[test]
    fn cems_messages_gain_notes_and_info_declares_sub_devices() {
        let mut d = Describer::new(ModelSet::builtin(), TopicProfile::builtin(), Lang::En);
        let points = |sub: &str| {
            let payload = json!({"id": "1", "ts": 1, "ver": "1.0", "data": {"points": [{"sub": sub, "pid": "P", "v": 5, "q": 0, "ts": 1}]}});
            Message::new("cems/v1/PK-GW-01/GW/up/point/report", payload.to_string(), 0, false)
        };
        let by_id = d.notes(&points("meter-7")).unwrap();
        assert!(by_id["/payload/data/points/0"].as_str().is_some_and(|t| t.contains("Total active power")), "the id says meter: {by_id}");
        let info = json!({"id": "2", "ts": 1, "ver": "1.0", "data": {"vendor": "v", "model": "m", "serial": "s", "hwVersion": "1", "fwVersion": "1",
            "swVersion": "1", "uptime": 1, "subs": [{"sub": "meter-7", "productKey": "PK-PCS-100"}]}});
        d.notes(&Message::new("cems/v1/PK-GW-01/GW/up/info/report", info.to_string(), 0, false));
        let declared = d.notes(&points("meter-7")).unwrap();
        assert_eq!(declared["/payload/data/points/0"], "P: 5 kW (交流有功功率 / AC active power, quality good)");
        assert!(d.notes(&Message::new("lab/x", r#"{"points":[]}"#, 0, false)).is_none());
        assert!(d.notes(&Message::new("cems/v1/PK-GW-01/GW/up/ota/version", r#"{"id":"3","ts":1,"ver":"1.0","data":{"modules":[]}}"#, 0, false)).is_none());
    }
}

//! A bare MQTT or serial client playing the master station against a simulator, shared by the
//! simulator's integration tests.
#![allow(dead_code)]

use std::time::Duration;

use cems_workbench::protocol::envelope::{Envelope, Reply, Request, parse_envelope};
use cems_workbench::protocol::model::ModelSet;
use cems_workbench::protocol::topic::{CemsTopic, Dir, TopicProfile};
use cems_workbench::sim::SimConfig;
use cems_workbench::transport::broker::{BrokerConfig, EmbeddedBroker};
use cems_workbench::transport::mqtt::MqttConfig;
use cems_workbench::transport::{LinkConfig, LinkEvent, LinkHandle, LinkState, Message, spawn_link};
use serde_json::{Value, json};
use tokio::sync::mpsc;

pub const PK: &str = "PK-GW-01";

/// A bare MQTT client playing the master station.
pub struct Master {
    pub link: LinkHandle,
    pub events: mpsc::Receiver<LinkEvent>,
    pub profile: TopicProfile,
    pub dev: String,
    /// Answer the gateway's `time/sync` requests (on by default).
    pub answer_time_sync: bool,
    /// Every CEMS message seen, in order: (class/action, reply?, envelope).
    pub seen: Vec<(String, bool, Envelope)>,
}

impl Master {
    pub async fn connect(url: &str, dev: &str) -> Master {
        let mut config = MqttConfig::new(url, format!("test-master-{dev}"));
        config.subscriptions = vec!["cems/v1/+/+/up/#".into()];
        let (link, events) = spawn_link(LinkConfig::Mqtt(config));
        let mut master = Master { link, events, profile: TopicProfile::builtin(), dev: dev.into(), answer_time_sync: true, seen: Vec::new() };
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            match tokio::time::timeout_at(deadline, master.events.recv()).await {
                Ok(Some(LinkEvent::State(LinkState::Up))) => break,
                Ok(Some(_)) => {}
                other => panic!("master link did not come up: {other:?}"),
            }
        }
        master
    }

    pub fn request(&self, class_action: &str, id: &str, data: Value) {
        let (class, action) = class_action.split_once('/').unwrap();
        let topic = self.profile.build(&CemsTopic::new(PK, &self.dev, Dir::Down, class, action)).unwrap();
        let payload = Request::new(id, data).to_bytes().unwrap();
        self.link.publish(Message::new(topic, payload, 1, false)).unwrap();
    }

    /// Answers a request the gateway sent on `class_action`.
    pub fn reply(&self, class_action: &str, reply: Reply) {
        let (class, action) = class_action.split_once('/').unwrap();
        let topic = self.profile.build(&CemsTopic::new(PK, &self.dev, Dir::Up, class, action).reply_topic()).unwrap();
        self.link.publish(Message::new(topic, reply.to_bytes().unwrap(), 1, false)).unwrap();
    }

    /// The next message of this gateway for which `pick` returns Some. Requests the gateway sends
    /// on the way (`time/sync`, `alarm/report`) are answered as a master would.
    pub async fn wait<T>(&mut self, what: &str, timeout_secs: u64, mut pick: impl FnMut(&str, bool, &Envelope, bool) -> Option<T>) -> T {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(timeout_secs);
        loop {
            let event = match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some(event)) => event,
                Ok(None) => panic!("master link ended while waiting for {what}"),
                Err(_) => panic!("timed out waiting for {what}; seen: {:?}", self.seen.iter().map(|(t, r, e)| (t, r, e.clone())).collect::<Vec<_>>()),
            };
            let LinkEvent::Message(message) = event else { continue };
            let Ok(topic) = self.profile.parse(&message.topic) else { continue };
            if topic.dev != self.dev || topic.dir != Dir::Up {
                continue;
            }
            let envelope = parse_envelope(&message.payload).unwrap_or_else(|e| panic!("{}: bad envelope: {e}", message.topic));
            let what_topic = topic.class_action();
            if let Envelope::Request(r) = &envelope {
                match what_topic.as_str() {
                    "time/sync" if self.answer_time_sync => {
                        let t = cems_workbench::protocol::time::now_ms();
                        self.reply("time/sync", Reply::ok(&r.id, json!({"t1": r.data["t1"], "t2": t, "t3": t})));
                    }
                    "alarm/report" => self.reply("alarm/report", Reply::ok(&r.id, json!({}))),
                    _ => {}
                }
            }
            self.seen.push((what_topic.clone(), topic.reply, envelope.clone()));
            if let Some(found) = pick(&what_topic, topic.reply, &envelope, message.retain) {
                return found;
            }
        }
    }

    pub async fn call(&mut self, class_action: &str, id: &str, data: Value) -> Reply {
        self.request(class_action, id, data);
        let wanted = class_action.to_owned();
        self.wait(&format!("reply to {class_action}"), 10, |t, reply, env, _| match env {
            Envelope::Reply(r) if reply && t == wanted && r.id == id => Some(r.clone()),
            _ => None,
        })
        .await
    }
}

pub async fn broker() -> (EmbeddedBroker, String) {
    let broker = EmbeddedBroker::start(BrokerConfig { listen: "127.0.0.1:0".parse().unwrap(), ..Default::default() }).await.unwrap();
    let url = format!("mqtt://{}", broker.local_addr());
    (broker, url)
}

pub fn sim_config(url: &str, dev: &str, dir: &std::path::Path) -> SimConfig {
    let mut config = SimConfig::new(ModelSet::builtin(), PK, dev, LinkConfig::Mqtt(MqttConfig::new(url, "overridden")), dir.to_path_buf());
    config.report_period_ms = Some(200);
    config.seed = 42;
    config
}

pub fn data(env: &Envelope) -> &Value {
    env.data()
}


//! Topics (contract §2, §4): the message table and the topic templates of a profile.
//!
//! Topic strings are never constants: they come from a [`TopicProfile`], loaded from
//! `assets/profiles/cems-v1.json` (compiled in) or from a user's file, because field gateways
//! deviate. The message table (which class/action exists, its direction, kind and QoS) is the
//! contract itself and lives here in code.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::ids::{IdKind, check_id};

/// Direction of a topic: `up` is published by the gateway, `down` by the master.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dir {
    Up,
    Down,
}

impl Dir {
    pub fn flipped(self) -> Dir {
        match self {
            Dir::Up => Dir::Down,
            Dir::Down => Dir::Up,
        }
    }
}

/// What a message is for, from the table's "kind" column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageKind {
    /// The retained online/offline state, also the gateway's will.
    Status,
    /// Fire and forget.
    Report,
    /// Expects a reply on the flipped topic with `/reply`.
    Request,
}

/// One row of the contract's topic table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageSpec {
    pub section: &'static str,
    pub class: &'static str,
    /// Empty for `status`; may hold two segments (`chunk/get`).
    pub action: &'static str,
    pub dir: Dir,
    pub kind: MessageKind,
    pub qos: u8,
    pub retain: bool,
}

const fn row(section: &'static str, class: &'static str, action: &'static str, dir: Dir, kind: MessageKind, qos: u8) -> MessageSpec {
    MessageSpec { section, class, action, dir, kind, qos, retain: false }
}

use Dir::{Down, Up};
use MessageKind::{Report, Request};

/// The contract's table (§2), in its order. Requests, replies, alarms and history use QoS 1;
/// reports QoS 0 unless the table says otherwise.
pub const MESSAGES: &[MessageSpec] = &[
    MessageSpec { section: "4.3", class: "status", action: "", dir: Up, kind: MessageKind::Status, qos: 1, retain: true },
    row("6.1", "command", "request", Down, Request, 1),
    row("6.2", "message", "up", Up, Report, 0),
    row("6.2", "message", "down", Down, Report, 0),
    row("6.3", "port", "report", Up, Report, 0),
    row("6.3", "port", "get", Down, Request, 1),
    row("6.3", "port", "set", Down, Request, 1),
    row("6.4", "point", "report", Up, Report, 0),
    row("6.4", "point", "change", Up, Report, 1),
    row("6.4", "point", "get", Down, Request, 1),
    row("6.4", "point", "set", Down, Request, 1),
    row("6.5", "meter", "report", Up, Report, 0),
    row("6.5", "meter", "get", Down, Request, 1),
    row("6.6", "property", "report", Up, Report, 0),
    row("6.6", "property", "get", Down, Request, 1),
    row("6.6", "property", "set", Down, Request, 1),
    row("6.7", "ota", "version", Up, Report, 0),
    row("6.7", "ota", "version/get", Down, Request, 1),
    row("6.7", "ota", "upgrade", Down, Request, 1),
    row("6.7", "ota", "chunk/get", Up, Request, 1),
    row("6.7", "ota", "progress", Up, Report, 0),
    row("6.8", "file", "download", Down, Request, 1),
    row("6.8", "file", "chunk/get", Up, Request, 1),
    row("6.8", "file", "download/result", Up, Report, 0),
    row("6.8", "file", "upload", Down, Request, 1),
    row("6.8", "file", "read", Down, Request, 1),
    row("6.8", "file", "list", Down, Request, 1),
    row("6.9", "time", "get", Down, Request, 1),
    row("6.9", "time", "set", Down, Request, 1),
    row("6.9", "time", "sync", Up, Request, 1),
    row("6.10", "info", "report", Up, Report, 0),
    row("6.10", "info", "get", Down, Request, 1),
    row("6.11", "log", "config", Down, Request, 1),
    row("6.11", "log", "report", Up, Report, 0),
    row("6.11", "log", "get", Down, Request, 1),
    row("6.12", "alarm", "report", Up, Request, 1),
    row("6.12", "alarm", "get", Down, Request, 1),
    row("6.13", "history", "report", Up, Request, 1),
    row("6.13", "history", "get", Down, Request, 1),
];

/// Looks up the table row for a class and action (`action` empty for `status`).
pub fn message_spec(class: &str, action: &str) -> Option<&'static MessageSpec> {
    MESSAGES.iter().find(|m| m.class == class && m.action == action)
}

/// The QoS a message is published with: replies always 1 (§4).
pub fn publish_qos(class: &str, action: &str, reply: bool) -> u8 {
    if reply {
        return 1;
    }
    message_spec(class, action).map_or(1, |m| m.qos)
}

/// A CEMS topic taken apart.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CemsTopic {
    pub pk: String,
    pub dev: String,
    /// The direction written in the topic (for a reply, the flipped one).
    pub dir: Dir,
    pub class: String,
    /// Empty for `status`, otherwise one or more segments joined by `/`.
    pub action: String,
    pub reply: bool,
}

impl CemsTopic {
    /// A request or report topic.
    pub fn new(pk: &str, dev: &str, dir: Dir, class: &str, action: &str) -> Self {
        CemsTopic { pk: pk.into(), dev: dev.into(), dir, class: class.into(), action: action.into(), reply: false }
    }

    /// The topic a reply to this request goes to: `dir` flipped and `reply` set.
    pub fn reply_topic(&self) -> CemsTopic {
        CemsTopic { dir: self.dir.flipped(), reply: true, ..self.clone() }
    }

    /// The direction of the request or report this topic belongs to.
    pub fn request_dir(&self) -> Dir {
        if self.reply { self.dir.flipped() } else { self.dir }
    }

    /// `class/action`, or `status`.
    pub fn class_action(&self) -> String {
        if self.action.is_empty() { self.class.clone() } else { format!("{}/{}", self.class, self.action) }
    }

    /// The table row this topic's request or report belongs to, when the contract knows it.
    pub fn spec(&self) -> Option<&'static MessageSpec> {
        message_spec(&self.class, &self.action).filter(|m| m.dir == self.request_dir())
    }
}

/// Why a topic could not be built, or a profile could not be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TopicError {
    #[error("{segment} {value:?}: {reason}")]
    BadSegment { segment: &'static str, value: String, reason: String },
    #[error("topic profile: {0}")]
    BadProfile(String),
}

/// Why an incoming topic is not a CEMS topic (the explorer still shows it raw).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("not a CEMS topic: {0}")]
pub struct NotCems(pub String);

/// The topic templates of one profile (`assets/profiles/*.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TopicProfile {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// e.g. `cems/v1/{pk}/{dev}/{dir}/{class}/{action}`; `{action}` is last and may span segments.
    pub topic: String,
    /// e.g. `cems/v1/{pk}/{dev}/up/status`.
    pub status: String,
    /// The words used for the two directions.
    pub up: String,
    pub down: String,
    /// Appended as one more segment to a request's flipped topic.
    pub reply_suffix: String,
    /// What a master subscribes to: its gateways' uplinks.
    pub master_filter: String,
    /// What a master subscribes to when it also watches other masters' downlinks.
    pub watch_all_filter: String,
    /// What a gateway subscribes to.
    pub gateway_filter: String,
}

const BUILTIN_PROFILE: &str = include_str!("../../assets/profiles/cems-v1.json");

/// One segment of a template: a literal or a placeholder.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part<'a> {
    Literal(&'a str),
    Pk,
    Dev,
    Dir,
    Class,
    Action,
}

fn template_parts(template: &str) -> Result<Vec<Part<'_>>, TopicError> {
    let mut parts = Vec::new();
    for seg in template.split('/') {
        let part = match seg {
            "{pk}" => Part::Pk,
            "{dev}" => Part::Dev,
            "{dir}" => Part::Dir,
            "{class}" => Part::Class,
            "{action}" => Part::Action,
            s if s.contains(['{', '}', '+', '#']) || s.is_empty() => {
                return Err(TopicError::BadProfile(format!("template {template:?}: bad segment {s:?}")));
            }
            s => Part::Literal(s),
        };
        parts.push(part);
    }
    Ok(parts)
}

impl Default for TopicProfile {
    /// The contract's defaults, used only if the compiled-in asset could not be read (a test
    /// keeps the two equal).
    fn default() -> Self {
        TopicProfile {
            name: "cems-v1".into(),
            description: String::new(),
            topic: "cems/v1/{pk}/{dev}/{dir}/{class}/{action}".into(),
            status: "cems/v1/{pk}/{dev}/up/status".into(),
            up: "up".into(),
            down: "down".into(),
            reply_suffix: "reply".into(),
            master_filter: "cems/v1/+/+/up/#".into(),
            watch_all_filter: "cems/v1/#".into(),
            gateway_filter: "cems/v1/{pk}/{dev}/down/#".into(),
        }
    }
}

impl TopicProfile {
    /// The compiled-in profile `assets/profiles/cems-v1.json`.
    pub fn builtin() -> Self {
        Self::from_json(BUILTIN_PROFILE).unwrap_or_default()
    }

    /// Reads a profile file's text and checks its templates.
    pub fn from_json(text: &str) -> Result<Self, TopicError> {
        let profile: TopicProfile =
            serde_json::from_str(text).map_err(|e| TopicError::BadProfile(e.to_string()))?;
        profile.check()?;
        Ok(profile)
    }

    fn check(&self) -> Result<(), TopicError> {
        let parts = template_parts(&self.topic)?;
        for needed in [Part::Pk, Part::Dev, Part::Dir, Part::Class, Part::Action] {
            if !parts.contains(&needed) {
                return Err(TopicError::BadProfile(format!("topic template {:?} lacks {needed:?}", self.topic)));
            }
        }
        if parts.last() != Some(&Part::Action) {
            return Err(TopicError::BadProfile("{action} must be the last segment of the topic template".into()));
        }
        let status = template_parts(&self.status)?;
        if !status.contains(&Part::Pk) || !status.contains(&Part::Dev) || status.contains(&Part::Action) {
            return Err(TopicError::BadProfile("status template needs {pk} and {dev} and no {action}".into()));
        }
        for (name, word) in [("up", &self.up), ("down", &self.down), ("replySuffix", &self.reply_suffix)] {
            check_segment_chars(name, word)?;
        }
        if self.up == self.down {
            return Err(TopicError::BadProfile("up and down must differ".into()));
        }
        Ok(())
    }

    fn dir_word(&self, dir: Dir) -> &str {
        match dir {
            Dir::Up => &self.up,
            Dir::Down => &self.down,
        }
    }

    /// The topic string for `t`; every segment is checked and an error names the bad one.
    pub fn build(&self, t: &CemsTopic) -> Result<String, TopicError> {
        check_named("pk", IdKind::ProductKey, &t.pk)?;
        check_named("dev", IdKind::Device, &t.dev)?;
        let is_status = t.class == "status" && t.action.is_empty();
        if !is_status {
            check_segment_chars("class", &t.class)?;
            if t.action.is_empty() {
                return Err(TopicError::BadSegment { segment: "action", value: String::new(), reason: "is empty".into() });
            }
            for seg in t.action.split('/') {
                check_segment_chars("action", seg)?;
            }
        }
        let template = if is_status { &self.status } else { &self.topic };
        let mut out = String::with_capacity(template.len() + 32);
        for (i, part) in template_parts(template)?.iter().enumerate() {
            if i > 0 {
                out.push('/');
            }
            match part {
                Part::Literal(s) => out.push_str(s),
                Part::Pk => out.push_str(&t.pk),
                Part::Dev => out.push_str(&t.dev),
                Part::Dir => out.push_str(self.dir_word(t.dir)),
                Part::Class => out.push_str(&t.class),
                Part::Action => out.push_str(&t.action),
            }
        }
        if t.reply {
            out.push('/');
            out.push_str(&self.reply_suffix);
        }
        Ok(out)
    }

    /// Takes an incoming topic apart, or says why it is not a CEMS topic.
    pub fn parse(&self, topic: &str) -> Result<CemsTopic, NotCems> {
        let segs: Vec<&str> = topic.split('/').collect();
        if let Ok(t) = self.parse_status(&segs) {
            return Ok(t);
        }
        let parts = template_parts(&self.topic).map_err(|e| NotCems(e.to_string()))?;
        // Everything before {action} is one segment per part; {action} takes the rest.
        let fixed = parts.len() - 1;
        if segs.len() <= fixed {
            return Err(NotCems(format!("{} segments, at least {} expected", segs.len(), fixed + 1)));
        }
        let (mut pk, mut dev, mut dir, mut class) = (None, None, None, None);
        for (part, seg) in parts[..fixed].iter().zip(&segs) {
            match part {
                Part::Literal(lit) if lit == seg => {}
                Part::Literal(lit) => return Err(NotCems(format!("expected {lit:?}, found {seg:?}"))),
                Part::Pk => pk = Some(*seg),
                Part::Dev => dev = Some(*seg),
                Part::Dir => dir = Some(*seg),
                Part::Class => class = Some(*seg),
                Part::Action => {}
            }
        }
        let (Some(pk), Some(dev), Some(dir), Some(class)) = (pk, dev, dir, class) else {
            return Err(NotCems("profile template incomplete".into()));
        };
        let mut action_segs = &segs[fixed..];
        let mut reply = false;
        if action_segs.len() > 1 && action_segs.last() == Some(&self.reply_suffix.as_str()) {
            reply = true;
            action_segs = &action_segs[..action_segs.len() - 1];
        }
        let dir = self.parse_dir(dir)?;
        check_named("pk", IdKind::ProductKey, pk).map_err(|e| NotCems(e.to_string()))?;
        check_named("dev", IdKind::Device, dev).map_err(|e| NotCems(e.to_string()))?;
        check_segment_chars("class", class).map_err(|e| NotCems(e.to_string()))?;
        for seg in action_segs {
            check_segment_chars("action", seg).map_err(|e| NotCems(e.to_string()))?;
        }
        Ok(CemsTopic { pk: pk.into(), dev: dev.into(), dir, class: class.into(), action: action_segs.join("/"), reply })
    }

    fn parse_dir(&self, word: &str) -> Result<Dir, NotCems> {
        if word == self.up {
            Ok(Dir::Up)
        } else if word == self.down {
            Ok(Dir::Down)
        } else {
            Err(NotCems(format!("direction {word:?} is neither {:?} nor {:?}", self.up, self.down)))
        }
    }

    fn parse_status(&self, segs: &[&str]) -> Result<CemsTopic, NotCems> {
        let parts = template_parts(&self.status).map_err(|e| NotCems(e.to_string()))?;
        if parts.len() != segs.len() {
            return Err(NotCems("not a status topic".into()));
        }
        let (mut pk, mut dev) = (None, None);
        for (part, seg) in parts.iter().zip(segs) {
            match part {
                Part::Literal(lit) if lit == seg => {}
                Part::Pk => pk = Some(*seg),
                Part::Dev => dev = Some(*seg),
                _ => return Err(NotCems("not a status topic".into())),
            }
        }
        let (Some(pk), Some(dev)) = (pk, dev) else {
            return Err(NotCems("not a status topic".into()));
        };
        check_named("pk", IdKind::ProductKey, pk).map_err(|e| NotCems(e.to_string()))?;
        check_named("dev", IdKind::Device, dev).map_err(|e| NotCems(e.to_string()))?;
        Ok(CemsTopic { pk: pk.into(), dev: dev.into(), dir: Dir::Up, class: "status".into(), action: String::new(), reply: false })
    }

    /// The filter a gateway subscribes to.
    pub fn gateway_filter(&self, pk: &str, dev: &str) -> String {
        self.gateway_filter.replace("{pk}", pk).replace("{dev}", dev)
    }

    /// The level all of one gateway's topics share, ending with `/` (`cems/v1/PK/GW/`): the common
    /// start of its status topic and its down filter. `None` when the profile gives them none.
    pub fn gateway_prefix(&self, pk: &str, dev: &str) -> Option<String> {
        let status = self.status_topic(pk, dev).ok()?;
        let filter = self.gateway_filter(pk, dev);
        // Counted in chars' bytes so the cut is always on a char boundary.
        let common: usize = status.chars().zip(filter.chars()).take_while(|(a, b)| a == b).map(|(a, _)| a.len_utf8()).sum();
        let cut = status[..common].rfind('/')?;
        Some(status[..=cut].to_owned())
    }

    /// The status topic of one gateway.
    pub fn status_topic(&self, pk: &str, dev: &str) -> Result<String, TopicError> {
        self.build(&CemsTopic::new(pk, dev, Dir::Up, "status", ""))
    }
}

fn check_named(segment: &'static str, kind: IdKind, value: &str) -> Result<(), TopicError> {
    check_id(kind, value).map_err(|e| TopicError::BadSegment { segment, value: value.into(), reason: reason_of(&e.to_string(), value) })
}

/// Drops the "kind value" prefix of an id error so the topic error does not repeat it.
fn reason_of(message: &str, value: &str) -> String {
    let quoted = format!("{value:?} ");
    match message.find(&quoted) {
        Some(at) => message[at + quoted.len()..].to_string(),
        None => message.to_string(),
    }
}

/// Class and action segments: the `pid` charset, which already excludes `+ # /` and NUL.
fn check_segment_chars(segment: &'static str, value: &str) -> Result<(), TopicError> {
    check_id(IdKind::Point, value)
        .map_err(|e| TopicError::BadSegment { segment, value: value.into(), reason: reason_of(&e.to_string(), value) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_gateway_prefix_is_the_level_its_topics_share() {
        let profile = TopicProfile::builtin();
        let prefix = profile.gateway_prefix("PK1", "GW1").unwrap();
        assert_eq!(prefix, "cems/v1/PK1/GW1/");
        assert!(profile.status_topic("PK1", "GW1").unwrap().starts_with(&prefix));
        assert!(profile.gateway_filter("PK1", "GW1").starts_with(&prefix));
    }

    #[test]
    fn builtin_asset_equals_contract_defaults() {
        let from_file = TopicProfile::from_json(BUILTIN_PROFILE).unwrap();
        let defaults = TopicProfile::default();
        assert_eq!(from_file.topic, defaults.topic);
        assert_eq!(from_file.status, defaults.status);
        assert_eq!(from_file.master_filter, defaults.master_filter);
        assert_eq!(from_file.gateway_filter, defaults.gateway_filter);
        assert_eq!((from_file.up, from_file.down, from_file.reply_suffix), (defaults.up, defaults.down, defaults.reply_suffix));
    }

    #[test]
    fn contract_examples() {
        let p = TopicProfile::builtin();
        let req = CemsTopic::new("PK01", "GW-0001", Dir::Down, "command", "request");
        assert_eq!(p.build(&req).unwrap(), "cems/v1/PK01/GW-0001/down/command/request");
        assert_eq!(p.build(&req.reply_topic()).unwrap(), "cems/v1/PK01/GW-0001/up/command/request/reply");
        let chunk = CemsTopic::new("PK01", "GW-0001", Dir::Up, "ota", "chunk/get");
        assert_eq!(p.build(&chunk.reply_topic()).unwrap(), "cems/v1/PK01/GW-0001/down/ota/chunk/get/reply");
        assert_eq!(p.status_topic("PK01", "GW-0001").unwrap(), "cems/v1/PK01/GW-0001/up/status");
        assert_eq!(p.gateway_filter("PK01", "GW-0001"), "cems/v1/PK01/GW-0001/down/#");
    }

    #[test]
    fn every_table_row_round_trips() {
        let p = TopicProfile::builtin();
        for spec in MESSAGES {
            let t = CemsTopic::new("PK01", "GW-0001", spec.dir, spec.class, spec.action);
            let s = p.build(&t).unwrap();
            let back = p.parse(&s).unwrap();
            assert_eq!(back, t, "{s}");
            assert_eq!(back.spec(), Some(spec));
            if spec.kind == MessageKind::Request {
                let r = t.reply_topic();
                let s = p.build(&r).unwrap();
                let back = p.parse(&s).unwrap();
                assert_eq!(back, r, "{s}");
                assert!(back.reply);
                assert_eq!(back.request_dir(), spec.dir);
                assert_eq!(back.spec(), Some(spec));
            }
        }
    }

    #[test]
    fn bad_segments_are_named() {
        let p = TopicProfile::builtin();
        let cases = [
            (CemsTopic::new("PK+1", "GW", Dir::Up, "info", "report"), "pk"),
            (CemsTopic::new("PK01", "GW/1", Dir::Up, "info", "report"), "dev"),
            (CemsTopic::new("PK01", "GW#", Dir::Up, "info", "report"), "dev"),
            (CemsTopic::new("PK01", "G\0W", Dir::Up, "info", "report"), "dev"),
            (CemsTopic::new("PK01", "GW", Dir::Up, "in fo", "report"), "class"),
            (CemsTopic::new("PK01", "GW", Dir::Up, "info", "re+port"), "action"),
            (CemsTopic::new("PK01", "GW", Dir::Up, "ota", "chunk//get"), "action"),
            (CemsTopic::new("", "GW", Dir::Up, "info", "report"), "pk"),
        ];
        for (t, seg) in cases {
            match p.build(&t) {
                Err(TopicError::BadSegment { segment, .. }) => assert_eq!(segment, seg, "{t:?}"),
                other => panic!("{t:?}: {other:?}"),
            }
        }
        let e = p.build(&CemsTopic::new("PK01", "GW/1", Dir::Up, "info", "report")).unwrap_err();
        assert_eq!(e.to_string(), "dev \"GW/1\": contains '/', allowed: [A-Za-z0-9_.-]");
    }

    #[test]
    fn foreign_topics_are_not_cems() {
        let p = TopicProfile::builtin();
        for t in ["", "cems", "cems/v1/PK01/GW/up", "cems/v2/PK01/GW/up/info/report", "other/topic",
                  "cems/v1/PK01/GW/sideways/info/report", "cems/v1/P K/GW/up/info/report", "cems/v1/PK01/GW/up/info/"] {
            assert!(p.parse(t).is_err(), "{t}");
        }
        // An unknown class/action with the right shape is still CEMS, just not in the table.
        let vendor = p.parse("cems/v1/PK01/GW/up/vendorx/blob").unwrap();
        assert_eq!(vendor.spec(), None);
    }

    #[test]
    fn user_profile_replaces_templates() {
        let text = r#"{"name":"site","topic":"site/{pk}/{dev}/{dir}/{class}/{action}","status":"site/{pk}/{dev}/state",
            "up":"tx","down":"rx","replySuffix":"ack","masterFilter":"site/+/+/tx/#","watchAllFilter":"site/#",
            "gatewayFilter":"site/{pk}/{dev}/rx/#"}"#;
        let p = TopicProfile::from_json(text).unwrap();
        let t = CemsTopic::new("PK01", "GW", Dir::Down, "point", "get");
        assert_eq!(p.build(&t.reply_topic()).unwrap(), "site/PK01/GW/tx/point/get/ack");
        assert_eq!(p.parse("site/PK01/GW/state").unwrap().class, "status");
        let bad = r#"{"name":"x","topic":"a/{action}/{pk}","status":"s","up":"u","down":"d","replySuffix":"r","masterFilter":"","watchAllFilter":"","gatewayFilter":""}"#;
        assert!(matches!(TopicProfile::from_json(bad), Err(TopicError::BadProfile(_))));
        assert!(TopicProfile::from_json("{").is_err());
    }

    fn seg(max: usize, extra: &'static str) -> impl Strategy<Value = String> {
        proptest::string::string_regex(&format!("[A-Za-z0-9_{extra}]{{1,{max}}}")).unwrap()
    }

    proptest! {
        #[test]
        fn build_then_parse(pk in seg(32, "-"), dev in seg(64, ".-"), class in seg(16, ""),
                            action in proptest::collection::vec(seg(12, ""), 1..3), up in any::<bool>(), reply in any::<bool>()) {
            let p = TopicProfile::builtin();
            let action = action.join("/");
            // `reply` as a last action segment is indistinguishable from a reply suffix.
            prop_assume!(!action.split('/').any(|s| s == "reply"));
            prop_assume!(!(class == "status" && action.is_empty()));
            let mut t = CemsTopic::new(&pk, &dev, if up { Dir::Up } else { Dir::Down }, &class, &action);
            t.reply = reply;
            let s = p.build(&t).unwrap();
            prop_assert_eq!(p.parse(&s).unwrap(), t);
        }

        #[test]
        fn parse_never_panics(s in ".{0,200}") {
            let _ = TopicProfile::builtin().parse(&s);
        }
    }
}

//! Which topics are the energy-storage profile's: versions and message-type names, from
//! `assets/profiles/ess-v1.json` (compiled in) or a user's copy, since field stations deviate.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::{StorageTopic, check_segment};

const BUILTIN_PROFILE: &str = include_str!("../../../assets/profiles/ess-v1.json");

/// The segments a deployment uses (contract §11).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StorageProfile {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Accepted first segments (`v1`).
    pub versions: Vec<String>,
    /// The message type of real-time data reports (`rt`).
    pub realtime: String,
    /// The message type of parameter configuration reports (`param`).
    pub parameter: String,
    /// The message type of control commands and their answers (`cmd`).
    pub command: String,
    /// Further message types a field installation adds: decoded and shown, not interpreted.
    #[serde(default)]
    pub other_types: Vec<String>,
    /// How long a command waits for its answer.
    #[serde(default = "default_answer_timeout_s")]
    pub answer_timeout_s: u32,
}

fn default_answer_timeout_s() -> u32 {
    10
}

/// What a message type is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum MessageRole {
    Realtime,
    Parameter,
    Command,
    Other,
}

/// How a topic relates to the profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TopicMatch {
    /// Not this profile's (another protocol's topic).
    Foreign,
    /// This profile's version and message type, but too few or too many segments, or a bad one.
    Malformed { reason: String },
    /// A topic of the profile.
    Storage(StorageTopic),
}

/// A profile file that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("energy-storage profile: {0}")]
pub struct ProfileError(String);

impl Default for StorageProfile {
    /// The contract's defaults, used only if the compiled-in asset could not be read (a test
    /// keeps the two equal).
    fn default() -> Self {
        StorageProfile {
            name: "ess-v1".into(),
            description: String::new(),
            versions: vec!["v1".into()],
            realtime: "rt".into(),
            parameter: "param".into(),
            command: "cmd".into(),
            other_types: Vec::new(),
            answer_timeout_s: default_answer_timeout_s(),
        }
    }
}

impl StorageProfile {
    /// The compiled-in profile `assets/profiles/ess-v1.json`.
    pub fn builtin() -> Self {
        Self::from_json(BUILTIN_PROFILE).unwrap_or_default()
    }

    /// Reads a profile file's text and checks its names.
    pub fn from_json(text: &str) -> Result<Self, ProfileError> {
        let deserializer = &mut serde_json::Deserializer::from_str(text);
        let profile: StorageProfile = serde_path_to_error::deserialize(deserializer)
            .map_err(|e| ProfileError(format!("{} (at {})", e.inner(), e.path())))?;
        profile.check()?;
        Ok(profile)
    }

    fn check(&self) -> Result<(), ProfileError> {
        if self.versions.is_empty() {
            return Err(ProfileError("versions is empty".into()));
        }
        for version in &self.versions {
            check_segment("versions", version).map_err(|e| ProfileError(e.to_string()))?;
        }
        let mut seen = Vec::new();
        for (field, name) in self.named_types() {
            check_segment(field, name).map_err(|e| ProfileError(e.to_string()))?;
            if seen.contains(&name) {
                return Err(ProfileError(format!("message type {name:?} is named twice")));
            }
            seen.push(name);
        }
        if self.answer_timeout_s == 0 {
            return Err(ProfileError("answerTimeoutS must be at least 1".into()));
        }
        Ok(())
    }

    fn named_types(&self) -> impl Iterator<Item = (&'static str, &str)> {
        [("realtime", self.realtime.as_str()), ("parameter", self.parameter.as_str()), ("command", self.command.as_str())]
            .into_iter()
            .chain(self.other_types.iter().map(|t| ("otherTypes", t.as_str())))
    }

    /// Every message type the profile knows.
    pub fn message_types(&self) -> impl Iterator<Item = &str> {
        self.named_types().map(|(_, name)| name)
    }

    /// What `message_type` is for; `None` when the profile does not know it.
    pub fn role_of(&self, message_type: &str) -> Option<MessageRole> {
        if message_type == self.realtime {
            Some(MessageRole::Realtime)
        } else if message_type == self.parameter {
            Some(MessageRole::Parameter)
        } else if message_type == self.command {
            Some(MessageRole::Command)
        } else if self.other_types.iter().any(|t| t == message_type) {
            Some(MessageRole::Other)
        } else {
            None
        }
    }

    /// The MQTT filters that cover the profile: one per version and message type.
    pub fn filters(&self) -> Vec<String> {
        self.versions.iter().flat_map(|v| self.message_types().map(move |t| format!("{v}/{t}/#"))).collect()
    }

    /// The QoS a message type is published with (§11: `rt` 0, `param` and `cmd` 1).
    pub fn qos_of(&self, message_type: &str) -> u8 {
        if message_type == self.realtime { 0 } else { 1 }
    }

    /// Splits `topic` into its parts; `None` when it is not a well-formed topic of this profile.
    pub fn parse_topic(&self, topic: &str) -> Option<StorageTopic> {
        match self.match_topic(topic) {
            TopicMatch::Storage(parts) => Some(parts),
            TopicMatch::Foreign | TopicMatch::Malformed { .. } => None,
        }
    }

    /// Tells this profile's topics (4 to 6 non-empty segments without `+`, `#` or NUL) from
    /// foreign ones, and a topic that starts like one but is cut short or too long.
    pub fn match_topic(&self, topic: &str) -> TopicMatch {
        let segments: Vec<&str> = topic.split('/').collect();
        let (Some(version), Some(message_type)) = (segments.first(), segments.get(1)) else {
            return TopicMatch::Foreign;
        };
        if !self.versions.iter().any(|v| v == version) || self.role_of(message_type).is_none() {
            return TopicMatch::Foreign;
        }
        let (application, group_id, device_unit, component) = match segments[2..] {
            [a, g] => (a, g, None, None),
            [a, g, u] => (a, g, Some(u), None),
            [a, g, u, c] => (a, g, Some(u), Some(c)),
            ref rest => {
                let found = rest.len() + 2;
                let reason = if found < 4 {
                    format!("{found} segments, the template needs at least 4 ({version}/{message_type}/application/group_id)")
                } else {
                    format!("{found} segments, the template allows at most 6")
                };
                return TopicMatch::Malformed { reason };
            }
        };
        for (name, segment) in [("application", application), ("group_id", group_id)]
            .into_iter()
            .chain(device_unit.map(|u| ("device_unit", u)))
            .chain(component.map(|c| ("component", c)))
        {
            if let Err(err) = check_segment(name, segment) {
                return TopicMatch::Malformed { reason: err.to_string() };
            }
        }
        TopicMatch::Storage(StorageTopic {
            version: (*version).to_owned(),
            message_type: (*message_type).to_owned(),
            application: application.to_owned(),
            group_id: group_id.to_owned(),
            device_unit: device_unit.map(str::to_owned),
            component: component.map(str::to_owned),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_asset_equals_contract_defaults() {
        let from_file = StorageProfile::from_json(BUILTIN_PROFILE).unwrap();
        let defaults = StorageProfile::default();
        assert_eq!((from_file.versions, from_file.realtime, from_file.parameter, from_file.command), (defaults.versions, defaults.realtime, defaults.parameter, defaults.command));
        assert_eq!(from_file.answer_timeout_s, 10);
    }

    #[test]
    fn filters_cover_every_version_and_type() {
        let profile = StorageProfile { versions: vec!["v1".into(), "v2".into()], ..StorageProfile::default() };
        assert_eq!(profile.filters(), ["v1/rt/#", "v1/param/#", "v1/cmd/#", "v2/rt/#", "v2/param/#", "v2/cmd/#"]);
        assert_eq!((profile.qos_of("rt"), profile.qos_of("param"), profile.qos_of("cmd")), (0, 1, 1));
    }

    #[test]
    fn a_short_or_long_topic_of_the_profile_is_malformed_not_foreign() {
        let profile = StorageProfile::builtin();
        assert_eq!(profile.match_topic("cems/v1/PK/DEV/up/status"), TopicMatch::Foreign);
        assert_eq!(profile.match_topic("v9/rt/app/g"), TopicMatch::Foreign);
        let TopicMatch::Malformed { reason } = profile.match_topic("v1/rt/app") else { panic!() };
        assert_eq!(reason, "3 segments, the template needs at least 4 (v1/rt/application/group_id)");
        let TopicMatch::Malformed { reason } = profile.match_topic("v1/rt/a/g/u/c/x") else { panic!() };
        assert_eq!(reason, "7 segments, the template allows at most 6");
        let TopicMatch::Malformed { reason } = profile.match_topic("v1/rt/a//u") else { panic!() };
        assert_eq!(reason, "group_id is empty");
        assert!(matches!(profile.match_topic("v1/cmd/a/g/u/c"), TopicMatch::Storage(_)));
    }

    #[test]
    fn bad_profile_files_are_refused_with_the_field() {
        let err = StorageProfile::from_json(r#"{"versions":["v1"],"realtime":"rt","parameter":"rt","command":"cmd"}"#).unwrap_err();
        assert_eq!(err.to_string(), "energy-storage profile: message type \"rt\" is named twice");
        let err = StorageProfile::from_json(r#"{"versions":[],"realtime":"rt","parameter":"p","command":"c"}"#).unwrap_err();
        assert_eq!(err.to_string(), "energy-storage profile: versions is empty");
        let err = StorageProfile::from_json(r#"{"versions":["v1"],"realtime":"r/t","parameter":"p","command":"c"}"#).unwrap_err();
        assert!(err.to_string().contains("'/'"), "{err}");
        let err = StorageProfile::from_json(r#"{"versions":["v1"],"realtime":"rt","parameter":"p","command":"c","qos":1}"#).unwrap_err();
        assert!(err.to_string().contains("unknown field `qos`"), "{err}");
    }
}

//! The broker's door: with a devices file, who may connect (contract §6 signatures for devices,
//! a user and password for masters) and what a device may then do (publish under its own
//! `…/{pk}/{dev}/up/#`, subscribe within its own `…/{pk}/{dev}/down/#`). The relay asks here at
//! each CONNECT, PUBLISH, SUBSCRIBE and will. Without a devices file every client is
//! [`Role::Open`], as before the door existed.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::protocol::auth;
use crate::protocol::topic::TopicProfile;
use crate::protocol::topic_filter::{is_valid_filter, matches_filter};

use super::devices::Devices;
use super::wire::Connect;

/// CONNACK return codes of MQTT 3.1.1.
pub const IDENTIFIER_REJECTED: u8 = 0x02;
pub const BAD_USERNAME_OR_PASSWORD: u8 = 0x04;
pub const NOT_AUTHORIZED: u8 = 0x05;

/// Who a connection is, decided at its CONNECT.
#[derive(Debug, Clone)]
pub enum Role {
    /// No devices file: anyone may do anything.
    Open,
    /// A listed master: may do anything.
    Master(String),
    /// A listed device with a valid signature: its own topics only.
    Device(DeviceAcl),
}

/// What one device may touch.
#[derive(Debug, Clone)]
pub struct DeviceAcl {
    pub pk: String,
    pub dev: String,
    /// `cems/v1/{pk}/{dev}/up/#`: what it may publish to (its status topic is under it).
    pub up: String,
    /// `cems/v1/{pk}/{dev}/down/#`: what it may subscribe to, or narrower.
    pub down: String,
}

impl DeviceAcl {
    pub fn new(profile: &TopicProfile, pk: &str, dev: &str) -> DeviceAcl {
        // The template up to `{class}` is the device's own part of the tree in one direction.
        let prefix = profile.topic.split("/{class}").next().unwrap_or(&profile.topic);
        let side = |dir: &str| format!("{}/#", prefix.replace("{pk}", pk).replace("{dev}", dev).replace("{dir}", dir));
        DeviceAcl { pk: pk.into(), dev: dev.into(), up: side(&profile.up), down: side(&profile.down) }
    }
}

impl Role {
    pub fn may_publish(&self, topic: &str) -> bool {
        match self {
            Role::Open | Role::Master(_) => true,
            Role::Device(acl) => matches_filter(&acl.up, topic),
        }
    }

    pub fn may_subscribe(&self, filter: &str) -> bool {
        match self {
            Role::Open | Role::Master(_) => true,
            Role::Device(acl) => filter_within(filter, &acl.down),
        }
    }

    /// The device's allowed publish filter, for log lines.
    pub fn up(&self) -> &str {
        match self {
            Role::Device(acl) => &acl.up,
            _ => "#",
        }
    }

    pub fn down(&self) -> &str {
        match self {
            Role::Device(acl) => &acl.down,
            _ => "#",
        }
    }
}

/// True when every topic `narrow` matches is matched by `wide` too (both valid filters).
pub fn filter_within(narrow: &str, wide: &str) -> bool {
    if !is_valid_filter(narrow) || !is_valid_filter(wide) {
        return false;
    }
    let mut narrow_levels = narrow.split('/');
    for level in wide.split('/') {
        match (level, narrow_levels.next()) {
            // `a/#` matches `a` itself too, so a narrow filter may end here.
            ("#", _) => return true,
            ("+", Some(n)) if n != "#" => {}
            (wanted, Some(n)) if wanted == n && n != "+" && n != "#" => {}
            _ => return false,
        }
    }
    narrow_levels.next().is_none()
}

/// A CONNECT the door does not let through: the CONNACK code to answer (None: close without
/// one, the CONNECT could not be read) and the reason, for the log only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: Option<u8>,
    pub reason: String,
}

fn refuse(code: u8, reason: String) -> Refusal {
    Refusal { code: Some(code), reason }
}

/// Decides who a CONNECT is. Masters are looked up first, by exact user name; anything else
/// must be a listed device's §6 username, signed with its secret within ±300 s of `now_ms`, on
/// its own client id `{pk}.{dev}` (§4) so that it can neither take over another device's
/// session nor knock it off.
pub fn admit(devices: Option<&Devices>, connect: Option<&Connect>, now_ms: u64) -> Result<Role, Refusal> {
    let Some(devices) = devices else { return Ok(Role::Open) };
    let Some(connect) = connect else {
        return Err(Refusal { code: None, reason: "a malformed CONNECT".into() });
    };
    let client = &connect.client_id;
    let Some(username) = connect.username.as_deref() else {
        return Err(refuse(NOT_AUTHORIZED, format!("client {client:?} gave no username")));
    };
    let password = connect.password.as_deref().unwrap_or_default();
    match devices.master(username, password) {
        Some(true) => return Ok(Role::Master(username.into())),
        Some(false) => return Err(refuse(BAD_USERNAME_OR_PASSWORD, format!("master {username:?} (client {client:?}): wrong password"))),
        None => {}
    }
    let mut parts = username.split('&');
    let (Some(pk), Some(dev), Some(_), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(refuse(BAD_USERNAME_OR_PASSWORD, format!("client {client:?}: username {username:?} is neither a master nor a device's pk&dev&ts")));
    };
    let Some(secret) = devices.secret(pk, dev) else {
        return Err(refuse(BAD_USERNAME_OR_PASSWORD, format!("client {client:?}: device pk {pk:?} dev {dev:?} is not in {}", devices.source())));
    };
    let Ok(password) = std::str::from_utf8(password) else {
        return Err(refuse(BAD_USERNAME_OR_PASSWORD, format!("device {pk}/{dev}: the password is not text")));
    };
    let identity = auth::verify(username, password, secret, now_ms).map_err(|e| refuse(BAD_USERNAME_OR_PASSWORD, format!("device {pk}/{dev}: {e}")))?;
    let expected = format!("{}.{}", identity.pk, identity.dev);
    if *client != expected {
        return Err(refuse(IDENTIFIER_REJECTED, format!("device {pk}/{dev} connected as client {client:?}, not its own {expected:?}")));
    }
    Ok(Role::Device(DeviceAcl::new(&TopicProfile::builtin(), &identity.pk, &identity.dev)))
}

/// What the door has turned away so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DoorCounts {
    /// CONNECTs refused (bad credentials, unlisted, wrong client id, malformed).
    pub refused_connects: u64,
    /// PUBLISHes of devices outside their own uplink, dropped.
    pub denied_publishes: u64,
    /// SUBSCRIBEs of devices reaching outside their own downlink, refused.
    pub denied_subscribes: u64,
    /// Wills of devices outside their own uplink, removed.
    pub removed_wills: u64,
}

/// The counts, shared by every relay.
#[derive(Debug, Default)]
pub struct DoorCounters {
    refused_connects: AtomicU64,
    denied_publishes: AtomicU64,
    denied_subscribes: AtomicU64,
    removed_wills: AtomicU64,
    /// Refusals are logged at most `LOG_BURST` per `LOG_WINDOW`, so a password-guessing client
    /// cannot flood the log; the next line says how many were left out.
    log: Mutex<LogWindow>,
}

#[derive(Debug, Default)]
struct LogWindow {
    started: Option<Instant>,
    logged: u32,
    skipped: u64,
}

const LOG_WINDOW: Duration = Duration::from_secs(10);
const LOG_BURST: u32 = 10;

pub enum Counted {
    RefusedConnect,
    DeniedPublish,
    DeniedSubscribe,
    RemovedWill,
}

impl DoorCounters {
    /// Counts one event; returns the new total of its kind.
    pub fn count(&self, what: Counted) -> u64 {
        let counter = match what {
            Counted::RefusedConnect => &self.refused_connects,
            Counted::DeniedPublish => &self.denied_publishes,
            Counted::DeniedSubscribe => &self.denied_subscribes,
            Counted::RemovedWill => &self.removed_wills,
        };
        counter.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub fn snapshot(&self) -> DoorCounts {
        DoorCounts {
            refused_connects: self.refused_connects.load(Ordering::Relaxed),
            denied_publishes: self.denied_publishes.load(Ordering::Relaxed),
            denied_subscribes: self.denied_subscribes.load(Ordering::Relaxed),
            removed_wills: self.removed_wills.load(Ordering::Relaxed),
        }
    }

    /// Some(lines left out before this one) when a refusal may be logged now.
    pub fn may_log(&self) -> Option<u64> {
        let mut window = self.log.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        if window.started.is_none_or(|started| now.duration_since(started) >= LOG_WINDOW) {
            window.started = Some(now);
            window.logged = 0;
        }
        if window.logged >= LOG_BURST {
            window.skipped += 1;
            return None;
        }
        window.logged += 1;
        Some(std::mem::take(&mut window.skipped))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TS: u64 = 1_700_000_000_000;

    fn devices() -> Devices {
        let text = r#"{"devices": [{"pk": "PK01", "dev": "GW-0001", "secret": "s3cr3t"}], "masters": [{"user": "scada", "password": "pw"}]}"#;
        Devices::from_json(text, "devices.json").unwrap()
    }

    fn connect(client_id: &str, username: Option<&str>, password: &str) -> Connect {
        Connect { client_id: client_id.into(), will: None, username: username.map(Into::into), password: Some(password.as_bytes().to_vec()) }
    }

    fn signed(pk: &str, dev: &str, secret: &str, ts: u64) -> Connect {
        let creds = auth::sign(pk, dev, secret, ts).unwrap();
        connect(&creds.client_id, Some(&creds.username), &creds.password)
    }

    fn code(result: Result<Role, Refusal>) -> Option<u8> {
        result.unwrap_err().code
    }

    #[test]
    fn the_door_admits_listed_devices_and_masters_only() {
        let d = devices();
        let Ok(Role::Device(acl)) = admit(Some(&d), Some(&signed("PK01", "GW-0001", "s3cr3t", TS)), TS + 299_000) else { panic!("device refused") };
        assert_eq!((acl.up.as_str(), acl.down.as_str()), ("cems/v1/PK01/GW-0001/up/#", "cems/v1/PK01/GW-0001/down/#"));
        assert!(matches!(admit(Some(&d), Some(&connect("any", Some("scada"), "pw")), TS), Ok(Role::Master(_))));
        assert!(matches!(admit(None, None, TS), Ok(Role::Open)));

        assert_eq!(code(admit(Some(&d), Some(&signed("PK01", "GW-0001", "wrong", TS)), TS)), Some(BAD_USERNAME_OR_PASSWORD));
        assert_eq!(code(admit(Some(&d), Some(&signed("PK01", "GW-0001", "s3cr3t", TS)), TS + 300_001)), Some(BAD_USERNAME_OR_PASSWORD));
        assert_eq!(code(admit(Some(&d), Some(&signed("PK01", "GW-0002", "s3cr3t", TS)), TS)), Some(BAD_USERNAME_OR_PASSWORD));
        assert_eq!(code(admit(Some(&d), Some(&connect("any", Some("scada"), "pw2")), TS)), Some(BAD_USERNAME_OR_PASSWORD));
        assert_eq!(code(admit(Some(&d), Some(&connect("any", Some("root"), "pw")), TS)), Some(BAD_USERNAME_OR_PASSWORD));
        assert_eq!(code(admit(Some(&d), Some(&connect("any", None, "")), TS)), Some(NOT_AUTHORIZED));
        assert_eq!(code(admit(Some(&d), None, TS)), None);
        // The right signature on another device's client id would take over that one's session.
        let creds = auth::sign("PK01", "GW-0001", "s3cr3t", TS).unwrap();
        let refusal = admit(Some(&d), Some(&connect("PK01.GW-0002", Some(&creds.username), &creds.password)), TS).unwrap_err();
        assert_eq!(refusal.code, Some(IDENTIFIER_REJECTED));
        assert!(refusal.reason.contains("not its own \"PK01.GW-0001\""), "{}", refusal.reason);
    }

    #[test]
    fn a_device_touches_its_own_topics_only() {
        let role = Role::Device(DeviceAcl::new(&TopicProfile::builtin(), "PK01", "GW-0001"));
        assert!(role.may_publish("cems/v1/PK01/GW-0001/up/status"));
        assert!(role.may_publish("cems/v1/PK01/GW-0001/up/point/report"));
        assert!(role.may_publish("cems/v1/PK01/GW-0001/up/ota/chunk/get"));
        for topic in ["cems/v1/PK01/GW-0002/up/status", "cems/v1/PK01/GW-0001/down/command/request", "cems/v1/PK01/GW-0001", "x", "$SYS/a"] {
            assert!(!role.may_publish(topic), "{topic}");
        }
        for filter in ["cems/v1/PK01/GW-0001/down/#", "cems/v1/PK01/GW-0001/down", "cems/v1/PK01/GW-0001/down/+/+", "cems/v1/PK01/GW-0001/down/ota/chunk/get/reply"] {
            assert!(role.may_subscribe(filter), "{filter}");
        }
        for filter in ["cems/v1/#", "cems/v1/+/+/down/#", "cems/v1/PK01/+/down/#", "cems/v1/PK01/GW-0001/#", "cems/v1/PK01/GW-0001/+/#", "#", "cems/v1/PK01/GW-0001/down/a#", ""] {
            assert!(!role.may_subscribe(filter), "{filter}");
        }
        assert!(Role::Master("m".into()).may_subscribe("#") && Role::Open.may_publish("anything"));
    }

    #[test]
    fn filter_within_follows_mqtt_wildcards() {
        assert!(filter_within("a/b", "a/+"));
        assert!(filter_within("a/+", "a/+"));
        assert!(!filter_within("a/#", "a/+"));
        assert!(!filter_within("a/b/c", "a/+"));
        assert!(filter_within("a", "a/#"));
        assert!(!filter_within("a/+", "a/b"));
    }

    #[test]
    fn refusals_are_logged_in_bursts() {
        let counters = DoorCounters::default();
        let logged = (0..25).filter(|_| counters.may_log().is_some()).count();
        assert_eq!(logged, LOG_BURST as usize);
        assert_eq!(counters.count(Counted::RefusedConnect), 1);
        assert_eq!(counters.snapshot().refused_connects, 1);
    }
}

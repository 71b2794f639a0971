//! The station's answer to one `cmd` request (§11): `{"cmd": "start"|"stop"}` and
//! `{"Pset": kW}` to a PCS unit or to the whole station, checked against the limits first.
//! Plain functions over the physics, without I/O.

use serde_json::{Map, Value};

use crate::protocol::storage::{EXCHANGE_RESPONSE, StoragePayload, parse_payload};

use super::physics::{BMS_UNIT, PCS_RATED_KW, PCS_UNITS, RACKS, SOC_MAX, SOC_MIN, Station};

/// `result` of a command carried out.
pub(super) const RESULT_DONE: i64 = 0;
/// Refused in the station's present state or out of its limits.
pub(super) const RESULT_REFUSED: i64 = 1;
pub(super) const RESULT_UNKNOWN_COMMAND: i64 = 2;
/// The command names a device unit or component the station does not have.
pub(super) const RESULT_UNKNOWN_PLACE: i64 = 3;
/// The payload cannot be read as a command.
pub(super) const RESULT_BAD_REQUEST: i64 = 4;

const WHAT_IT_TAKES: &str = r#"this station takes {"cmd":"start"}, {"cmd":"stop"} or {"Pset": kW}"#;

/// The answer's `d`, and which PCS units' parameters changed (their `param` goes out again).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Outcome {
    pub(super) result: i64,
    pub(super) msg: String,
    pub(super) params_changed: Vec<usize>,
}

impl Outcome {
    pub(super) fn refused(result: i64, msg: impl Into<String>) -> Outcome {
        Outcome { result, msg: msg.into(), params_changed: Vec::new() }
    }
}

/// What the command is addressed to.
enum Target {
    Station,
    Pcs(usize),
    /// The BMS or one of its racks (named for the refusal).
    Battery(String),
}

/// A command read from `d`.
struct Command {
    run: Option<bool>,
    pset: Option<f64>,
}

/// Carries out `d` at `unit`/`component` of the station named `group`, or says why not.
pub(super) fn execute(station: &mut Station, group: &str, unit: Option<&str>, component: Option<&str>, d: &Map<String, Value>) -> Outcome {
    let target = match resolve(group, unit, component) {
        Ok(target) => target,
        Err(msg) => return Outcome::refused(RESULT_UNKNOWN_PLACE, msg),
    };
    let command = match read_command(d) {
        Ok(command) => command,
        Err(outcome) => return outcome,
    };
    match target {
        Target::Battery(name) => Outcome::refused(
            RESULT_REFUSED,
            format!("{name} takes no commands: send start, stop and Pset to {} or to the station {group}", PCS_UNITS.join(", ")),
        ),
        Target::Station => apply(station, &(0..station.pcs.len()).collect::<Vec<_>>(), &command, group),
        Target::Pcs(index) => apply(station, &[index], &command, PCS_UNITS[index]),
    }
}

fn resolve(group: &str, unit: Option<&str>, component: Option<&str>) -> Result<Target, String> {
    let Some(unit) = unit else { return Ok(Target::Station) };
    if let Some(index) = PCS_UNITS.iter().position(|u| *u == unit) {
        return match component {
            None => Ok(Target::Pcs(index)),
            Some(component) => Err(format!("{unit} has no component {component:?}")),
        };
    }
    if unit == BMS_UNIT {
        return match component {
            None => Ok(Target::Battery(unit.to_owned())),
            Some(rack) if RACKS.contains(&rack) => Ok(Target::Battery(format!("{unit}/{rack}"))),
            Some(other) => Err(format!("{unit} has no component {other:?} (it has {})", RACKS.join(", "))),
        };
    }
    Err(format!("no device unit {unit:?} in {group} (it has {}, {BMS_UNIT})", PCS_UNITS.join(", ")))
}

fn read_command(d: &Map<String, Value>) -> Result<Command, Outcome> {
    if d.is_empty() {
        return Err(Outcome::refused(RESULT_UNKNOWN_COMMAND, format!("empty command: {WHAT_IT_TAKES}")));
    }
    let mut command = Command { run: None, pset: None };
    for (key, value) in d {
        match (key.as_str(), value) {
            ("cmd", Value::String(name)) => match name.as_str() {
                "start" => command.run = Some(true),
                "stop" => command.run = Some(false),
                other => return Err(Outcome::refused(RESULT_UNKNOWN_COMMAND, format!("unknown command {other:?}: {WHAT_IT_TAKES}"))),
            },
            ("cmd", other) => return Err(Outcome::refused(RESULT_BAD_REQUEST, format!("cmd must be a string such as \"start\", found {other}"))),
            ("Pset", value) => match value.as_f64().filter(|kw| kw.is_finite()) {
                Some(kw) => command.pset = Some(kw),
                None => return Err(Outcome::refused(RESULT_BAD_REQUEST, format!("Pset must be a number of kW, found {value}"))),
            },
            (other, _) => return Err(Outcome::refused(RESULT_UNKNOWN_COMMAND, format!("unknown command {other:?}: {WHAT_IT_TAKES}"))),
        }
    }
    Ok(command)
}

/// Checks `command` for the PCS units `units` (a station's Pset is shared equally), then
/// carries it out for all of them or for none.
fn apply(station: &mut Station, units: &[usize], command: &Command, name: &str) -> Outcome {
    let count = units.len().max(1) as f64;
    let limit = PCS_RATED_KW * count;
    let share = command.pset.map(|total| total / count);
    if let Some(total) = command.pset
        && total.abs() > limit
    {
        let whose = if units.len() > 1 { format!(", the station's {} PCS units together", units.len()) } else { String::new() };
        return Outcome::refused(RESULT_REFUSED, format!("Pset {total} kW is outside ±{limit} kW{whose}"));
    }
    let soc = station.soc();
    if command.run != Some(false) {
        for &index in units {
            let Some(pcs) = station.pcs.get(index) else { continue };
            let (running, pset) = (command.run.unwrap_or(pcs.running), share.unwrap_or(pcs.pset));
            if !running {
                continue;
            }
            if pset > 0.0 && soc <= SOC_MIN {
                return Outcome::refused(
                    RESULT_REFUSED,
                    format!("{}: discharging at {pset} kW refused, SOC {soc:.1} % is at or below SOC_min {SOC_MIN} %", PCS_UNITS[index]),
                );
            }
            if pset < 0.0 && soc >= SOC_MAX {
                return Outcome::refused(
                    RESULT_REFUSED,
                    format!("{}: charging at {} kW refused, SOC {soc:.1} % is at or above SOC_max {SOC_MAX} %", PCS_UNITS[index], -pset),
                );
            }
        }
    }
    let mut params_changed = Vec::new();
    for &index in units {
        let Some(pcs) = station.pcs.get_mut(index) else { continue };
        if let Some(kw) = share
            && kw != pcs.pset
        {
            pcs.pset = kw;
            params_changed.push(index);
        }
        if let Some(run) = command.run {
            pcs.running = run;
        }
    }
    let mut done = Vec::new();
    if let Some(total) = command.pset {
        done.push(if units.len() > 1 { format!("Pset {total} kW ({} kW each)", total / count) } else { format!("Pset {total} kW") });
    }
    match command.run {
        Some(true) => done.push("started".to_owned()),
        Some(false) => done.push("stopped".to_owned()),
        None => {}
    }
    Outcome { result: RESULT_DONE, msg: format!("{name}: {}", done.join(", ")), params_changed }
}

/// What a message on a command topic turned out to be.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Request {
    /// A command to carry out and answer.
    Command(StoragePayload),
    /// An answer (`te: "resp"`): ours coming back, or another device's.
    Response,
    /// Not a command that parses, but its `code` can be read: answered refused with `reason`.
    Broken { request: StoragePayload, reason: String },
    /// Not even a `code` to answer with.
    Unreadable(String),
}

/// Reads a payload published on a command topic.
pub(super) fn read_request(bytes: &[u8]) -> Request {
    let parse_error = match parse_payload(bytes) {
        Ok(payload) if payload.te.as_deref() == Some(EXCHANGE_RESPONSE) => return Request::Response,
        Ok(payload) if payload.code.is_none() => return Request::Unreadable("a command without code cannot be answered".into()),
        Ok(payload) => return Request::Command(payload),
        Err(error) => error.to_string(),
    };
    let Ok(Value::Object(raw)) = serde_json::from_slice::<Value>(bytes) else { return Request::Unreadable(parse_error) };
    if raw.get("te").and_then(Value::as_str) == Some(EXCHANGE_RESPONSE) {
        return Request::Response;
    }
    match raw.get("code") {
        Some(code @ (Value::String(_) | Value::Number(_))) => {
            let mut request = StoragePayload::command(0, code.clone(), Map::new());
            request.ns = raw.get("ns").and_then(Value::as_str).map(str::to_owned);
            Request::Broken { request, reason: parse_error }
        }
        _ => Request::Unreadable(parse_error),
    }
}

/// The answer's `d`: `{result, msg}`.
pub(super) fn answer_data(result: i64, msg: &str) -> Map<String, Value> {
    let mut d = Map::new();
    d.insert("result".into(), Value::from(result));
    d.insert("msg".into(), Value::from(msg));
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn d(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    fn run(station: &mut Station, unit: Option<&str>, component: Option<&str>, command: Value) -> Outcome {
        execute(station, "station-1", unit, component, &d(command))
    }

    #[test]
    fn start_stop_and_pset_of_one_unit() {
        let mut station = Station::new(1);
        let out = run(&mut station, Some("pcs1"), None, json!({"cmd": "stop"}));
        assert_eq!((out.result, out.msg.as_str()), (0, "pcs1: stopped"));
        assert!(!station.pcs[0].running && station.pcs[1].running);
        let out = run(&mut station, Some("pcs1"), None, json!({"Pset": -75.5}));
        assert_eq!((out.result, out.params_changed), (0, vec![0]));
        assert_eq!(station.pcs[0].pset, -75.5);
        let out = run(&mut station, Some("pcs1"), None, json!({"cmd": "start", "Pset": -75.5}));
        assert_eq!((out.result, out.params_changed.len()), (0, 0), "same setpoint: no param change");
        assert!(station.pcs[0].running);
    }

    #[test]
    fn a_station_command_reaches_every_unit_and_shares_the_setpoint() {
        let mut station = Station::new(2);
        let out = run(&mut station, None, None, json!({"Pset": 300}));
        assert_eq!((out.result, out.msg.as_str()), (0, "station-1: Pset 300 kW (150 kW each)"));
        assert_eq!(out.params_changed, vec![0, 1]);
        assert!(station.pcs.iter().all(|p| p.pset == 150.0));
        let out = run(&mut station, None, None, json!({"Pset": 600}));
        assert_eq!(out.msg, "Pset 600 kW is outside ±500 kW, the station's 2 PCS units together");
        let out = run(&mut station, None, None, json!({"cmd": "stop"}));
        assert_eq!(out.result, 0);
        assert!(station.pcs.iter().all(|p| !p.running));
    }

    #[test]
    fn out_of_range_setpoints_are_refused_and_change_nothing() {
        let mut station = Station::new(3);
        let before = station.pcs[1].pset;
        let out = run(&mut station, Some("pcs2"), None, json!({"Pset": 600}));
        assert_eq!((out.result, out.msg.as_str()), (RESULT_REFUSED, "Pset 600 kW is outside ±250 kW"));
        let out = run(&mut station, Some("pcs2"), None, json!({"cmd": "stop", "Pset": -250.5}));
        assert_eq!(out.result, RESULT_REFUSED);
        assert_eq!((station.pcs[1].pset, station.pcs[1].running), (before, true), "a refused command does nothing at all");
        let out = run(&mut station, Some("pcs2"), None, json!({"Pset": "100"}));
        assert_eq!((out.result, out.msg.as_str()), (RESULT_BAD_REQUEST, "Pset must be a number of kW, found \"100\""));
    }

    #[test]
    fn discharging_below_soc_min_and_charging_above_soc_max_are_refused() {
        let mut station = Station::new(4);
        station.racks.iter_mut().for_each(|r| r.soc = 4.0);
        let out = run(&mut station, Some("pcs1"), None, json!({"Pset": 100}));
        assert_eq!(out.result, RESULT_REFUSED);
        assert_eq!(out.msg, "pcs1: discharging at 100 kW refused, SOC 4.0 % is at or below SOC_min 5 %");
        assert_eq!(run(&mut station, Some("pcs1"), None, json!({"Pset": -100})).result, 0, "charging is fine");
        assert_eq!(run(&mut station, Some("pcs1"), None, json!({"cmd": "stop"})).result, 0);
        assert_eq!(run(&mut station, Some("pcs1"), None, json!({"Pset": 100})).result, 0, "a stopped unit does not discharge");
        let out = run(&mut station, Some("pcs1"), None, json!({"cmd": "start"}));
        assert!(out.result == RESULT_REFUSED && out.msg.contains("SOC_min"), "{out:?}");
        assert_eq!(run(&mut station, Some("pcs1"), None, json!({"cmd": "stop"})).result, 0, "stop is never refused");

        station.racks.iter_mut().for_each(|r| r.soc = 96.0);
        let out = run(&mut station, None, None, json!({"Pset": -100}));
        assert!(out.result == RESULT_REFUSED && out.msg.contains("at or above SOC_max 95 %"), "{out:?}");
    }

    #[test]
    fn unknown_commands_and_places_are_refused_with_the_reason() {
        let mut station = Station::new(5);
        let out = run(&mut station, Some("pcs1"), None, json!({"cmd": "reboot"}));
        assert_eq!(out.result, RESULT_UNKNOWN_COMMAND);
        assert!(out.msg.starts_with("unknown command \"reboot\": this station takes"), "{}", out.msg);
        let out = run(&mut station, Some("pcs1"), None, json!({"Qset": 5}));
        assert!(out.msg.starts_with("unknown command \"Qset\""), "{}", out.msg);
        assert_eq!(run(&mut station, Some("pcs1"), None, json!({})).result, RESULT_UNKNOWN_COMMAND);
        assert_eq!(run(&mut station, Some("pcs1"), None, json!({"cmd": 1})).result, RESULT_BAD_REQUEST);

        let out = run(&mut station, Some("pcs9"), None, json!({"cmd": "start"}));
        assert_eq!((out.result, out.msg.as_str()), (RESULT_UNKNOWN_PLACE, "no device unit \"pcs9\" in station-1 (it has pcs1, pcs2, bms1)"));
        let out = run(&mut station, Some("bms1"), Some("rack7"), json!({"cmd": "start"}));
        assert_eq!(out.msg, "bms1 has no component \"rack7\" (it has rack1, rack2)");
        assert_eq!(run(&mut station, Some("pcs1"), Some("dc"), json!({"cmd": "start"})).result, RESULT_UNKNOWN_PLACE);
        let out = run(&mut station, Some("bms1"), Some("rack1"), json!({"cmd": "stop"}));
        assert_eq!(out.result, RESULT_REFUSED);
        assert!(out.msg.starts_with("bms1/rack1 takes no commands"), "{}", out.msg);
    }

    #[test]
    fn requests_are_told_from_answers_and_broken_payloads() {
        let ok = br#"{"t":1,"code":"c1","s":"CMD","te":"req","d":{"cmd":"start"}}"#;
        assert!(matches!(read_request(ok), Request::Command(p) if p.code == Some(json!("c1"))));
        assert_eq!(read_request(br#"{"t":1,"code":"c1","te":"resp","d":{"result":0}}"#), Request::Response);
        assert_eq!(read_request(br#"{"t":1,"code":"c1","te":"resp","d":7}"#), Request::Response);
        let Request::Broken { request, reason } = read_request(br#"{"t":1,"code":42,"ns":"station-1.pcs1","d":[1]}"#) else { panic!() };
        assert_eq!((request.code, request.ns.as_deref()), (Some(json!(42)), Some("station-1.pcs1")));
        assert_eq!(reason, "payload field `d`: expected an object, found array");
        assert!(matches!(read_request(br#"{"t":"x","code":"k","d":{}}"#), Request::Broken { .. }));
        for unreadable in [&b"not json"[..], b"[1]", br#"{"t":1,"d":{}}"#, br#"{"t":1,"code":true,"d":{}}"#, b""] {
            assert!(matches!(read_request(unreadable), Request::Unreadable(_)), "{:?}", String::from_utf8_lossy(unreadable));
        }
    }

    proptest! {
        #[test]
        fn any_bytes_and_any_command_are_answered_or_ignored_without_panic(
            bytes in prop::collection::vec(any::<u8>(), 0..120),
            key in prop::sample::select(vec!["cmd", "Pset", "x", ""]),
            value in prop_oneof![Just(json!("start")), Just(json!("stop")), any::<f64>().prop_map(|f| json!(f)), Just(json!(null)), Just(json!([1]))],
            unit in prop::option::of(prop::sample::select(vec!["pcs1", "pcs2", "bms1", "zz"])),
            component in prop::option::of(prop::sample::select(vec!["rack1", "rack9"])),
        ) {
            let _ = read_request(&bytes);
            let mut station = Station::new(0);
            let out = execute(&mut station, "g", unit, component, &d(json!({ key: value })));
            prop_assert!(!out.msg.is_empty());
            prop_assert!(station.pcs.iter().all(|p| p.pset.abs() <= PCS_RATED_KW));
        }
    }
}

use super::*;
use crate::protocol::payload::{Alarm, AlarmState, Alarms, PointV};

fn pv(sub: &str, pid: &str, v: f64, ts: i64) -> PointValue {
    PointValue { sub: sub.into(), pid: pid.into(), v: PointV::Number(v), q: 0, ts }
}

#[test]
fn duplicates_are_stored_once() {
    let mut g = Gateways::new();
    g.touch("PK", "GW", 1, 0);
    let key = GatewayKey { pk: "PK".into(), dev: "GW".into() };
    let batch = [pv("m1", "Ua", 230.0, 10), pv("m1", "Ua", 231.0, 20), pv("m1", "Ub", 229.0, 10)];
    assert_eq!(g.add_points(&key, &batch, 0), 3);
    assert_eq!(g.add_points(&key, &batch, 0), 0);
    assert_eq!(g.history_stats(), HistoryStats { rows_stored: 3, duplicates: 3 });
    let track = &g.get(&key).unwrap().subs["m1"].points["Ua"];
    assert_eq!(track.series.len(), 2);
    assert_eq!(track.latest.as_ref().unwrap().ts, 20);
}

#[test]
fn late_history_is_inserted_in_time_order_and_latest_stays_latest() {
    let mut g = Gateways::new();
    g.touch("PK", "GW", 1, 0);
    let key = GatewayKey { pk: "PK".into(), dev: "GW".into() };
    g.add_points(&key, &[pv("m1", "P", 1.0, 100), pv("m1", "P", 3.0, 300)], 0);
    g.add_points(&key, &[pv("m1", "P", 2.0, 200)], 0);
    let track = &g.get(&key).unwrap().subs["m1"].points["P"];
    let ts: Vec<_> = track.series.iter().map(|s| s.ts).collect();
    assert_eq!(ts, vec![100, 200, 300]);
    assert_eq!(track.latest.as_ref().unwrap().v, PointV::Number(3.0));
}

#[test]
fn alarms_raise_and_clear() {
    let mut g = Gateways::new();
    g.touch("PK", "GW", 1, 0);
    let key = GatewayKey { pk: "PK".into(), dev: "GW".into() };
    let mut a = Alarm {
        alarm_id: "a1".into(), sub: "m1".into(), pid: None, alarm_type: "overVoltage".into(), level: 2,
        state: AlarmState::Raised, value: None, threshold: None, ts: 1, desc: None,
    };
    g.apply(&key, Payload::Alarms(Alarms { alarms: vec![a.clone()] }), 0);
    assert_eq!(g.get(&key).unwrap().alarms.len(), 1);
    a.state = AlarmState::Cleared;
    a.ts = 5;
    g.apply(&key, Payload::Alarms(Alarms { alarms: vec![a.clone()] }), 0);
    assert!(g.get(&key).unwrap().alarms.is_empty());
    // The raise at ts 1, replayed from history after the clear, stays cleared.
    a.state = AlarmState::Raised;
    a.ts = 1;
    g.apply(&key, Payload::Alarms(Alarms { alarms: vec![a] }), 0);
    assert!(g.get(&key).unwrap().alarms.is_empty());
}

#[test]
fn series_is_bounded() {
    let mut series = VecDeque::new();
    for ts in 0..(SERIES_CAPACITY as i64 + 10) {
        insert_ordered(&mut series, Sample { ts, v: PointV::Number(0.0), q: 0 }, false);
    }
    assert_eq!(series.len(), SERIES_CAPACITY);
    assert_eq!(series.front().unwrap().ts, 10);
}

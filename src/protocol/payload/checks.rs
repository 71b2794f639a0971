//! Field rules serde's types cannot say by themselves: ranges the contract gives a field (§2
//! shapes). Each error names the field through `serde_path_to_error`
//! (`data.alarms[0].level: …`).

use serde::{Deserialize, Deserializer, de};

/// Alarm levels, 1 most severe (contract §2 `Alarm`).
pub const ALARM_LEVELS: std::ops::RangeInclusive<u8> = 1..=4;

/// An alarm `level`: an integer in 1..4.
pub(super) fn alarm_level<'de, D: Deserializer<'de>>(d: D) -> Result<u8, D::Error> {
    let level = i64::deserialize(d)?;
    u8::try_from(level)
        .ok()
        .filter(|l| ALARM_LEVELS.contains(l))
        .ok_or_else(|| de::Error::custom(format!("level {level} is outside 1..4 (1 most severe)")))
}

#[cfg(test)]
mod tests {
    use super::super::{Payload, decode};
    use serde_json::json;

    fn alarm(level: serde_json::Value) -> serde_json::Value {
        json!({"alarms": [{"alarmId": "a1", "sub": "m1", "type": "overVoltage", "level": level, "state": "raised", "ts": 1}]})
    }

    #[test]
    fn alarm_levels_outside_1_to_4_are_refused_naming_the_field() {
        for level in [json!(0), json!(5), json!(255), json!(256), json!(-1), json!(i64::MAX)] {
            for (class, action, reply) in [("alarm", "report", false), ("alarm", "get", true)] {
                let err = decode(class, action, reply, &alarm(level.clone())).typed.unwrap_err();
                assert_eq!(err.path, "data.alarms[0].level", "{level}");
                assert!(err.message.contains("outside 1..4"), "{err}");
            }
        }
        let err = decode("alarm", "report", false, &alarm(json!(2.5))).typed.unwrap_err();
        assert_eq!(err.path, "data.alarms[0].level");
        let history = json!({"batchId": "b", "points": [], "alarms": alarm(json!(9))["alarms"]});
        assert_eq!(decode("history", "report", false, &history).typed.unwrap_err().path, "data.alarms[0].level");
        for level in 1..=4 {
            let Ok(Payload::Alarms(a)) = decode("alarm", "report", false, &alarm(json!(level))).typed else { panic!("level {level}") };
            assert_eq!(a.alarms[0].level, level);
        }
    }

    #[test]
    fn a_point_without_quality_is_refused() {
        let data = json!({"points": [{"sub": "M1", "pid": "Ua", "v": 230.1, "q": 0, "ts": 1}, {"sub": "M1", "pid": "Ub", "v": 1, "ts": 1}]});
        for (class, action, reply) in [("point", "report", false), ("point", "change", false), ("point", "get", true)] {
            let err = decode(class, action, reply, &data).typed.unwrap_err();
            assert_eq!(err.path, "data.points[1]", "{class}/{action}");
            assert!(err.message.contains("missing field `q`"), "{err}");
        }
        let history = json!({"batchId": "b", "points": data["points"]});
        assert!(decode("history", "report", false, &history).typed.unwrap_err().message.contains("`q`"));
    }
}

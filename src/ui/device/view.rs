//! A light copy of one gateway for its device page, computed from the engine's record without
//! egui (taken under the read lock, drawn after it): names, units and enum labels from the
//! models, values formatted, sub-devices matched to their models.

use crate::engine::gateways::{GatewayRecord, SubDevice};
use crate::engine::{GatewayKey, SessionId};
use crate::protocol::model::{AlarmDef, Lang, LocalizedText, ModelSet, ProductModel};
use crate::protocol::model::matching::GatewayModels;
use crate::protocol::payload::{Info, ModuleVersion, PointV};
use crate::ui::format::format_number;
use crate::ui::gateways::rows::Online;

/// The model of sub-device `sub_id` of `record`: declared by the gateway (`Info.subs`), else
/// matched by its id and what it reported ([`GatewayModels::model_of`]).
pub fn sub_model<'m>(models: &'m ModelSet, record: &GatewayRecord, sub_id: &str, sub: &SubDevice) -> Option<&'m ProductModel> {
    let declared = record.info.as_ref().and_then(|i| i.subs.as_deref()).unwrap_or_default();
    let seen = sub.points.keys().chain(sub.meters.keys()).map(String::as_str);
    GatewayModels::new(models, &record.key.pk, declared).model_of(sub_id, &record.key.dev, seen)
}

/// An alarm's description in `lang`: the model's description; a gateway `desc` that only
/// repeats the model's name or description (in either language) in the UI language; any other
/// gateway text as sent, after the model's description.
pub fn alarm_description(def: Option<&AlarmDef>, gateway_desc: Option<&str>, lang: Lang) -> Option<String> {
    let gateway_desc = gateway_desc.map(str::trim).filter(|d| !d.is_empty());
    let Some(def) = def else { return gateway_desc.map(str::to_owned) };
    let model_desc = def.description.as_ref().filter(|t| !t.is_empty());
    let says = |text: &LocalizedText, desc: &str| [&text.zh, &text.en].into_iter().flatten().any(|t| t.trim() == desc);
    match gateway_desc {
        None => model_desc.map(|t| t.get(lang).to_owned()),
        Some(desc) if model_desc.is_some_and(|t| says(t, desc)) => model_desc.map(|t| t.get(lang).to_owned()),
        Some(desc) if says(&def.name, desc) => Some(model_desc.unwrap_or(&def.name).get(lang).to_owned()),
        Some(desc) => Some(match model_desc {
            Some(t) => format!("{} · {desc}", t.get(lang)),
            None => desc.to_owned(),
        }),
    }
}

/// One point of a sub-device as the page shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct PointView {
    pub pid: String,
    /// From the model, or the pid.
    pub name: String,
    pub unit: String,
    pub value: String,
    pub quality: u8,
    pub ts: i64,
    /// Twice the model's `period`: a value older than this is stale (§6.4).
    pub stale_after_ms: Option<i64>,
    /// The model lets it be set (`point/set`).
    pub writable: bool,
}

impl PointView {
    /// True when the value is older than twice its model period at `now_ms`.
    pub fn is_stale(&self, now_ms: i64) -> bool {
        self.ts > 0 && self.stale_after_ms.is_some_and(|after| now_ms.saturating_sub(self.ts) > after)
    }
}

/// One energy register.
#[derive(Debug, Clone, PartialEq)]
pub struct MeterView {
    pub id: String,
    pub name: String,
    pub unit: String,
    pub value: String,
    pub ts: i64,
}

/// One device behind the gateway (or the gateway's own points).
#[derive(Debug, Clone, PartialEq)]
pub struct SubView {
    pub id: String,
    pub is_gateway: bool,
    /// Product key and name from the matched model.
    pub product: Option<(String, String)>,
    pub points: Vec<PointView>,
    pub meters: Vec<MeterView>,
    pub last_seen_ms: i64,
}

/// One active alarm.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmView {
    pub id: String,
    pub sub: String,
    pub pid: Option<String>,
    /// The alarm type's name from the model, or its id.
    pub kind: String,
    pub level: u8,
    pub value: Option<String>,
    pub threshold: Option<String>,
    pub ts: i64,
    /// See [`alarm_description`].
    pub desc: Option<String>,
}

/// A copy of what the device page shows: small (latest values only), so the engine's lock is
/// held only while it is made.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceView {
    pub key: GatewayKey,
    pub online: Online,
    pub last_seen_ms: i64,
    pub session: SessionId,
    pub messages: u64,
    pub info: Option<Info>,
    /// The product name from the gateway's model.
    pub product_name: Option<String>,
    pub versions: Vec<ModuleVersion>,
    pub subs: Vec<SubView>,
    pub alarms: Vec<AlarmView>,
    /// (id, name from the model or the id, value).
    pub properties: Vec<(String, String, String)>,
}

fn value_text(v: &PointV, enum_label: Option<&str>) -> String {
    match (v, enum_label) {
        (_, Some(label)) => format!("{label} ({v})"),
        (PointV::Number(n), None) => format_number(*n),
        (other, None) => other.to_string(),
    }
}

impl DeviceView {
    pub fn of(record: &GatewayRecord, models: &ModelSet, lang: Lang) -> DeviceView {
        let key = &record.key;
        let gateway_model = models.get(&key.pk).map(|d| d.model());
        let mut subs: Vec<SubView> = record.subs.iter().map(|(id, sub)| sub_view(models, record, id, sub, lang)).collect();
        // The gateway's own points first, then its devices by id.
        subs.sort_by(|a, b| b.is_gateway.cmp(&a.is_gateway).then_with(|| a.id.cmp(&b.id)));
        let alarms = record
            .alarms
            .values()
            .map(|a| {
                let sub_model = record.subs.get(&a.sub).and_then(|s| sub_model(models, record, &a.sub, s));
                let def = [sub_model, gateway_model].into_iter().flatten().find_map(|m| m.alarm(&a.alarm_type));
                let kind = def.map_or_else(|| a.alarm_type.clone(), |def| def.name.get(lang).to_owned());
                let desc = alarm_description(def, a.desc.as_deref(), lang);
                AlarmView {
                    id: a.alarm_id.clone(),
                    sub: a.sub.clone(),
                    pid: a.pid.clone(),
                    kind,
                    level: a.level,
                    value: a.value.as_ref().map(|v| value_text(v, None)),
                    threshold: a.threshold.map(format_number),
                    ts: a.ts,
                    desc,
                }
            })
            .collect();
        let properties = record
            .properties
            .iter()
            .map(|(id, value)| {
                let name = gateway_model.and_then(|m| m.property(id)).map_or_else(|| id.clone(), |p| p.name.get(lang).to_owned());
                let text = match value {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (id.clone(), name, text)
            })
            .collect();
        DeviceView {
            key: key.clone(),
            online: Online::of(record),
            last_seen_ms: record.last_seen_ms,
            session: record.session,
            messages: record.messages,
            info: record.info.clone(),
            product_name: gateway_model.map(|m| m.name.get(lang).to_owned()),
            versions: record.versions.clone(),
            subs,
            alarms,
            properties,
        }
    }
}

fn sub_view(models: &ModelSet, record: &GatewayRecord, id: &str, sub: &SubDevice, lang: Lang) -> SubView {
    let model = sub_model(models, record, id, sub);
    let position = |pid: &str| model.and_then(|m| m.points.iter().position(|p| p.id == pid)).unwrap_or(usize::MAX);
    let mut points: Vec<PointView> = sub
        .points
        .iter()
        .map(|(pid, track)| {
            let def = model.and_then(|m| m.point(pid));
            let (value, quality, ts) = match &track.latest {
                Some(sample) => {
                    let label = def.and_then(|d| d.enum_label(&sample.v.to_json(), lang));
                    (value_text(&sample.v, label), sample.q, sample.ts)
                }
                None => (String::new(), 0, 0),
            };
            PointView {
                pid: pid.clone(),
                name: def.map_or_else(|| pid.clone(), |d| d.name.get(lang).to_owned()),
                unit: def.and_then(|d| d.spec.unit.clone()).unwrap_or_default(),
                value,
                quality,
                ts,
                stale_after_ms: def.and_then(|d| d.period).filter(|p| *p > 0.0).map(|p| (p * 2_000.0) as i64),
                writable: def.is_some_and(|d| d.writable),
            }
        })
        .collect();
    // The model's order reads as the vendor meant it (Ua, Ub, Uc, Ia, …).
    points.sort_by(|a, b| position(&a.pid).cmp(&position(&b.pid)).then_with(|| a.pid.cmp(&b.pid)));
    let meters = sub
        .meters
        .iter()
        .map(|(meter_id, (ts, value))| {
            let def = model.and_then(|m| m.meter(meter_id));
            MeterView {
                id: meter_id.clone(),
                name: def.map_or_else(|| meter_id.clone(), |d| d.name.get(lang).to_owned()),
                unit: def.and_then(|d| d.unit.clone()).unwrap_or_default(),
                value: format_number(*value),
                ts: *ts,
            }
        })
        .collect();
    SubView {
        id: id.to_owned(),
        is_gateway: id == record.key.dev,
        product: model.map(|m| (m.product_key.clone(), m.name.get(lang).to_owned())),
        points,
        meters,
        last_seen_ms: sub.last_seen_ms,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Gateways;
    use crate::protocol::payload::{Alarm, AlarmState, Alarms, Payload, PointValue, Points};

    fn key(pk: &str, dev: &str) -> GatewayKey {
        GatewayKey { pk: pk.into(), dev: dev.into() }
    }

    fn record_with_meter() -> Gateways {
        let mut g = Gateways::new();
        g.announce(&GatewayKey { pk: ("PK-GW-01").to_owned(), dev: ("GW-1").to_owned() }, 1, 5_000);
        let k = key("PK-GW-01", "GW-1");
        let pv = |sub: &str, pid: &str, v: f64| PointValue { sub: sub.into(), pid: pid.into(), v: PointV::Number(v), q: 0, ts: 4_000 };
        let points = vec![pv("meter-1", "Ub", 229.0), pv("meter-1", "Ua", 230.5), pv("GW-1", "cpuLoad", 12.0), pv("x-1", "zz", 1.0)];
        g.apply(&k, Payload::Points(Points { points }), 5_000);
        g.apply(
            &k,
            Payload::Alarms(Alarms { alarms: vec![Alarm {
                alarm_id: "a1".into(),
                sub: "meter-1".into(),
                pid: Some("Ua".into()),
                alarm_type: "nope".into(),
                level: 2,
                state: AlarmState::Raised,
                value: Some(PointV::Number(260.0)),
                threshold: Some(253.0),
                ts: 4_000,
                desc: None,
            }] }),
            5_000,
        );
        g
    }

    #[test]
    fn sub_devices_get_their_model_names() {
        let models = ModelSet::builtin();
        let g = record_with_meter();
        let record = g.get(&key("PK-GW-01", "GW-1")).unwrap();
        let row = crate::ui::gateways::rows::GatewayRow::of(record);
        assert_eq!(row.subs, vec!["meter-1".to_string(), "x-1".to_string()]);
        assert_eq!(row.alarms, 1);

        let page = DeviceView::of(record, &models, Lang::En);
        assert_eq!(page.product_name.as_deref(), Some("Energy gateway"));
        let ids: Vec<_> = page.subs.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["GW-1", "meter-1", "x-1"]);
        let meter = &page.subs[1];
        assert_eq!(meter.product.as_ref().map(|p| p.0.as_str()), Some("PK-METER-3P"));
        assert_eq!(meter.points[0].name, "Phase A voltage");
        assert_eq!(meter.points[0].value, "230.5");
        assert_eq!(meter.points[1].pid, "Ub");
        assert_eq!(meter.points[0].unit, "V");
        assert_eq!(page.subs[0].points[0].name, "CPU load");
        assert_eq!(page.subs[2].product, None);
        assert_eq!(page.subs[2].points[0].name, "zz");
        assert_eq!(page.alarms[0].kind, "nope");
        assert_eq!(page.alarms[0].threshold.as_deref(), Some("253"));

        let zh = DeviceView::of(record, &models, Lang::Zh);
        assert_eq!(zh.subs[1].points[0].name, "A相电压");
    }

    #[test]
    fn an_alarm_description_is_the_models_in_the_ui_language_and_the_gateways_own_words_stay() {
        let models = ModelSet::builtin();
        let meter = models.get("PK-METER-3P").unwrap().model();
        let over = meter.alarm("overVoltage");
        let loss = meter.alarm("phaseLoss");
        // A gateway that only repeats the model's name (the simulator does) reads in the UI language.
        assert_eq!(alarm_description(over, Some("Over-voltage"), Lang::Zh).as_deref(), Some("过压"));
        assert_eq!(alarm_description(over, Some("过压"), Lang::En).as_deref(), Some("Over-voltage"));
        // The model's description, in the UI language.
        assert_eq!(alarm_description(loss, None, Lang::Zh).as_deref(), Some("任一相电压低于额定值的 60%"));
        assert_eq!(alarm_description(loss, Some("Phase loss"), Lang::Zh).as_deref(), Some("任一相电压低于额定值的 60%"));
        // The gateway's own words stay as sent, after the model's description when there is one.
        assert_eq!(alarm_description(over, Some("Ua 260 V > 253 V"), Lang::Zh).as_deref(), Some("Ua 260 V > 253 V"));
        assert_eq!(alarm_description(loss, Some("phase C lost"), Lang::Zh).as_deref(), Some("任一相电压低于额定值的 60% · phase C lost"));
        // No model for the type: the gateway's text, whatever the language.
        assert_eq!(alarm_description(None, Some("fan stuck"), Lang::Zh).as_deref(), Some("fan stuck"));
        assert_eq!(alarm_description(over, None, Lang::Zh), None);
    }
}

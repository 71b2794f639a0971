//! What the gateways list and the device page show, computed from the engine's records
//! without egui: rows, filtering, sorting, "12 s ago", the model of each sub-device, and a
//! light copy of one gateway for its page (taken under the read lock, drawn after it).

use crate::engine::gateways::{GatewayRecord, SubDevice};
use crate::engine::{GatewayKey, SessionId};
use crate::protocol::model::{Lang, ModelKind, ModelSet, ProductModel};
use crate::protocol::payload::{Info, ModuleVersion, PointV};
use crate::ui::i18n::tr;

/// A gateway's state from its retained `status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Online {
    Online,
    Offline(Option<String>),
    /// No `status` seen yet.
    Unknown,
}

impl Online {
    pub fn of(record: &GatewayRecord) -> Online {
        match record.online {
            Some(true) => Online::Online,
            Some(false) => Online::Offline(record.status_reason.clone()),
            None => Online::Unknown,
        }
    }

    /// "online", "offline (lost)", "unknown".
    pub fn text(&self, lang: Lang) -> String {
        match self {
            Online::Online => tr(lang, "online").to_owned(),
            Online::Offline(Some(reason)) => format!("{} ({reason})", tr(lang, "offline")),
            Online::Offline(None) => tr(lang, "offline").to_owned(),
            Online::Unknown => tr(lang, "unknown").to_owned(),
        }
    }
}

/// One line of the gateways list.
#[derive(Debug, Clone, PartialEq)]
pub struct GatewayRow {
    pub key: GatewayKey,
    pub online: Online,
    pub vendor: String,
    pub model: String,
    pub fw_version: String,
    pub versions: Vec<ModuleVersion>,
    pub last_seen_ms: i64,
    /// Sub-device ids (the gateway's own id excluded).
    pub subs: Vec<String>,
    pub alarms: usize,
}

impl GatewayRow {
    pub fn of(record: &GatewayRecord) -> GatewayRow {
        let info = record.info.as_ref();
        GatewayRow {
            key: record.key.clone(),
            online: Online::of(record),
            vendor: info.map(|i| i.vendor.clone()).unwrap_or_default(),
            model: info.map(|i| i.model.clone()).unwrap_or_default(),
            fw_version: info.map(|i| i.fw_version.clone()).unwrap_or_default(),
            versions: record.versions.clone(),
            last_seen_ms: record.last_seen_ms,
            subs: record.subs.keys().filter(|s| **s != record.key.dev).cloned().collect(),
            alarms: record.alarms.len(),
        }
    }

    /// Case-insensitive match of `filter` in pk/dev, vendor, model or firmware version.
    pub fn matches(&self, filter: &str) -> bool {
        let filter = filter.trim().to_lowercase();
        if filter.is_empty() {
            return true;
        }
        [self.key.to_string(), self.vendor.clone(), self.model.clone(), self.fw_version.clone()]
            .iter()
            .any(|field| field.to_lowercase().contains(&filter))
    }
}

/// The column the list is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortBy {
    #[default]
    Key,
    LastSeen,
}

/// Sorts by `by` (ties by key, so the order is stable from frame to frame).
pub fn sort_rows(rows: &mut [GatewayRow], by: SortBy, descending: bool) {
    rows.sort_by(|a, b| {
        let order = match by {
            SortBy::Key => a.key.cmp(&b.key),
            SortBy::LastSeen => a.last_seen_ms.cmp(&b.last_seen_ms).then_with(|| a.key.cmp(&b.key)),
        };
        if descending { order.reverse() } else { order }
    });
}

/// "just now", "12 s ago", "5 min ago", "3 h ago", "2 d ago"; "never" for a zero time.
pub fn format_ago(lang: Lang, now_ms: i64, then_ms: i64) -> String {
    if then_ms <= 0 {
        return tr(lang, "never").to_owned();
    }
    let secs = (now_ms - then_ms).max(0) / 1000;
    let (template, n) = match secs {
        0 => return tr(lang, "just now").to_owned(),
        1..=59 => (tr(lang, "{n} s ago"), secs),
        60..=3_599 => (tr(lang, "{n} min ago"), secs / 60),
        3_600..=86_399 => (tr(lang, "{n} h ago"), secs / 3_600),
        _ => (tr(lang, "{n} d ago"), secs / 86_400),
    };
    template.replace("{n}", &n.to_string())
}

/// Seconds as "3 d 04:05:06" (days only when there are some).
pub fn format_uptime(secs: u64) -> String {
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let clock = format!("{:02}:{:02}:{:02}", rest / 3_600, rest % 3_600 / 60, rest % 60);
    if days > 0 { format!("{days} d {clock}") } else { clock }
}

/// Epoch ms as "2024-05-01 12:00:03 UTC".
pub fn format_utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (year, month, day) = crate::protocol::time::civil_from_days(days);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC", rest / 3_600, rest % 3_600 / 60, rest % 60)
}

/// A number without noise: integers as such, others with at most 3 decimals.
pub fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        return format!("{n:.0}");
    }
    let text = format!("{n:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// The model of sub-device `sub_id`: the gateway's own model for its own id, else the one of
/// the gateway's `subProducts` (all device models when the gateway's model is unknown) that
/// defines most of the points and meters seen.
pub fn sub_model<'m>(models: &'m ModelSet, key: &GatewayKey, sub_id: &str, sub: &SubDevice) -> Option<&'m ProductModel> {
    let gateway = models.get(&key.pk).map(|d| d.model());
    if sub_id == key.dev {
        return gateway;
    }
    let candidates: Vec<&ProductModel> = match gateway {
        Some(g) if !g.sub_products.is_empty() => g.sub_products.iter().filter_map(|pk| models.get(pk)).map(|d| d.model()).collect(),
        _ => models.iter().map(|d| d.model()).filter(|m| m.kind != ModelKind::Gateway).collect(),
    };
    let score = |m: &ProductModel| {
        sub.points.keys().filter(|pid| m.point(pid).is_some()).count() + sub.meters.keys().filter(|id| m.meter(id).is_some()).count()
    };
    let mut best: Option<(&ProductModel, usize)> = None;
    for model in candidates {
        let s = score(model);
        // The first of equals wins: subProducts order.
        if s > 0 && best.is_none_or(|(_, b)| s > b) {
            best = Some((model, s));
        }
    }
    best.map(|(m, _)| m)
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
    pub desc: Option<String>,
}

/// A copy of what the device page shows: small (latest values only), so the engine's lock is
/// held only while it is made.
#[derive(Debug, Clone, PartialEq)]
pub struct DevicePage {
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

impl DevicePage {
    pub fn of(record: &GatewayRecord, models: &ModelSet, lang: Lang) -> DevicePage {
        let key = &record.key;
        let gateway_model = models.get(&key.pk).map(|d| d.model());
        let mut subs: Vec<SubView> = record.subs.iter().map(|(id, sub)| sub_view(models, key, id, sub, lang)).collect();
        // The gateway's own points first, then its devices by id.
        subs.sort_by(|a, b| b.is_gateway.cmp(&a.is_gateway).then_with(|| a.id.cmp(&b.id)));
        let alarms = record
            .alarms
            .values()
            .map(|a| {
                let sub_model = record.subs.get(&a.sub).and_then(|s| sub_model(models, key, &a.sub, s));
                let kind = [sub_model, gateway_model]
                    .into_iter()
                    .flatten()
                    .find_map(|m| m.alarm(&a.alarm_type))
                    .map_or_else(|| a.alarm_type.clone(), |def| def.name.get(lang).to_owned());
                AlarmView {
                    id: a.alarm_id.clone(),
                    sub: a.sub.clone(),
                    pid: a.pid.clone(),
                    kind,
                    level: a.level,
                    value: a.value.as_ref().map(|v| value_text(v, None)),
                    threshold: a.threshold.map(format_number),
                    ts: a.ts,
                    desc: a.desc.clone(),
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
        DevicePage {
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

fn sub_view(models: &ModelSet, key: &GatewayKey, id: &str, sub: &SubDevice, lang: Lang) -> SubView {
    let model = sub_model(models, key, id, sub);
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
                unit: def.and_then(|d| d.unit.clone()).unwrap_or_default(),
                value,
                quality,
                ts,
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
        is_gateway: id == key.dev,
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
    use crate::protocol::payload::{Alarm, AlarmState, PointValue};

    fn key(pk: &str, dev: &str) -> GatewayKey {
        GatewayKey { pk: pk.into(), dev: dev.into() }
    }

    fn row(pk: &str, dev: &str, seen: i64, vendor: &str) -> GatewayRow {
        GatewayRow {
            key: key(pk, dev),
            online: Online::Unknown,
            vendor: vendor.into(),
            model: "EG-2000".into(),
            fw_version: "1.0.0".into(),
            versions: vec![],
            last_seen_ms: seen,
            subs: vec![],
            alarms: 0,
        }
    }

    #[test]
    fn rows_filter_and_sort() {
        let mut rows = vec![row("PK2", "B", 30, "Acme"), row("PK1", "A", 10, "Example"), row("PK1", "C", 20, "Acme")];
        sort_rows(&mut rows, SortBy::Key, false);
        assert_eq!(rows.iter().map(|r| r.key.dev.as_str()).collect::<String>(), "ACB");
        sort_rows(&mut rows, SortBy::LastSeen, true);
        assert_eq!(rows.iter().map(|r| r.key.dev.as_str()).collect::<String>(), "BCA");
        assert!(rows[0].matches("pk2/b"));
        assert!(rows[0].matches(" acme "));
        assert!(rows[0].matches(""));
        assert!(!rows[0].matches("example"));
        assert!(rows[0].matches("eg-2"));
    }

    #[test]
    fn ages_read_naturally() {
        let now = 1_000_000_000;
        assert_eq!(format_ago(Lang::En, now, 0), "never");
        assert_eq!(format_ago(Lang::En, now, now - 300), "just now");
        assert_eq!(format_ago(Lang::En, now, now + 5_000), "just now");
        assert_eq!(format_ago(Lang::En, now, now - 12_000), "12 s ago");
        assert_eq!(format_ago(Lang::En, now, now - 5 * 60_000), "5 min ago");
        assert_eq!(format_ago(Lang::En, now, now - 3 * 3_600_000), "3 h ago");
        assert_eq!(format_ago(Lang::En, now, now - 2 * 86_400_000), "2 d ago");
        assert_eq!(format_ago(Lang::Zh, now, now - 12_000), "12 秒前");
    }

    #[test]
    fn times_and_numbers_are_formatted() {
        assert_eq!(format_uptime(59), "00:00:59");
        assert_eq!(format_uptime(3 * 86_400 + 4 * 3_600 + 5 * 60 + 6), "3 d 04:05:06");
        assert_eq!(format_utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(format_utc(1_714_564_803_000), "2024-05-01 12:00:03 UTC");
        assert_eq!(format_utc(951_782_400_000), "2000-02-29 00:00:00 UTC");
        assert_eq!(format_number(230.0), "230");
        assert_eq!(format_number(230.12345), "230.123");
        assert_eq!(format_number(0.5), "0.5");
        assert_eq!(format_number(-1.25), "-1.25");
    }

    #[test]
    fn online_texts() {
        assert_eq!(Online::Offline(Some("lost".into())).text(Lang::En), "offline (lost)");
        assert_eq!(Online::Online.text(Lang::Zh), "在线");
    }

    fn record_with_meter() -> Gateways {
        let mut g = Gateways::new();
        g.touch("PK-GW-01", "GW-1", 1, 5_000);
        let k = key("PK-GW-01", "GW-1");
        let pv = |sub: &str, pid: &str, v: f64| PointValue { sub: sub.into(), pid: pid.into(), v: PointV::Number(v), q: 0, ts: 4_000 };
        g.add_points(&k, &[pv("meter-1", "Ub", 229.0), pv("meter-1", "Ua", 230.5), pv("GW-1", "cpuLoad", 12.0), pv("x-1", "zz", 1.0)], 5_000);
        g.apply_alarms(
            &k,
            &[Alarm {
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
            }],
        );
        g
    }

    #[test]
    fn sub_devices_get_their_model_names() {
        let models = ModelSet::builtin();
        let g = record_with_meter();
        let record = g.get(&key("PK-GW-01", "GW-1")).unwrap();
        let row = GatewayRow::of(record);
        assert_eq!(row.subs, vec!["meter-1".to_string(), "x-1".to_string()]);
        assert_eq!(row.alarms, 1);

        let page = DevicePage::of(record, &models, Lang::En);
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

        let zh = DevicePage::of(record, &models, Lang::Zh);
        assert_eq!(zh.subs[1].points[0].name, "A相电压");
    }
}

//! A site as the API sees it (§1): its points (the gateways and the devices behind them, seen by
//! the engine), each with its category and parameters from the product models, and the latest
//! values. Built from one short read of the gateway table; nothing is held across requests.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

use serde_json::Value;

use super::apps::Site;
use crate::engine::{GatewayRecord, Gateways};
use super::source::ApiSource;
use crate::engine::gateways::SubDevice;
use crate::engine::series::SeriesKey;
use crate::protocol::app_api::model::{Category, Cems, DataCount, DynamicData, Name, Parameter, ParameterKind, Point, SimpleCategory, category_name};
use crate::protocol::app_api::time::format_time;
use crate::protocol::app_api::TzOffset;
use crate::protocol::model::matching::GatewayModels;
use crate::protocol::model::{Category as ModelCategory, ModelSet, PointKind, ProductModel};
use crate::protocol::payload::PointV;

/// The latest sample of a parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct Latest {
    pub ts: i64,
    pub value: Value,
    pub quality: u8,
    /// This sample as the API's `DynamicData`, serialised once when the view is built: a
    /// dynamic page is then a join of these, not a serialisation of every value again.
    pub json: Box<str>,
}

/// One point of a site with what the engine knows of it.
#[derive(Debug, Clone)]
pub struct PointEntry {
    pub point: Point,
    /// Latest samples by parameterId.
    pub latest: BTreeMap<String, Latest>,
}

impl PointEntry {
    pub fn parameter(&self, id: &str) -> Option<&Parameter> {
        self.point.parameters.iter().find(|p| p.parameter_id == id)
    }

    /// The history series of parameter `id`: a meter register or a point.
    pub fn series_key(&self, parameter: &Parameter) -> SeriesKey {
        let p = &self.point;
        match parameter.kind {
            ParameterKind::Meter => SeriesKey::meter(&p.pk, &p.dev, &p.sub, &parameter.parameter_id),
            _ => SeriesKey::point(&p.pk, &p.dev, &p.sub, &parameter.parameter_id),
        }
    }
}

/// A site: its description and points, ordered by pointId.
#[derive(Debug, Clone)]
pub struct SiteView {
    pub site: Site,
    /// Shared with the per-gateway cache: a view is assembled from the gateways' entries, and
    /// only a gateway that changed is built again.
    pub points: Vec<Arc<PointEntry>>,
}

/// Every point of the site, from the gateway table and the models.
pub fn site_view(source: &dyn ApiSource, models: &ModelSet, site: &Site) -> SiteView {
    let mut view = None;
    source.read_gateways(&mut |gateways| view = Some(build(gateways, models, site)));
    view.unwrap_or_else(|| SiteView { site: site.clone(), points: Vec::new() })
}

fn build(gateways: &Gateways, models: &ModelSet, site: &Site) -> SiteView {
    let mut points = Vec::new();
    for record in gateways.iter().filter(|r| site.holds(&r.key.pk, &r.key.dev)) {
        points.extend(gateway_points(record, models, site.timezone));
    }
    sorted(site, points)
}

fn sorted(site: &Site, mut points: Vec<Arc<PointEntry>>) -> SiteView {
    points.sort_by(|a, b| a.point.point_id.cmp(&b.point.point_id));
    SiteView { site: site.clone(), points }
}

fn gateway_points(record: &GatewayRecord, models: &ModelSet, tz: TzOffset) -> Vec<Arc<PointEntry>> {
    let mut entries = Vec::new();
    points_of(record, models, tz, &mut entries);
    entries.into_iter().map(Arc::new).collect()
}

/// The gateway's devices as its points are built from them: itself first (`sub == dev`, with what
/// it reported as its own), then the devices behind it.
fn devices_of(record: &GatewayRecord) -> impl Iterator<Item = (&str, Option<&SubDevice>, bool)> {
    let dev = record.key.dev.as_str();
    std::iter::once((dev, record.subs.get(dev), true))
        .chain(record.subs.iter().filter(move |(sub, _)| sub.as_str() != dev && !sub.is_empty()).map(|(sub, d)| (sub.as_str(), Some(d), false)))
}

/// What changes whenever any of a gateway's points would at gateway level: online, and the info
/// that names vendor, model and the declared devices.
fn gateway_fingerprint(r: &GatewayRecord) -> u64 {
    let mut h = DefaultHasher::new();
    let info = r.info.as_ref().map(|i| (i.vendor.as_str(), i.model.as_str(), i.subs.as_ref().map_or(0, Vec::len)));
    (r.online, info).hash(&mut h);
    h.finish()
}

/// What changes whenever one device's point would: its gateway's part, the device's last sample
/// time and sizes. Cheap next to building the point (no sample is visited).
fn device_fingerprint(gateway: u64, device: Option<&SubDevice>) -> u64 {
    let (seen, points, meters) = device.map_or((i64::MIN, 0, 0), |d| (d.last_seen_ms, d.points.len(), d.meters.len()));
    // A multiply-xor mix: this runs for every device on every call.
    let mut x = gateway ^ (seen as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x = (x ^ points as u64).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    (x ^ (meters as u64) << 32).wrapping_mul(0x94D0_49BB_1331_11EB)
}

/// The points last built, per site and gateway, reused while nothing in them changed: a dynamic
/// call then costs its page, and a gateway that reported since costs only its own points, not the
/// whole site's (on a live broker some gateway reports between almost any two calls).
#[derive(Default)]
pub struct ViewCache {
    views: Mutex<HashMap<String, CachedSite>>,
}

/// A site's points by gateway and device, the models' identity, and the view assembled from them.
struct CachedSite {
    models_id: usize,
    gateways: HashMap<crate::engine::GatewayKey, HashMap<String, Slot>>,
    /// Counts the calls: a slot not seen in this one belongs to a device gone from the table.
    generation: u64,
    view: Arc<SiteView>,
}

/// One device's point and the fingerprint it was built at.
struct Slot {
    print: u64,
    entry: Arc<PointEntry>,
    seen: u64,
}

impl ViewCache {
    pub fn view(&self, source: &dyn ApiSource, models: &Arc<ModelSet>, site: &Site) -> Arc<SiteView> {
        let models_id = Arc::as_ptr(models) as usize;
        let mut out = None;
        source.read_gateways(&mut |gateways| {
            let mut views = self.views.lock().unwrap_or_else(|e| e.into_inner());
            let cached = views.entry(site.cems_id.clone()).or_insert_with(|| CachedSite {
                models_id,
                gateways: HashMap::new(),
                generation: 0,
                view: Arc::new(SiteView { site: site.clone(), points: Vec::new() }),
            });
            if cached.models_id != models_id {
                cached.gateways.clear();
                cached.models_id = models_id;
            }
            cached.generation += 1;
            let generation = cached.generation;
            // A fresh cache has no view to reuse, even of an empty site.
            let mut changed = generation == 1;
            let held: Vec<&GatewayRecord> = gateways.iter().filter(|r| site.holds(&r.key.pk, &r.key.dev)).collect();
            let mut devices = 0usize;
            for record in &held {
                if !cached.gateways.contains_key(&record.key) {
                    cached.gateways.insert(record.key.clone(), HashMap::new());
                }
                let Some(slots) = cached.gateways.get_mut(&record.key) else { continue };
                let gateway_print = gateway_fingerprint(record);
                // The models matched to the gateway's devices, worked out once a device needs building.
                let mut matched: Option<GatewayModels> = None;
                let declared = || record.info.as_ref().and_then(|i| i.subs.clone()).unwrap_or_default();
                for (sub, device, own) in devices_of(record) {
                    devices += 1;
                    let print = device_fingerprint(gateway_print, device);
                    if let Some(slot) = slots.get_mut(sub) {
                        slot.seen = generation;
                        if slot.print == print {
                            continue;
                        }
                    }
                    let gm = matched.get_or_insert_with(|| GatewayModels::new(models, &record.key.pk, &declared()));
                    let entry = Arc::new(device_entry(record, gm, sub, device, own, site.timezone));
                    slots.insert(sub.to_owned(), Slot { print, entry, seen: generation });
                    changed = true;
                }
            }
            let slots: usize = cached.gateways.values().map(HashMap::len).sum();
            if slots != devices {
                changed = true;
                cached.gateways.retain(|_, slots| {
                    slots.retain(|_, slot| slot.seen == generation);
                    !slots.is_empty()
                });
            }
            if changed {
                let mut points = Vec::with_capacity(devices);
                for record in &held {
                    let Some(slots) = cached.gateways.get(&record.key) else { continue };
                    points.extend(devices_of(record).filter_map(|(sub, _, _)| slots.get(sub).map(|slot| slot.entry.clone())));
                }
                cached.view = Arc::new(sorted(site, points));
            }
            out = Some(cached.view.clone());
        });
        out.unwrap_or_else(|| Arc::new(SiteView { site: site.clone(), points: Vec::new() }))
    }
}

fn points_of(record: &GatewayRecord, models: &ModelSet, tz: TzOffset, out: &mut Vec<PointEntry>) {
    let declared = record.info.as_ref().and_then(|i| i.subs.clone()).unwrap_or_default();
    let gm = GatewayModels::new(models, &record.key.pk, &declared);
    for (sub, device, own) in devices_of(record) {
        out.push(device_entry(record, &gm, sub, device, own, tz));
    }
}

/// The point of one device: the gateway itself (`own`, always a point, with what it reported as
/// its own) or a device behind it, with the model its id and reported points match.
fn device_entry(record: &GatewayRecord, gm: &GatewayModels, sub: &str, device: Option<&SubDevice>, own: bool, tz: TzOffset) -> PointEntry {
    let empty = SubDevice::default();
    let device = device.unwrap_or(&empty);
    let model = if own {
        gm.gateway
    } else {
        let seen = device.points.keys().chain(device.meters.keys()).map(String::as_str);
        gm.model_of(sub, &record.key.dev, seen)
    };
    entry(record, model, sub, device, own, tz)
}

fn entry(record: &GatewayRecord, model: Option<&ProductModel>, sub: &str, device: &SubDevice, own: bool, tz: TzOffset) -> PointEntry {
    let online = record.online.unwrap_or(false);
    let (pk, dev) = (record.key.pk.as_str(), record.key.dev.as_str());
    let point_id = if own { format!("{pk}.{dev}") } else { format!("{pk}.{dev}.{sub}") };
    let category = match model {
        Some(m) => m.category(),
        None if own => ModelCategory::Gateway,
        None => ModelCategory::Other,
    };
    let product_key = if own {
        pk.to_owned()
    } else {
        record.sub_product(sub).map(str::to_owned).or_else(|| model.map(|m| m.product_key.clone())).unwrap_or_default()
    };
    let info = record.info.as_ref().filter(|_| own);
    let vendor = match (model.and_then(|m| m.vendor.as_ref()), info) {
        (Some(v), _) => Name::of(v, ""),
        (None, Some(i)) => Name::same(&i.vendor),
        (None, None) => Name::same(""),
    };
    let model_name = model.and_then(|m| m.model.clone()).or_else(|| info.map(|i| i.model.clone())).unwrap_or_default();
    let name = match model {
        Some(m) if own => Name::of(&m.name, &point_id),
        Some(m) => {
            let n = Name::of(&m.name, sub);
            Name { zh: format!("{} {sub}", n.zh), en: format!("{} {sub}", n.en) }
        }
        None => Name::same(&point_id),
    };
    let mut latest = BTreeMap::new();
    for (pid, track) in &device.points {
        if let Some(s) = &track.latest {
            latest.insert(pid.clone(), latest_of(&point_id, pid, s.ts, json_of(&s.v), s.q, tz));
        }
    }
    for (meter, (ts, value)) in &device.meters {
        latest.insert(meter.clone(), latest_of(&point_id, meter, *ts, number(*value), 0, tz));
    }
    let parameters = parameters(model, device);
    PointEntry {
        point: Point {
            point_id,
            name,
            category_id: category.as_str().to_owned(),
            pk: pk.to_owned(),
            dev: dev.to_owned(),
            sub: sub.to_owned(),
            product_key,
            vendor,
            model: model_name,
            online,
            parameters,
        },
        latest,
    }
}

/// The model's points and meters, then what the device reported that the model does not name.
fn parameters(model: Option<&ProductModel>, device: &SubDevice) -> Vec<Parameter> {
    let mut out: Vec<Parameter> = Vec::new();
    if let Some(m) = model {
        for p in &m.points {
            let kind = match p.kind {
                PointKind::Analog => ParameterKind::Analog,
                PointKind::Digital => ParameterKind::Digital,
                PointKind::Accumulator => ParameterKind::Accumulator,
                PointKind::Text => ParameterKind::Text,
            };
            let unit = p.spec.unit.clone().unwrap_or_default();
            out.push(Parameter { parameter_id: p.id.clone(), name: Name::of(&p.name, &p.id), unit, kind, value_type: p.spec.value_type.as_str().to_owned() });
        }
        for meter in &m.meters {
            let unit = meter.unit.clone().unwrap_or_default();
            out.push(Parameter { parameter_id: meter.id.clone(), name: Name::of(&meter.name, &meter.id), unit, kind: ParameterKind::Meter, value_type: meter.value_type.as_str().to_owned() });
        }
    }
    for (pid, track) in &device.points {
        if out.iter().any(|p| p.parameter_id == *pid) {
            continue;
        }
        let (kind, value_type) = match track.latest.as_ref().map(|s| &s.v) {
            Some(PointV::Bool(_)) => (ParameterKind::Digital, "bool"),
            Some(PointV::Text(_)) => (ParameterKind::Text, "string"),
            _ => (ParameterKind::Analog, "float"),
        };
        out.push(Parameter { parameter_id: pid.clone(), name: Name::same(pid), unit: String::new(), kind, value_type: value_type.to_owned() });
    }
    for meter in device.meters.keys() {
        if !out.iter().any(|p| p.parameter_id == *meter) {
            out.push(Parameter { parameter_id: meter.clone(), name: Name::same(meter), unit: String::new(), kind: ParameterKind::Meter, value_type: "float".to_owned() });
        }
    }
    out
}

fn latest_of(point_id: &str, parameter_id: &str, ts: i64, value: Value, quality: u8, tz: TzOffset) -> Latest {
    let data = DynamicData { point_id: point_id.to_owned(), parameter_id: parameter_id.to_owned(), value, quality, time: format_time(ts, tz) };
    // A struct of strings, a JSON value and an integer always serialises.
    let json = serde_json::to_string(&data).unwrap_or_default().into_boxed_str();
    Latest { ts, value: data.value, quality, json }
}

fn number(n: f64) -> Value {
    serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)
}

fn json_of(v: &PointV) -> Value {
    match v {
        PointV::Number(n) => number(*n),
        PointV::Bool(b) => Value::Bool(*b),
        PointV::Text(t) => Value::String(t.clone()),
    }
}

impl SiteView {
    pub fn point(&self, id: &str) -> Option<&PointEntry> {
        self.points.binary_search_by(|p| p.point.point_id.as_str().cmp(id)).ok().map(|i| &*self.points[i])
    }

    /// The categories present, in first-seen order of the sorted points.
    pub fn categories(&self) -> Vec<Category> {
        let mut out: Vec<Category> = Vec::new();
        for entry in &self.points {
            let id = &entry.point.category_id;
            let at = match out.iter().position(|c| c.category_id == *id) {
                Some(at) => at,
                None => {
                    let name = id.parse::<ModelCategory>().map(|c| category_name(&c)).unwrap_or_else(|_| Name::same(id));
                    out.push(Category { category_id: id.clone(), name, point_count: 0, parameters: Vec::new() });
                    out.len() - 1
                }
            };
            let category = &mut out[at];
            category.point_count += 1;
            for p in &entry.point.parameters {
                if !category.parameters.iter().any(|q| q.parameter_id == p.parameter_id) {
                    category.parameters.push(p.clone());
                }
            }
        }
        out
    }

    /// True for a category of the model format (standard or `x-…`) or one present here.
    pub fn knows_category(&self, id: &str) -> bool {
        id.parse::<ModelCategory>().is_ok() || self.points.iter().any(|p| p.point.category_id == id)
    }

    pub fn cems(&self) -> Cems {
        let categories = self.categories().into_iter().map(|c| SimpleCategory { category_id: c.category_id, name: c.name }).collect();
        let data_count = DataCount {
            point_count: self.points.len() as u64,
            online_point_count: self.points.iter().filter(|p| p.point.online).count() as u64,
            parameter_count: self.points.iter().map(|p| p.point.parameters.len() as u64).sum(),
        };
        Cems {
            cems_id: self.site.cems_id.clone(),
            name: Name::same(&self.site.name),
            address: self.site.address.clone(),
            timezone: self.site.timezone.to_string(),
            categories,
            data_count,
        }
    }
}

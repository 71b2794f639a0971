//! What the product model says about a series: its name, unit, whether it is drawn as steps (and
//! with which labels), its alarm thresholds and its reporting period. Looked up once per frame
//! per plot under the gateways' read lock (a handful of series), so a model reload shows at once.

use crate::engine::GatewayKey;
use crate::engine::series::SeriesKey;
use crate::protocol::model::matching::GatewayModels;
use crate::protocol::model::{Lang, ModelSet, PointKind, ProductModel, ValueType};
use crate::ui::ViewContext;
use crate::ui::device::view::sub_model;

/// One series as a plot draws and names it.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesMeta {
    pub key: SeriesKey,
    /// The model's name, or the id (`pid`, register, `topic#pointer`).
    pub name: String,
    /// Empty when the model gives none.
    pub unit: String,
    /// Digital and enum points: drawn as steps, the Y axis labelled with `labels`.
    pub steps: bool,
    /// (value, label) of an enum or digital point, in the model's order.
    pub labels: Vec<(f64, String)>,
    pub alarm_hi: Option<f64>,
    pub alarm_lo: Option<f64>,
    /// The model's reporting period, ms.
    pub period_ms: Option<i64>,
}

impl SeriesMeta {
    /// Only the key: what is known without a model.
    pub fn bare(key: &SeriesKey) -> SeriesMeta {
        let name = match key {
            SeriesKey::Point { pid, .. } => pid.clone(),
            SeriesKey::Meter { register, .. } => register.clone(),
            SeriesKey::Path { .. } => key.label(),
        };
        SeriesMeta { key: key.clone(), name, unit: String::new(), steps: false, labels: Vec::new(), alarm_hi: None, alarm_lo: None, period_ms: None }
    }

    /// `Phase A voltage [V]`, or the name alone without a unit.
    pub fn name_and_unit(&self) -> String {
        if self.unit.is_empty() { self.name.clone() } else { format!("{} [{}]", self.name, self.unit) }
    }

    /// The legend's text: the sub-device (and the gateway when the plot holds several) before
    /// the name, so two meters' "Phase A voltage" stay apart.
    pub fn legend(&self, with_gateway: bool) -> String {
        match &self.key {
            SeriesKey::Point { dev, sub, .. } | SeriesKey::Meter { dev, sub, .. } => {
                let place = if with_gateway { format!("{dev}/{sub}") } else { sub.clone() };
                format!("{place} · {}", self.name_and_unit())
            }
            SeriesKey::Path { .. } => self.name_and_unit(),
        }
    }

    /// The CSV column header: `PK/DEV/SUB/PID name [unit]`.
    pub fn csv_header(&self) -> String {
        let label = self.key.label();
        if self.name == label { label } else { format!("{label} {}", self.name_and_unit()).trim_end().to_owned() }
    }

    /// What shares a Y axis: the unit, or the label set of a step series.
    pub fn axis_group(&self) -> String {
        if self.steps && !self.labels.is_empty() {
            let labels: Vec<&str> = self.labels.iter().map(|(_, l)| l.as_str()).collect();
            format!("{}\u{1f}{}", self.unit, labels.join("\u{1f}"))
        } else {
            self.unit.clone()
        }
    }

    /// The label of a step value, when the model lists one.
    pub fn label_of(&self, value: f64) -> Option<&str> {
        self.labels.iter().find(|(v, _)| (*v - value).abs() < 1e-9).map(|(_, l)| l.as_str())
    }
}

/// The model of sub-device `sub` of gateway `pk`/`dev`: as the gateway declared or reported it
/// when it is known, else matched by its id and the item `id` plotted.
fn model_of<'m>(view: &ViewContext<'m>, pk: &str, dev: &str, sub: &str, id: &str) -> Option<&'m ProductModel> {
    let models: &'m ModelSet = view.models;
    let gateways = view.state.gateways();
    let key = GatewayKey { pk: pk.to_owned(), dev: dev.to_owned() };
    if let Some(record) = gateways.get(&key)
        && let Some(sub_device) = record.subs.get(sub)
    {
        return sub_model(models, record, sub, sub_device);
    }
    GatewayModels::new(models, pk, &[]).model_of(sub, dev, std::iter::once(id))
}

/// The series of `keys` as the models describe them, in `lang`.
pub fn describe(view: &ViewContext, keys: &[SeriesKey]) -> Vec<SeriesMeta> {
    keys.iter().map(|key| describe_one(view, key, view.lang)).collect()
}

fn describe_one(view: &ViewContext, key: &SeriesKey, lang: Lang) -> SeriesMeta {
    let mut meta = SeriesMeta::bare(key);
    match key {
        SeriesKey::Point { pk, dev, sub, pid } => {
            let Some(def) = model_of(view, pk, dev, sub, pid).and_then(|m| m.point(pid)) else { return meta };
            meta.name = def.name.get(lang).to_owned();
            meta.unit = def.spec.unit.clone().unwrap_or_default();
            meta.steps = def.kind == PointKind::Digital || matches!(def.spec.value_type, ValueType::Enum | ValueType::Bool);
            if let Some(labels) = &def.spec.enum_labels {
                meta.labels = labels.iter().filter_map(|(k, text)| step_value(k).map(|v| (v, text.get(lang).to_owned()))).collect();
            }
            if def.spec.value_type == ValueType::Bool && meta.labels.is_empty() {
                meta.labels = vec![(0.0, "false".into()), (1.0, "true".into())];
            }
            if let Some(alarm) = &def.alarm {
                meta.alarm_hi = alarm.hi;
                meta.alarm_lo = alarm.lo;
            }
            meta.period_ms = def.period.filter(|p| *p > 0.0).map(|p| (p * 1000.0) as i64);
        }
        SeriesKey::Meter { pk, dev, sub, register } => {
            let Some(def) = model_of(view, pk, dev, sub, register).and_then(|m| m.meter(register)) else { return meta };
            meta.name = def.name.get(lang).to_owned();
            meta.unit = def.unit.clone().unwrap_or_default();
            meta.period_ms = def.period.filter(|p| *p > 0.0).map(|p| (p * 1000.0) as i64);
        }
        SeriesKey::Path { .. } => {}
    }
    meta
}

/// The number an enum key stands for on the plot: its integer key (`"2"`), or `true`/`false`.
fn step_value(key: &str) -> Option<f64> {
    match key {
        "true" => Some(1.0),
        "false" => Some(0.0),
        other => other.parse::<f64>().ok().filter(|v| v.is_finite()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_keys_become_step_values() {
        assert_eq!(step_value("2"), Some(2.0));
        assert_eq!(step_value("true"), Some(1.0));
        assert_eq!(step_value("running"), None);
    }

    #[test]
    fn a_bare_series_is_named_by_its_id() {
        let key = SeriesKey::Point { pk: "PK".into(), dev: "D".into(), sub: "s".into(), pid: "Ua".into() };
        let meta = SeriesMeta::bare(&key);
        assert_eq!(meta.name_and_unit(), "Ua");
        assert_eq!(meta.legend(false), "s · Ua");
        assert_eq!(meta.legend(true), "D/s · Ua");
        let named = SeriesMeta { name: "Phase A voltage".into(), unit: "V".into(), ..meta };
        assert_eq!(named.csv_header(), "PK/D/s/Ua Phase A voltage [V]");
    }
}

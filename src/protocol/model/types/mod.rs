//! Typed product model: what a parsed, validated model file says.
//!
//! Field names follow `product-model.md` (camelCase on disk). The types do not check cross-field
//! rules (min ≤ max, unique ids, …): `validate` does that on the JSON value before these are built.

use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};

use super::category::Category;
use crate::protocol::port::{PortParams, PortType};

mod kinds;
mod text;

pub use kinds::{Access, ModelKind, PointKind, ValueSpec, ValueType};
pub use text::{EnumLabels, Lang, LocalizedText};

/// Writes whole numbers as JSON integers so `500` does not come back as `500.0`.
pub(super) fn ser_num<S: Serializer>(value: &Option<f64>, serializer: S) -> Result<S::Ok, S::Error> {
    crate::protocol::json_num::ser_opt_num(value, serializer)
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A physical port of the product (`ports[]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
// No `deny_unknown_fields`: it cannot go with `flatten`; the schema check refuses unknown keys.
#[serde(rename_all = "camelCase")]
pub struct PortDef {
    /// Port id (`portId` on the wire).
    pub id: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<LocalizedText>,
    /// Longer explanation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<LocalizedText>,
    /// Physical type.
    #[serde(rename = "type")]
    pub port_type: PortType,
    /// Default link settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<PortParams>,
    /// Default field protocol (e.g. `modbus-rtu`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    /// Protocols the port can be switched to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub protocols: Vec<String>,
    /// Vendor extensions (`x-*` keys), in file order.
    // Flattened (after any flattened spec, so the spec takes its keys first and this gets the rest);
    // the schema check has already refused unknown keys that do not start with `x-`.
    #[serde(flatten, skip_serializing_if = "Map::is_empty")]
    pub extensions: Map<String, Value>,
}

/// A configuration property (`properties[]`), read and written with `property/get|set`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PropertyDef {
    /// Property key.
    pub id: String,
    /// Display name.
    pub name: LocalizedText,
    /// Longer explanation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<LocalizedText>,
    /// Type, unit, range and labels.
    // Flattened, so no `deny_unknown_fields` here: the schema check has refused unknown keys.
    #[serde(flatten)]
    pub spec: ValueSpec,
    /// Read/write access.
    pub access: Access,
    /// Factory default value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
    /// Vendor extensions (`x-*` keys), in file order.
    // Flattened (after any flattened spec, so the spec takes its keys first and this gets the rest);
    // the schema check has already refused unknown keys that do not start with `x-`.
    #[serde(flatten, skip_serializing_if = "Map::is_empty")]
    pub extensions: Map<String, Value>,
}

/// Threshold alarm of an analog point: raised above `hi` or below `lo`, cleared `deadband` inside.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PointAlarm {
    /// Upper threshold.
    #[serde(default, skip_serializing_if = "Option::is_none", serialize_with = "ser_num")]
    pub hi: Option<f64>,
    /// Lower threshold.
    #[serde(default, skip_serializing_if = "Option::is_none", serialize_with = "ser_num")]
    pub lo: Option<f64>,
    /// Hysteresis before the alarm clears.
    #[serde(default, skip_serializing_if = "Option::is_none", serialize_with = "ser_num")]
    pub deadband: Option<f64>,
}

/// A monitoring point (`points[]`), reported with `point/report` and `point/change`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PointDef {
    /// Point id (`pid`).
    pub id: String,
    /// Display name.
    pub name: LocalizedText,
    /// Longer explanation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<LocalizedText>,
    /// analog, digital, accumulator or text.
    pub kind: PointKind,
    /// Type, unit, range and labels.
    // Flattened, so no `deny_unknown_fields` here: the schema check has refused unknown keys.
    #[serde(flatten)]
    pub spec: ValueSpec,
    /// Report period in seconds; a value older than this is stale.
    #[serde(default, skip_serializing_if = "Option::is_none", serialize_with = "ser_num")]
    pub period: Option<f64>,
    /// Takes `point/set` (remote control or setpoint).
    #[serde(default, skip_serializing_if = "is_false")]
    pub writable: bool,
    /// Threshold alarm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alarm: Option<PointAlarm>,
    /// Vendor extensions (`x-*` keys), in file order.
    // Flattened (after any flattened spec, so the spec takes its keys first and this gets the rest);
    // the schema check has already refused unknown keys that do not start with `x-`.
    #[serde(flatten, skip_serializing_if = "Map::is_empty")]
    pub extensions: Map<String, Value>,
}

impl PointDef {
    /// Label of a reported value in `lang`, when the point lists its states.
    pub fn enum_label(&self, value: &Value, lang: Lang) -> Option<&str> {
        self.spec.label_of(value, lang)
    }
}

/// An energy register (`meters[]`), frozen and sent in `meter/report`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
// No `deny_unknown_fields`: it cannot go with `flatten`; the schema check refuses unknown keys.
#[serde(rename_all = "camelCase")]
pub struct MeterDef {
    /// Meter id (key of `Reading.values`).
    pub id: String,
    /// Display name.
    pub name: LocalizedText,
    /// Longer explanation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<LocalizedText>,
    /// int or float.
    #[serde(rename = "type")]
    pub value_type: ValueType,
    /// Unit symbol (kWh, kvarh).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Freeze period in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none", serialize_with = "ser_num")]
    pub period: Option<f64>,
    /// Vendor extensions (`x-*` keys), in file order.
    // Flattened (after any flattened spec, so the spec takes its keys first and this gets the rest);
    // the schema check has already refused unknown keys that do not start with `x-`.
    #[serde(flatten, skip_serializing_if = "Map::is_empty")]
    pub extensions: Map<String, Value>,
}

/// A command parameter or output value; `struct` has `fields`, `array` has `items`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ParamDef {
    /// Key in `params` / the reply data; empty for an array's `items`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<LocalizedText>,
    /// Longer explanation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<LocalizedText>,
    /// Type, unit, range and labels.
    // Flattened, so no `deny_unknown_fields` here: the schema check has refused unknown keys.
    #[serde(flatten)]
    pub spec: ValueSpec,
    /// Value used when the parameter is left out; a parameter with a default is optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
    /// Members of a struct.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<ParamDef>,
    /// Element of an array.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<Box<ParamDef>>,
    /// Vendor extensions (`x-*` keys), in file order.
    // Flattened (after the flattened spec, so the spec takes its keys first and this gets the rest);
    // the schema check has already refused unknown keys that do not start with `x-`.
    #[serde(flatten, skip_serializing_if = "Map::is_empty")]
    pub extensions: Map<String, Value>,
}

/// A command (`commands[]`), sent with `command/request`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
// No `deny_unknown_fields`: it cannot go with `flatten`; the schema check refuses unknown keys.
#[serde(rename_all = "camelCase")]
pub struct CommandDef {
    /// Command id (`cmd`).
    pub id: String,
    /// Display name.
    pub name: LocalizedText,
    /// Longer explanation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<LocalizedText>,
    /// Parameters of the request.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<ParamDef>,
    /// Values of the reply's `data`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub output: Vec<ParamDef>,
    /// Vendor extensions (`x-*` keys), in file order.
    // Flattened (after any flattened spec, so the spec takes its keys first and this gets the rest);
    // the schema check has already refused unknown keys that do not start with `x-`.
    #[serde(flatten, skip_serializing_if = "Map::is_empty")]
    pub extensions: Map<String, Value>,
}

impl CommandDef {
    /// The parameter `id`.
    pub fn param(&self, id: &str) -> Option<&ParamDef> {
        self.params.iter().find(|p| p.id == id)
    }
}

/// An alarm type the product raises (`alarms[]`), reported with `alarm/report`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
// No `deny_unknown_fields`: it cannot go with `flatten`; the schema check refuses unknown keys.
#[serde(rename_all = "camelCase")]
pub struct AlarmDef {
    /// Alarm type id.
    pub id: String,
    /// Display name.
    pub name: LocalizedText,
    /// Longer explanation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<LocalizedText>,
    /// Severity 1..4, 1 the most severe.
    pub level: u8,
    /// The point this alarm watches, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<String>,
    /// Vendor extensions (`x-*` keys), in file order.
    // Flattened (after any flattened spec, so the spec takes its keys first and this gets the rest);
    // the schema check has already refused unknown keys that do not start with `x-`.
    #[serde(flatten, skip_serializing_if = "Map::is_empty")]
    pub extensions: Map<String, Value>,
}

/// A whole product model file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductModel {
    /// Format version ("1.0").
    pub model_version: String,
    /// Product key (`pk`).
    pub product_key: String,
    /// Gateway or device.
    pub kind: ModelKind,
    /// What the application-side API groups the product by; see [`ProductModel::category`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<Category>,
    /// Product name.
    pub name: LocalizedText,
    /// Manufacturer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<LocalizedText>,
    /// Vendor's model designation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Longer explanation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<LocalizedText>,
    /// Physical ports.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<PortDef>,
    /// Configuration properties.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub properties: Vec<PropertyDef>,
    /// Monitoring points.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub points: Vec<PointDef>,
    /// Energy registers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub meters: Vec<MeterDef>,
    /// Commands.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commands: Vec<CommandDef>,
    /// Alarm types.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alarms: Vec<AlarmDef>,
    /// Product keys of the devices a gateway may carry.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sub_products: Vec<String>,
    /// Top-level keys the format does not define (`x-*` vendor extensions, `$schema`), in file order.
    // Flattened, so unknown keys land here; the schema check has already refused non-`x-` ones.
    #[serde(flatten)]
    pub extensions: Map<String, Value>,
}

impl ProductModel {
    /// The declared category, else `gateway` for a gateway and `other` for a device.
    pub fn category(&self) -> Category {
        self.category.clone().unwrap_or(match self.kind {
            ModelKind::Gateway => Category::Gateway,
            ModelKind::Device => Category::Other,
        })
    }

    /// The port `id`.
    pub fn port(&self, id: &str) -> Option<&PortDef> {
        self.ports.iter().find(|p| p.id == id)
    }

    /// The property `id`.
    pub fn property(&self, id: &str) -> Option<&PropertyDef> {
        self.properties.iter().find(|p| p.id == id)
    }

    /// The point `pid`.
    pub fn point(&self, pid: &str) -> Option<&PointDef> {
        self.points.iter().find(|p| p.id == pid)
    }

    /// The meter `id`.
    pub fn meter(&self, id: &str) -> Option<&MeterDef> {
        self.meters.iter().find(|m| m.id == id)
    }

    /// The command `id`.
    pub fn command(&self, id: &str) -> Option<&CommandDef> {
        self.commands.iter().find(|c| c.id == id)
    }

    /// The alarm type `id`.
    pub fn alarm(&self, id: &str) -> Option<&AlarmDef> {
        self.alarms.iter().find(|a| a.id == id)
    }
}

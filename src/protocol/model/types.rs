//! Typed product model: what a parsed, validated model file says.
//!
//! Field names follow `product-model.md` (camelCase on disk). The types do not check cross-field
//! rules (min ≤ max, unique ids, …): `validate` does that on the JSON value before these are built.

use std::fmt;

use indexmap::IndexMap;
use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::category::Category;
use crate::protocol::port::{PortParams, PortType};

/// Display language of model texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    /// Chinese (`zh`), the language a plain string is read as.
    #[default]
    Zh,
    /// English (`en`).
    En,
}

/// Text in Chinese and/or English; on disk a plain string (= `zh`) or `{"zh": …, "en": …}`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocalizedText {
    /// Chinese text.
    pub zh: Option<String>,
    /// English text.
    pub en: Option<String>,
}

impl LocalizedText {
    /// Text with both languages given.
    pub fn new(zh: impl Into<String>, en: impl Into<String>) -> Self {
        Self { zh: Some(zh.into()), en: Some(en.into()) }
    }

    /// The text in `lang`, else in the other language, else "".
    pub fn get(&self, lang: Lang) -> &str {
        let (first, second) = match lang {
            Lang::Zh => (&self.zh, &self.en),
            Lang::En => (&self.en, &self.zh),
        };
        first.as_deref().or(second.as_deref()).unwrap_or("")
    }

    /// True when neither language has text.
    pub fn is_empty(&self) -> bool {
        self.zh.as_deref().unwrap_or("").is_empty() && self.en.as_deref().unwrap_or("").is_empty()
    }
}

impl From<&str> for LocalizedText {
    fn from(zh: &str) -> Self {
        Self { zh: Some(zh.to_owned()), en: None }
    }
}

impl<'de> Deserialize<'de> for LocalizedText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = LocalizedText;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or an object with zh/en keys")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(LocalizedText::from(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut text = LocalizedText::default();
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "zh" => text.zh = Some(map.next_value()?),
                        "en" => text.en = Some(map.next_value()?),
                        other => return Err(de::Error::unknown_field(other, &["zh", "en"])),
                    }
                }
                Ok(text)
            }
        }
        deserializer.deserialize_any(TextVisitor)
    }
}

impl Serialize for LocalizedText {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let len = usize::from(self.zh.is_some()) + usize::from(self.en.is_some());
        let mut map = serializer.serialize_map(Some(len))?;
        if let Some(zh) = &self.zh {
            map.serialize_entry("zh", zh)?;
        }
        if let Some(en) = &self.en {
            map.serialize_entry("en", en)?;
        }
        map.end()
    }
}

/// Labels of the values an item can take (`enum`): value key → text, in file order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EnumLabels(pub IndexMap<String, LocalizedText>);

impl EnumLabels {
    /// Label of the value written as `key`.
    pub fn get(&self, key: &str) -> Option<&LocalizedText> {
        self.0.get(key)
    }

    /// (key, label) pairs in file order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &LocalizedText)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when no value is listed.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Label of a wire value: numbers and bools are looked up by their integer key ("1", "0").
    pub fn label_of(&self, value: &Value, lang: Lang) -> Option<&str> {
        value_keys(value).into_iter().find_map(|k| self.get(&k)).map(|t| t.get(lang))
    }
}

/// Keys a wire value may be listed under, most specific first.
fn value_keys(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => vec![s.clone()],
        Value::Bool(b) => vec![b.to_string(), u8::from(*b).to_string()],
        Value::Number(n) => {
            if n.is_i64() || n.is_u64() {
                vec![n.to_string()]
            } else {
                match n.as_f64() {
                    // 1.0 from a float-typed sender still means state "1".
                    Some(f) if crate::protocol::json_num::is_whole(f) => vec![format!("{}", f as i64), n.to_string()],
                    _ => vec![n.to_string()],
                }
            }
        }
        _ => Vec::new(),
    }
}

impl<'de> Deserialize<'de> for EnumLabels {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct LabelsVisitor;
        impl<'de> Visitor<'de> for LabelsVisitor {
            type Value = EnumLabels;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object of value → label")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut labels = IndexMap::new();
                while let Some((key, text)) = map.next_entry::<String, LocalizedText>()? {
                    labels.insert(key, text);
                }
                Ok(EnumLabels(labels))
            }
        }
        deserializer.deserialize_map(LabelsVisitor)
    }
}

impl Serialize for EnumLabels {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// Writes whole numbers as JSON integers so `500` does not come back as `500.0`.
fn ser_num<S: Serializer>(value: &Option<f64>, serializer: S) -> Result<S::Ok, S::Error> {
    crate::protocol::json_num::ser_opt_num(value, serializer)
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// Whether a model describes a gateway or a device behind one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    /// The subsystem interface gateway itself.
    Gateway,
    /// A product behind a gateway (meter, inverter, PCS).
    Device,
}

impl ModelKind {
    /// The on-disk spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ModelKind::Gateway => "gateway",
            ModelKind::Device => "device",
        }
    }
}

/// Data type of a property, point, meter or command value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ValueType {
    /// Integer.
    Int,
    /// Floating point number.
    Float,
    /// true / false.
    Bool,
    /// One key of `enum`, sent as that key string.
    Enum,
    /// Text, at most `maxLength` characters.
    String,
    /// Object with `fields` (command params and outputs only).
    Struct,
    /// List of `items` (command params and outputs only).
    Array,
}

impl ValueType {
    /// The on-disk spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ValueType::Int => "int",
            ValueType::Float => "float",
            ValueType::Bool => "bool",
            ValueType::Enum => "enum",
            ValueType::String => "string",
            ValueType::Struct => "struct",
            ValueType::Array => "array",
        }
    }

    /// True for `int` and `float`, the types that take min/max/step.
    pub fn is_numeric(self) -> bool {
        matches!(self, ValueType::Int | ValueType::Float)
    }
}

/// What values an item takes: its type, unit, range, resolution, length and labels. One shape for
/// properties, points and command params (on disk its keys sit in the item itself).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ValueSpec {
    /// Data type.
    #[serde(rename = "type")]
    pub value_type: ValueType,
    /// Unit symbol.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Lowest allowed (or, for a point, plausible) value.
    #[serde(default, skip_serializing_if = "Option::is_none", serialize_with = "ser_num")]
    pub min: Option<f64>,
    /// Highest allowed (or plausible) value.
    #[serde(default, skip_serializing_if = "Option::is_none", serialize_with = "ser_num")]
    pub max: Option<f64>,
    /// Resolution of the value.
    #[serde(default, skip_serializing_if = "Option::is_none", serialize_with = "ser_num")]
    pub step: Option<f64>,
    /// Longest string, in characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u64>,
    /// Value labels (enum type, digital states).
    #[serde(default, rename = "enum", skip_serializing_if = "Option::is_none")]
    pub enum_labels: Option<EnumLabels>,
}

impl ValueSpec {
    /// A bare type with no unit, range or labels.
    pub fn of(value_type: ValueType) -> Self {
        ValueSpec { value_type, unit: None, min: None, max: None, step: None, max_length: None, enum_labels: None }
    }

    /// Label of a value in `lang`, when the item lists its values.
    pub fn label_of(&self, value: &Value, lang: Lang) -> Option<&str> {
        self.enum_labels.as_ref()?.label_of(value, lang)
    }
}

/// Kind of a monitoring point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PointKind {
    /// Telemetry (a measured value).
    Analog,
    /// Status with enumerated states.
    Digital,
    /// Counter.
    Accumulator,
    /// Free text.
    Text,
}

impl PointKind {
    /// The on-disk spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            PointKind::Analog => "analog",
            PointKind::Digital => "digital",
            PointKind::Accumulator => "accumulator",
            PointKind::Text => "text",
        }
    }
}

/// Who may read or write a property.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    /// Read only.
    Ro,
    /// Read and write.
    Rw,
    /// Write only (e.g. a password).
    Wo,
}

impl Access {
    /// The on-disk spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Access::Ro => "ro",
            Access::Rw => "rw",
            Access::Wo => "wo",
        }
    }

    /// True when `property/set` may change it.
    pub fn writable(self) -> bool {
        matches!(self, Access::Rw | Access::Wo)
    }
}

/// A physical port of the product (`ports[]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
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
}

impl PointDef {
    /// Label of a reported value in `lang`, when the point lists its states.
    pub fn enum_label(&self, value: &Value, lang: Lang) -> Option<&str> {
        self.spec.label_of(value, lang)
    }
}

/// An energy register (`meters[]`), frozen and sent in `meter/report`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
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
}

/// A command (`commands[]`), sent with `command/request`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
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
}

impl CommandDef {
    /// The parameter `id`.
    pub fn param(&self, id: &str) -> Option<&ParamDef> {
        self.params.iter().find(|p| p.id == id)
    }
}

/// An alarm type the product raises (`alarms[]`), reported with `alarm/report`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
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

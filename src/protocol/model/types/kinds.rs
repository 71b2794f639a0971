//! The enumerations of a model (kind, value type, point kind, access) and the value spec shared by
//! properties, points and command values.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::ser_num;
use super::text::{EnumLabels, Lang};

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

//! Ports as the contract and the product model describe them (§6.3, `Port`; model `ports[]`):
//! the physical type, the serial parity and the link settings, defined once for the model, the
//! payloads and the serial link.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};

/// Physical port type, as in the contract's `Port` shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PortType {
    /// RS-485 serial bus.
    Rs485,
    /// RS-232 serial line.
    Rs232,
    /// Ethernet.
    Eth,
    /// CAN bus.
    Can,
    /// Digital input.
    Di,
    /// Digital output.
    Do,
}

impl PortType {
    /// The wire and on-disk spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            PortType::Rs485 => "rs485",
            PortType::Rs232 => "rs232",
            PortType::Eth => "eth",
            PortType::Can => "can",
            PortType::Di => "di",
            PortType::Do => "do",
        }
    }
}

/// Serial parity. A field bus may use all five; the workbench's own serial link, through the
/// platform drivers, offers [`Parity::SERIAL_LINE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Parity {
    /// No parity bit.
    #[default]
    None,
    /// Even parity.
    Even,
    /// Odd parity.
    Odd,
    /// Parity bit always 1.
    Mark,
    /// Parity bit always 0.
    Space,
}

impl Parity {
    /// The parities a workbench serial port can be opened with (what every OS driver supports).
    pub const SERIAL_LINE: [Parity; 3] = [Parity::None, Parity::Odd, Parity::Even];

    /// The wire and on-disk spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Parity::None => "none",
            Parity::Even => "even",
            Parity::Odd => "odd",
            Parity::Mark => "mark",
            Parity::Space => "space",
        }
    }
}

impl fmt::Display for Parity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Parity {
    type Err = String;

    /// The full name or its first letter (`8N1` style), any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "none" | "n" => Ok(Parity::None),
            "even" | "e" => Ok(Parity::Even),
            "odd" | "o" => Ok(Parity::Odd),
            "mark" | "m" => Ok(Parity::Mark),
            "space" | "s" => Ok(Parity::Space),
            other => Err(format!("parity {other:?}: expected none, even, odd, mark or space")),
        }
    }
}

/// Link settings of a port: serial and network keys, all optional. Keys the contract does not
/// name (a vendor's) are kept in `other`; the model schema refuses them in model files.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PortParams {
    /// Serial baud rate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baud: Option<u32>,
    /// Serial parity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parity: Option<Parity>,
    /// Serial data bits (5–8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_bits: Option<u8>,
    /// Serial stop bits (1, 1.5 or 2).
    #[serde(default, skip_serializing_if = "Option::is_none", serialize_with = "ser_whole")]
    pub stop_bits: Option<f64>,
    /// IPv4 address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// IPv4 netmask.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub netmask: Option<String>,
    /// Default gateway address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<String>,
    /// TCP port of the field protocol.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_port: Option<u16>,
    /// Field-bus answer timeout in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u32>,
    /// Keys the contract does not name, in arrival order.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl PortParams {
    /// Checks the values a port can actually take (a zero baud, 9 data bits, 3 stop bits).
    pub fn check(&self) -> Result<(), String> {
        if self.baud == Some(0) {
            return Err("baud must be positive".into());
        }
        if self.data_bits.is_some_and(|b| !(5..=8).contains(&b)) {
            return Err("dataBits must be 5 to 8".into());
        }
        if self.stop_bits.is_some_and(|s| ![1.0, 1.5, 2.0].contains(&s)) {
            return Err("stopBits must be 1, 1.5 or 2".into());
        }
        Ok(())
    }

    /// The serial settings in the usual short form (`9600 8N1`), when a baud rate is set.
    pub fn serial_summary(&self) -> Option<String> {
        let baud = self.baud?;
        let parity = self.parity.unwrap_or_default().as_str().chars().next().unwrap_or('n').to_ascii_uppercase();
        let stop = self.stop_bits.map_or_else(|| "1".to_owned(), crate::protocol::json_num::whole_or_decimal);
        Some(format!("{baud} {}{parity}{stop}", self.data_bits.unwrap_or(8)))
    }
}

fn ser_whole<S: Serializer>(value: &Option<f64>, serializer: S) -> Result<S::Ok, S::Error> {
    crate::protocol::json_num::ser_opt_num(value, serializer)
}

/// Physical state of a port with its counters (`Port.status`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PortStatus {
    pub online: bool,
    #[serde(default)]
    pub tx: u64,
    #[serde(default)]
    pub rx: u64,
    #[serde(default)]
    pub errors: u64,
}

/// A port as `port/report` and `port/get` carry it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Port {
    pub port_id: String,
    #[serde(rename = "type")]
    pub port_type: PortType,
    #[serde(default)]
    pub params: PortParams,
    #[serde(default)]
    pub protocol: String,
    #[serde(default)]
    pub status: PortStatus,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parity_reads_names_and_letters() {
        assert_eq!("N".parse::<Parity>(), Ok(Parity::None));
        assert_eq!("even".parse::<Parity>(), Ok(Parity::Even));
        assert_eq!("Mark".parse::<Parity>(), Ok(Parity::Mark));
        assert!("x".parse::<Parity>().is_err());
        assert_eq!(serde_json::to_value(Parity::Space).unwrap(), "space");
    }

    #[test]
    fn port_params_keep_vendor_keys_and_write_whole_numbers() {
        let json = serde_json::json!({"baud": 9600, "parity": "even", "dataBits": 8, "stopBits": 1, "x-slave": 3});
        let params: PortParams = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(params.parity, Some(Parity::Even));
        assert_eq!(params.other.get("x-slave"), Some(&serde_json::json!(3)));
        assert_eq!(serde_json::to_value(&params).unwrap(), json);
        assert_eq!(params.serial_summary().as_deref(), Some("9600 8E1"));
        assert!(params.check().is_ok());
        assert!(PortParams { data_bits: Some(9), ..PortParams::default() }.check().is_err());
    }

    #[test]
    fn a_reported_port_decodes_with_typed_params() {
        let port: Port = serde_json::from_str(r#"{"portId":"COM1","type":"rs485","params":{"baud":9600},"protocol":"modbus-rtu","status":{"online":true,"tx":3}}"#).unwrap();
        assert_eq!((port.port_type, port.params.baud, port.status.tx), (PortType::Rs485, Some(9600), 3));
    }
}

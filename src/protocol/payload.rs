//! Typed `data` for every class of the contract (§2 shapes). Decoding never loses the raw
//! value: [`Decoded`] keeps it beside the typed form, or beside the error when typing failed.

use std::fmt;

use indexmap::IndexMap;
use serde::de::{self, DeserializeOwned, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

pub use super::port::{Port, PortStatus, PortType};
pub use checks::ALARM_LEVELS;

mod checks;

/// A point's value: number, bool or string.
#[derive(Debug, Clone, PartialEq)]
pub enum PointV {
    Number(f64),
    Bool(bool),
    Text(String),
}

impl PointV {
    /// The value as a number for plotting: bools count as 0/1, text is not plottable.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            PointV::Number(n) => Some(*n),
            PointV::Bool(b) => Some(f64::from(u8::from(*b))),
            PointV::Text(_) => None,
        }
    }

    pub fn to_json(&self) -> Value {
        match self {
            PointV::Number(n) => serde_json::Number::from_f64(*n).map_or(Value::Null, Value::Number),
            PointV::Bool(b) => Value::Bool(*b),
            PointV::Text(s) => Value::String(s.clone()),
        }
    }
}

impl fmt::Display for PointV {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PointV::Number(n) => write!(f, "{n}"),
            PointV::Bool(b) => write!(f, "{b}"),
            PointV::Text(s) => f.write_str(s),
        }
    }
}

impl Serialize for PointV {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            // Whole numbers go out as integers so a gateway expecting an int gets one.
            PointV::Number(n) if n.fract() == 0.0 && n.abs() < 9.0e15 => s.serialize_i64(*n as i64),
            PointV::Number(n) => s.serialize_f64(*n),
            PointV::Bool(b) => s.serialize_bool(*b),
            PointV::Text(t) => s.serialize_str(t),
        }
    }
}

impl<'de> Deserialize<'de> for PointV {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = PointV;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("number, bool or string")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<PointV, E> {
                Ok(PointV::Bool(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<PointV, E> {
                Ok(PointV::Number(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<PointV, E> {
                Ok(PointV::Number(v as f64))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<PointV, E> {
                Ok(PointV::Number(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<PointV, E> {
                Ok(PointV::Text(v.to_owned()))
            }
        }
        d.deserialize_any(V)
    }
}

/// Point quality (`q`).
pub fn quality_text(q: u8, chinese: bool) -> &'static str {
    match (q, chinese) {
        (0, false) => "good",
        (1, false) => "invalid",
        (2, false) => "stale",
        (3, false) => "substituted",
        (0, true) => "正常",
        (1, true) => "无效",
        (2, true) => "过期",
        (3, true) => "替代",
        (_, false) => "unknown quality",
        (_, true) => "未知品质",
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointValue {
    pub sub: String,
    pub pid: String,
    pub v: PointV,
    /// Quality, required (contract §2): 0 good, 1 invalid, 2 stale, 3 substituted.
    pub q: u8,
    pub ts: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reading {
    pub sub: String,
    pub ts: i64,
    pub values: IndexMap<String, f64>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Info {
    pub vendor: String,
    pub model: String,
    pub serial: String,
    pub hw_version: String,
    pub fw_version: String,
    pub sw_version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// Seconds since boot.
    pub uptime: u64,
    /// The product key of each sub-device; without it a master matches models by id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subs: Option<Vec<SubRef>>,
}

/// A sub-device behind the gateway and the product model it is an instance of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubRef {
    pub sub: String,
    pub product_key: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlarmState {
    Raised,
    Cleared,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Alarm {
    pub alarm_id: String,
    pub sub: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<String>,
    #[serde(rename = "type")]
    pub alarm_type: String,
    /// 1 (most severe) to 4; anything else is refused on decoding.
    #[serde(deserialize_with = "checks::alarm_level")]
    pub level: u8,
    pub state: AlarmState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<PointV>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    pub ts: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desc: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Status {
    pub online: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommandRequest {
    pub cmd: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    #[serde(default)]
    pub params: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VendorMessage {
    #[serde(rename = "type")]
    pub message_type: String,
    pub content: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ports {
    pub ports: Vec<Port>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PortGet {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_ids: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PortSetItem {
    pub port_id: String,
    /// The keys to change (a partial `PortParams`; `protocol` switches the field protocol).
    pub params: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortSet {
    pub ports: Vec<PortSetItem>,
}

/// A port that `port/set` could not configure, with its own code and msg (contract §3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PortFailure {
    pub port_id: String,
    pub code: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msg: Option<String>,
}

/// The reply of a set request (`port/set`, `property/set`): the items that failed, each with
/// its own code; the reply's `code` is the first failure's (contract §3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(deserialize = "F: Deserialize<'de>"))]
pub struct SetReply<F> {
    #[serde(default = "Vec::new")]
    pub failed: Vec<F>,
}

impl<F> Default for SetReply<F> {
    fn default() -> Self {
        SetReply { failed: Vec::new() }
    }
}

pub type PortSetReply = SetReply<PortFailure>;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Points {
    pub points: Vec<PointValue>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PointGet {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pids: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointSet {
    pub sub: String,
    pub pid: String,
    pub value: PointV,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointSetReply {
    pub value: PointV,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Readings {
    pub readings: Vec<Reading>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeterGet {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    pub from: i64,
    pub to: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Props {
    pub props: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PropertyGet {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keys: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PropertyFailure {
    pub key: String,
    pub code: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msg: Option<String>,
}

pub type PropertySetReply = SetReply<PropertyFailure>;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModuleVersion {
    pub module: String,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Versions {
    pub modules: Vec<ModuleVersion>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OtaUpgrade {
    pub task_id: String,
    pub module: String,
    pub version: String,
    pub size: u64,
    pub sha256: String,
    pub chunk_size: u32,
}

/// `ota/chunk/get` and `file/chunk/get`, `file/read`: the id field differs by class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OtaChunkGet {
    pub task_id: String,
    pub offset: u64,
    pub length: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OtaChunk {
    pub task_id: String,
    pub offset: u64,
    /// base64
    pub data: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OtaStep {
    Accepted,
    Downloading,
    Verifying,
    Installing,
    Done,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OtaProgress {
    pub task_id: String,
    pub step: OtaStep,
    pub percent: f64,
    #[serde(default)]
    pub code: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msg: Option<String>,
}

/// Chunk sizes a transfer may announce (contract §8).
pub const CHUNK_SIZES: std::ops::RangeInclusive<u32> = 256..=65_536;
/// Largest chunk over a serial link: a decoded frame holds 65,536 bytes (§10) and a chunk reply
/// carries the chunk in base64 (4/3 larger) plus its envelope and topic (§8).
pub const SERIAL_MAX_CHUNK: u32 = 32 * 1024;
/// Chunk requests a gateway may keep outstanding per transfer (contract §8).
pub const MAX_CHUNK_WINDOW: usize = 8;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileDownload {
    pub file_id: String,
    pub name: String,
    pub size: u64,
    pub sha256: String,
    pub chunk_size: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileChunkGet {
    pub file_id: String,
    pub offset: u64,
    pub length: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileChunk {
    pub file_id: String,
    pub offset: u64,
    /// base64
    pub data: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileDownloadResult {
    pub file_id: String,
    pub code: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msg: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileUpload {
    pub file_id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileUploadReply {
    pub size: u64,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct FileListRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub folder: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileEntry {
    pub name: String,
    pub size: u64,
    /// epoch ms
    pub mtime: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileList {
    pub files: Vec<FileEntry>,
}

/// `time/get` and `time/sync` requests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimeRequest {
    pub t1: i64,
}

/// Their replies: t2 receive, t3 send, on the responder's clock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimeReply {
    pub t1: i64,
    pub t2: i64,
    pub t3: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimeSet {
    pub time: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimeSetReply {
    pub before: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogConfig {
    pub level: String,
    pub upload: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogEntry {
    pub ts: i64,
    pub level: String,
    pub module: String,
    pub msg: String,
}

/// `log/get` pages a master follows for one period at most, so a gateway that always says
/// `truncated` cannot keep it asking.
pub const MAX_LOG_PAGES: usize = 50;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogEntries {
    pub entries: Vec<LogEntry>,
    /// Set on a `log/get` reply that holds only the oldest matching entries (one message
    /// carries 256 KiB): ask again with `from` = the last entry's `ts` + 1 for the rest.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogGet {
    pub from: i64,
    pub to: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alarms {
    pub alarms: Vec<Alarm>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryReport {
    pub batch_id: String,
    /// The `id` of the `history/get` this batch answers; none for outage history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recall_id: Option<String>,
    #[serde(default)]
    pub points: Vec<PointValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readings: Option<Vec<Reading>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alarms: Option<Vec<Alarm>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryAck {
    pub batch_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryGet {
    pub from: i64,
    pub to: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryGetReply {
    pub batches: u64,
}

/// The typed `data` of one message of the table (requests, reports and replies).
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    Status(Status),
    CommandRequest(CommandRequest),
    /// Command outputs are whatever the product model declares.
    CommandReply(Map<String, Value>),
    Message(VendorMessage),
    Ports(Ports),
    PortGet(PortGet),
    PortSet(PortSet),
    PortSetReply(PortSetReply),
    Points(Points),
    PointGet(PointGet),
    PointSet(PointSet),
    PointSetReply(PointSetReply),
    Readings(Readings),
    MeterGet(MeterGet),
    Props(Props),
    PropertyGet(PropertyGet),
    PropertySetReply(PropertySetReply),
    Versions(Versions),
    OtaUpgrade(OtaUpgrade),
    OtaChunkGet(OtaChunkGet),
    OtaChunk(OtaChunk),
    OtaProgress(OtaProgress),
    FileDownload(FileDownload),
    FileChunkGet(FileChunkGet),
    FileChunk(FileChunk),
    FileDownloadResult(FileDownloadResult),
    FileUpload(FileUpload),
    FileUploadReply(FileUploadReply),
    FileRead(FileChunkGet),
    FileListRequest(FileListRequest),
    FileList(FileList),
    TimeRequest(TimeRequest),
    TimeReply(TimeReply),
    TimeSet(TimeSet),
    TimeSetReply(TimeSetReply),
    Info(Info),
    LogConfig(LogConfig),
    LogEntries(LogEntries),
    LogGet(LogGet),
    Alarms(Alarms),
    HistoryReport(HistoryReport),
    HistoryAck(HistoryAck),
    HistoryGet(HistoryGet),
    HistoryGetReply(HistoryGetReply),
    /// Requests whose data is an empty object (`info/get`, `ota/version/get`, `alarm/get`) and
    /// replies that carry nothing (`{}`).
    Empty,
}

/// Where and why a `data` object does not fit its class: `data.points[3].v: expected number`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct PayloadError {
    pub path: String,
    pub message: String,
}

/// A decoded `data`: the raw value always, the typed form when it fit.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    pub raw: Value,
    pub typed: Result<Payload, PayloadError>,
}

fn typed<T: DeserializeOwned>(data: &Value, wrap: fn(T) -> Payload) -> Result<Payload, PayloadError> {
    serde_path_to_error::deserialize::<_, T>(data).map(wrap).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." { "data".to_owned() } else { format!("data.{path}") };
        PayloadError { path, message: humanize(&e.into_inner().to_string()) }
    })
}

/// serde says "invalid type: string \"x\", expected f64"; a person wants "expected number, found string \"x\"".
fn humanize(message: &str) -> String {
    let message = message.rsplit_once(" at line ").map_or(message, |(head, _)| head);
    if let Some(rest) = message.strip_prefix("invalid type: ")
        && let Some((found, expected)) = rest.split_once(", expected ")
    {
        let expected = match expected {
            "f64" | "f32" | "i64" | "u64" | "i32" | "u32" | "u16" | "u8" | "i8" | "i16" => "number",
            "a boolean" => "bool",
            "a string" => "string",
            "a sequence" => "array",
            other => other,
        };
        return format!("expected {expected}, found {found}");
    }
    message.to_owned()
}

/// Decodes `data` for (class, action); `reply` selects the reply's shape. An unknown class or
/// action gives a typed error ("not in the contract") and keeps the raw value.
pub fn decode(class: &str, action: &str, reply: bool, data: &Value) -> Decoded {
    Decoded { raw: data.clone(), typed: decode_typed(class, action, reply, data) }
}

fn decode_typed(class: &str, action: &str, reply: bool, data: &Value) -> Result<Payload, PayloadError> {
    use Payload as P;
    let empty = |_: Map<String, Value>| P::Empty;
    match (class, action, reply) {
        ("status", "", false) => typed(data, P::Status),
        ("command", "request", false) => typed(data, P::CommandRequest),
        ("command", "request", true) => typed(data, P::CommandReply),
        ("message", "up" | "down", false) => typed(data, P::Message),
        ("port", "report", false) | ("port", "get", true) => typed(data, P::Ports),
        ("port", "get", false) => typed(data, P::PortGet),
        ("port", "set", false) => typed(data, P::PortSet),
        ("port", "set", true) => typed(data, P::PortSetReply),
        ("point", "report" | "change", false) | ("point", "get", true) => typed(data, P::Points),
        ("point", "get", false) => typed(data, P::PointGet),
        ("point", "set", false) => typed(data, P::PointSet),
        ("point", "set", true) => typed(data, P::PointSetReply),
        ("meter", "report", false) | ("meter", "get", true) => typed(data, P::Readings),
        ("meter", "get", false) => typed(data, P::MeterGet),
        ("property", "report" | "set", false) | ("property", "get", true) => typed(data, P::Props),
        ("property", "get", false) => typed(data, P::PropertyGet),
        ("property", "set", true) => typed(data, P::PropertySetReply),
        ("ota", "version", false) | ("ota", "version/get", true) => typed(data, P::Versions),
        ("ota", "version/get", false) | ("ota", "upgrade", true) => typed(data, empty),
        ("ota", "upgrade", false) => typed(data, P::OtaUpgrade),
        ("ota", "chunk/get", false) => typed(data, P::OtaChunkGet),
        ("ota", "chunk/get", true) => typed(data, P::OtaChunk),
        ("ota", "progress", false) => typed(data, P::OtaProgress),
        ("file", "download", false) => typed(data, P::FileDownload),
        ("file", "download", true) | ("log", "config", true) | ("alarm", "report", true) => typed(data, empty),
        ("file", "chunk/get", false) => typed(data, P::FileChunkGet),
        ("file", "chunk/get" | "read", true) => typed(data, P::FileChunk),
        ("file", "download/result", false) => typed(data, P::FileDownloadResult),
        ("file", "upload", false) => typed(data, P::FileUpload),
        ("file", "upload", true) => typed(data, P::FileUploadReply),
        ("file", "read", false) => typed(data, P::FileRead),
        ("file", "list", false) => typed(data, P::FileListRequest),
        ("file", "list", true) => typed(data, P::FileList),
        ("time", "get" | "sync", false) => typed(data, P::TimeRequest),
        ("time", "get" | "sync", true) => typed(data, P::TimeReply),
        ("time", "set", false) => typed(data, P::TimeSet),
        ("time", "set", true) => typed(data, P::TimeSetReply),
        ("info", "report", false) | ("info", "get", true) => typed(data, P::Info),
        ("info", "get", false) | ("alarm", "get", false) => typed(data, empty),
        ("log", "config", false) => typed(data, P::LogConfig),
        ("log", "report", false) | ("log", "get", true) => typed(data, P::LogEntries),
        ("log", "get", false) => typed(data, P::LogGet),
        ("alarm", "report", false) | ("alarm", "get", true) => typed(data, P::Alarms),
        ("history", "report", false) => typed(data, P::HistoryReport),
        ("history", "report", true) => typed(data, P::HistoryAck),
        ("history", "get", false) => typed(data, P::HistoryGet),
        ("history", "get", true) => typed(data, P::HistoryGetReply),
        _ => Err(PayloadError {
            path: "data".into(),
            message: format!("{class}/{action}{} is not in the contract", if reply { " reply" } else { "" }),
        }),
    }
}

/// Serialises a typed value into a `data` object.
pub fn to_data<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or_else(|e| Value::String(format!("unserialisable: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::topic::{MESSAGES, MessageKind};
    use serde_json::json;

    #[test]
    fn point_report_decodes() {
        let data = json!({"points": [
            {"sub": "M1", "pid": "Ua", "v": 230.1, "q": 0, "ts": 1},
            {"sub": "M1", "pid": "Brk", "v": true, "q": 0, "ts": 1},
            {"sub": "M1", "pid": "Txt", "v": "ok", "q": 2, "ts": 1}]});
        let d = decode("point", "report", false, &data);
        let Ok(Payload::Points(p)) = &d.typed else { panic!("{:?}", d.typed) };
        assert_eq!(p.points[0].v, PointV::Number(230.1));
        assert_eq!(p.points[1].v, PointV::Bool(true));
        assert_eq!(p.points[2].q, 2);
        assert_eq!(d.raw, data);
    }

    #[test]
    fn errors_say_what_and_where() {
        let data = json!({"points": [
            {"sub": "M1", "pid": "a", "v": 1, "q": 0, "ts": 1}, {"sub": "M1", "pid": "b", "v": 1, "q": 0, "ts": 1},
            {"sub": "M1", "pid": "c", "v": 1, "q": 0, "ts": 1}, {"sub": "M1", "pid": "d", "v": [1], "q": 0, "ts": 1}]});
        let d = decode("point", "report", false, &data);
        let err = d.typed.unwrap_err();
        assert_eq!(err.path, "data.points[3].v");
        assert!(err.message.contains("expected number, bool or string"), "{err}");
        assert_eq!(d.raw, data, "raw kept on error");

        let err = decode("ota", "progress", false, &json!({"taskId": "t", "step": "downloading", "percent": "x"})).typed.unwrap_err();
        assert_eq!(err.to_string(), "data.percent: expected number, found string \"x\"");
        let err = decode("info", "report", false, &json!({})).typed.unwrap_err();
        assert!(err.to_string().contains("missing field `vendor`"), "{err}");
        let err = decode("vendorx", "blob", false, &json!({})).typed.unwrap_err();
        assert!(err.to_string().contains("not in the contract"));
    }

    #[test]
    fn every_table_row_has_a_decoder() {
        for spec in MESSAGES {
            let err = decode(spec.class, spec.action, false, &json!({})).typed.err();
            assert!(err.as_ref().is_none_or(|e| !e.message.contains("not in the contract")), "{spec:?}");
            if spec.kind == MessageKind::Request {
                let err = decode(spec.class, spec.action, true, &json!({})).typed.err();
                assert!(err.as_ref().is_none_or(|e| !e.message.contains("not in the contract")), "reply {spec:?}");
            }
        }
    }

    #[test]
    fn typed_round_trip() {
        let alarm = Alarm {
            alarm_id: "a1".into(), sub: "M1".into(), pid: Some("Ua".into()), alarm_type: "overVoltage".into(),
            level: 2, state: AlarmState::Raised, value: Some(PointV::Number(260.5)), threshold: Some(253.0), ts: 5, desc: None,
        };
        let data = to_data(&Alarms { alarms: vec![alarm.clone()] });
        assert_eq!(data["alarms"][0]["alarmId"], "a1");
        assert_eq!(data["alarms"][0]["type"], "overVoltage");
        assert!(data["alarms"][0].get("desc").is_none());
        let Ok(Payload::Alarms(back)) = decode("alarm", "report", false, &data).typed else { panic!() };
        assert_eq!(back.alarms[0], alarm);
        assert_eq!(to_data(&PointV::Number(3.0)), json!(3));
        assert_eq!(quality_text(2, false), "stale");
    }
}

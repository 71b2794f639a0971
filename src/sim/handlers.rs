//! Down requests (contract §2, table rows with dir D): one plain function over the sim state per
//! message, so every code can be tested without a broker. [`handle_down`] parses the envelope
//! (code 3 when the id can be recovered), replays duplicates (§3), routes by class/action (code 2
//! for anything else) and returns the reply plus what the gateway publishes as a consequence.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};

use super::files;
use super::log::Level;
use super::outage::make_batches;
use super::state::{Outgoing, SimState};
use crate::protocol::payload::{CHUNK_SIZES, SERIAL_MAX_CHUNK};
use crate::protocol::model::value_check::{Rule, check};
use super::api::{Answer, Fail, bad_param, not_found, parse};
use super::{commands, downloads};
use crate::protocol::codes;
use crate::protocol::envelope::{Envelope, Reply, parse_envelope};
use crate::protocol::model::ValueType;
use crate::protocol::payload::{
    Alarms, CommandRequest, FileChunkGet, FileDownload, FileEntry, FileList, FileListRequest, FileUpload, FileUploadReply, HistoryGet,
    HistoryGetReply, LogConfig, LogGet, MeterGet, OtaUpgrade, PointGet, PointSet, PointSetReply, Points, PortGet, PortSet,
    PropertyGet, Props, Readings, TimeReply, TimeRequest, TimeSet, TimeSetReply, to_data,
};
use crate::protocol::topic::{CemsTopic, Dir, MessageKind};
use settings::{port_get, port_set, property_set};

mod limits;
mod settings;

/// Readings one `meter/get` returns at most (the latest ones), to stay well under 256 KiB.
const MAX_READINGS: usize = 1_000;
/// Upload ids remembered for `file/read`.
const MAX_UPLOADS: usize = 64;

/// What handling one message produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Handled {
    /// The reply, for requests (published on the request's reply topic).
    pub reply: Option<Reply>,
    /// Reports and requests the gateway sends as a consequence, after the reply.
    pub out: Vec<Outgoing>,
}

/// Handles one message received on a `down` topic of this gateway.
pub fn handle_down(state: &mut SimState, topic: &CemsTopic, payload: &[u8]) -> Handled {
    let received_ms = state.now_ms();
    let what = topic.class_action();
    let request = match parse_envelope(payload) {
        Ok(Envelope::Request(r)) => r,
        Ok(Envelope::Reply(r)) => {
            let fail = Fail { code: codes::BAD_FORMAT, msg: "a reply envelope (with code) where a request was expected".into() };
            return answer(state, &what, &r.id, Answer::fail(fail), Vec::new());
        }
        Err(e) => {
            state.log.push(received_ms, Level::Warn, "protocol", format!("{what}: bad envelope: {}", e.reason));
            return match e.id {
                Some(id) => answer(state, &what, &id, Answer::fail(Fail { code: codes::BAD_FORMAT, msg: e.reason }), Vec::new()),
                None => {
                    state.counters.malformed_ignored += 1;
                    Handled::default()
                }
            };
        }
    };
    let spec = topic.spec().filter(|s| s.dir == Dir::Down && !topic.reply);
    let report = spec.is_some_and(|s| s.kind == MessageKind::Report);
    if !limits::version_ok(&request.ver) {
        let fail = limits::version_fail(&request.ver);
        if report {
            state.log.push(received_ms, Level::Warn, "protocol", format!("{what}: {}", fail.msg));
            state.counters.malformed_ignored += 1;
            return Handled::default();
        }
        return answer(state, &what, &request.id, Answer::fail(fail), Vec::new());
    }
    if report {
        if what == "message/down" {
            let (level, line) = limits::vendor_message_line(&request.data);
            state.log.push(received_ms, level, "message", line);
        }
        return Handled::default();
    }
    // Keyed on class/action too: ids are unique per sender only, and masters share the topic.
    if let Some(previous) = state.replies.get(&what, &request.id, received_ms).filter(|_| !state.faults.no_dedup()) {
        let reply = previous.clone();
        state.counters.duplicates_replayed += 1;
        state.counters.requests_answered += 1;
        return Handled { reply: Some(reply), out: Vec::new() };
    }
    state.log.push(received_ms, Level::Debug, "request", format!("{what} {}", request.id));
    let mut out = Vec::new();
    let data = &request.data;
    let result: Answer = match (spec.is_some(), what.as_str()) {
        // Sets of several items answer for each item (contract §3).
        (true, "port/set") => parse::<PortSet>(data).map_or_else(Answer::fail, |r| port_set(state, &r, &mut out)),
        (true, "property/set") => parse::<Props>(data).map_or_else(Answer::fail, |r| property_set(state, r.props, &mut out)),
        _ => route(state, spec.is_some(), &what, &request.id, data, received_ms, &mut out).into(),
    };
    let result = wrong_code_for_unknown_action(state, topic, result);
    answer(state, &what, &request.id, result, out)
}

/// The request `id` of `what` that answers with one code: everything but the sets of several
/// items. `routable` is false for what is not a down request of the table.
fn route(state: &mut SimState, routable: bool, what: &str, id: &str, data: &Value, received_ms: i64, out: &mut Vec<Outgoing>) -> Result<Value, Fail> {
    match (routable, what) {
        (true, "command/request") => parse::<CommandRequest>(data).and_then(|r| commands::handle(state, &r, out)),
        (true, "port/get") => parse::<PortGet>(data).and_then(|r| port_get(state, &r)),
        (true, "point/get") => parse::<PointGet>(data).and_then(|r| point_get(state, &r)),
        (true, "point/set") => parse::<PointSet>(data).and_then(|r| point_set(state, r, out)),
        (true, "meter/get") => parse::<MeterGet>(data).and_then(|r| meter_get(state, &r)),
        (true, "property/get") => parse::<PropertyGet>(data).map(|r| to_data(&Props { props: state.readable_props(r.keys.as_deref()) })),
        (true, "ota/version/get") => Ok(to_data(&state.versions())),
        (true, "ota/upgrade") => parse::<OtaUpgrade>(data).and_then(|r| downloads::accept_ota(state, &r)).map(|o| {
            out.extend(o);
            json!({})
        }),
        (true, "file/download") => parse::<FileDownload>(data).and_then(|r| downloads::accept_file(state, &r)).map(|o| {
            out.extend(o);
            json!({})
        }),
        (true, "file/upload") => parse::<FileUpload>(data).and_then(|r| file_upload(state, r)),
        (true, "file/read") => parse::<FileChunkGet>(data).and_then(|r| file_read(state, &r)),
        (true, "file/list") => parse::<FileListRequest>(data).and_then(|r| file_list(state, &r)),
        (true, "time/get") => parse::<TimeRequest>(data).map(|r| to_data(&TimeReply { t1: r.t1, t2: received_ms, t3: state.now_ms() })),
        (true, "time/set") => parse::<TimeSet>(data).and_then(|r| time_set(state, &r)),
        (true, "info/get") => Ok(to_data(&state.info())),
        (true, "log/config") => parse::<LogConfig>(data).and_then(|r| log_config(state, &r)),
        (true, "log/get") => parse::<LogGet>(data).and_then(|r| limits::log_get(state, id, &r)),
        (true, "alarm/get") => Ok(to_data(&Alarms { alarms: state.active_alarms.clone() })),
        (true, "history/get") => parse::<HistoryGet>(data).and_then(|r| history_get(state, id, &r)),
        _ => Err(Fail { code: codes::UNSUPPORTED, msg: format!("{what} is not supported") }),
    }
}


/// Fault `WrongCodeUnknownAction`: an unknown action of a known class refused with 1, not 2.
fn wrong_code_for_unknown_action(state: &SimState, topic: &CemsTopic, result: Answer) -> Answer {
    let known_class = state.faults.wrong_code_unknown_action() && topic.spec().is_none() && crate::protocol::topic::MESSAGES.iter().any(|m| m.class == topic.class);
    if known_class && result.code == codes::UNSUPPORTED { Answer { code: codes::FAILED, ..result } } else { result }
}

/// Builds, remembers (under `what` and `id`) and counts the reply to request `id`, cut to what
/// one message carries.
fn answer(state: &mut SimState, what: &str, id: &str, answer: Answer, out: Vec<Outgoing>) -> Handled {
    let now = state.now_ms();
    let Answer { code, msg, data } = answer;
    let (reply, size) = limits::fit_reply(Reply { id: id.to_owned(), ts: now, code, msg, data }, state.reply_max_bytes);
    if reply.code != codes::OK {
        let text = reply.msg.as_deref().unwrap_or_default();
        state.log.push(now, Level::Info, "request", format!("{id}: code {} ({}): {text}", reply.code, codes::code_name(reply.code)));
    }
    state.replies.insert(what, id, reply.clone(), size, now);
    state.counters.requests_answered += 1;
    Handled { reply: Some(reply), out }
}

fn point_get(state: &SimState, req: &PointGet) -> Result<Value, Fail> {
    let devices: Vec<&super::device::DeviceSim> = match &req.sub {
        Some(sub) => vec![state.devices.get(state.device_index(sub).ok_or_else(|| not_found(format!("no sub-device {sub:?}")))?).ok_or_else(|| not_found(sub.clone()))?],
        None => state.devices.iter().collect(),
    };
    if let Some(pids) = &req.pids {
        let unknown: Vec<&str> = pids.iter().filter(|pid| !devices.iter().any(|d| d.point(pid).is_some())).map(String::as_str).collect();
        if !unknown.is_empty() {
            return Err(not_found(format!("no point {}", unknown.join(", "))));
        }
    }
    let points = devices
        .iter()
        .flat_map(|d| d.values())
        .filter(|p| req.pids.as_ref().is_none_or(|pids| pids.contains(&p.pid)))
        .collect();
    Ok(to_data(&Points { points }))
}

fn point_set(state: &mut SimState, req: PointSet, out: &mut Vec<Outgoing>) -> Result<Value, Fail> {
    let index = state.device_index(&req.sub).ok_or_else(|| not_found(format!("no sub-device {:?}", req.sub)))?;
    let model = state.devices[index].model.clone();
    let def = model.point(&req.pid).ok_or_else(|| not_found(format!("{} has no point {:?}", req.sub, req.pid)))?;
    if !def.writable {
        return Err(Fail { code: codes::DENIED, msg: format!("{}/{} is not writable", req.sub, req.pid) });
    }
    check(&Rule::point(def), &req.value.to_json(), "value").map_err(bad_param)?;
    let value = match (def.spec.value_type, &req.value) {
        // Digital points keep their declared type whatever JSON number form arrived.
        (ValueType::Int, v) => v.as_f64().map_or(v.clone(), |n| crate::protocol::payload::PointV::Number(n.round())),
        (_, v) => v.clone(),
    };
    let now = state.now_ms();
    state.log.push(now, Level::Info, "point", format!("{}/{} set to {}", req.sub, req.pid, super::log::value_text(&value)));
    let sample = state.devices[index].set_point(&req.pid, value.clone(), now, &mut state.alarm_seq);
    out.extend(state.record_outgoing_parts(Vec::new(), sample.changes, sample.alarms, Vec::new()));
    Ok(to_data(&PointSetReply { value }))
}

fn meter_get(state: &SimState, req: &MeterGet) -> Result<Value, Fail> {
    if req.from > req.to {
        return Err(bad_param("from is after to"));
    }
    if let Some(sub) = &req.sub
        && state.device_index(sub).is_none()
    {
        return Err(not_found(format!("no sub-device {sub:?}")));
    }
    let mut readings = state.recent.readings(req.sub.as_deref(), req.from, req.to);
    if readings.len() > MAX_READINGS {
        readings.drain(..readings.len() - MAX_READINGS);
    }
    Ok(to_data(&Readings { readings }))
}

fn file_upload(state: &mut SimState, req: FileUpload) -> Result<Value, Fail> {
    let path = files::path_in(&state.files_dir, &req.name).ok_or_else(|| bad_param(format!("{:?} is not a plain file name", req.name)))?;
    let (size, sha256) = files::size_and_sha256(&path).map_err(|e| not_found(format!("{}: {e}", req.name)))?;
    state.uploads.retain(|(id, _)| *id != req.file_id);
    if state.uploads.len() >= MAX_UPLOADS {
        state.uploads.pop_front();
    }
    state.uploads.push_back((req.file_id, req.name));
    Ok(to_data(&FileUploadReply { size, sha256 }))
}

fn file_read(state: &SimState, req: &FileChunkGet) -> Result<Value, Fail> {
    // An id from `file/upload`, or (leniently) a plain file name.
    let name = state.uploads.iter().find(|(id, _)| *id == req.file_id).map_or(req.file_id.as_str(), |(_, n)| n.as_str());
    let path = files::path_in(&state.files_dir, name).ok_or_else(|| not_found(format!("no file {:?}", req.file_id)))?;
    let size = std::fs::metadata(&path).map_err(|_| not_found(format!("no file {:?}", req.file_id)))?.len();
    if req.length > state.chunk_max_bytes && state.chunk_max_bytes == SERIAL_MAX_CHUNK {
        // The reply, base64, would not fit a frame (contract §8, §10).
        return Err(bad_param(format!("length {} is over {SERIAL_MAX_CHUNK}, the most a chunk may carry over a serial link", req.length)));
    }
    if req.length == 0 || req.length > *CHUNK_SIZES.end() {
        return Err(bad_param(format!("length {} is outside 1..=65536", req.length)));
    }
    if req.offset > size {
        return Err(bad_param(format!("offset {} is past the end of a file of {size} bytes", req.offset)));
    }
    let data = files::read_chunk(&path, req.offset, req.length as usize).map_err(|e| Fail { code: codes::FAILED, msg: e.to_string() })?;
    Ok(json!({"fileId": req.file_id, "offset": req.offset, "data": BASE64.encode(data)}))
}

fn file_list(state: &SimState, req: &FileListRequest) -> Result<Value, Fail> {
    if let Some(folder) = &req.folder
        && !matches!(folder.as_str(), "" | "." | "/")
    {
        return Err(not_found(format!("no folder {folder:?}: the gateway has one")));
    }
    let files: Vec<FileEntry> = files::list(&state.files_dir).map_err(|e| Fail { code: codes::FAILED, msg: e.to_string() })?;
    Ok(to_data(&FileList { files }))
}

fn time_set(state: &mut SimState, req: &TimeSet) -> Result<Value, Fail> {
    limits::check_time(req.time)?;
    let before = state.now_ms();
    state.clock_offset_ms = req.time - crate::protocol::time::now_ms();
    state.log.push(req.time, Level::Info, "time", format!("clock set: {} ms", req.time - before));
    Ok(to_data(&TimeSetReply { before }))
}

fn log_config(state: &mut SimState, req: &LogConfig) -> Result<Value, Fail> {
    let level = super::log::Level::parse(&req.level).ok_or_else(|| bad_param(format!("level {:?}: expected error, warn, info or debug", req.level)))?;
    state.log.level = level;
    state.log.upload = req.upload;
    if let Some(v) = state.props.get_mut("logLevel") {
        *v = Value::String(level.as_str().into());
    }
    Ok(json!({}))
}

/// Queues the recall of `req`; each of its batches carries `recallId` = `id`, the request's.
fn history_get(state: &mut SimState, id: &str, req: &HistoryGet) -> Result<Value, Fail> {
    if req.from > req.to {
        return Err(bad_param("from is after to"));
    }
    if let Some(sub) = &req.sub
        && state.device_index(sub).is_none()
    {
        return Err(not_found(format!("no sub-device {sub:?}")));
    }
    // One recall at a time: unacknowledged recalls would otherwise pile up without limit.
    let pending = state.history.recall_len();
    if pending > 0 {
        return Err(Fail { code: codes::BUSY, msg: format!("an earlier history/get is still being sent: {pending} batches to go") });
    }
    let items = state.recent.items(req.sub.as_deref(), req.from, req.to);
    let base = format!("recall-{}", state.now_ms());
    let mut n = 0;
    let batches = make_batches(items, state.batch_max_bytes, Some(id), || {
        n += 1;
        format!("{base}-{n}")
    });
    let count = batches.len() as u64;
    state.history.push_recall(batches);
    Ok(to_data(&HistoryGetReply { batches: count }))
}

#[cfg(test)]
mod tests;

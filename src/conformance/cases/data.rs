//! Ports (6.3), points (6.4), meters (6.5) and properties (6.6).

use serde_json::{Value, json};

use super::{ensure, expect_code, step};
use crate::conformance::ctx::Ctx;
use crate::conformance::model::Verdict;
use crate::conformance::options::empty;
use crate::protocol::codes;
use crate::protocol::model::Access;
use crate::protocol::model::ValueType;
use crate::protocol::payload::{PointValue, Points, PointV};
use crate::protocol::time::now_ms;
use crate::protocol::topic::Dir;

const DAY_MS: i64 = 24 * 3600 * 1000;
const PORT_TYPES: [&str; 6] = ["rs485", "rs232", "eth", "can", "di", "do"];

pub(super) async fn ports(ctx: &mut Ctx<'_>) -> Verdict {
    let data = step!(ctx.request_ok("port/get", empty()).await);
    let ports = step!(data["ports"].as_array().ok_or("port/get: no ports array".to_owned()));
    for port in ports {
        step!(ensure(port["portId"].is_string(), || format!("port/get: a port without portId: {port}")));
        let kind = port["type"].as_str().unwrap_or_default();
        step!(ensure(PORT_TYPES.contains(&kind), || format!("port/get: port {} has type {kind:?}, not one of {PORT_TYPES:?}", port["portId"])));
    }
    Verdict::Passed
}

/// Every point's quality is 0..3 and its time within a day of ours.
fn check_points(what: &str, points: &[PointValue]) -> Result<(), String> {
    let now = now_ms();
    for p in points {
        ensure(p.q <= 3, || format!("{what}: {}/{} has quality {}, not 0..3", p.sub, p.pid, p.q))?;
        ensure((p.ts - now).abs() <= DAY_MS, || format!("{what}: {}/{} has ts {} more than a day from now", p.sub, p.pid, p.ts))?;
    }
    Ok(())
}

pub(super) async fn points_read(ctx: &mut Ctx<'_>) -> Verdict {
    let data = step!(ctx.request_ok("point/get", empty()).await);
    let points: Points = step!(serde_json::from_value(data).map_err(|e| format!("point/get: the reply's points are not PointValues: {e}")));
    step!(ensure(!points.points.is_empty(), || "point/get {}: no point returned".to_owned()));
    step!(check_points("point/get", &points.points));
    ctx.note(format!("{} points", points.points.len()));
    Verdict::Passed
}

pub(super) async fn points_reported(ctx: &mut Ctx<'_>) -> Verdict {
    let topic = ctx.topic(Dir::Up, "point", "report");
    let since = ctx.started_ms;
    let first = ctx.wait_message(&topic, since, ctx.budget_left(), |_| true).await;
    let Some(first) = first else {
        return Verdict::inconclusive("no point/report within the case's time (the report period may be longer)");
    };
    let after = first.received_ms + 1;
    let second = ctx.wait_message(&topic, after, ctx.budget_left(), |_| true).await;
    for seen in [Some(&first), second.as_ref()].into_iter().flatten() {
        let points: Points = step!(seen.json().and_then(|v| serde_json::from_value(v["data"].clone()).ok()).ok_or("a point/report whose data is not {points: [PointValue]}".to_owned()));
        step!(check_points("point/report", &points.points));
    }
    if second.is_none() {
        return Verdict::inconclusive("only one point/report within the case's time (the report period may be longer)");
    }
    Verdict::Passed
}

/// A writable numeric point with a range, its current value and a different valid value.
fn pick_setpoint(ctx: &Ctx<'_>) -> Option<(String, String, f64, f64)> {
    let gateways = ctx.handle.state.gateways();
    let record = gateways.get(&ctx.key)?;
    for (sub, device) in &record.subs {
        let product = if *sub == ctx.key.dev { Some(ctx.key.pk.as_str()) } else { record.sub_product(sub) };
        let Some(model) = product.and_then(|pk| ctx.options.models.get(pk)).map(|d| d.model()) else { continue };
        for def in model.points.iter().filter(|p| p.writable && matches!(p.spec.value_type, ValueType::Float | ValueType::Int)) {
            let (Some(min), Some(max)) = (def.spec.min, def.spec.max) else { continue };
            let Some(PointV::Number(current)) = device.points.get(&def.id).and_then(|t| t.latest.as_ref()).map(|s| s.v.clone()) else { continue };
            let mut target = ((min + max) / 2.0).round();
            if (target - current).abs() < f64::EPSILON {
                target = min;
            }
            return Some((sub.clone(), def.id.clone(), current, target));
        }
    }
    None
}

pub(super) async fn setpoint(ctx: &mut Ctx<'_>) -> Verdict {
    let Some((sub, pid, old, new)) = pick_setpoint(ctx) else {
        return Verdict::inconclusive("no writable numeric point with a range and a current value (is its model loaded?)");
    };
    let data = step!(ctx.request_ok("point/set", json!({"sub": sub, "pid": pid, "value": new})).await);
    let echoed = data["value"].as_f64();
    let read = ctx.request_ok("point/get", json!({"sub": sub, "pids": [pid]})).await;
    let restore = ctx.request_ok("point/set", json!({"sub": sub, "pid": pid, "value": old})).await;
    ctx.facts.restored.push(match &restore {
        Ok(_) => format!("{sub}/{pid} put back to {old}"),
        Err(e) => format!("{sub}/{pid} NOT put back to {old}: {e}"),
    });
    step!(ensure(echoed.is_some_and(|v| (v - new).abs() < 1e-6), || format!("point/set answered value {}, not {new}", data["value"])));
    let read = step!(read);
    let back = read["points"].as_array().and_then(|ps| ps.iter().find(|p| p["pid"] == pid.as_str())).and_then(|p| p["v"].as_f64());
    step!(ensure(back.is_some_and(|v| (v - new).abs() < 1e-6), || format!("point/get read back {back:?}, not {new}")));
    step!(restore.map(|_| ()));
    Verdict::Passed
}

pub(super) async fn meters(ctx: &mut Ctx<'_>) -> Verdict {
    let now = now_ms();
    let data = step!(ctx.request_ok("meter/get", json!({"from": now - 3_600_000, "to": now})).await);
    let readings = step!(data["readings"].as_array().ok_or("meter/get: no readings array".to_owned()));
    for r in readings {
        step!(ensure(r["sub"].is_string() && r["ts"].is_i64() && r["values"].is_object(), || format!("meter/get: a reading is not {{sub, ts, values}}: {r}")));
    }
    ctx.note(format!("{} readings", readings.len()));
    Verdict::Passed
}

pub(super) async fn properties(ctx: &mut Ctx<'_>) -> Verdict {
    let data = step!(ctx.request_ok("property/get", empty()).await);
    step!(ensure(data["props"].is_object(), || "property/get: no props object".to_owned()));
    Verdict::Passed
}

/// The failed items of a set reply, as (key, code).
fn failed_items(data: &Value) -> Vec<(String, i64)> {
    data["failed"].as_array().map(|items| items.iter().map(|i| (i["key"].as_str().unwrap_or_default().to_owned(), i["code"].as_i64().unwrap_or(-1))).collect()).unwrap_or_default()
}

pub(super) async fn partial_set(ctx: &mut Ctx<'_>) -> Verdict {
    let keys = ctx.options.models.get(ctx.pk()).map(|d| {
        let props = &d.model().properties;
        (props.iter().find(|p| p.access == Access::Rw).map(|p| p.id.clone()), props.iter().find(|p| p.access == Access::Ro).map(|p| p.id.clone()))
    });
    let Some((Some(rw), Some(ro))) = keys else {
        return Verdict::inconclusive("the gateway's model is not loaded, or lacks a read-write and a read-only property");
    };
    let current = step!(ctx.request_ok("property/get", json!({"keys": [rw, ro]})).await);
    let Some(rw_value) = current["props"].get(&rw).cloned() else {
        return Verdict::inconclusive(format!("property/get did not return {rw}"));
    };
    let ro_value = current["props"].get(&ro).cloned().unwrap_or(json!("x"));
    let reply = step!(ctx.request("property/set", json!({"props": {rw.clone(): rw_value, ro.clone(): ro_value}})).await);
    step!(expect_code("property/set", &reply, codes::DENIED));
    let failed = failed_items(&reply.data);
    step!(ensure(failed == vec![(ro.clone(), codes::DENIED)], || format!("failed lists {failed:?}, expected only ({ro}, 8)")));
    ctx.facts.restored.push(format!("property {rw} set to its own value (nothing to put back)"));
    Verdict::Passed
}

pub(super) async fn unknown_property(ctx: &mut Ctx<'_>) -> Verdict {
    let key = "xConformanceNoSuchKey";
    let reply = step!(ctx.request("property/set", json!({"props": {key: 1}})).await);
    step!(expect_code("property/set", &reply, codes::UNSUPPORTED));
    let failed = failed_items(&reply.data);
    step!(ensure(failed == vec![(key.to_owned(), codes::UNSUPPORTED)], || format!("failed lists {failed:?}, expected only ({key}, 2)")));
    Verdict::Passed
}

//! Ports (6.3), points (6.4), meters (6.5) and properties (6.6).

use serde_json::{Value, json};

use super::{ensure, expect_code, step};
use crate::conformance::catalogue::{CaseText, why};
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
    let ports = step!(data["ports"].as_array().ok_or_else(|| why!("port/get: no ports array", "port/get：应答中没有 ports 数组")));
    for port in ports {
        step!(ensure(port["portId"].is_string(), || why!("port/get: a port without portId: {port}", "port/get：有端口缺少 portId：{port}")));
        let kind = port["type"].as_str().unwrap_or_default();
        step!(ensure(PORT_TYPES.contains(&kind), || why!("port/get: port {id} has type {kind:?}, not one of {PORT_TYPES:?}", "port/get：端口 {id} 的类型为 {kind:?}，不在 {PORT_TYPES:?} 之中", id = port["portId"])));
    }
    Verdict::Passed
}

/// Every point's quality is 0..3 and its time within a day of ours.
fn check_points(what: &str, points: &[PointValue]) -> Result<(), CaseText> {
    let now = now_ms();
    for p in points {
        let (sub, pid, q, ts) = (&p.sub, &p.pid, p.q, p.ts);
        ensure(q <= 3, || why!("{what}: {sub}/{pid} has quality {q}, not 0..3", "{what}：测点 {sub}/{pid} 的质量码为 {q}，不在 0..3 之内"))?;
        ensure((ts - now).abs() <= DAY_MS, || why!("{what}: {sub}/{pid} has ts {ts} more than a day from now", "{what}：测点 {sub}/{pid} 的 ts {ts} 与当前时间相差超过一天"))?;
    }
    Ok(())
}

pub(super) async fn points_read(ctx: &mut Ctx<'_>) -> Verdict {
    let data = step!(ctx.request_ok("point/get", empty()).await);
    let points: Points = step!(serde_json::from_value(data).map_err(|e| why!("point/get: the reply's points are not PointValues: {e}", "point/get：应答的 points 不是 PointValue 列表：{e}")));
    step!(ensure(!points.points.is_empty(), || why!("point/get: no point returned", "point/get：未返回任何测点")));
    step!(check_points("point/get", &points.points));
    ctx.note(format!("{} points", points.points.len()));
    Verdict::Passed
}

pub(super) async fn points_reported(ctx: &mut Ctx<'_>) -> Verdict {
    let topic = ctx.topic(Dir::Up, "point", "report");
    let since = ctx.started_ms;
    let first = ctx.wait_message(&topic, since, ctx.budget_left(), |_| true).await;
    let Some(first) = first else {
        return Verdict::inconclusive(why!("no point/report within the case's time (the report period may be longer)", "在用例时限内没有 point/report（上报周期可能更长）"));
    };
    let after = first.received_ms + 1;
    let second = ctx.wait_message(&topic, after, ctx.budget_left(), |_| true).await;
    for seen in [Some(&first), second.as_ref()].into_iter().flatten() {
        let points: Points = step!(seen.json().and_then(|v| serde_json::from_value(v["data"].clone()).ok()).ok_or_else(|| why!("a point/report whose data is not {{points: [PointValue]}}", "有一条 point/report 的 data 不是 {{points: [PointValue]}} 结构")));
        step!(check_points("point/report", &points.points));
    }
    if second.is_none() {
        return Verdict::inconclusive(why!("only one point/report within the case's time (the report period may be longer)", "在用例时限内只有一条 point/report（上报周期可能更长）"));
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
        return Verdict::inconclusive(why!(
            "no writable numeric point with a range and a current value (is its model loaded?)",
            "没有带量程和当前值的可写数值测点（是否已加载其物模型？）"
        ));
    };
    let data = step!(ctx.request_ok("point/set", json!({"sub": sub, "pid": pid, "value": new})).await);
    let echoed = data["value"].as_f64();
    let read = ctx.request_ok("point/get", json!({"sub": sub, "pids": [pid]})).await;
    let restore = ctx.request_ok("point/set", json!({"sub": sub, "pid": pid, "value": old})).await;
    ctx.facts.restored.push(match &restore {
        Ok(_) => format!("{sub}/{pid} put back to {old}"),
        Err(e) => format!("{sub}/{pid} NOT put back to {old}: {}", e.en),
    });
    step!(ensure(echoed.is_some_and(|v| (v - new).abs() < 1e-6), || why!("point/set answered value {answered}, not {new}", "point/set 应答的值为 {answered}，而不是 {new}", answered = data["value"])));
    let read = step!(read);
    let back = read["points"].as_array().and_then(|ps| ps.iter().find(|p| p["pid"] == pid.as_str())).and_then(|p| p["v"].as_f64());
    step!(ensure(back.is_some_and(|v| (v - new).abs() < 1e-6), || why!("point/get read back {back:?}, not {new}", "point/get 回读的值为 {back:?}，而不是 {new}")));
    step!(restore.map(|_| ()));
    Verdict::Passed
}

pub(super) async fn meters(ctx: &mut Ctx<'_>) -> Verdict {
    let now = now_ms();
    let data = step!(ctx.request_ok("meter/get", json!({"from": now - 3_600_000, "to": now})).await);
    let readings = step!(data["readings"].as_array().ok_or_else(|| why!("meter/get: no readings array", "meter/get：应答中没有 readings 数组")));
    for r in readings {
        step!(ensure(r["sub"].is_string() && r["ts"].is_i64() && r["values"].is_object(), || why!("meter/get: a reading is not {{sub, ts, values}}: {r}", "meter/get：有读数不是 {{sub, ts, values}} 结构：{r}")));
    }
    ctx.note(format!("{} readings", readings.len()));
    Verdict::Passed
}

pub(super) async fn properties(ctx: &mut Ctx<'_>) -> Verdict {
    let data = step!(ctx.request_ok("property/get", empty()).await);
    step!(ensure(data["props"].is_object(), || why!("property/get: no props object", "property/get：应答中没有 props 对象")));
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
        return Verdict::inconclusive(why!(
            "the gateway's model is not loaded, or lacks a read-write and a read-only property",
            "网关的物模型未加载，或其中缺少一个读写属性和一个只读属性"
        ));
    };
    let current = step!(ctx.request_ok("property/get", json!({"keys": [rw, ro]})).await);
    let Some(rw_value) = current["props"].get(&rw).cloned() else {
        return Verdict::inconclusive(why!("property/get did not return {rw}", "property/get 未返回 {rw}"));
    };
    let ro_value = current["props"].get(&ro).cloned().unwrap_or(json!("x"));
    let reply = step!(ctx.request("property/set", json!({"props": {rw.clone(): rw_value, ro.clone(): ro_value}})).await);
    step!(expect_code("property/set", &reply, codes::DENIED));
    let failed = failed_items(&reply.data);
    step!(ensure(failed == vec![(ro.clone(), codes::DENIED)], || why!("failed lists {failed:?}, expected only ({ro}, 8)", "failed 列出的是 {failed:?}，应只有 ({ro}, 8)")));
    ctx.facts.restored.push(format!("property {rw} set to its own value (nothing to put back)"));
    Verdict::Passed
}

pub(super) async fn unknown_property(ctx: &mut Ctx<'_>) -> Verdict {
    let key = "xConformanceNoSuchKey";
    let reply = step!(ctx.request("property/set", json!({"props": {key: 1}})).await);
    step!(expect_code("property/set", &reply, codes::UNSUPPORTED));
    let failed = failed_items(&reply.data);
    step!(ensure(failed == vec![(key.to_owned(), codes::UNSUPPORTED)], || why!("failed lists {failed:?}, expected only ({key}, 2)", "failed 列出的是 {failed:?}，应只有 ({key}, 2)")));
    Verdict::Passed
}

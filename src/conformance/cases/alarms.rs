//! Alarms (6.12) and history (6.13).

use std::time::Duration;

use serde_json::json;

use super::{ensure, step};
use crate::conformance::catalogue::why;
use crate::conformance::ctx::Ctx;
use crate::conformance::model::{AlarmTested, Verdict};
use crate::conformance::options::empty;
use crate::engine::gateways::alarm_log::AckState;
use crate::protocol::time::now_ms;
use crate::protocol::topic::Dir;

pub(super) async fn active_alarms(ctx: &mut Ctx<'_>) -> Verdict {
    let data = step!(ctx.request_ok("alarm/get", empty()).await);
    let alarms = step!(data["alarms"].as_array().ok_or_else(|| why!("alarm/get: no alarms array", "alarm/get：应答中没有 alarms 数组")));
    for a in alarms {
        let level = a["level"].as_u64().unwrap_or(0);
        step!(ensure(a["alarmId"].is_string() && a["sub"].is_string() && a["type"].is_string(), || why!("alarm/get: an alarm lacks alarmId, sub or type: {a}", "alarm/get：有告警缺少 alarmId、sub 或 type：{a}")));
        step!(ensure((1..=4).contains(&level), || why!("alarm/get: level {level} is not 1..4", "alarm/get：告警级别 {level} 不在 1..4 之内", level = a["level"])));
        step!(ensure(a["state"] == "raised" || a["state"] == "cleared", || why!("alarm/get: state {state} is not raised or cleared", "alarm/get：状态 {state} 既不是 raised 也不是 cleared", state = a["state"])));
    }
    ctx.note(format!("{} active alarms", alarms.len()));
    Verdict::Passed
}

pub(super) async fn alarm_acknowledged(ctx: &mut Ctx<'_>) -> Verdict {
    let since = ctx.facts.run_started_ms;
    let heard = |g: &crate::engine::GatewayRecord| g.alarm_log.rows.iter().rev().find(|r| r.received_ms >= since && r.report_id.is_some()).cloned();
    let Some(first) = ctx.wait_until(ctx.budget_left(), heard).await else {
        return Verdict::inconclusive(why!("no alarm/report within the case's time", "在用例时限内没有 alarm/report"));
    };
    ctx.note(format!("alarm {} ({}) on {} from report {}", first.alarm_id, first.alarm_type, first.sub, first.report_id.clone().unwrap_or_default()));
    let id = first.alarm_id.clone();
    let acked = ctx.wait_until(ctx.budget_left().max(Duration::from_secs(2)), |g| g.alarm_log.rows.iter().find(|r| r.alarm_id == id && r.ack == AckState::Us).cloned()).await;
    let row = acked.clone().unwrap_or(first);
    ctx.facts.alarms.push(AlarmTested {
        alarm_id: row.alarm_id.clone(),
        sub: row.sub.clone(),
        alarm_type: row.alarm_type.clone(),
        level: row.level,
        raised: row.start_ts.is_some(),
        cleared: row.end_ts.is_some(),
        ack: row.ack.as_str().to_owned(),
    });
    step!(ensure(acked.is_some(), || why!("our acknowledgement of alarm {id} was not seen (ack: {ack})", "未见到我方对告警 {id} 的确认（ack：{ack}）", id = row.alarm_id, ack = row.ack.as_str())));
    step!(ensure((1..=4).contains(&row.level), || why!("alarm level {level} is not 1..4", "告警级别 {level} 不在 1..4 之内", level = row.level)));
    Verdict::Passed
}

/// `history/report` batches received since `since` whose recallId is `recall` (None: outage batches).
fn batches(ctx: &Ctx<'_>, since: i64, recall: Option<&str>) -> Vec<serde_json::Value> {
    let topic = ctx.topic(Dir::Up, "history", "report");
    ctx.messages_on(&topic, since).iter().filter_map(|m| m.json()).filter(|v| v["data"]["recallId"].as_str() == recall).collect()
}

pub(super) async fn history_recall(ctx: &mut Ctx<'_>) -> Verdict {
    let now = now_ms();
    let since = now - 1;
    let (id, reply) = ctx.request_with_id("history/get", json!({"from": now - 600_000, "to": now}), None, None).await;
    let reply = step!(reply);
    step!(ensure(reply.code == 0, || why!("history/get: code {code} ({name})", "history/get：应答代码 {code}（{name}）", code = reply.code, name = reply.name)));
    let Some(expected) = reply.data["batches"].as_u64() else { return Verdict::failed(why!("history/get: the reply lacks batches", "history/get：应答中缺少 batches")) };
    let deadline = tokio::time::Instant::now() + ctx.budget_left();
    let mut got = batches(ctx, since, Some(&id)).len() as u64;
    while got < expected && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
        got = batches(ctx, since, Some(&id)).len() as u64;
    }
    ctx.note(format!("{got} of {expected} announced batches arrived with recallId {id}"));
    step!(ensure(got >= expected, || why!("{got} of the {expected} announced history/report batches arrived", "history/get 应答声明的 {expected} 批 history/report 中只收到 {got} 批")));
    Verdict::Passed
}

pub(super) async fn history_resume(ctx: &mut Ctx<'_>) -> Verdict {
    let since = now_ms();
    if !ctx.manual().await {
        return Verdict::inconclusive(why!("the manual step (60 s without network) was not done", "人工步骤（断网 60 秒）未完成"));
    }
    let deadline = tokio::time::Instant::now() + ctx.budget_left();
    let mut seen = batches(ctx, since, None);
    while seen.is_empty() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        seen = batches(ctx, since, None);
    }
    if seen.is_empty() {
        return Verdict::failed(why!("no history/report batch after the outage", "断网恢复后没有 history/report 批次"));
    }
    for batch in &seen {
        let ts: Vec<i64> = batch["data"]["points"].as_array().map(|ps| ps.iter().filter_map(|p| p["ts"].as_i64()).collect()).unwrap_or_default();
        step!(ensure(ts.iter().all(|&t| t <= now_ms()), || why!("a history point carries a time in the future", "有历史数据点的时间在未来")));
    }
    let stats = ctx.handle.state.gateways().history_stats();
    ctx.note(format!("{} batches after the outage; {} rows stored, {} duplicates dropped", seen.len(), stats.rows_stored, stats.duplicates));
    Verdict::Passed
}

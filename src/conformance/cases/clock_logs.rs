//! Time (6.9) and logs (6.11).

use serde_json::json;

use super::{ensure, expect_code, step};
use crate::conformance::catalogue::{CaseText, why};
use crate::conformance::ctx::Ctx;
use crate::conformance::model::Verdict;
use crate::protocol::codes;
use crate::protocol::time::{TimeSample, now_ms};

/// How far a set clock may land from where it was set, ms.
const SET_TOLERANCE_MS: f64 = 2000.0;
const SET_SHIFT_MS: i64 = 60_000;

/// One `time/get` exchange: (offset, round trip).
async fn measure(ctx: &mut Ctx<'_>) -> Result<(f64, i64), CaseText> {
    let t1 = now_ms();
    let data = ctx.request_ok("time/get", json!({"t1": t1})).await?;
    let t4 = now_ms();
    let (Some(t2), Some(t3)) = (data["t2"].as_i64(), data["t3"].as_i64()) else {
        return Err(why!("time/get: the reply lacks t2 or t3: {data}", "time/get：应答中缺少 t2 或 t3：{data}"));
    };
    // The engine stamps t1 as it publishes, a moment after ours: the echoed one is the truth.
    let t1 = data["t1"].as_i64().ok_or_else(|| why!("time/get: the reply lacks t1: {data}", "time/get：应答中缺少 t1：{data}"))?;
    let sample = TimeSample { t1, t2, t3, t4 };
    Ok((sample.offset_ms(), sample.round_trip_ms()))
}

pub(super) async fn clock_offset(ctx: &mut Ctx<'_>) -> Verdict {
    let mut samples = Vec::new();
    for _ in 0..3 {
        samples.push(step!(measure(ctx).await));
    }
    samples.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (offset, round_trip) = samples[1];
    ctx.facts.clock = Some((offset, round_trip));
    ctx.note(format!("offset {offset:+.0} ms, round trip {round_trip} ms (median of 3)"));
    let limit = ctx.options.clock_limit_ms;
    step!(ensure(offset.abs() <= limit, || why!("the gateway's clock is {offset:+.0} ms off, over the {limit:.0} ms limit", "网关时钟偏差 {offset:+.0} ms，超过 {limit:.0} ms 的限值")));
    Verdict::Passed
}

pub(super) async fn time_set(ctx: &mut Ctx<'_>) -> Verdict {
    let (original, _) = step!(measure(ctx).await);
    let reply = step!(ctx.request("time/set", json!({"time": now_ms() + SET_SHIFT_MS})).await);
    step!(expect_code("time/set", &reply, codes::OK));
    let before = reply.data["before"].as_i64();
    let after = measure(ctx).await;
    let restore = ctx.request_ok("time/set", json!({"time": now_ms() + original.round() as i64})).await;
    ctx.facts.restored.push(match &restore {
        Ok(_) => format!("gateway clock put back to its offset of {original:+.0} ms"),
        Err(e) => format!("gateway clock NOT put back (it is about {SET_SHIFT_MS} ms ahead): {}", e.en),
    });
    step!(ensure(before.is_some(), || why!("time/set: the reply lacks before", "time/set：应答中缺少 before")));
    let (shifted, _) = step!(after);
    step!(ensure((shifted - SET_SHIFT_MS as f64).abs() <= SET_TOLERANCE_MS, || why!("after time/set to ours + {SET_SHIFT_MS} ms the offset is {shifted:+.0} ms", "time/set 设为本机时间 + {SET_SHIFT_MS} ms 后，偏差为 {shifted:+.0} ms")));
    step!(restore.map(|_| ()));
    Verdict::Passed
}

pub(super) async fn log_query(ctx: &mut Ctx<'_>) -> Verdict {
    let now = now_ms();
    let data = step!(ctx.request_ok("log/get", json!({"from": now - 3_600_000, "to": now})).await);
    let entries = step!(data["entries"].as_array().ok_or_else(|| why!("log/get: no entries array", "log/get：应答中没有 entries 数组")));
    for e in entries {
        step!(ensure(e["ts"].is_i64() && e["level"].is_string() && e["module"].is_string() && e["msg"].is_string(), || why!("log/get: an entry is not {{ts, level, module, msg}}: {e}", "log/get：有日志条目不是 {{ts, level, module, msg}} 结构：{e}")));
    }
    ctx.note(format!("{} entries", entries.len()));
    Verdict::Passed
}

pub(super) async fn log_level(ctx: &mut Ctx<'_>) -> Verdict {
    // The contract cannot read the level back; a `logLevel` property, when there is one, can.
    let previous = match ctx.request_ok("property/get", json!({"keys": ["logLevel"]})).await {
        Ok(data) => data["props"]["logLevel"].as_str().map(str::to_owned),
        Err(_) => None,
    };
    let restore_to = previous.clone().unwrap_or_else(|| "info".to_owned());
    let set = ctx.request("log/config", json!({"level": "debug", "upload": false})).await;
    let restore = ctx.request_ok("log/config", json!({"level": restore_to, "upload": false})).await;
    ctx.facts.restored.push(match (&restore, &previous) {
        (Ok(_), Some(_)) => format!("log level put back to {restore_to}"),
        (Ok(_), None) => format!("log level set to {restore_to} (its level before was not readable)"),
        (Err(e), _) => format!("log level NOT put back to {restore_to}: {}", e.en),
    });
    let set = step!(set);
    step!(expect_code("log/config", &set, codes::OK));
    step!(restore.map(|_| ()));
    Verdict::Passed
}

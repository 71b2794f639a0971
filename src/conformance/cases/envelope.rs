//! The envelope (4.2) and refusals with the right code (4.6, 6.1).

use std::time::Duration;

use serde_json::json;

use super::{ensure, expect_code, step};
use crate::conformance::catalogue::why;
use crate::conformance::ctx::Ctx;
use crate::conformance::model::Verdict;
use crate::conformance::options::empty;
use crate::engine::new_request_id;
use crate::protocol::codes;
use crate::protocol::time::now_ms;
use crate::protocol::topic::Dir;

pub(super) async fn reply_envelope(ctx: &mut Ctx<'_>) -> Verdict {
    let since = now_ms() - 1;
    let (id, reply) = ctx.request_with_id("info/get", empty(), None, None).await;
    let reply = step!(reply);
    step!(expect_code("info/get", &reply, codes::OK));
    // The engine matched the reply by id and topic; read the raw message for ts and code.
    let topic = format!("{}/reply", ctx.topic(Dir::Up, "info", "get"));
    let needle = id.clone();
    let Some(raw) = ctx.wait_message(&topic, since, Duration::from_secs(2), |m| m.json().is_some_and(|v| v["id"] == needle.as_str())).await else {
        return Verdict::failed(why!("the reply was not found on {topic}", "在 {topic} 上未找到该应答"));
    };
    let value = raw.json().unwrap_or_default();
    step!(ensure(value["ts"].is_i64() || value["ts"].is_u64(), || why!("the reply's ts is not an integer of epoch ms", "应答的 ts 不是以毫秒计的整数时间戳")));
    step!(ensure(value["code"].is_i64(), || why!("the reply's code is not an integer", "应答的 code 不是整数")));
    step!(ensure(value["data"].is_object(), || why!("the reply's data is not an object", "应答的 data 不是对象")));
    Verdict::Passed
}

pub(super) async fn malformed_envelope(ctx: &mut Ctx<'_>) -> Verdict {
    let id = new_request_id();
    let since = now_ms() - 1;
    let topic = ctx.topic(Dir::Down, "info", "get");
    let payload = json!({"id": id, "ts": "not a number", "ver": "1.0", "data": {}});
    step!(ctx.publish_raw(&topic, payload.to_string().into_bytes()));
    let reply_topic = format!("{}/reply", ctx.topic(Dir::Up, "info", "get"));
    let timeout = ctx.options.reply_timeout;
    let needle = id.clone();
    let Some(reply) = ctx.wait_message(&reply_topic, since, timeout, |m| m.json().is_some_and(|v| v["id"] == needle.as_str())).await else {
        ctx.facts.unanswered_streak += 1;
        let seconds = format!("{:.0}", timeout.as_secs_f64());
        return Verdict::failed(why!("no reply with id {id} on {reply_topic} within {seconds} s", "{seconds} 秒内 {reply_topic} 上没有 id 为 {id} 的应答"));
    };
    ctx.facts.unanswered_streak = 0;
    let code = reply.json().and_then(|v| v["code"].as_i64());
    step!(ensure(code == Some(codes::BAD_FORMAT), || why!("answered with code {code:?}, not 3 (bad_format)", "应答代码为 {code:?}，而不是 3（bad_format）")));
    Verdict::Passed
}

pub(super) async fn duplicate_id(ctx: &mut Ctx<'_>) -> Verdict {
    let (id, first) = ctx.request_with_id("time/get", json!({"t1": now_ms()}), None, None).await;
    let first = step!(first);
    step!(expect_code("time/get", &first, codes::OK));
    // Long enough for a gateway's clock to move on if it processes the request again.
    tokio::time::sleep(Duration::from_millis(30)).await;
    let (_, second) = ctx.request_with_id("time/get", json!({"t1": now_ms()}), Some(id), None).await;
    let second = step!(second.map_err(|e| {
        let (en, zh) = (e.en, e.zh);
        why!("the repeated request: {en}", "重复的请求：{zh}")
    }));
    step!(ensure(second.code == first.code && second.data == first.data, || why!("the repeated id was processed again: first {first_data} then {second_data}", "重复的 id 被再次处理：第一次 {first_data}，第二次 {second_data}", first_data = first.data, second_data = second.data)));
    Verdict::Passed
}

async fn refused(ctx: &mut Ctx<'_>, class_action: &str, data: serde_json::Value, code: i64) -> Verdict {
    let reply = step!(ctx.request(class_action, data).await);
    step!(expect_code(class_action, &reply, code));
    Verdict::Passed
}

pub(super) async fn unknown_class(ctx: &mut Ctx<'_>) -> Verdict {
    refused(ctx, "xconformance/get", empty(), codes::UNSUPPORTED).await
}

pub(super) async fn unknown_action(ctx: &mut Ctx<'_>) -> Verdict {
    refused(ctx, "info/xconformance", empty(), codes::UNSUPPORTED).await
}

pub(super) async fn unknown_command(ctx: &mut Ctx<'_>) -> Verdict {
    refused(ctx, "command/request", json!({"cmd": "xConformanceNoSuchCommand", "params": {}}), codes::UNSUPPORTED).await
}

//! Connection (4.3), identity (6.10), versions (6.7) and serial discovery (10).

use std::time::Duration;

use super::{ensure, step};
use crate::conformance::catalogue::why;
use crate::conformance::ctx::Ctx;
use crate::conformance::model::Verdict;
use crate::conformance::options::empty;
use crate::protocol::payload::{Info, Versions};

fn status_topic(ctx: &Ctx<'_>) -> String {
    ctx.handle.profile.status_topic(ctx.pk(), ctx.dev()).unwrap_or_else(|_| format!("cems/v1/{}/{}/up/status", ctx.pk(), ctx.dev()))
}

fn online_of(seen: &crate::conformance::ctx::Seen) -> Option<(bool, Option<String>)> {
    let value = seen.json()?;
    let data = value.get("data")?;
    Some((data.get("online")?.as_bool()?, data.get("reason").and_then(|r| r.as_str()).map(str::to_owned)))
}

pub(super) async fn status_retained(ctx: &mut Ctx<'_>) -> Verdict {
    let topic = status_topic(ctx);
    let Some(latest) = ctx.wait_message(&topic, i64::MIN, Duration::from_secs(5), |_| true).await.map(|_| ctx.messages_on(&topic, i64::MIN)).and_then(|all| all.last().cloned()) else {
        return Verdict::failed(why!("nothing was received on {topic}", "{topic} 上未收到任何消息"));
    };
    step!(ensure(online_of(&latest).is_some_and(|(online, _)| online), || why!("the latest status does not say online: true", "最新的状态消息不是 online: true")));
    let retained = ctx.messages_on(&topic, i64::MIN).iter().any(|m| m.retain);
    if !retained {
        return Verdict::inconclusive(why!(
            "no retained status was seen: the gateway connected after us (its status came live) or the broker does not keep it",
            "未见保留的状态消息：网关在我们之后连接（其状态为实时消息），或代理服务器未保留它"
        ));
    }
    Verdict::Passed
}

pub(super) async fn will_on_loss(ctx: &mut Ctx<'_>) -> Verdict {
    let topic = status_topic(ctx);
    let since = crate::protocol::time::now_ms();
    if !ctx.manual().await {
        return Verdict::inconclusive(why!(
            "the manual step (disconnect the gateway) was not done: a third party cannot observe the will otherwise",
            "人工步骤（断开网关）未完成：否则第三方无法观察到遗嘱消息"
        ));
    }
    let budget = ctx.budget_left();
    let lost = ctx.wait_message(&topic, since, budget, |m| online_of(m).is_some_and(|(online, _)| !online)).await;
    let back = ctx.wait_message(&topic, since, ctx.budget_left(), |m| online_of(m).is_some_and(|(online, _)| online)).await;
    match (lost, back) {
        (Some(lost), _) => {
            let reason = online_of(&lost).and_then(|(_, r)| r);
            step!(ensure(reason.as_deref() == Some("lost"), || why!("status offline came with reason {reason:?}, not \"lost\"", "离线状态的 reason 为 {reason:?}，而不是 \"lost\"")));
            Verdict::Passed
        }
        (None, Some(_)) => Verdict::failed(why!(
            "the gateway came back online without its will (status online:false, reason lost) having been published",
            "网关重新上线，但此前未发布其遗嘱消息（状态 online:false，reason lost）"
        )),
        (None, None) => Verdict::inconclusive(why!("no disconnection was observed within the case's time", "在用例时限内未观察到断线")),
    }
}

pub(super) async fn identity(ctx: &mut Ctx<'_>) -> Verdict {
    let data = step!(ctx.request_ok("info/get", empty()).await);
    let info: Info = step!(serde_json::from_value(data).map_err(|e| why!("info/get: the reply's data is not an Info: {e}", "info/get：应答的 data 不是 Info 结构：{e}")));
    for (field, value) in [("vendor", &info.vendor), ("model", &info.model), ("serial", &info.serial), ("fwVersion", &info.fw_version)] {
        step!(ensure(!value.trim().is_empty(), || why!("info/get: {field} is empty", "info/get：{field} 为空")));
    }
    ctx.note(format!("vendor {}, model {}, serial {}, fw {}", info.vendor, info.model, info.serial, info.fw_version));
    Verdict::Passed
}

pub(super) async fn versions(ctx: &mut Ctx<'_>) -> Verdict {
    let data = step!(ctx.request_ok("ota/version/get", empty()).await);
    let versions: Versions = step!(serde_json::from_value(data).map_err(|e| why!("ota/version/get: the reply's data is not {{modules}}: {e}", "ota/version/get：应答的 data 不是 {{modules}} 结构：{e}")));
    step!(ensure(!versions.modules.is_empty(), || why!("ota/version/get: no module listed", "ota/version/get：未列出任何模块")));
    step!(ensure(versions.modules.iter().all(|m| !m.module.is_empty() && !m.version.is_empty()), || why!("ota/version/get: a module or version is empty", "ota/version/get：有模块名或版本号为空")));
    Verdict::Passed
}

pub(super) async fn serial_discovery(ctx: &mut Ctx<'_>) -> Verdict {
    if !ctx.options.serial {
        return Verdict::inconclusive(why!("not run over a serial cable", "未通过串口线运行"));
    }
    let found = ctx.wait_until(ctx.budget_left(), |g| (g.online == Some(true) && g.info.is_some() && !g.versions.is_empty()).then_some(())).await;
    match found {
        Some(()) => Verdict::Passed,
        None => Verdict::failed(why!("over the cable, the gateway did not announce status, info and versions", "通过串口线，网关未主动上报状态、信息和版本")),
    }
}

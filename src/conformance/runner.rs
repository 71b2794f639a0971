//! Runs the selected cases one after another against one gateway through the engine, each
//! within its budget, and gathers the report. Never hangs on a gateway: every wait is bounded,
//! a gateway silent for several requests in a row makes the remaining sending cases
//! Inconclusive without waiting on each, and a cancel ends the run with an incomplete report.

use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::catalogue::{CaseDef, CaseText, why};
use super::ctx::{Ctx, Facts};
use super::model::{CaseResult, Deficiency, Identity, RunReport, Verdict};
use super::options::{CancelToken, Progress, RunOptions};
use super::snapshot;
use crate::engine::{EngineHandle, GatewayKey, SessionId};
use crate::protocol::time::now_ms;

/// Requests in a row without a reply after which the gateway is taken as gone.
const SILENT_AFTER: u32 = 3;

/// Runs the catalogue's selected cases against `pk`/`dev` on `session`.
pub async fn run(handle: &EngineHandle, session: SessionId, target: (&str, &str), options: &RunOptions, cancel: &CancelToken, progress: Option<mpsc::UnboundedSender<Progress>>) -> RunReport {
    let key = GatewayKey { pk: target.0.to_owned(), dev: target.1.to_owned() };
    let say = |p: Progress| {
        if let Some(tx) = &progress {
            // A listener gone away does not stop the run.
            let _ = tx.send(p);
        }
    };
    let started_ms = now_ms();
    let selected: Vec<&CaseDef> = options.catalogue.select(options.cases.as_deref());
    say(Progress::Planned { cases: selected.iter().map(|c| (c.id.clone(), not_run_reason(c, options.allow_changes, options.read_only))).collect() });
    let mut facts = Facts { run_started_ms: started_ms, ..Facts::default() };
    let mut identity = Identity::default();
    snapshot::identity(handle, session, &key, options, &mut identity, true).await;
    let mut results = Vec::new();
    let mut complete = true;
    for def in selected {
        if cancel.is_cancelled() {
            complete = false;
            break;
        }
        say(Progress::Started { id: def.id.clone() });
        let begun = Instant::now();
        let budget = Duration::from_secs_f64((def.timeout_s * options.time_scale).max(0.5));
        let mut ctx = Ctx::new(handle, session, key.clone(), options, def, &mut facts, budget);
        let verdict = if let Some(reason) = not_run_reason(def, options.allow_changes, options.read_only) {
            Verdict::NotRun { reason }
        } else if def.sends && ctx.facts.unanswered_streak >= SILENT_AFTER {
            let streak = ctx.facts.unanswered_streak;
            Verdict::inconclusive(why!("not sent: the gateway left the last {streak} requests unanswered", "未发送：网关对最近 {streak} 个请求均无应答"))
        } else {
            // The budget bounds the case even if a wait inside it were longer.
            let code = super::cases::code_for(&def.id);
            tokio::select! {
                verdict = tokio::time::timeout(budget + options.reply_timeout, code(&mut ctx)) => verdict.unwrap_or_else(|_| {
                    let seconds = format!("{:.0}", budget.as_secs_f64());
                    Verdict::failed(why!("the case did not finish within {seconds} s", "用例未在 {seconds} 秒内完成"))
                }),
                () = cancel.cancelled() => {
                    complete = false;
                    Verdict::inconclusive(why!("cancelled while running; what it changed may not have been put back", "运行中被取消：它所做的改动可能未被恢复"))
                }
            }
        };
        let result = CaseResult {
            id: def.id.clone(),
            clause: def.clause.clone(),
            title: def.title.clone(),
            mandatory: def.mandatory,
            changes: def.changes,
            verdict,
            evidence: ctx.evidence,
            duration_ms: begun.elapsed().as_secs_f64() * 1000.0,
        };
        say(Progress::Finished(result.clone()));
        results.push(result);
    }
    if facts.unanswered_streak < SILENT_AFTER && !cancel.is_cancelled() {
        snapshot::identity(handle, session, &key, options, &mut identity, false).await;
    }
    let deficiencies = results
        .iter()
        .filter_map(|r| match &r.verdict {
            Verdict::Failed { reason } => Some(Deficiency { id: r.id.clone(), title: r.title.clone(), mandatory: r.mandatory, reason: reason.clone() }),
            _ => None,
        })
        .collect();
    let clock = facts.clock.or_else(|| handle.state.gateways().get(&key).and_then(|g| g.clock).map(|c| (c.offset_ms, c.round_trip_ms)));
    let report = RunReport {
        catalogue: options.catalogue.catalogue.clone(),
        catalogue_version: options.catalogue.version.clone(),
        pk: key.pk.clone(),
        dev: key.dev.clone(),
        link: options.link_label.clone(),
        site: options.site.clone(),
        started_ms,
        finished_ms: now_ms(),
        complete,
        allow_changes: options.allow_changes,
        read_only: options.read_only,
        identity,
        clock_offset_ms: clock.map(|c| c.0),
        clock_round_trip_ms: clock.map(|c| c.1),
        points: snapshot::points(handle, &key, &options.models),
        alarms: facts.alarms,
        transfers: facts.transfers,
        restored: facts.restored,
        cases: results,
        deficiencies,
    };
    say(Progress::Done { complete });
    report
}

/// Why a case will not run when changes are (not) allowed and the session is (not) read-only;
/// the faces show it before a run too.
pub fn not_run_reason(def: &CaseDef, allow_changes: bool, read_only: bool) -> Option<CaseText> {
    if read_only && def.sends {
        Some(why!("read-only session: this case sends requests", "只读会话：本用例需要发送请求"))
    } else if def.changes && (!allow_changes || read_only) {
        Some(why!(
            "changes the gateway: changes are not allowed in this run (--allow-changes, or the tick in the window)",
            "会改动网关：本次测试未允许改动（--allow-changes 或窗口中的勾选）"
        ))
    } else {
        None
    }
}

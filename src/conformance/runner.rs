//! Runs the selected cases one after another against one gateway through the engine, each
//! within its budget, and gathers the report. Never hangs on a gateway: every wait is bounded,
//! a gateway silent for several requests in a row makes the remaining sending cases
//! Inconclusive without waiting on each, and a cancel ends the run with an incomplete report.

use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::catalogue::CaseDef;
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
    say(Progress::Planned { cases: selected.iter().map(|c| (c.id.clone(), not_run_reason(c, options))).collect() });
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
        let verdict = if let Some(reason) = not_run_reason(def, options) {
            Verdict::NotRun { reason }
        } else if def.sends && ctx.facts.unanswered_streak >= SILENT_AFTER {
            Verdict::inconclusive(format!("not sent: the gateway left the last {} requests unanswered", ctx.facts.unanswered_streak))
        } else {
            // The budget bounds the case even if a wait inside it were longer.
            let code = super::cases::code_for(&def.id);
            tokio::select! {
                verdict = tokio::time::timeout(budget + options.reply_timeout, code(&mut ctx)) => verdict.unwrap_or_else(|_| Verdict::failed(format!("the case did not finish within {:.0} s", budget.as_secs_f64()))),
                () = cancel.cancelled() => {
                    complete = false;
                    Verdict::inconclusive("cancelled while running; what it changed may not have been put back")
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

/// Why a case will not run with these options.
fn not_run_reason(def: &CaseDef, options: &RunOptions) -> Option<String> {
    if options.read_only && def.sends {
        Some("read-only session: this case sends requests".to_owned())
    } else if def.changes && (!options.allow_changes || options.read_only) {
        Some("changes the gateway: run with --allow-changes".to_owned())
    } else {
        None
    }
}

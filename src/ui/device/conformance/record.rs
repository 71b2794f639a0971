//! What the tab knows of the current or last run, filled from the run's events: the cases
//! planned, when each started, their results as they come, the case running now and, at the
//! end, the report. It stays until the next run.

use std::collections::BTreeMap;

use super::run::RunEvent;
use crate::conformance::{CaseResult, Progress, RunReport};

#[derive(Debug, Default)]
pub struct RunRecord {
    /// The selected cases, in run order.
    pub planned: Vec<String>,
    /// Epoch ms each case started at (the base of its evidence's times).
    pub started_ms: BTreeMap<String, i64>,
    pub results: BTreeMap<String, CaseResult>,
    pub current: Option<String>,
    pub report: Option<RunReport>,
    /// Why the run could not start or ended without a report.
    pub error: Option<String>,
}

impl RunRecord {
    pub fn apply(&mut self, event: RunEvent) {
        match event {
            RunEvent::Progress { at_ms, progress } => match progress {
                Progress::Planned { cases } => self.planned = cases.into_iter().map(|(id, _)| id).collect(),
                Progress::Started { id } => {
                    self.started_ms.insert(id.clone(), at_ms);
                    self.current = Some(id);
                }
                Progress::Finished(result) => {
                    if self.current.as_deref() == Some(result.id.as_str()) {
                        self.current = None;
                    }
                    self.results.insert(result.id.clone(), result);
                }
                Progress::Done { .. } => self.current = None,
            },
            RunEvent::Finished(report) => {
                // The report is the whole truth: a result missed on the way is in it.
                for case in &report.cases {
                    self.results.entry(case.id.clone()).or_insert_with(|| case.clone());
                }
                self.current = None;
                self.report = Some(*report);
            }
            RunEvent::Failed(why) => self.error = Some(why),
        }
    }

    /// Cases with a verdict, and how many were planned.
    pub fn counts(&self) -> (usize, usize) {
        (self.results.len(), self.planned.len())
    }

    pub fn finished(&self) -> bool {
        self.report.is_some() || self.error.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conformance::{CaseText, Verdict};

    fn result(id: &str, verdict: Verdict) -> CaseResult {
        let text = CaseText { en: "t".into(), zh: "题".into() };
        CaseResult { id: id.into(), clause: "4.2".into(), title: text, mandatory: true, changes: false, verdict, evidence: Vec::new(), duration_ms: 1.0 }
    }

    #[test]
    fn the_record_follows_the_progress_events() {
        let mut record = RunRecord::default();
        let progress = |p| RunEvent::Progress { at_ms: 1_000, progress: p };
        record.apply(progress(Progress::Planned { cases: vec![("TC-4.2-01".into(), None), ("TC-4.2-02".into(), None)] }));
        record.apply(progress(Progress::Started { id: "TC-4.2-01".into() }));
        assert_eq!(record.current.as_deref(), Some("TC-4.2-01"));
        assert_eq!(record.started_ms.get("TC-4.2-01"), Some(&1_000));
        record.apply(progress(Progress::Finished(result("TC-4.2-01", Verdict::Passed))));
        assert_eq!(record.current, None);
        assert_eq!(record.counts(), (1, 2));
        assert!(!record.finished());
        record.apply(RunEvent::Failed("no runtime".into()));
        assert!(record.finished());
    }
}

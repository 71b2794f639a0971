//! What a run produces: verdicts with their evidence, and the commissioning facts gathered on
//! the way (identity, versions, clock, points, alarms, transfers). Serializable for `--json`.

use serde::ser::SerializeMap as _;
use serde::{Serialize, Serializer};

use super::catalogue::CaseText;
use crate::protocol::model::Lang;

/// A case's outcome. Its reason is in both languages; as JSON it is `"reason"` (English, as
/// before) and `"reasonZh"` beside the `"verdict"` tag.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Passed,
    Failed { reason: CaseText },
    /// A precondition was absent (no model, no alarm, a manual step skipped, not observable).
    Inconclusive { reason: CaseText },
    /// Not run: changes not allowed, a read-only session, or the run was cancelled first.
    NotRun { reason: CaseText },
}

impl Verdict {
    pub fn failed(reason: CaseText) -> Verdict {
        Verdict::Failed { reason }
    }

    pub fn inconclusive(reason: CaseText) -> Verdict {
        Verdict::Inconclusive { reason }
    }

    /// The word printed for it.
    pub fn label(&self) -> &'static str {
        match self {
            Verdict::Passed => "Passed",
            Verdict::Failed { .. } => "Failed",
            Verdict::Inconclusive { .. } => "Inconclusive",
            Verdict::NotRun { .. } => "NotRun",
        }
    }

    /// The `"verdict"` tag of the JSON.
    fn tag(&self) -> &'static str {
        match self {
            Verdict::Passed => "passed",
            Verdict::Failed { .. } => "failed",
            Verdict::Inconclusive { .. } => "inconclusive",
            Verdict::NotRun { .. } => "notRun",
        }
    }

    /// The reason in both languages, none for a pass.
    pub fn reason_text(&self) -> Option<&CaseText> {
        match self {
            Verdict::Passed => None,
            Verdict::Failed { reason } | Verdict::Inconclusive { reason } | Verdict::NotRun { reason } => Some(reason),
        }
    }

    /// The reason in English.
    pub fn reason(&self) -> Option<&str> {
        self.reason_in(Lang::En)
    }

    pub fn reason_in(&self, lang: Lang) -> Option<&str> {
        self.reason_text().map(|r| r.get(lang))
    }

    pub fn is_failed(&self) -> bool {
        matches!(self, Verdict::Failed { .. })
    }
}

impl Serialize for Verdict {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let reason = self.reason_text();
        let mut map = serializer.serialize_map(Some(if reason.is_some() { 3 } else { 1 }))?;
        map.serialize_entry("verdict", self.tag())?;
        if let Some(reason) = reason {
            map.serialize_entry("reason", &reason.en)?;
            map.serialize_entry("reasonZh", &reason.zh)?;
        }
        map.end()
    }
}

/// One line of a case's evidence.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Evidence {
    /// From the case's start, ms.
    pub at_ms: i64,
    pub kind: EvidenceKind,
    /// The topic, empty for a note.
    pub topic: String,
    /// The payload (cut to a few hundred characters) or the note's text.
    pub excerpt: String,
    /// Request to reply, for a reply.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum EvidenceKind {
    Sent,
    Received,
    Note,
}

/// One case's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CaseResult {
    pub id: String,
    pub clause: String,
    pub title: CaseText,
    pub mandatory: bool,
    pub changes: bool,
    #[serde(flatten)]
    pub verdict: Verdict,
    pub evidence: Vec<Evidence>,
    pub duration_ms: f64,
}

/// Who the gateway says it is.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    pub vendor: Option<String>,
    pub model: Option<String>,
    pub serial: Option<String>,
    pub hw_version: Option<String>,
    pub fw_version: Option<String>,
    pub sw_version: Option<String>,
    /// (module, version) at the start and at the end of the run.
    pub versions_before: Vec<(String, String)>,
    pub versions_after: Vec<(String, String)>,
}

/// One point of the snapshot, named from the models.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PointRow {
    pub sub: String,
    pub pid: String,
    pub name_en: Option<String>,
    pub name_zh: Option<String>,
    pub unit: Option<String>,
    pub value: String,
    pub q: u8,
    pub ts: i64,
}

/// An alarm the run saw.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlarmTested {
    pub alarm_id: String,
    pub sub: String,
    pub alarm_type: String,
    pub level: u8,
    pub raised: bool,
    pub cleared: bool,
    /// `us`, `other`, `sent`, `none` or `unknown`.
    pub ack: String,
}

/// A firmware or file transfer of the run.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TransferResult {
    pub case_id: String,
    /// `ota`, `file download`, `file upload`.
    pub kind: String,
    pub target: String,
    pub bytes: u64,
    /// The final phase and its code, as the engine saw it.
    pub outcome: String,
}

/// A failed case, for the retest list.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Deficiency {
    pub id: String,
    pub title: CaseText,
    pub mandatory: bool,
    /// The failure's reason, in both languages.
    pub reason: CaseText,
}

/// The whole run.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunReport {
    pub catalogue: String,
    pub catalogue_version: String,
    pub pk: String,
    pub dev: String,
    pub link: String,
    pub site: Option<String>,
    pub started_ms: i64,
    pub finished_ms: i64,
    /// False when the run was cancelled: the report covers what ran.
    pub complete: bool,
    pub allow_changes: bool,
    pub read_only: bool,
    pub identity: Identity,
    /// Gateway clock minus ours, ms, and the round trip of that measurement.
    pub clock_offset_ms: Option<f64>,
    pub clock_round_trip_ms: Option<i64>,
    pub points: Vec<PointRow>,
    pub alarms: Vec<AlarmTested>,
    pub transfers: Vec<TransferResult>,
    /// What the run changed and put back (or could not).
    pub restored: Vec<String>,
    pub cases: Vec<CaseResult>,
    pub deficiencies: Vec<Deficiency>,
}

/// Counts of a report's verdicts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub passed: usize,
    pub failed: usize,
    pub failed_mandatory: usize,
    pub inconclusive: usize,
    pub not_run: usize,
}

impl RunReport {
    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for case in &self.cases {
            match case.verdict {
                Verdict::Passed => s.passed += 1,
                Verdict::Failed { .. } => {
                    s.failed += 1;
                    if case.mandatory {
                        s.failed_mandatory += 1;
                    }
                }
                Verdict::Inconclusive { .. } => s.inconclusive += 1,
                Verdict::NotRun { .. } => s.not_run += 1,
            }
        }
        s
    }

    /// No mandatory case failed.
    pub fn passed(&self) -> bool {
        self.summary().failed_mandatory == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conformance::catalogue::why;

    /// `check --json` keeps `"reason"` in English and adds `"reasonZh"` beside the tag.
    #[test]
    fn a_verdict_serializes_its_reason_in_both_languages() {
        let failed = Verdict::failed(why!("no reply", "无应答"));
        assert_eq!(serde_json::to_value(&failed).ok(), Some(serde_json::json!({"verdict": "failed", "reason": "no reply", "reasonZh": "无应答"})));
        assert_eq!(serde_json::to_value(Verdict::Passed).ok(), Some(serde_json::json!({"verdict": "passed"})));
        let not_run = Verdict::NotRun { reason: why!("read-only", "只读") };
        assert_eq!(serde_json::to_value(&not_run).ok().and_then(|v| v["verdict"].as_str().map(str::to_owned)).as_deref(), Some("notRun"));
        assert_eq!((not_run.reason(), not_run.reason_in(Lang::Zh)), (Some("read-only"), Some("只读")));
    }
}

//! How a request of the log ended, in the four kinds the Requests tab filters by and its export
//! names: ok, partly applied, error, timeout.

use crate::engine::RequestFailure;
use crate::engine::gateways::{RequestEnd, RequestRecord};

/// How a request ended, as the outcome filter and the export name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutcomeKind {
    /// Code 0, nothing listed as failed.
    Ok,
    /// A set whose reply lists items not applied: the others were (contract §3).
    Partial,
    /// Another code, or no reply for a reason other than the timeout.
    Error,
    Timeout,
}

impl OutcomeKind {
    pub const ALL: [OutcomeKind; 4] = [OutcomeKind::Ok, OutcomeKind::Partial, OutcomeKind::Error, OutcomeKind::Timeout];

    pub fn of(r: &RequestRecord) -> OutcomeKind {
        match &r.end {
            RequestEnd::Replied { .. } if !r.failed.is_empty() => OutcomeKind::Partial,
            RequestEnd::Replied { code: 0, .. } => OutcomeKind::Ok,
            RequestEnd::Replied { .. } => OutcomeKind::Error,
            RequestEnd::Failed(RequestFailure::Timeout { .. }) => OutcomeKind::Timeout,
            RequestEnd::Failed(_) => OutcomeKind::Error,
        }
    }

    /// The word in the export.
    pub fn name(self) -> &'static str {
        match self {
            OutcomeKind::Ok => "ok",
            OutcomeKind::Partial => "partial",
            OutcomeKind::Error => "error",
            OutcomeKind::Timeout => "timeout",
        }
    }

    /// The catalogue key shown in the filter.
    pub fn label(self) -> &'static str {
        match self {
            OutcomeKind::Ok => "Succeeded",
            OutcomeKind::Partial => "Partly applied",
            OutcomeKind::Error => "Errors",
            OutcomeKind::Timeout => "Timeouts",
        }
    }
}

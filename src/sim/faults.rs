//! Deliberate deviations from the contract, switched on per simulator, so the conformance
//! checker can be shown to catch each one (issue 18: "the checker checks itself").

/// One way the simulated gateway breaks the contract. `what` is a `class/action` such as
/// `time/get`; `None` applies the fault to every request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SimFault {
    /// The reply goes to `…/up/{class}/{action}/response` instead of `…/reply`.
    WrongReplyTopic { what: Option<String> },
    /// A repeated request id is processed again instead of its earlier reply being replayed.
    NoDedup,
    /// The reply is sent `delay_ms` late (beyond the master's timeout).
    SlowReply { what: Option<String>, delay_ms: u64 },
    /// A failed image check is reported with code 1 instead of 9.
    BadChecksumCode,
    /// No MQTT will, and nothing said when the link is lost.
    NoWill,
    /// An unknown action of a known class is refused with code 1 instead of 2.
    WrongCodeUnknownAction,
    /// The reply's payload is replaced by bytes that are not JSON.
    GarbageReply { what: Option<String> },
    /// Every reply is published twice.
    DoubleReply { what: Option<String> },
}

impl SimFault {
    /// Every fault's flag name, for `--fault` help and errors.
    pub const NAMES: [&'static str; 8] = ["wrong-reply-topic", "no-dedup", "slow-reply", "bad-checksum-code", "no-will", "wrong-code-unknown-action", "garbage-reply", "double-reply"];

    /// Reads `NAME[=CLASS/ACTION][:DELAY_MS]`, e.g. `slow-reply=info/get:15000` or `no-dedup`.
    pub fn parse(text: &str) -> Result<SimFault, String> {
        let (name, arg) = match text.split_once('=') {
            Some((n, a)) => (n, Some(a)),
            None => (text, None),
        };
        let what_and_delay = |arg: Option<&str>| -> Result<(Option<String>, Option<u64>), String> {
            let Some(arg) = arg else { return Ok((None, None)) };
            let (what, delay) = match arg.split_once(':') {
                Some((w, d)) => (w, Some(d.parse::<u64>().map_err(|_| format!("--fault {text}: {d:?} is not a number of milliseconds"))?)),
                None => (arg, None),
            };
            let what = if what.is_empty() || what == "all" { None } else { Some(what.to_owned()) };
            Ok((what, delay))
        };
        let no_arg = |fault: SimFault| if arg.is_some() { Err(format!("--fault {name} takes no value")) } else { Ok(fault) };
        match name {
            "wrong-reply-topic" => Ok(SimFault::WrongReplyTopic { what: what_and_delay(arg)?.0 }),
            "garbage-reply" => Ok(SimFault::GarbageReply { what: what_and_delay(arg)?.0 }),
            "double-reply" => Ok(SimFault::DoubleReply { what: what_and_delay(arg)?.0 }),
            "slow-reply" => {
                let (what, delay) = what_and_delay(arg)?;
                Ok(SimFault::SlowReply { what, delay_ms: delay.unwrap_or(15_000) })
            }
            "no-dedup" => no_arg(SimFault::NoDedup),
            "bad-checksum-code" => no_arg(SimFault::BadChecksumCode),
            "no-will" => no_arg(SimFault::NoWill),
            "wrong-code-unknown-action" => no_arg(SimFault::WrongCodeUnknownAction),
            _ => Err(format!("--fault {name}: unknown fault; known: {}", SimFault::NAMES.join(", "))),
        }
    }

    fn covers(what: &Option<String>, class_action: &str) -> bool {
        what.as_deref().is_none_or(|w| w == class_action)
    }
}

/// The faults of one simulator, asked by the hooks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Faults(pub Vec<SimFault>);

impl Faults {
    pub fn no_dedup(&self) -> bool {
        self.0.contains(&SimFault::NoDedup)
    }

    pub fn bad_checksum_code(&self) -> bool {
        self.0.contains(&SimFault::BadChecksumCode)
    }

    pub fn no_will(&self) -> bool {
        self.0.contains(&SimFault::NoWill)
    }

    pub fn wrong_code_unknown_action(&self) -> bool {
        self.0.contains(&SimFault::WrongCodeUnknownAction)
    }

    pub fn wrong_reply_topic(&self, class_action: &str) -> bool {
        self.0.iter().any(|f| matches!(f, SimFault::WrongReplyTopic { what } if SimFault::covers(what, class_action)))
    }

    pub fn garbage_reply(&self, class_action: &str) -> bool {
        self.0.iter().any(|f| matches!(f, SimFault::GarbageReply { what } if SimFault::covers(what, class_action)))
    }

    pub fn double_reply(&self, class_action: &str) -> bool {
        self.0.iter().any(|f| matches!(f, SimFault::DoubleReply { what } if SimFault::covers(what, class_action)))
    }

    /// How late the reply to `class_action` goes out, if a fault delays it.
    pub fn reply_delay_ms(&self, class_action: &str) -> Option<u64> {
        self.0.iter().find_map(|f| match f {
            SimFault::SlowReply { what, delay_ms } if SimFault::covers(what, class_action) => Some(*delay_ms),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_parse() {
        assert_eq!(SimFault::parse("no-dedup"), Ok(SimFault::NoDedup));
        assert_eq!(SimFault::parse("slow-reply=info/get:2000"), Ok(SimFault::SlowReply { what: Some("info/get".into()), delay_ms: 2000 }));
        assert_eq!(SimFault::parse("slow-reply"), Ok(SimFault::SlowReply { what: None, delay_ms: 15_000 }));
        assert_eq!(SimFault::parse("wrong-reply-topic=time/get"), Ok(SimFault::WrongReplyTopic { what: Some("time/get".into()) }));
        assert!(SimFault::parse("no-dedup=x").is_err());
        assert!(SimFault::parse("melt").is_err());
        let faults = Faults(vec![SimFault::WrongReplyTopic { what: Some("time/get".into()) }]);
        assert!(faults.wrong_reply_topic("time/get") && !faults.wrong_reply_topic("info/get"));
        assert_eq!(SimFault::parse("garbage-reply=info/get"), Ok(SimFault::GarbageReply { what: Some("info/get".into()) }));
        let faults = Faults(vec![SimFault::parse("double-reply").unwrap()]);
        assert!(faults.double_reply("time/get") && !faults.garbage_reply("time/get"));
    }
}

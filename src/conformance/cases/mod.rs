//! The code of each catalogue case, one async fn per case, grouped by class. `code_for` finds
//! a case's code by its id; the catalogue check refuses an id without code.

use std::future::Future;
use std::pin::Pin;

use super::catalogue::{CaseText, why};
use super::ctx::Ctx;
use super::model::Verdict;

mod alarms;
mod clock_logs;
mod connect;
mod data;
mod envelope;
mod transfer;

#[cfg(test)]
mod tests;

/// A case's code.
pub(crate) type CaseFn = for<'c, 'a> fn(&'c mut Ctx<'a>) -> Pin<Box<dyn Future<Output = Verdict> + Send + 'c>>;

/// The reason as Failed when a step gives an error.
macro_rules! step {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(reason) => return $crate::conformance::model::Verdict::failed(reason),
        }
    };
}
pub(crate) use step;

macro_rules! table {
    ($($id:literal => $module:ident :: $name:ident),* $(,)?) => {
        $(
            fn $name<'c, 'a>(ctx: &'c mut Ctx<'a>) -> Pin<Box<dyn Future<Output = Verdict> + Send + 'c>> {
                Box::pin($module::$name(ctx))
            }
        )*
        fn lookup(id: &str) -> Option<CaseFn> {
            match id {
                $($id => Some($name as CaseFn),)*
                _ => None,
            }
        }
    };
}

table! {
    "TC-4.3-01" => connect::status_retained,
    "TC-4.3-02" => connect::will_on_loss,
    "TC-4.2-01" => envelope::reply_envelope,
    "TC-4.2-02" => envelope::malformed_envelope,
    "TC-4.2-03" => envelope::duplicate_id,
    "TC-4.6-01" => envelope::unknown_class,
    "TC-4.6-02" => envelope::unknown_action,
    "TC-6.1-01" => envelope::unknown_command,
    "TC-6.3-01" => data::ports,
    "TC-6.4-01" => data::points_read,
    "TC-6.4-02" => data::points_reported,
    "TC-6.4-03" => data::setpoint,
    "TC-6.5-01" => data::meters,
    "TC-6.6-01" => data::properties,
    "TC-6.6-02" => data::partial_set,
    "TC-6.6-03" => data::unknown_property,
    "TC-6.7-01" => connect::versions,
    "TC-6.7-02" => transfer::ota_upgrade,
    "TC-6.7-03" => transfer::ota_checksum,
    "TC-6.7-04" => transfer::ota_same_version,
    "TC-6.7-05" => transfer::ota_resume,
    "TC-6.8-01" => transfer::file_list,
    "TC-6.8-02" => transfer::file_download,
    "TC-6.8-03" => transfer::file_upload,
    "TC-6.8-04" => transfer::hostile_names,
    "TC-6.9-01" => clock_logs::clock_offset,
    "TC-6.9-02" => clock_logs::time_set,
    "TC-6.10-01" => connect::identity,
    "TC-6.11-01" => clock_logs::log_query,
    "TC-6.11-02" => clock_logs::log_level,
    "TC-6.12-01" => alarms::active_alarms,
    "TC-6.12-02" => alarms::alarm_acknowledged,
    "TC-6.13-01" => alarms::history_recall,
    "TC-6.13-02" => alarms::history_resume,
    "TC-10-01" => connect::serial_discovery,
}

pub(crate) fn has_code(id: &str) -> bool {
    lookup(id).is_some()
}

/// The code of `id`; a case without code (a user catalogue cannot get here: it is checked on
/// load) is Inconclusive.
pub(crate) fn code_for(id: &str) -> CaseFn {
    lookup(id).unwrap_or(no_code)
}

fn no_code<'c, 'a>(_ctx: &'c mut Ctx<'a>) -> Pin<Box<dyn Future<Output = Verdict> + Send + 'c>> {
    Box::pin(async { Verdict::inconclusive(why!("no test code for this case", "本用例没有测试代码")) })
}

/// `Ok` when `cond` holds, else the reason.
pub(crate) fn ensure(cond: bool, reason: impl FnOnce() -> CaseText) -> Result<(), CaseText> {
    if cond { Ok(()) } else { Err(reason()) }
}

/// Checks a reply's code against the one expected.
pub(crate) fn expect_code(what: &str, reply: &crate::engine::requests::ReplyInfo, code: i64) -> Result<(), CaseText> {
    ensure(reply.code == code, || {
        let (got, got_name, expected_name) = (reply.code, reply.name, crate::protocol::codes::code_name(code));
        let msg = reply.msg.as_deref().map(|m| format!(": {m}")).unwrap_or_default();
        let msg_zh = reply.msg.as_deref().map(|m| format!("：{m}")).unwrap_or_default();
        why!("{what}: code {got} ({got_name}) where {code} ({expected_name}) is expected{msg}", "{what}：应答代码为 {got}（{got_name}），应为 {code}（{expected_name}）{msg_zh}")
    })
}

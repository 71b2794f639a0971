//! Chinese texts of alarms, history recall and logs.

pub const ZH: &[(&str, &str)] = &[
];

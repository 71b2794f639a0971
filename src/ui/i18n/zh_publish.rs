//! Chinese texts of the Publish panel, messages, meter readings, info and the request log.

pub const ZH: &[(&str, &str)] = &[
    // Read-only sessions
    ("Read-only (a live site: only acknowledgements and time answers are sent)", "只读（现场：只发送确认和校时应答）"),
    ("read-only", "只读"),
];

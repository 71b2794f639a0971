//! Chinese texts of monitoring points and the device clock.

pub const ZH: &[(&str, &str)] = &[
];

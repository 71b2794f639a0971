//! Chinese texts of the forms built from product models: commands, properties, ports.

pub const ZH: &[(&str, &str)] = &[
];

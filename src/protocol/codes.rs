//! Return codes of the contract (§7), with names and short descriptions in Chinese and English.

use std::fmt;

/// One row of the return-code table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeInfo {
    pub code: i64,
    pub name: &'static str,
    pub en: &'static str,
    pub zh: &'static str,
}

/// The contract's table, in order.
pub const CODES: &[CodeInfo] = &[
    CodeInfo { code: 0, name: "ok", en: "success", zh: "成功" },
    CodeInfo { code: 1, name: "failed", en: "failure without a more specific code", zh: "失败" },
    CodeInfo { code: 2, name: "unsupported", en: "class, action, command or property not supported", zh: "不支持的类别、动作、命令或属性" },
    CodeInfo { code: 3, name: "bad_format", en: "payload is not a valid envelope", zh: "报文格式错误" },
    CodeInfo { code: 4, name: "bad_param", en: "a parameter is missing, of the wrong type or out of range", zh: "参数缺失、类型错误或超出范围" },
    CodeInfo { code: 5, name: "busy", en: "busy, try later", zh: "忙，请稍后重试" },
    CodeInfo { code: 6, name: "device_timeout", en: "a device behind the gateway did not answer", zh: "下挂设备无应答" },
    CodeInfo { code: 7, name: "not_found", en: "sub-device, point, file or task unknown", zh: "子设备、测点、文件或任务不存在" },
    CodeInfo { code: 8, name: "denied", en: "read-only, or not permitted", zh: "只读或无权限" },
    CodeInfo { code: 9, name: "checksum", en: "integrity check failed", zh: "校验失败" },
    CodeInfo { code: 10, name: "no_space", en: "not enough storage", zh: "存储空间不足" },
    CodeInfo { code: 11, name: "same_version", en: "already at that version", zh: "已是该版本" },
    CodeInfo { code: 12, name: "install_failed", en: "the image was verified but could not be installed", zh: "镜像校验通过但安装失败" },
];

/// Vendor-specific codes: shown with the reply's `msg`.
pub const VENDOR_CODES: std::ops::RangeInclusive<i64> = 100..=199;

pub const OK: i64 = 0;
pub const FAILED: i64 = 1;
pub const UNSUPPORTED: i64 = 2;
pub const BAD_FORMAT: i64 = 3;
pub const BAD_PARAM: i64 = 4;
pub const BUSY: i64 = 5;
pub const DEVICE_TIMEOUT: i64 = 6;
pub const NOT_FOUND: i64 = 7;
pub const DENIED: i64 = 8;
pub const CHECKSUM: i64 = 9;
pub const NO_SPACE: i64 = 10;
pub const SAME_VERSION: i64 = 11;
pub const INSTALL_FAILED: i64 = 12;

/// What a received code means, ready to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeMeaning {
    Known(CodeInfo),
    /// 100–199: the vendor's own code; `msg` is all there is to say.
    Vendor { code: i64, msg: Option<String> },
    /// Outside the table and the vendor range.
    Unknown(i64),
}

/// Looks a code up in the table.
pub fn lookup(code: i64) -> Option<&'static CodeInfo> {
    CODES.iter().find(|c| c.code == code)
}

/// The short name used in CLI output and logs: `ok`, `checksum`, `vendor`, `unknown`.
pub fn code_name(code: i64) -> &'static str {
    match lookup(code) {
        Some(info) => info.name,
        None if VENDOR_CODES.contains(&code) => "vendor",
        None => "unknown",
    }
}

/// Interprets a reply's code and message.
pub fn meaning(code: i64, msg: Option<&str>) -> CodeMeaning {
    match lookup(code) {
        Some(info) => CodeMeaning::Known(*info),
        None if VENDOR_CODES.contains(&code) => {
            CodeMeaning::Vendor { code, msg: msg.map(str::to_owned) }
        }
        None => CodeMeaning::Unknown(code),
    }
}

impl CodeMeaning {
    /// One line for a person, in English or Chinese.
    pub fn describe(&self, chinese: bool) -> String {
        match self {
            CodeMeaning::Known(info) => {
                let text = if chinese { info.zh } else { info.en };
                format!("{} {} ({text})", info.code, info.name)
            }
            CodeMeaning::Vendor { code, msg } => {
                let label = if chinese { "厂商代码" } else { "vendor code" };
                match msg {
                    Some(m) if !m.is_empty() => format!("{code} {label}: {m}"),
                    _ => format!("{code} {label}"),
                }
            }
            CodeMeaning::Unknown(code) => {
                if chinese { format!("{code} 未定义的代码") } else { format!("{code} undefined code") }
            }
        }
    }
}

impl fmt::Display for CodeMeaning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe(false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_matches_contract() {
        let names: Vec<_> = CODES.iter().map(|c| (c.code, c.name)).collect();
        assert_eq!(names[0], (0, "ok"));
        assert_eq!(names[9], (9, "checksum"));
        assert_eq!(names[12], (12, "install_failed"));
        assert_eq!(CODES.len(), 13);
        for (i, c) in CODES.iter().enumerate() {
            assert_eq!(c.code, i as i64);
            assert!(!c.zh.is_empty() && !c.en.is_empty());
        }
    }

    #[test]
    fn vendor_codes_carry_their_message() {
        assert_eq!(code_name(150), "vendor");
        let m = meaning(150, Some("inverter locked"));
        assert_eq!(m.describe(false), "150 vendor code: inverter locked");
        assert_eq!(code_name(200), "unknown");
        assert_eq!(code_name(-1), "unknown");
        assert_eq!(meaning(9, None).describe(true), "9 checksum (校验失败)");
    }
}

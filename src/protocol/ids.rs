//! Identifier charsets of the contract (§1) and the topic-segment rule.

use thiserror::Error;

/// Which identifier a value is meant to be; each has its own charset and length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    /// `pk`: `[A-Za-z0-9_-]{1,32}`
    ProductKey,
    /// `dev` and `sub`: `[A-Za-z0-9_.-]{1,64}`
    Device,
    /// `pid` and every id in a product model: `[A-Za-z0-9_]{1,64}`
    Point,
    /// A plain file name: `[A-Za-z0-9._-]{1,128}`, not `.` or `..` (§8).
    FileName,
}

impl IdKind {
    pub fn label(self) -> &'static str {
        match self {
            IdKind::ProductKey => "pk",
            IdKind::Device => "dev",
            IdKind::Point => "pid",
            IdKind::FileName => "file name",
        }
    }

    fn max_len(self) -> usize {
        match self {
            IdKind::ProductKey => 32,
            IdKind::Device | IdKind::Point => 64,
            IdKind::FileName => 128,
        }
    }

    fn allows(self, c: char) -> bool {
        let common = c.is_ascii_alphanumeric() || c == '_';
        match self {
            IdKind::ProductKey => common || c == '-',
            IdKind::Device | IdKind::FileName => common || c == '-' || c == '.',
            IdKind::Point => common,
        }
    }

    fn charset(self) -> &'static str {
        match self {
            IdKind::ProductKey => "[A-Za-z0-9_-]",
            IdKind::Device => "[A-Za-z0-9_.-]",
            IdKind::Point => "[A-Za-z0-9_]",
            IdKind::FileName => "[A-Za-z0-9._-]",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IdError {
    #[error("{kind} is empty")]
    Empty { kind: &'static str },
    #[error("{kind} {value:?} is {len} characters long, at most {max} allowed")]
    TooLong { kind: &'static str, value: String, len: usize, max: usize },
    #[error("{kind} {value:?} contains {bad:?}, allowed: {charset}")]
    BadChar { kind: &'static str, value: String, bad: char, charset: &'static str },
    #[error("{kind} {value:?} is not allowed")]
    Reserved { kind: &'static str, value: String },
}

/// Checks `value` against the charset and length of `kind`.
pub fn check_id(kind: IdKind, value: &str) -> Result<(), IdError> {
    let label = kind.label();
    if value.is_empty() {
        return Err(IdError::Empty { kind: label });
    }
    let len = value.chars().count();
    if len > kind.max_len() {
        return Err(IdError::TooLong { kind: label, value: value.to_owned(), len, max: kind.max_len() });
    }
    if let Some(bad) = value.chars().find(|c| !kind.allows(*c)) {
        return Err(IdError::BadChar { kind: label, value: value.to_owned(), bad, charset: kind.charset() });
    }
    if kind == IdKind::FileName && (value == "." || value == "..") {
        return Err(IdError::Reserved { kind: label, value: value.to_owned() });
    }
    Ok(())
}

/// True when `name` is a plain file name a receiver may write in its own folder.
pub fn is_safe_file_name(name: &str) -> bool {
    check_id(IdKind::FileName, name).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_contract_examples() {
        assert!(check_id(IdKind::ProductKey, "PK01").is_ok());
        assert!(check_id(IdKind::ProductKey, "PK-METER-3P").is_ok());
        assert!(check_id(IdKind::Device, "GW-0001").is_ok());
        assert!(check_id(IdKind::Device, "meter.1").is_ok());
        assert!(check_id(IdKind::Point, "Ua").is_ok());
    }

    #[test]
    fn rejects_wildcards_separators_and_nul() {
        for bad in ["a+b", "a#", "a/b", "a\0b", "中文"] {
            let err = check_id(IdKind::Device, bad).unwrap_err();
            assert!(matches!(err, IdError::BadChar { .. }), "{bad}: {err}");
        }
        assert!(matches!(check_id(IdKind::Point, "a.b"), Err(IdError::BadChar { bad: '.', .. })));
        assert!(matches!(check_id(IdKind::ProductKey, ""), Err(IdError::Empty { .. })));
        let long = "x".repeat(33);
        assert!(matches!(check_id(IdKind::ProductKey, &long), Err(IdError::TooLong { len: 33, .. })));
    }

    #[test]
    fn hostile_file_names_are_refused() {
        for bad in ["../x", "/etc/passwd", "a/b", "", ".", "..", "a\\b"] {
            assert!(!is_safe_file_name(bad), "{bad:?}");
        }
        assert!(is_safe_file_name("fw-1.2.bin"));
        assert!(is_safe_file_name("..hidden"));
    }
}

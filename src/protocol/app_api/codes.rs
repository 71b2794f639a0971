//! The return codes of §4 and the HTTP status each is answered with (§2).

/// One return code of the application-side API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ApiCode {
    Ok,
    MissingHeader,
    UnknownApp,
    StaleTimestamp,
    NonceReplayed,
    BadSignature,
    SiteNotGranted,
    NotJsonObject,
    BadParameter,
    UnknownCems,
    UnknownPoint,
    UnknownCategory,
    BadTimeRange,
    UnknownParameter,
    UnknownInterface,
    TooManyRequests,
    Internal,
}

impl ApiCode {
    pub const ALL: [ApiCode; 17] = [
        ApiCode::Ok,
        ApiCode::MissingHeader,
        ApiCode::UnknownApp,
        ApiCode::StaleTimestamp,
        ApiCode::NonceReplayed,
        ApiCode::BadSignature,
        ApiCode::SiteNotGranted,
        ApiCode::NotJsonObject,
        ApiCode::BadParameter,
        ApiCode::UnknownCems,
        ApiCode::UnknownPoint,
        ApiCode::UnknownCategory,
        ApiCode::BadTimeRange,
        ApiCode::UnknownParameter,
        ApiCode::UnknownInterface,
        ApiCode::TooManyRequests,
        ApiCode::Internal,
    ];

    pub fn number(self) -> i64 {
        match self {
            ApiCode::Ok => 0,
            ApiCode::MissingHeader => 1001,
            ApiCode::UnknownApp => 1002,
            ApiCode::StaleTimestamp => 1003,
            ApiCode::NonceReplayed => 1004,
            ApiCode::BadSignature => 1005,
            ApiCode::SiteNotGranted => 1006,
            ApiCode::NotJsonObject => 2001,
            ApiCode::BadParameter => 2002,
            ApiCode::UnknownCems => 2003,
            ApiCode::UnknownPoint => 2004,
            ApiCode::UnknownCategory => 2005,
            ApiCode::BadTimeRange => 2006,
            ApiCode::UnknownParameter => 2007,
            ApiCode::UnknownInterface => 2008,
            ApiCode::TooManyRequests => 3001,
            ApiCode::Internal => 5000,
        }
    }

    pub fn from_number(n: i64) -> Option<ApiCode> {
        ApiCode::ALL.into_iter().find(|c| c.number() == n)
    }

    /// The table's meaning, for messages and the probe's report.
    pub fn meaning(self) -> &'static str {
        match self {
            ApiCode::Ok => "ok",
            ApiCode::MissingHeader => "a required header is missing",
            ApiCode::UnknownApp => "unknown appId",
            ApiCode::StaleTimestamp => "timestamp outside ±300 s",
            ApiCode::NonceReplayed => "nonce replayed",
            ApiCode::BadSignature => "bad signature",
            ApiCode::SiteNotGranted => "this app may not read that cemsId",
            ApiCode::NotJsonObject => "body is not a JSON object",
            ApiCode::BadParameter => "a parameter is missing, of the wrong type or out of range",
            ApiCode::UnknownCems => "unknown cemsId",
            ApiCode::UnknownPoint => "unknown pointId",
            ApiCode::UnknownCategory => "unknown categoryId",
            ApiCode::BadTimeRange => "bad time range",
            ApiCode::UnknownParameter => "unknown parameterId",
            ApiCode::UnknownInterface => "unknown interface",
            ApiCode::TooManyRequests => "too many requests",
            ApiCode::Internal => "internal error",
        }
    }

    /// The HTTP status answered with this code (a body over 1 MiB is 413 and a method other than
    /// POST is 405: [`ApiCode::STATUS_BODY_TOO_LARGE`], [`ApiCode::STATUS_METHOD_NOT_ALLOWED`]).
    pub fn http_status(self) -> u16 {
        match self.number() {
            0 => 200,
            1001..=1005 => 401,
            1006 => 403,
            2008 => 404,
            2001..=2007 => 400,
            3001 => 429,
            _ => 500,
        }
    }

    pub const STATUS_BODY_TOO_LARGE: u16 = 413;
    pub const STATUS_METHOD_NOT_ALLOWED: u16 = 405;
}

impl std::fmt::Display for ApiCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.number(), self.meaning())
    }
}

//! Device connection authentication (contract §6): MQTT username `{pk}&{dev}&{ts}` and password
//! `hex(HMAC-SHA256(secret, "pk={pk}&dev={dev}&ts={ts}"))`.

use hmac::{Hmac, KeyInit, Mac};
use serde::Serialize;
use sha2::Sha256;
use thiserror::Error;

use super::ids::{IdError, IdKind, check_id};

type HmacSha256 = Hmac<Sha256>;

/// Largest distance between the username's `ts` and the verifier's clock.
pub const MAX_CLOCK_SKEW_MS: u64 = 300_000;

/// Length of the password: 32 bytes of HMAC-SHA256 in hex.
const PASSWORD_HEX_LEN: usize = 64;

/// What a gateway presents when it connects to the broker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceCredentials {
    /// MQTT client id, `{pk}.{dev}` (contract §4).
    pub client_id: String,
    /// MQTT username, `{pk}&{dev}&{ts}`.
    pub username: String,
    /// MQTT password, lowercase hex HMAC-SHA256.
    pub password: String,
}

/// The identity a valid username and password prove.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIdentity {
    /// Product key.
    pub pk: String,
    /// Device id.
    pub dev: String,
    /// Connect time the device signed, epoch ms.
    pub ts_ms: u64,
}

/// Why credentials could not be made or were refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AuthError {
    /// `pk` or `dev` does not match its charset.
    #[error(transparent)]
    BadId(#[from] IdError),
    /// The username is not `{pk}&{dev}&{ts}`.
    #[error("malformed username {username:?}: {reason}")]
    MalformedUsername {
        /// The username as received.
        username: String,
        /// Which part is wrong and how.
        reason: String,
    },
    /// The password is not 64 lowercase hex digits.
    #[error("malformed password: {reason}")]
    MalformedPassword {
        /// What is wrong with it.
        reason: String,
    },
    /// The password is not the HMAC of the username under this secret.
    #[error("bad signature: the password does not match the username under this device secret")]
    BadSignature,
    /// The signed `ts` is too far from the verifier's clock.
    #[error(
        "clock skew: the username's ts is {} s {} the verifier's clock, at most {} s allowed",
        format_ms_as_secs(*skew_ms),
        if *ahead { "ahead of" } else { "behind" },
        MAX_CLOCK_SKEW_MS / 1000
    )]
    ClockSkew {
        /// Distance between `ts` and the verifier's clock, ms.
        skew_ms: u64,
        /// True when `ts` is in the verifier's future.
        ahead: bool,
    },
    /// The HMAC refused the key; HMAC-SHA256 takes any length, so this is not expected.
    #[error("HMAC-SHA256 refused the device secret")]
    InvalidSecret,
}

/// Signs a connection for device `dev` of product `pk` at `ts_ms` (epoch ms).
pub fn sign(pk: &str, dev: &str, secret: &str, ts_ms: u64) -> Result<DeviceCredentials, AuthError> {
    check_id(IdKind::ProductKey, pk)?;
    check_id(IdKind::Device, dev)?;
    let ts = ts_ms.to_string();
    let mac = mac_over(pk, dev, &ts, secret)?;
    Ok(DeviceCredentials {
        client_id: format!("{pk}.{dev}"),
        username: format!("{pk}&{dev}&{ts}"),
        password: hex::encode(mac.finalize().into_bytes()),
    })
}

/// Checks a connection's username and password against the device secret and `now_ms`.
///
/// The signature is checked before the clock so that a field engineer learns "right secret,
/// wrong clock" rather than a bare refusal.
pub fn verify(username: &str, password: &str, secret: &str, now_ms: u64) -> Result<SignedIdentity, AuthError> {
    let (pk, dev, ts, ts_ms) = parse_username(username)?;
    let tag = parse_password(password)?;
    mac_over(pk, dev, ts, secret)?.verify_slice(&tag).map_err(|_| AuthError::BadSignature)?;

    let skew_ms = ts_ms.abs_diff(now_ms);
    if skew_ms > MAX_CLOCK_SKEW_MS {
        return Err(AuthError::ClockSkew { skew_ms, ahead: ts_ms > now_ms });
    }
    Ok(SignedIdentity { pk: pk.to_owned(), dev: dev.to_owned(), ts_ms })
}

/// HMAC over the contract's message; `ts` is used verbatim, as the device wrote it.
fn mac_over(pk: &str, dev: &str, ts: &str, secret: &str) -> Result<HmacSha256, AuthError> {
    let Ok(mut mac) = HmacSha256::new_from_slice(secret.as_bytes()) else {
        return Err(AuthError::InvalidSecret);
    };
    mac.update(format!("pk={pk}&dev={dev}&ts={ts}").as_bytes());
    Ok(mac)
}

/// Splits `{pk}&{dev}&{ts}` and checks each part; returns the parts and `ts` as a number.
fn parse_username(username: &str) -> Result<(&str, &str, &str, u64), AuthError> {
    let malformed = |reason: String| AuthError::MalformedUsername { username: username.to_owned(), reason };
    let parts: Vec<&str> = username.split('&').collect();
    let &[pk, dev, ts] = parts.as_slice() else {
        return Err(malformed(format!("expected 3 parts `pk&dev&ts`, found {}", parts.len())));
    };
    check_id(IdKind::ProductKey, pk).map_err(|err| malformed(err.to_string()))?;
    check_id(IdKind::Device, dev).map_err(|err| malformed(err.to_string()))?;
    // Digits only: `u64::from_str` would also take a leading '+', which the signer never writes.
    let all_digits = !ts.is_empty() && ts.bytes().all(|byte| byte.is_ascii_digit());
    let Some(ts_ms) = ts.parse::<u64>().ok().filter(|_| all_digits) else {
        return Err(malformed(format!("ts {ts:?} is not an epoch-ms integer")));
    };
    Ok((pk, dev, ts, ts_ms))
}

fn parse_password(password: &str) -> Result<Vec<u8>, AuthError> {
    let malformed = |reason: String| AuthError::MalformedPassword { reason };
    if password.len() != PASSWORD_HEX_LEN {
        return Err(malformed(format!("{} characters, expected {PASSWORD_HEX_LEN} hex digits", password.len())));
    }
    // The contract says lowercase; a device writing uppercase would fail other verifiers, so say so.
    if let Some(bad) = password.chars().find(|c| !matches!(c, '0'..='9' | 'a'..='f')) {
        return Err(malformed(format!("contains {bad:?}, expected lowercase hex digits")));
    }
    hex::decode(password).map_err(|err| malformed(err.to_string()))
}

/// `300001` → `"300.001"`.
fn format_ms_as_secs(ms: u64) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const TS: u64 = 1_700_000_000_000;
    const PASSWORD: &str = "bac41a2ef7d2c377bf189e170d0e47eaa97e9317ae4a4fe5c36da8311e617168";

    #[test]
    fn contract_test_vector() {
        let creds = sign("PK01", "GW-0001", "s3cr3t", TS).unwrap();
        assert_eq!(creds.username, "PK01&GW-0001&1700000000000");
        assert_eq!(creds.password, PASSWORD);
        assert_eq!(creds.client_id, "PK01.GW-0001");
        let identity = verify(&creds.username, &creds.password, "s3cr3t", TS).unwrap();
        assert_eq!(identity, SignedIdentity { pk: "PK01".into(), dev: "GW-0001".into(), ts_ms: TS });
    }

    #[test]
    fn credentials_serialize_in_camel_case() {
        let creds = sign("PK01", "GW-0001", "s3cr3t", TS).unwrap();
        let json = serde_json::to_string(&creds).unwrap();
        assert_eq!(
            json,
            format!(r#"{{"clientId":"PK01.GW-0001","username":"PK01&GW-0001&1700000000000","password":"{PASSWORD}"}}"#)
        );
    }

    #[test]
    fn sign_rejects_bad_ids() {
        assert!(matches!(sign("PK&1", "GW", "s", TS), Err(AuthError::BadId(IdError::BadChar { bad: '&', .. }))));
        assert!(matches!(sign("PK", "", "s", TS), Err(AuthError::BadId(IdError::Empty { kind: "dev" }))));
    }

    #[test]
    fn clock_window_edges() {
        let user = "PK01&GW-0001&1700000000000";
        assert!(verify(user, PASSWORD, "s3cr3t", TS + 300_000).is_ok());
        assert!(verify(user, PASSWORD, "s3cr3t", TS - 300_000).is_ok());

        let late = verify(user, PASSWORD, "s3cr3t", TS + 300_001).unwrap_err();
        assert_eq!(late, AuthError::ClockSkew { skew_ms: 300_001, ahead: false });
        assert!(late.to_string().contains("300.001 s behind"), "{late}");

        let early = verify(user, PASSWORD, "s3cr3t", TS - 300_001).unwrap_err();
        assert_eq!(early, AuthError::ClockSkew { skew_ms: 300_001, ahead: true });
        assert!(early.to_string().contains("300.001 s ahead of"), "{early}");
    }

    #[test]
    fn tampered_password_or_wrong_secret_is_a_bad_signature() {
        let user = "PK01&GW-0001&1700000000000";
        let mut tampered = PASSWORD.to_owned();
        tampered.replace_range(0..1, "c");
        assert_eq!(verify(user, &tampered, "s3cr3t", TS), Err(AuthError::BadSignature));
        assert_eq!(verify(user, PASSWORD, "secret", TS), Err(AuthError::BadSignature));
        // The username is signed too: another device or time does not reuse the password.
        assert_eq!(verify("PK01&GW-0002&1700000000000", PASSWORD, "s3cr3t", TS), Err(AuthError::BadSignature));
        assert_eq!(verify("PK01&GW-0001&1700000000001", PASSWORD, "s3cr3t", TS), Err(AuthError::BadSignature));
    }

    #[test]
    fn malformed_passwords_are_named() {
        let user = "PK01&GW-0001&1700000000000";
        let upper = PASSWORD.to_uppercase();
        let err = verify(user, &upper, "s3cr3t", TS).unwrap_err();
        assert!(matches!(err, AuthError::MalformedPassword { .. }) && err.to_string().contains("lowercase"), "{err}");
        let err = verify(user, &PASSWORD[..10], "s3cr3t", TS).unwrap_err();
        assert!(err.to_string().contains("10 characters"), "{err}");
        let err = verify(user, &"é".repeat(32), "s3cr3t", TS).unwrap_err();
        assert!(matches!(err, AuthError::MalformedPassword { .. }), "{err}");
    }

    #[test]
    fn malformed_usernames_say_which_part() {
        let cases = [
            ("PK01&GW-0001", "found 2"),
            ("PK01&GW-0001&1&2", "found 4"),
            ("", "found 1"),
            ("&GW-0001&1700000000000", "pk is empty"),
            ("PK01&GW/1&1700000000000", "dev \"GW/1\" contains '/'"),
            ("PK01&GW-0001&", "ts \"\""),
            ("PK01&GW-0001&+1700000000000", "ts \"+1700000000000\""),
            ("PK01&GW-0001&17e11", "ts \"17e11\""),
            ("PK01&GW-0001&99999999999999999999999", "not an epoch-ms integer"),
        ];
        for (username, expected) in cases {
            let err = verify(username, PASSWORD, "s3cr3t", TS).unwrap_err();
            assert!(matches!(err, AuthError::MalformedUsername { .. }), "{username}: {err}");
            assert!(err.to_string().contains(expected), "{username}: {err}");
        }
    }

    proptest! {
        #[test]
        fn sign_then_verify_round_trips(
            pk in "[A-Za-z0-9_-]{1,32}",
            dev in "[A-Za-z0-9_.-]{1,64}",
            secret in "\\PC{0,80}",
            ts_ms in any::<u64>(),
            skew in -300_000i64..=300_000,
        ) {
            let creds = sign(&pk, &dev, &secret, ts_ms).unwrap();
            let now_ms = ts_ms.saturating_add_signed(skew);
            let identity = verify(&creds.username, &creds.password, &secret, now_ms).unwrap();
            prop_assert_eq!(identity, SignedIdentity { pk, dev, ts_ms });
        }

        #[test]
        fn arbitrary_input_never_panics(username in "\\PC{0,100}", password in "\\PC{0,80}", now_ms in any::<u64>()) {
            let _ = verify(&username, &password, "s3cr3t", now_ms);
        }
    }
}

//! `auth sign`: credentials field engineers use to provision a gateway's broker account.

use std::process::ExitCode;

use crate::protocol::{auth, time};

pub fn sign(pk: &str, dev: &str, secret: &str, ts_ms: Option<u64>) -> ExitCode {
    let ts_ms = ts_ms.unwrap_or_else(|| u64::try_from(time::now_ms()).unwrap_or(0));
    match auth::sign(pk, dev, secret, ts_ms) {
        Ok(creds) => match serde_json::to_string(&creds) {
            Ok(line) => {
                println!("{line}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: cannot write credentials: {e}");
                ExitCode::FAILURE
            }
        },
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

//! Tests of accepting, pulling, verifying and installing or storing transfers (built only under
//! #[cfg(test)]), without a link: the test answers each chunk request itself.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::json;

use super::*;
use crate::protocol::model::ModelSet;
use crate::protocol::payload::OtaStep;
use crate::sim::transfer::MAX_ROUNDS;

fn state() -> (SimState, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    (SimState::new(&ModelSet::builtin(), "PK-GW-01", "GW-0001", dir.path().to_path_buf(), 1, None).unwrap(), dir)
}

fn image(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8).collect()
}

/// Serves every chunk request of transfer `id` from `image` until it ends, answering each
/// window's requests last first.
fn serve(state: &mut SimState, ota: bool, id: &str, image: &[u8]) -> Vec<Outgoing> {
    let mut out = Vec::new();
    let mut n = 0;
    while state.transfers.iter().any(|t| t.id == id) {
        let asks = chunk_asks(state);
        assert!(!asks.is_empty(), "a running transfer always has a chunk to ask for");
        for ask in asks.into_iter().rev() {
            let length = ask.data["length"].as_u64().unwrap() as usize;
            assert!(length <= state.chunk_max_bytes as usize);
            let start = ask.offset as usize;
            let chunk = &image[start..(start + length).min(image.len())];
            let key = if ota { "taskId" } else { "fileId" };
            let reply = Reply::ok(format!("r{n}"), json!({key: id, "offset": ask.offset, "data": BASE64.encode(chunk)}));
            out.extend(on_chunk_reply(state, ota, id, ask.offset, &reply));
            n += 1;
        }
    }
    out
}

fn steps(out: &[Outgoing]) -> Vec<(String, i64)> {
    out.iter()
        .filter_map(|o| match o {
            Outgoing::Other { action: "progress", data, .. } => Some((data["step"].as_str().unwrap().to_owned(), data["code"].as_i64().unwrap())),
            _ => None,
        })
        .collect()
}

#[test]
fn ota_pull_verify_install() {
    let (mut st, _dir) = state();
    // One chunk at a time, so that every 5 % step can be seen.
    st.chunk_window = 1;
    let img = image(100_000);
    let req = OtaUpgrade { task_id: "t1".into(), module: "firmware".into(), version: "2.1.0".into(), size: img.len() as u64, sha256: crate::protocol::digest::sha256_hex(&img).to_uppercase(), chunk_size: 4096 };
    let accepted = accept_ota(&mut st, &req).unwrap();
    let out = serve(&mut st, true, "t1", &img);
    let steps = steps(&out);
    let downloading = steps.iter().filter(|(s, _)| s == "downloading").count();
    assert!((10..=20).contains(&downloading), "progress at most every 5 %: {downloading}");
    assert_eq!(steps[steps.len() - 3..], [("verifying".into(), 0), ("installing".into(), 0), ("done".into(), 0)]);
    assert_eq!(accepted.len(), 1);
    assert_eq!(st.modules["firmware"], "2.1.0");
    assert_eq!(st.props["fwVersion"], "2.1.0");
    assert!(out.iter().any(|o| matches!(o, Outgoing::Other { class: "ota", action: "version", .. })));
    assert!(st.transfers.is_empty());
    // Rebooted into 2.1.0: announced again, info first, then the versions.
    let announced: Vec<&str> = out.iter().filter_map(|o| match o {
        Outgoing::Other { class: "info", action: "report", data } => {
            assert_eq!((data["fwVersion"].as_str(), data["swVersion"].as_str()), (Some("2.1.0"), Some("1.0.0")), "{data}");
            Some("info/report")
        }
        Outgoing::Other { class: "ota", action: "version", data } => {
            assert_eq!(data["modules"][0], json!({"module": "firmware", "version": "2.1.0"}));
            Some("ota/version")
        }
        _ => None,
    }).collect();
    assert_eq!(announced, ["info/report", "ota/version"]);
    assert_eq!(st.tasks.back().unwrap().step, OtaStep::Done);
}

#[test]
fn ota_checksum_mismatch_and_master_errors() {
    let (mut st, _dir) = state();
    let img = image(3_000);
    let req = OtaUpgrade { task_id: "t2".into(), module: "app".into(), version: "2.0.0".into(), size: 3_000, sha256: "0".repeat(64), chunk_size: 1024 };
    accept_ota(&mut st, &req).unwrap();
    let out = serve(&mut st, true, "t2", &img);
    assert_eq!(steps(&out).last().unwrap(), &("failed".to_owned(), codes::CHECKSUM));
    assert_eq!(st.modules["app"], "1.0.0");

    let req = OtaUpgrade { task_id: "t3".into(), ..req };
    accept_ota(&mut st, &req).unwrap();
    let refused = Reply::error("r", 7, "no such task");
    let out = on_chunk_reply(&mut st, true, "t3", 0, &refused);
    assert_eq!(steps(&out), [("failed".to_owned(), 7)]);
    assert!(st.transfers.is_empty());

    let req = OtaUpgrade { task_id: "t4".into(), ..req };
    accept_ota(&mut st, &req).unwrap();
    for _ in 1..MAX_ROUNDS {
        chunk_asks(&mut st);
        assert!(on_chunk_gave_up(&mut st, true, "t4", 0).is_empty());
    }
    chunk_asks(&mut st);
    assert_eq!(steps(&on_chunk_gave_up(&mut st, true, "t4", 0)), [("failed".to_owned(), codes::FAILED)]);
}

#[test]
fn an_app_upgrade_updates_sw_version_and_a_sub_devices_does_not_announce_info() {
    let (mut st, _dir) = state();
    let img = image(5_000);
    let sha256 = crate::protocol::digest::sha256_hex(&img);
    let req = OtaUpgrade { task_id: "a1".into(), module: "app".into(), version: "3.0.0".into(), size: 5_000, sha256: sha256.clone(), chunk_size: 1024 };
    accept_ota(&mut st, &req).unwrap();
    let out = serve(&mut st, true, "a1", &img);
    let info = out.iter().find_map(|o| match o {
        Outgoing::Other { class: "info", action: "report", data } => Some(data.clone()),
        _ => None,
    });
    assert_eq!(info.map(|d| (d["fwVersion"].clone(), d["swVersion"].clone())), Some((json!("1.0.0"), json!("3.0.0"))));

    let sub = st.sub_ids()[0].clone();
    let req = OtaUpgrade { task_id: "s1".into(), module: sub, version: "3.0.0".into(), size: 5_000, sha256, chunk_size: 1024 };
    accept_ota(&mut st, &req).unwrap();
    let out = serve(&mut st, true, "s1", &img);
    assert!(!out.iter().any(|o| matches!(o, Outgoing::Other { class: "info", .. })), "{out:?}");
    assert!(out.iter().any(|o| matches!(o, Outgoing::Other { class: "ota", action: "version", .. })));
}

#[test]
fn over_serial_chunks_are_asked_at_most_32_kib() {
    let (mut st, _dir) = state();
    st.chunk_max_bytes = crate::protocol::payload::SERIAL_MAX_CHUNK;
    let img = image(200_000);
    let req = FileDownload { file_id: "f9".into(), name: "big.bin".into(), size: 200_000, sha256: crate::protocol::digest::sha256_hex(&img), chunk_size: 65_536 };
    accept_file(&mut st, &req).unwrap();
    assert_eq!(st.transfers[0].chunk_size, 32_768, "the announced 64 KiB clamped");
    // `serve` checks every ask against the limit.
    let out = serve(&mut st, false, "f9", &img);
    assert!(matches!(&out[..], [Outgoing::Other { action: "download/result", data, .. }] if data["code"] == 0), "{out:?}");
}

#[test]
fn file_download_is_verified_and_written_atomically() {
    let (mut st, dir) = state();
    let img = image(10_000);
    let req = FileDownload { file_id: "f1".into(), name: "meters.csv".into(), size: 10_000, sha256: crate::protocol::digest::sha256_hex(&img), chunk_size: 256 };
    assert!(accept_file(&mut st, &req).unwrap().is_empty());
    assert_eq!(accept_file(&mut st, &req).unwrap_err().code, codes::BUSY);
    let out = serve(&mut st, false, "f1", &img);
    assert!(matches!(&out[..], [Outgoing::Other { action: "download/result", data, .. }] if data["code"] == 0), "{out:?}");
    assert_eq!(std::fs::read(dir.path().join("meters.csv")).unwrap(), img);

    let bad = FileDownload { file_id: "f2".into(), name: "other.bin".into(), sha256: "1".repeat(64), ..req };
    accept_file(&mut st, &bad).unwrap();
    let out = serve(&mut st, false, "f2", &img);
    assert!(matches!(&out[..], [Outgoing::Other { data, .. }] if data["code"] == codes::CHECKSUM));
    assert!(!dir.path().join("other.bin").exists());
    assert_eq!(files::list(dir.path()).unwrap().len(), 1, "no temp file left behind");
}

//! Times in the laptop's time with the UTC offset shown, UTC on hover (issue 11). The process
//! runs at UTC+8 (a POSIX `TZ`, no zone database needed): a gateway file's modification time
//! reads `… +08:00` in the Files tab and its UTC form on hover, while exports stay in UTC.

mod device_bench;

use std::time::{Duration, SystemTime};

use cems_workbench::ui::format::{format_local, format_utc, local_offset_secs};
use device_bench::{open_tab, serve_until, start};
use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;

/// 2026-12-03 06:05:09 UTC.
const MTIME_MS: i64 = 1_796_277_909_000;

#[cfg(target_os = "linux")]
#[test]
fn a_gateway_time_reads_in_local_time_with_its_offset_and_utc_on_hover() {
    // SAFETY: the only test of this process, and nothing else runs yet: no thread reads the
    // environment while it is written. The C library reads TZ at its first local-time call.
    unsafe { std::env::set_var("TZ", "CST-8") };
    assert_eq!(local_offset_secs(MTIME_MS), 8 * 3600, "the process runs at UTC+8");
    assert_eq!(format_local(MTIME_MS), "2026-12-03 14:05:09 +08:00");
    // The machine-read form keeps UTC.
    assert_eq!(format_utc(MTIME_MS), "2026-12-03 06:05:09 UTC");

    let (mut harness, bench) = start("GW-TIMES", |_| {});
    let path = bench.files.path().join("report.csv");
    std::fs::write(&path, b"a,b\n").unwrap();
    let file = std::fs::File::options().write(true).open(&path).unwrap();
    file.set_modified(SystemTime::UNIX_EPOCH + Duration::from_millis(MTIME_MS as u64)).unwrap();
    drop(file);

    let key = bench.key();
    open_tab(&mut harness, &key, "Files");
    harness.get_by_role_and_label(Role::Button, "Refresh list").click();
    serve_until(&mut harness, &bench, "the file list", |h| h.query_by_label("report.csv").is_some());

    let shown = harness.get_by_label("2026-12-03 14:05:09 +08:00");
    assert!(harness.query_by_label("2026-12-03 06:05:09 UTC").is_none(), "UTC only on hover");
    shown.hover();
    // Past the tooltip's delay.
    harness.run_steps(40);
    harness.get_by_label("2026-12-03 06:05:09 UTC");
}

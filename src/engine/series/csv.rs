//! The one CSV writer of series (the plot's export, `cems-workbench plot`, and recordings).

use std::io::{self, Write};

use super::samples::Series;
use crate::protocol::time::civil_from_days;

/// `2026-12-03T14:05:00.123Z` of epoch ms.
pub fn iso_utc_ms(ms: i64) -> String {
    let (days, day_ms) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    let (y, m, d) = civil_from_days(days);
    let secs = day_ms / 1000;
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z", secs / 3_600, secs % 3_600 / 60, secs % 60, day_ms % 1000)
}

/// A field quoted per RFC 4180 when it holds a comma, a quote or a line break.
fn field(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains([',', '"', '\n', '\r']) { format!("\"{}\"", text.replace('"', "\"\"")).into() } else { text.into() }
}

/// One row per distinct sample time in [from_ms, to_ms] across the columns, ordered: `time`
/// (ISO 8601 UTC with ms), `epoch_ms`, then one column per series (empty where that series has
/// no sample at that time). Headers are the caller's (`PK/DEV/SUB/PID name [unit]`). Values in
/// Rust's shortest round-trip form; NaN as an empty cell. Returns the rows written (no header).
pub fn write_csv(out: &mut dyn Write, columns: &[(String, &Series)], from_ms: i64, to_ms: i64) -> io::Result<usize> {
    let mut line = String::from("time,epoch_ms");
    for (header, _) in columns {
        line.push(',');
        line.push_str(&field(header));
    }
    line.push_str("\r\n");
    out.write_all(line.as_bytes())?;
    let windows: Vec<_> = columns.iter().map(|(_, s)| s.window(from_ms, to_ms)).collect();
    let mut cursors = vec![0usize; windows.len()];
    let mut rows = 0;
    loop {
        // The earliest time not written yet across the series.
        let next = windows.iter().zip(&cursors).filter_map(|(w, &i)| w.times.get(i)).min().copied();
        let Some(t) = next else { break };
        line.clear();
        line.push_str(&iso_utc_ms(t));
        line.push(',');
        line.push_str(&t.to_string());
        for (w, i) in windows.iter().zip(cursors.iter_mut()) {
            line.push(',');
            if w.times.get(*i) == Some(&t) {
                let v = w.values[*i];
                if !v.is_nan() {
                    line.push_str(&v.to_string());
                }
                *i += 1;
            }
        }
        line.push_str("\r\n");
        out.write_all(line.as_bytes())?;
        rows += 1;
    }
    Ok(rows)
}

//! `bench plot`: the time to prepare one plot frame (a window and a min/max decimation of every
//! series) against the time to copy the same samples once. Measured in one run, printed as a
//! ratio; not a timed test.

use std::hint::black_box;
use std::process::ExitCode;
use std::time::Instant;

use clap::Args;
use serde_json::json;

use crate::engine::series::{Series, decimate, gap_threshold_ms};

use super::session::EXIT_USAGE;

/// The targets: a frame under 1/20 of the copy, and under 5 ms.
const TARGET_RATIO: f64 = 0.05;
const FRAME_TARGET_MS: f64 = 5.0;
/// Times each measurement is taken; the median is reported.
const REPEATS: usize = 7;
/// One sample a second, like a point reported every second.
const PERIOD_MS: i64 = 1_000;

#[derive(Debug, Clone, Args)]
pub struct PlotBenchArgs {
    /// Series to plot.
    #[arg(long, default_value_t = 10)]
    pub series: usize,
    /// Samples per series.
    #[arg(long, default_value_t = 1_000_000)]
    pub samples: usize,
    /// Pixel columns of the plot.
    #[arg(long, default_value_t = 1_000)]
    pub columns: usize,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// A realistic point: a slow swing, a daily-like drift, noise, a few one-sample spikes, and an
/// outage (a gap of ten minutes) in the middle.
fn waveform(index: usize, samples: usize) -> Series {
    let mut series = Series::new(i64::MAX, samples.max(1));
    let mut noise = 0x9E37_79B9_7F4A_7C15u64 ^ index as u64;
    let start = 1_796_306_700_000i64;
    let gap_at = samples / 2;
    for i in 0..samples {
        noise = noise.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        let jitter = ((noise >> 33) % 1_000) as f64 / 1_000.0 - 0.5;
        let x = i as f64;
        let mut v = 230.0 + 5.0 * (x / 600.0 + index as f64).sin() + 2.0 * (x / 86_400.0).sin() + jitter;
        if i % 250_007 == 1_234 {
            v += 80.0;
        }
        let outage = if i >= gap_at { 600_000 } else { 0 };
        series.insert(start + i as i64 * PERIOD_MS + outage, v, 0, false);
    }
    series
}

fn median_ms(mut runs: Vec<f64>) -> f64 {
    runs.sort_by(f64::total_cmp);
    runs.get(runs.len() / 2).copied().unwrap_or(0.0)
}

pub fn run(args: &PlotBenchArgs) -> ExitCode {
    if args.series == 0 || args.samples == 0 || args.columns == 0 {
        eprintln!("error: --series, --samples and --columns must be at least 1");
        return ExitCode::from(EXIT_USAGE);
    }
    let built = Instant::now();
    let all: Vec<Series> = (0..args.series).map(|i| waveform(i, args.samples)).collect();
    let build_ms = built.elapsed().as_secs_f64() * 1e3;

    let copies = (0..REPEATS)
        .map(|_| {
            let at = Instant::now();
            for s in &all {
                let w = s.all();
                black_box((w.times.to_vec(), w.values.to_vec()));
            }
            at.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    let copy_ms = median_ms(copies);

    let mut points = 0;
    let frames = (0..REPEATS)
        .map(|_| {
            let at = Instant::now();
            points = 0;
            for s in &all {
                let (Some(from), Some(to)) = (s.first_ms(), s.last_ms()) else { continue };
                let gap = s.typical_interval_ms().map(gap_threshold_ms);
                let drawn = decimate(&s.window(from, to), from, to, args.columns, gap);
                points += drawn.points;
                black_box(drawn);
            }
            at.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    let frame_ms = median_ms(frames);
    let ratio = if copy_ms > 0.0 { frame_ms / copy_ms } else { 0.0 };

    let report = json!({
        "ratio": ratio,
        "target": TARGET_RATIO,
        "frameMs": frame_ms,
        "frameTargetMs": FRAME_TARGET_MS,
        "copyMs": copy_ms,
        "series": args.series,
        "samples": args.samples,
        "columns": args.columns,
        "points": points,
        "repeats": REPEATS,
        "buildMs": build_ms,
        "met": ratio <= TARGET_RATIO && frame_ms <= FRAME_TARGET_MS,
    });
    if args.json {
        println!("{report}");
    } else {
        println!("plot frame: {} series × {} samples into {} columns", args.series, args.samples, args.columns);
        println!("  copy once   {copy_ms:9.3} ms (median of {REPEATS})");
        println!("  one frame   {frame_ms:9.3} ms ({points} points; target under {FRAME_TARGET_MS} ms)");
        println!("  ratio       {ratio:9.4} (target {TARGET_RATIO})");
    }
    ExitCode::SUCCESS
}

//! `bench store`: fills a message store the way a busy broker does and prints what it cost.
//!
//! N messages go to T topics (three in four to the busiest twentieth of them, the rest spread
//! over all), 1 in [`PINNED_EVERY`] to a pinned gateway with 25 topics. Payloads are 60 to 400
//! bytes of JSON cut from shared read buffers, as the MQTT link delivers them. Printed: the
//! store's insert cost per message against a plain `Vec` push of the same payloads, the budget,
//! what the store charges, peak resident memory against budget + base (base read before
//! filling), and what the pinned gateway kept. Ratios come from one run; nothing is asserted on
//! time. With `--json` stdout is exactly one JSON object.
//!
//! The reference (`vecPushNs`, the divisor of `ratio`) pushes an own copy of each payload
//! (`Bytes::copy_from_slice`) into a `Vec`: the store must copy too, since holding the link's
//! slice would hold its whole 64 KiB read buffer outside the budget. Like the store, the `Vec`
//! holds at most the budget: it is emptied (timed) whenever its copies reach it, so neither side
//! pays page faults for more than the budget and both free what they let go of. The old
//! reference, a push of the received `Bytes` handle itself (a 32-byte move, no copy), is printed
//! as `handlePushNs` with `ratioToHandlePush`, so that figure is not hidden.
//!
//! The soak: `cems-workbench bench store --messages 10000000 --topics 100000 --budget-mb 512`.

use std::collections::HashMap;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use bytes::{BufMut, Bytes, BytesMut};
use clap::{Args, Subcommand};
use serde_json::{Value, json};

use crate::engine::store::{ALLOC_OVERHEAD_BYTES, MessageStore, StoreLimits};

use super::session::EXIT_USAGE;

/// The insert cost the store aims at, in `Vec` pushes of an own copy of the payload.
const RATIO_TARGET: f64 = 4.0;
/// Peak resident memory the store aims at, in (budget + base).
const RSS_TARGET: f64 = 1.25;
/// One message in this many goes to the pinned gateway.
pub const PINNED_EVERY: usize = 2_000;
const PINNED_PREFIX: &str = "cems/v1/PK-PIN/GW-PIN/";
/// Messages made ahead of each timed run of inserts (and pushes).
const BATCH: usize = 4_096;
/// The size of a simulated link read buffer that payloads are cut from.
const READ_BUFFER_BYTES: usize = 64 * 1024;
const SEED: u64 = 0x9E37_79B9_7F4A_7C15;

const KINDS: [&str; 10] = [
    "property/report",
    "point/report",
    "event/report",
    "alarm/report",
    "log/report",
    "history/report",
    "info/report",
    "ota/version",
    "status",
    "time/sync",
];

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Fill a message store and print insert cost, memory against the budget and what a pinned
    /// gateway kept.
    Store(StoreBenchArgs),
    /// Prepare one plot frame (window + min/max decimation of every series) against copying
    /// the samples once, and print the ratio.
    Plot(super::bench_plot::PlotBenchArgs),
    /// Ingest with recording and the point history on against off, history inserts per second,
    /// and a day of one series read from the history against memory.
    History(super::bench_history::HistoryBenchArgs),
}

#[derive(Debug, Clone, Args)]
pub struct StoreBenchArgs {
    /// Messages to insert.
    #[arg(long, default_value_t = 2_000_000)]
    pub messages: usize,
    /// Topics they go to (besides the pinned gateway's).
    #[arg(long, default_value_t = 20_000)]
    pub topics: usize,
    /// The store's budget in MiB.
    #[arg(long, default_value_t = 128)]
    pub budget_mb: usize,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn run(command: &BenchCommand) -> ExitCode {
    match command {
        BenchCommand::Store(args) => store(args),
        BenchCommand::Plot(args) => super::bench_plot::run(args),
        BenchCommand::History(args) => super::bench_history::run(args),
    }
}

fn store(args: &StoreBenchArgs) -> ExitCode {
    if args.messages == 0 || args.topics == 0 || args.budget_mb == 0 {
        eprintln!("--messages, --topics and --budget-mb must be at least 1");
        return ExitCode::from(EXIT_USAGE);
    }
    let report = measure(args);
    if args.json {
        println!("{report}");
    } else {
        print_text(&report);
    }
    ExitCode::SUCCESS
}

/// One message of the workload.
struct Planned {
    /// Into `Workload::topics`.
    topic: usize,
    retain: bool,
    payload: Bytes,
}

/// The deterministic message sequence; `restart` replays it exactly.
struct Workload {
    topics: Vec<String>,
    /// Where the pinned gateway's topics start in `topics`.
    pinned_from: usize,
    messages: usize,
    made: usize,
    rng: u64,
    read_buffer: BytesMut,
    /// Topics that have had their first (retained) status message.
    seen: Vec<bool>,
}

impl Workload {
    fn new(messages: usize, topic_count: usize) -> Self {
        let mut topics: Vec<String> = (0..topic_count)
            .map(|i| format!("cems/v1/pk{}/dev{}/up/{}", (i / KINDS.len()) % 50, i / KINDS.len(), KINDS[i % KINDS.len()]))
            .collect();
        let pinned_from = topics.len();
        topics.extend(KINDS.iter().map(|kind| format!("{PINNED_PREFIX}up/{kind}")));
        topics.extend((0..15).map(|m| format!("{PINNED_PREFIX}up/point/report/m{m}")));
        let seen = vec![false; topics.len()];
        Workload { topics, pinned_from, messages, made: 0, rng: SEED, read_buffer: BytesMut::new(), seen }
    }

    /// Back to the first message: the same sequence is made again.
    fn restart(&mut self) {
        self.made = 0;
        self.rng = SEED;
        self.read_buffer = BytesMut::new();
        self.seen.fill(false);
    }

    fn next_random(&mut self) -> u64 {
        // xorshift64*: cheap and the same on every run.
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// The next batch, or none when all messages are made.
    fn batch(&mut self) -> Vec<Planned> {
        let count = BATCH.min(self.messages - self.made);
        (0..count).map(|_| self.next_message()).collect()
    }

    fn next_message(&mut self) -> Planned {
        let index = self.made;
        self.made += 1;
        let general = self.pinned_from;
        let pinned_topics = self.topics.len() - general;
        let random = self.next_random();
        let topic = if index.is_multiple_of(PINNED_EVERY) {
            general + (index / PINNED_EVERY) % pinned_topics
        } else if !random.is_multiple_of(4) {
            ((random >> 8) as usize) % general.div_ceil(20)
        } else {
            ((random >> 8) as usize) % general
        };
        let retain = self.topics[topic].ends_with("/status") && !std::mem::replace(&mut self.seen[topic], true);
        let payload = self.payload(index, 60 + (random >> 40) as usize % 341);
        Planned { topic, retain, payload }
    }

    /// JSON of `len` bytes or so, cut from the shared read buffer.
    fn payload(&mut self, index: usize, len: usize) -> Bytes {
        if self.read_buffer.capacity() - self.read_buffer.len() < len + 64 {
            self.read_buffer = BytesMut::with_capacity(READ_BUFFER_BYTES);
        }
        let head = format!(r#"{{"id":"{index}","ts":1700000000000,"data":{{"soc":{},"pad":""#, index % 100);
        self.read_buffer.put_slice(head.as_bytes());
        let pad = len.saturating_sub(head.len() + 3);
        self.read_buffer.put_bytes(b'x', pad);
        self.read_buffer.put_slice(br#""}}"#);
        self.read_buffer.split().freeze()
    }
}

/// What the pinned gateway sent and what the store kept of it.
#[derive(Default)]
struct PinnedSent {
    /// Per pinned topic, the seqs sent.
    seqs: Vec<Vec<u64>>,
    retained: Vec<u64>,
}

fn measure(args: &StoreBenchArgs) -> Value {
    let started = Instant::now();
    let mut workload = Workload::new(args.messages, args.topics);
    // The replays borrow the workload; the timed loops read topics from this copy.
    let topics = workload.topics.clone();
    let pinned_from = workload.pinned_from;
    let base_rss = resident_bytes("VmRSS:");
    let budget = args.budget_mb.saturating_mul(1024 * 1024);
    let limits = StoreLimits { total_bytes: budget, ..StoreLimits::default() };
    let per_topic_count = limits.per_topic_count;
    let mut store = MessageStore::new(limits);
    store.pin(PINNED_PREFIX);
    let mut pinned = PinnedSent { seqs: vec![Vec::new(); topics.len() - pinned_from], retained: Vec::new() };
    let mut ts = 0i64;
    let store_time = time_replay(&mut workload, |message| {
        ts += 1;
        let seq = store.insert(&topics[message.topic], ts, 0, message.retain, message.payload, 1);
        if message.topic >= pinned_from {
            pinned.seqs[message.topic - pinned_from].push(seq);
            if message.retain {
                pinned.retained.push(seq);
            }
        }
    });
    let peak_rss = resident_bytes("VmHWM:");
    let accounted = store.memory_bytes();
    let stats = store.stats();
    let pinned_report = pinned_kept(&store, &topics[pinned_from..], &pinned, per_topic_count);
    drop(store);

    let copy_time = time_replay(&mut workload, copy_push(budget, |_| ()));
    let mut handles = Vec::new();
    let handle_time = time_replay(&mut workload, |message| handles.push(message.payload));
    std::hint::black_box(&handles);
    drop(handles);
    let index: HashMap<&str, usize> = topics.iter().enumerate().map(|(i, topic)| (topic.as_str(), i)).collect();
    let lookup_time = time_replay(
        &mut workload,
        copy_push(budget, |message| index.get(topics[message.topic].as_str()).copied().unwrap_or(usize::MAX)),
    );

    let per_message = |time: Duration| time.as_secs_f64() * 1e9 / args.messages as f64;
    let (store_ns, vec_ns, handle_ns) = (per_message(store_time), per_message(copy_time), per_message(handle_time));
    let ratio = |reference: f64| round3(if reference > 0.0 { store_ns / reference } else { f64::INFINITY });
    let rss_ratio = match (peak_rss, base_rss) {
        (Some(peak), Some(base)) => Some(peak as f64 / (budget as f64 + base as f64)),
        _ => None,
    };
    json!({
        "messages": args.messages,
        "topics": args.topics,
        "budgetBytes": budget,
        "accountedBytes": accounted,
        "baseRssBytes": base_rss,
        "peakRssBytes": peak_rss,
        "rssRatio": rss_ratio.map(round3),
        "rssTarget": RSS_TARGET,
        "storeInsertNs": round3(store_ns),
        "vecPushNs": round3(vec_ns),
        "ratio": ratio(vec_ns),
        "target": RATIO_TARGET,
        "handlePushNs": round3(handle_ns),
        "ratioToHandlePush": ratio(handle_ns),
        "topicLookupPushNs": round3(per_message(lookup_time)),
        "held": { "messages": stats.messages, "topics": stats.topics, "bytes": stats.bytes, "evicted": stats.evicted },
        "pinnedKept": pinned_report["historyShareKept"],
        "pinned": pinned_report,
        "elapsedSecs": round3(started.elapsed().as_secs_f64()),
    })
}

/// Replays the workload from its first message and returns the time spent in `take`, which
/// gets each message; making the messages is not timed.
fn time_replay(workload: &mut Workload, mut take: impl FnMut(Planned)) -> Duration {
    workload.restart();
    let mut time = Duration::ZERO;
    loop {
        let batch = workload.batch();
        if batch.is_empty() {
            return time;
        }
        let timer = Instant::now();
        batch.into_iter().for_each(&mut take);
        time += timer.elapsed();
    }
}

/// The reference: pushes an own copy of each payload (with what `slot` makes of the message) into
/// a `Vec`, emptied whenever the copies reach `budget` bytes (payloads, their blocks and slots).
fn copy_push<T>(budget: usize, mut slot: impl FnMut(&Planned) -> T) -> impl FnMut(Planned) {
    let mut copies: Vec<(T, Bytes)> = Vec::new();
    let mut held = 0usize;
    move |message| {
        let cost = message.payload.len() + ALLOC_OVERHEAD_BYTES + size_of::<(T, Bytes)>();
        if held + cost > budget {
            copies.clear();
            held = 0;
        }
        held += cost;
        copies.push((slot(&message), Bytes::copy_from_slice(&message.payload)));
        std::hint::black_box(&copies);
    }
}

/// What the pinned gateway kept: latest and retained messages, and history against what the
/// per-topic cap allows.
fn pinned_kept(store: &MessageStore, topics: &[String], sent: &PinnedSent, per_topic_count: usize) -> Value {
    let (mut latest_kept, mut retained_kept, mut kept, mut expected, mut topic_count) = (0, 0, 0usize, 0usize, 0);
    for (topic, seqs) in topics.iter().zip(&sent.seqs) {
        let Some(&last) = seqs.last() else { continue };
        topic_count += 1;
        let held: Vec<u64> = store.find(topic).map(|id| store.history(id).iter().map(|m| m.seq).collect()).unwrap_or_default();
        latest_kept += usize::from(held.last() == Some(&last));
        retained_kept += sent.retained.iter().filter(|seq| held.contains(seq)).count();
        kept += held.len();
        expected += seqs.len().min(per_topic_count.max(1));
    }
    json!({
        "topics": topic_count,
        "latestKept": latest_kept,
        "retained": sent.retained.len(),
        "retainedKept": retained_kept,
        "historyKept": kept,
        "historyExpected": expected,
        "historyShareKept": if expected == 0 { 1.0 } else { round3(kept as f64 / expected as f64) },
        "pinnedBytes": store.pinned_bytes(),
        "pinnedBudgetBytes": store.pinned_budget(),
    })
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// A `/proc/self/status` figure in bytes (`VmRSS:` now, `VmHWM:` the peak); `None` off Linux.
#[cfg(target_os = "linux")]
fn resident_bytes(key: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with(key))?;
    let kib: u64 = line[key.len()..].trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kib * 1024)
}

#[cfg(not(target_os = "linux"))]
fn resident_bytes(_key: &str) -> Option<u64> {
    None
}

fn print_text(report: &Value) {
    let mib = |v: &Value| v.as_u64().map_or("unknown".to_string(), |b| format!("{:.1} MiB", b as f64 / (1024.0 * 1024.0)));
    let pinned = &report["pinned"];
    println!("messages {} over {} topics, {} s", report["messages"], report["topics"], report["elapsedSecs"]);
    println!(
        "insert: store {} ns/msg, Vec push of an own payload copy {} ns/msg, ratio {} (target <= {})",
        report["storeInsertNs"], report["vecPushNs"], report["ratio"], report["target"]
    );
    println!(
        "        (push of the received Bytes handle, no copy: {} ns/msg, ratio {}; topic lookup + copy push {} ns/msg)",
        report["handlePushNs"], report["ratioToHandlePush"], report["topicLookupPushNs"]
    );
    println!(
        "memory: budget {}, accounted {}, base RSS {}, peak RSS {}, ratio to budget + base {} (target <= {})",
        mib(&report["budgetBytes"]),
        mib(&report["accountedBytes"]),
        mib(&report["baseRssBytes"]),
        mib(&report["peakRssBytes"]),
        report["rssRatio"],
        report["rssTarget"]
    );
    println!(
        "held: {} messages in {} topics, {} evicted",
        report["held"]["messages"], report["held"]["topics"], report["held"]["evicted"]
    );
    println!(
        "pinned gateway: latest kept {}/{}, retained kept {}/{}, history kept {}/{} ({}), {} of its {} share",
        pinned["latestKept"],
        pinned["topics"],
        pinned["retainedKept"],
        pinned["retained"],
        pinned["historyKept"],
        pinned["historyExpected"],
        pinned["historyShareKept"],
        mib(&pinned["pinnedBytes"]),
        mib(&pinned["pinnedBudgetBytes"])
    );
}

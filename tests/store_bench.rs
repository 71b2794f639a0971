//! The store's memory accounting against a counting allocator, and `bench store` end to end.
//!
//! The allocator counts, per thread, the bytes asked for plus the store's assumed per-block
//! overhead, so a test thread sees exactly what its own store holds.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::process::Command;

use bytes::Bytes;
use cems_workbench::engine::store::{ALLOC_OVERHEAD_BYTES, MessageStore, StoreLimits};
use cems_workbench::engine::{Engine, EngineCommand};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_cems-workbench");

struct Counting;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
}

fn count(delta: isize) {
    // During thread teardown the counter may be gone; nothing to count then.
    let _ = LIVE.try_with(|live| live.set(live.get() + delta));
}

fn charged(size: usize) -> isize {
    (size + ALLOC_OVERHEAD_BYTES) as isize
}

// SAFETY: every call is passed to the system allocator unchanged; the counting has no effect on
// the memory handed out.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's layout contract is passed on as is.
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            count(charged(layout.size()));
        }
        pointer
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let pointer = unsafe { System.alloc_zeroed(layout) };
        if !pointer.is_null() {
            count(charged(layout.size()));
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        // SAFETY: the pointer came from `alloc` with this layout.
        unsafe { System.dealloc(pointer, layout) };
        count(-charged(layout.size()));
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `dealloc`, and the new size is the caller's.
        let moved = unsafe { System.realloc(pointer, layout, new_size) };
        if !moved.is_null() {
            count(new_size as isize - layout.size() as isize);
        }
        moved
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn live() -> isize {
    LIVE.with(Cell::get)
}

/// Allocations by this thread since `since`, with the per-block overhead.
fn allocated_since(since: isize) -> usize {
    usize::try_from(live() - since).expect("the store holds memory")
}

#[test]
fn the_store_charges_what_it_allocates() {
    let topics: Vec<String> = (0..3_000).map(|i| format!("cems/v1/pk{}/dev{}/up/point/report", i % 9, i / 3)).collect();
    let limits = StoreLimits { total_bytes: 2 * 1024 * 1024, ..StoreLimits::default() };
    let before = live();
    let mut store = MessageStore::new(limits);
    store.pin("cems/v1/pk0/");
    let mut checked = 0;
    for i in 0..200_000usize {
        // Ever-new topics at first, then a busy few among them: every eviction path runs.
        let topic = if i < 30_000 { &topics[i % topics.len()] } else { &topics[(i * 7) % 300] };
        let payload = Bytes::from(vec![b'p'; 20 + (i * 31) % 400]);
        store.insert(topic, 0, 0, i % 50 == 0, payload, 1);
        if i % 5_000 == 4_999 {
            let real = allocated_since(before);
            let charged = store.memory_bytes();
            let error = charged.abs_diff(real) as f64 / real as f64;
            assert!(error < 0.005, "after {} messages: charged {charged}, allocated {real}", i + 1);
            assert!(charged <= limits_total(&store), "within the budget: {charged}");
            checked += 1;
        }
    }
    assert!(checked >= 40);
    assert!(store.stats().evicted > 100_000);
    drop(store);
    assert_eq!(live(), before, "everything the store allocated came back");
}

fn limits_total(store: &MessageStore) -> usize {
    store.limits().total_bytes
}

#[test]
fn bench_store_prints_one_json_object() {
    let out = Command::new(BIN)
        .args(["bench", "store", "--messages", "60000", "--topics", "2000", "--budget-mb", "4", "--json"])
        .output()
        .expect("binary runs");
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).expect("UTF-8");
    let report: Value = serde_json::from_str(stdout.trim()).expect("exactly one JSON object");
    assert!(report.is_object());
    assert_eq!(stdout.trim().lines().count(), 1);
    for key in ["ratio", "target", "rssRatio", "pinnedKept", "storeInsertNs", "vecPushNs", "accountedBytes", "budgetBytes"] {
        assert!(report.get(key).is_some(), "{key} in {report}");
    }
    assert_eq!(report["target"], 4.0);
    // Both references are printed: the own-copy push (`ratio`'s divisor) and the handle move.
    for key in ["ratio", "vecPushNs", "handlePushNs", "ratioToHandlePush", "topicLookupPushNs"] {
        assert!(report[key].as_f64().is_some_and(|r| r > 0.0), "{key} in {report}");
    }
    let budget = report["budgetBytes"].as_u64().expect("budget");
    assert_eq!(budget, 4 * 1024 * 1024);
    assert!(report["accountedBytes"].as_u64().is_some_and(|a| a <= budget && a > budget / 2), "filled: {report}");
    if cfg!(target_os = "linux") {
        assert!(report["rssRatio"].as_f64().is_some_and(|r| r > 0.0), "peak RSS read on Linux");
    }
    // 30 pinned messages over 25 topics: all kept, latest and retained included.
    let pinned = &report["pinned"];
    assert_eq!(pinned["topics"], 25);
    assert_eq!(pinned["latestKept"], 25);
    assert_eq!(pinned["retainedKept"], pinned["retained"]);
    assert_eq!(pinned["retained"], 1);
    assert_eq!(report["pinnedKept"], 1.0);
    assert!(report["held"]["evicted"].as_u64().is_some_and(|e| e > 10_000), "the budget was exceeded many times over");
}

#[test]
fn bench_store_refuses_nothing_to_do() {
    let out = Command::new(BIN).args(["bench", "store", "--messages", "0", "--json"]).output().expect("binary runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
}

/// The UI pins a gateway through the engine, which owns the store.
#[test]
fn the_engine_pins_and_unpins_on_command() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let _entered = runtime.enter();
    let (engine, _events) = Engine::spawn(|| {}).expect("engine");
    let prefix = "cems/v1/pk1/gw1/".to_string();
    let wait_for = |wanted: &[String]| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while engine.state.store().pinned() != wanted {
            assert!(std::time::Instant::now() < deadline, "pins became {wanted:?}");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    };
    engine.send(EngineCommand::PinTopics { prefix: prefix.clone(), pinned: true }).expect("engine runs");
    wait_for(std::slice::from_ref(&prefix));
    engine.send(EngineCommand::PinTopics { prefix, pinned: false }).expect("engine runs");
    wait_for(&[]);
    engine.shutdown();
}

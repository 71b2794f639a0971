//! Random operations against a reference of what each topic was sent: counts, charges and the
//! eviction state always recount exactly, and what eviction may never take is always there.

use std::collections::HashMap;

use proptest::prelude::*;

use super::*;

#[derive(Debug, Clone)]
enum Op {
    Insert { topic: usize, len: usize, retain: bool },
    Pin(usize),
    Unpin(usize),
    Clear,
}

const TOPICS: &[&str] = &["a", "a/b", "a/b/c", "a//b", "/a", "a/", "", "b/c/d", "$SYS/x", "b", "gw/1/s", "gw/2/s"];
const PREFIXES: &[&str] = &["gw/", "gw/1/", "a/b", ""];
const FILTERS: &[&str] = &["#", "+", "a/#", "+/b", "/#", "a/+/b", "$SYS/+", "+/+/+"];

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        40 => (0..TOPICS.len(), 0usize..40, proptest::bool::weighted(0.2))
            .prop_map(|(topic, len, retain)| Op::Insert { topic, len, retain }),
        2 => (0..PREFIXES.len()).prop_map(Op::Pin),
        2 => (0..PREFIXES.len()).prop_map(Op::Unpin),
        1 => Just(Op::Clear),
    ]
}

/// What a topic was sent in its current life (since it was created, or last dropped whole).
#[derive(Debug, Default, Clone)]
struct Sent {
    seqs: Vec<u64>,
    /// The newest message with the retain flag.
    retained: Option<u64>,
    /// Every message with it.
    flagged: Vec<u64>,
}

proptest! {
    #[test]
    fn eviction_keeps_what_it_must_and_counts_stay_exact(
        per_topic_count in 0usize..6,
        per_topic_bytes in 0usize..120,
        total_bytes in 0usize..6_000,
        max_payload_bytes in 0usize..32,
        ops in proptest::collection::vec(op(), 1..150),
    ) {
        let limits = StoreLimits { per_topic_count, per_topic_bytes, total_bytes, max_payload_bytes };
        let mut store = MessageStore::new(limits);
        let mut received = Received::default();
        let mut sent: HashMap<usize, Sent> = HashMap::new();
        let mut truncated = 0u64;
        // The topic last written to: the store may stay over budget by it until the next insert.
        let mut newest = None;
        for op in ops {
            match op {
                Op::Clear => {
                    newest = None;
                    store.clear();
                    received.clear();
                    sent.clear();
                    truncated = 0;
                }
                Op::Pin(prefix) => { store.pin(PREFIXES[prefix]); }
                Op::Unpin(prefix) => { store.unpin(PREFIXES[prefix]); }
                Op::Insert { topic, len, retain } => {
                    let payload: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
                    let seq = store.insert(TOPICS[topic], 0, 0, retain, Bytes::from(payload), 0);
                    received.inserted(TOPICS[topic]);
                    truncated += u64::from(len > max_payload_bytes);
                    let entry = sent.entry(topic).or_default();
                    entry.seqs.push(seq);
                    if retain {
                        entry.retained = Some(seq);
                        entry.flagged.push(seq);
                    }
                    newest = Some(topic);
                    let node = store.find(TOPICS[topic]).expect("inserted");
                    prop_assert_eq!(store.node(node).expect("live").retained(), retain);
                }
            }
            received.settle(&store);
            assert_counts_exact(&store, &received);
            assert_charge_covers_structures(&store);
            prop_assert_eq!(store.stats().truncated, truncated);
            let mut anything_evictable = false;
            for (&topic, what) in &mut sent {
                let held = seqs(&store, TOPICS[topic]);
                if held.is_empty() {
                    // Dropped whole: the next message starts a new life.
                    *what = Sent::default();
                    continue;
                }
                prop_assert_eq!(held.last(), what.seqs.last(), "{:?} keeps its latest", TOPICS[topic]);
                let history: Vec<u64> = match what.retained {
                    Some(retained) => {
                        prop_assert!(held.contains(&retained), "{:?} keeps its retained message", TOPICS[topic]);
                        held.iter().copied().filter(|&s| s != retained).collect()
                    }
                    None => held.clone(),
                };
                // Apart from the retained message, a topic holds its newest messages, in order.
                // A message kept for being retained may stay behind once superseded; the others
                // are the topic's newest, in order.
                let plain = |seqs: &[u64]| -> Vec<u64> { seqs.iter().copied().filter(|s| !what.flagged.contains(s)).collect() };
                let (held_plain, sent_plain) = (plain(&history), plain(&what.seqs));
                prop_assert_eq!(&held_plain[..], &sent_plain[sent_plain.len() - held_plain.len()..]);
                prop_assert!(history.windows(2).all(|w| w[0] < w[1]));
                let id = store.find(TOPICS[topic]).expect("held");
                let evictable = store.nodes[id.index()].oldest_evictable().is_some();
                anything_evictable |= evictable;
                let node = store.node(id).expect("live");
                if held.len() > per_topic_count.max(1) || node.history_bytes() > per_topic_bytes {
                    prop_assert!(!evictable, "over a per-topic cap only by what it must keep");
                }
            }
            if store.memory_bytes() > total_bytes {
                prop_assert!(!anything_evictable, "over budget with history left to give");
                for (index, topic) in TOPICS.iter().enumerate() {
                    let Some(node) = store.find(topic).and_then(|id| store.node(id)).filter(|n| n.is_topic()) else { continue };
                    prop_assert!(node.pinned() || newest == Some(index), "over budget with {:?} left", topic);
                }
            }
            for filter in FILTERS {
                prop_assert_eq!(store.nodes_matching(filter), brute_force_matching(&store, filter));
            }
        }
    }
}


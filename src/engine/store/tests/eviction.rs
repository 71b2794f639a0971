//! Fair eviction over budget: busy topics give up history first, latest and retained messages
//! stay while their topic does, and whole topics go least recently active first.

use super::*;

/// Sets the budget to what the store holds now less `bytes`, and evicts to it.
fn squeeze(store: &mut MessageStore, bytes: usize) {
    store.limits.total_bytes = store.memory_bytes().saturating_sub(bytes);
    store.enforce_budget(None);
}

/// The topics that hold messages, in display order.
fn topics(store: &MessageStore) -> Vec<String> {
    store.nodes_matching("#").into_iter().map(|id| store.path_of(id).expect("live")).collect()
}

#[test]
fn a_busy_topic_loses_its_history_before_a_quiet_topic_loses_any() {
    let payload = [b'x'; 100];
    let quiet: Vec<String> = (0..10).map(|i| format!("gw/quiet{i}")).collect();
    let mut store = MessageStore::new(roomy());
    // The quiet topics' messages are the oldest: oldest-first eviction would take them first.
    for topic in &quiet {
        for _ in 0..3 {
            put(&mut store, topic, &payload);
        }
    }
    for _ in 0..40 {
        put(&mut store, "broker/busy", &payload);
    }
    // Room for the quiet topics and about 40 busy messages; then 400 more arrive.
    store.limits.total_bytes = store.memory_bytes();
    let mut received = Received::default();
    for topic in &quiet {
        (0..3).for_each(|_| received.inserted(topic));
    }
    (0..40).for_each(|_| received.inserted("broker/busy"));
    for _ in 0..440 {
        put(&mut store, "broker/busy", &payload);
        received.inserted("broker/busy");
        assert!(store.memory_bytes() <= store.limits.total_bytes);
    }
    for topic in &quiet {
        assert_eq!(held(&store, topic), 3, "{topic} kept all it had");
    }
    let busy = seqs(&store, "broker/busy");
    assert!(busy.len() >= 30, "the busy topic keeps most of its share: {}", busy.len());
    assert!(busy.windows(2).all(|w| w[1] == w[0] + 1), "it lost its oldest, in order");
    assert_counts_exact(&store, &received);
}

#[test]
fn the_topic_with_most_to_give_goes_first() {
    let payload = [b'x'; 100];
    // An eviction frees the payload's block; the history slot stays for the next message.
    let freed = payload_block(payload.len());
    let mut store = MessageStore::new(roomy());
    for (topic, count) in [("a", 50), ("b", 10), ("c", 5)] {
        for _ in 0..count {
            put(&mut store, topic, &payload);
        }
    }
    // Twenty messages less: all of them out of "a", oldest first.
    squeeze(&mut store, 20 * freed);
    assert_eq!((held(&store, "b"), held(&store, "c")), (10, 5));
    assert_eq!(seqs(&store, "a"), (21..=50).collect::<Vec<u64>>());
    // Squeezed further, the sizes level out: "a" goes down to about "b", then both go.
    squeeze(&mut store, 25 * freed);
    let (a, b, c) = (held(&store, "a"), held(&store, "b"), held(&store, "c"));
    assert_eq!(a + b, 30 + 10 - 25, "c untouched: {c}");
    assert!(a.abs_diff(b) <= 2 && c == 5, "levelled: a {a}, b {b}, c {c}");
}

#[test]
fn latest_and_retained_messages_stay_while_their_topic_does() {
    let payload = [b'x'; 100];
    let mut store = MessageStore::new(roomy());
    let mut kept = Vec::new();
    for i in 0..5 {
        let topic = format!("cems/v1/pk/dev{i}/up/status");
        let retained = put_retained(&mut store, &topic, b"{\"online\":true}");
        let latest = (0..5).map(|_| put(&mut store, &topic, &payload)).last().expect("sent");
        kept.push((topic, retained, latest));
    }
    put(&mut store, "broker/busy", &payload);
    // Squeezed a little at a time: history goes message by message, and a topic goes whole only
    // once no topic has anything but its retained and latest messages left.
    let mut squeezes = 0;
    while !topics(&store).is_empty() {
        let only_kept_before = kept.iter().all(|(topic, retained, latest)| {
            seqs(&store, topic).iter().all(|s| s == retained || s == latest)
        }) && held(&store, "broker/busy") <= 1;
        let topics_before = topics(&store).len();
        squeeze(&mut store, 1);
        squeezes += 1;
        for (topic, retained, latest) in &kept {
            let held = seqs(&store, topic);
            assert!(held.is_empty() || (held.contains(retained) && held.last() == Some(latest)), "{topic}: {held:?}");
        }
        if topics(&store).len() < topics_before {
            assert!(only_kept_before, "a topic went whole while history was left");
            assert_eq!(topics(&store).len(), topics_before - 1, "one topic at a time");
        }
    }
    assert_eq!(squeezes, 5 * 4 + 6, "twenty history messages, then six topics");
}

#[test]
fn per_topic_caps_keep_the_retained_message_too() {
    let mut store = MessageStore::new(StoreLimits { per_topic_count: 2, per_topic_bytes: 10, ..roomy() });
    put_retained(&mut store, "s", b"R");
    for _ in 0..4 {
        put(&mut store, "s", b"abcd");
    }
    assert_eq!(seqs(&store, "s"), vec![1, 5], "the retained message counts against the cap, and stays");
    put_retained(&mut store, "s", b"R2");
    assert_eq!(seqs(&store, "s"), vec![5, 6], "the old retained message is history now");
    put(&mut store, "s", b"0123456789ab");
    assert_eq!(seqs(&store, "s"), vec![6, 7], "over the byte cap: retained and latest stay");
}

#[test]
fn whole_quiet_topics_go_least_recently_active_first() {
    let mut store = MessageStore::new(roomy());
    for topic in ["a", "b", "c", "d"] {
        put(&mut store, topic, b"x");
    }
    // Nothing has history to give: a whole topic goes, the oldest.
    squeeze(&mut store, 1);
    assert_eq!(topics(&store), ["b", "c", "d"]);
    // "c" is written to: its older message goes first, then the topics in order of their last
    // message: b, d, and c last. (Room for the message first: it files "c" for eviction.)
    store.limits.total_bytes = usize::MAX;
    put(&mut store, "c", b"y");
    squeeze(&mut store, 1);
    assert_eq!((topics(&store), held(&store, "c")), (vec!["b".to_string(), "c".into(), "d".into()], 1));
    squeeze(&mut store, 1);
    assert_eq!(topics(&store), ["c", "d"]);
    squeeze(&mut store, 1);
    assert_eq!(topics(&store), ["c"]);
    squeeze(&mut store, 1);
    assert!(topics(&store).is_empty(), "with no newest to keep, the last one goes too");
    assert_eq!(store.stats().evicted, 5);
}

#[test]
fn the_topic_just_written_is_not_dropped() {
    let mut store = MessageStore::new(StoreLimits { total_bytes: 0, ..roomy() });
    for topic in ["a", "b", "c"] {
        put(&mut store, topic, b"x");
        assert_eq!(topics(&store), [topic]);
    }
    put(&mut store, "c", b"y");
    assert_eq!(seqs(&store, "c"), vec![4], "its older message may go");
}

#[test]
fn stale_bucket_entries_are_rebuilt_away() {
    let mut store = MessageStore::new(StoreLimits { per_topic_count: 2, ..roomy() });
    let (small, large) = ([b'x'; 10], [b'x'; 3000]);
    for i in 0..40_000 {
        // The evictable message alternates in size: the topic changes bucket on every insert.
        put(&mut store, &format!("t{}", i % 3), if i % 2 == 0 { &small } else { &large });
        assert!(store.buckets.entries() <= 3 * 3 + 4096 + 1, "entries {}", store.buckets.entries());
    }
    let mut received = Received::default();
    (0..40_000).for_each(|i| received.inserted(&format!("t{}", i % 3)));
    assert_counts_exact(&store, &received);
}

#[test]
fn over_budget_only_with_nothing_left_to_give() {
    let mut store = MessageStore::new(StoreLimits { total_bytes: 2_000, ..roomy() });
    let mut received = Received::default();
    for i in 0..2_000u32 {
        let topic = format!("t{}", i % 37);
        let payload = vec![b'p'; (i as usize * 7919) % 300];
        store.insert(&topic, 0, 0, i % 5 == 0, Bytes::from(payload), 1);
        received.inserted(&topic);
        received.settle(&store);
        if store.memory_bytes() > 2_000 {
            assert_eq!(topics(&store), std::slice::from_ref(&topic), "over budget only by the newest topic");
            let id = store.find(&topic).expect("newest");
            assert!(store.nodes[id.index()].oldest_evictable().is_none(), "and nothing of it may go");
        }
    }
    assert_counts_exact(&store, &received);
    assert_charge_covers_structures(&store);
}


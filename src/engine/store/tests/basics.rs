//! The tree, counts, caps per topic, truncation, search and filter matching.

use super::*;

#[test]
fn counts_stay_exact_through_inserts() {
    let mut store = MessageStore::default();
    put(&mut store, "a/b", b"1");
    put(&mut store, "a/c", b"2");
    put(&mut store, "a/b", b"3");
    put(&mut store, "d", b"4");
    let stats = store.stats();
    assert_eq!((stats.topics, stats.messages, stats.received, stats.bytes), (3, 4, 4, 4));
    let a = store.node(store.find("a").expect("a")).expect("live");
    assert_eq!((a.topics(), a.messages(), a.received(), a.is_topic()), (2, 3, 3, false));
    let b = store.find("a/b").expect("a/b");
    assert_eq!(store.latest(b).map(|m| &m.payload[..]), Some(&b"3"[..]));
    assert_eq!(seqs(&store, "a/b"), vec![1, 3]);
    let mut received = Received::default();
    for topic in ["a/b", "a/c", "a/b", "d"] {
        received.inserted(topic);
    }
    assert_counts_exact(&store, &received);
}

#[test]
fn retained_marker_follows_last_message() {
    let mut store = MessageStore::default();
    store.insert("t", 5, 1, true, Bytes::from_static(b"x"), 7);
    let t = store.find("t").expect("t");
    assert!(store.node(t).expect("live").retained());
    let latest = store.latest(t).expect("message");
    assert_eq!((latest.received_ms, latest.qos, latest.retain, latest.source), (5, 1, true, 7));
    store.insert("t", 6, 0, false, Bytes::from_static(b"y"), 7);
    assert!(!store.node(t).expect("live").retained());
}

#[test]
fn per_topic_count_cap_drops_that_topics_oldest() {
    let mut store = MessageStore::new(StoreLimits { per_topic_count: 3, ..roomy() });
    put(&mut store, "other", b"o");
    for _ in 0..5 {
        put(&mut store, "t", b"x");
    }
    assert_eq!(seqs(&store, "t"), vec![4, 5, 6]);
    assert_eq!(seqs(&store, "other"), vec![1]);
    let stats = store.stats();
    assert_eq!((stats.messages, stats.evicted, stats.received, stats.topics), (4, 2, 6, 2));
}

#[test]
fn per_topic_bytes_cap_drops_oldest_but_keeps_the_newest() {
    let mut store = MessageStore::new(StoreLimits { per_topic_bytes: 10, ..roomy() });
    for _ in 0..4 {
        put(&mut store, "t", b"abcd");
    }
    assert_eq!(seqs(&store, "t"), vec![3, 4]);
    assert_eq!(store.node(store.find("t").expect("t")).expect("live").history_bytes(), 8);
    put(&mut store, "t", b"0123456789ab");
    assert_eq!(seqs(&store, "t"), vec![5], "an oversized message is kept alone");
    assert_eq!(store.stats().evicted, 4);
    assert_eq!(store.stats().bytes, 12);
}

#[test]
fn budget_smaller_than_one_message_keeps_the_newest() {
    let mut store = MessageStore::new(StoreLimits { total_bytes: 0, ..StoreLimits::default() });
    put(&mut store, "a", b"1");
    put(&mut store, "b", b"2");
    assert_eq!(store.stats().messages, 1);
    assert_eq!(seqs(&store, "b"), vec![2]);
    assert_eq!(store.stats().evicted, 1);
}

#[test]
fn ever_new_topics_free_their_nodes_and_stay_in_budget() {
    const TOTAL: usize = 64 * 1024;
    let mut store = MessageStore::new(StoreLimits { total_bytes: TOTAL, ..StoreLimits::default() });
    let mut received = Received::default();
    let mut first = None;
    let mut peak_slots = 0;
    for i in 0..100_000u32 {
        // Every message on a topic of its own, under shared and unshared levels.
        let topic = format!("cems/v1/pk{}/dev{i}/up/point/report", i % 7);
        put(&mut store, &topic, b"{\"v\":1}");
        received.inserted(&topic);
        received.settle(&store);
        assert!(store.memory_bytes() <= TOTAL, "over budget after {i}: {}", store.memory_bytes());
        first.get_or_insert_with(|| store.find(&topic).expect("just inserted"));
        peak_slots = peak_slots.max(store.nodes.len());
        if i % 5_000 == 0 {
            assert_counts_exact(&store, &received);
        }
    }
    assert_counts_exact(&store, &received);
    let stats = store.stats();
    assert_eq!(stats.received, 100_000);
    assert!(stats.messages > 50, "the budget holds many messages, not one: {stats:?}");
    assert_eq!(stats.topics, stats.messages);
    assert!(store.topic_index.len() <= stats.topics + 1, "index entries of freed topics are gone");
    assert!(peak_slots < 2_000, "freed slots are reused: {peak_slots}");
    let first = first.expect("inserted");
    assert!(store.node(first).is_none(), "the first topic's node was freed and its slot reused");
    assert_eq!(store.find("cems/v1/pk0/dev0/up/point/report"), None);
    assert!(store.node(store.find("cems/v1/pk0").expect("shared level")).is_some());
}

#[test]
fn oversized_payloads_are_truncated_and_counted() {
    let mut store = MessageStore::new(StoreLimits { max_payload_bytes: 4, ..roomy() });
    let t = {
        put(&mut store, "t", b"hello world");
        store.find("t").expect("t")
    };
    let latest = store.latest(t).expect("message");
    assert_eq!((&latest.payload[..], latest.original_len, latest.truncated), (&b"hell"[..], 11, true));
    put(&mut store, "t", b"abcd");
    let latest = store.latest(t).expect("message");
    assert_eq!((&latest.payload[..], latest.original_len, latest.truncated), (&b"abcd"[..], 4, false));
    assert_eq!(store.stats().truncated, 1);
    assert_eq!(store.stats().bytes, 8);
}

#[test]
fn slash_edge_cases_are_real_levels() {
    let mut store = MessageStore::new(roomy());
    for topic in ["a//b", "/a", "a/", "a"] {
        put(&mut store, topic, b"x");
    }
    let names = |id: NodeId| -> Vec<String> {
        store.children(id).map(|c| store.node(c).expect("live").name().to_string()).collect()
    };
    let root = store.root();
    assert_eq!(names(root), vec!["", "a"]);
    let a = store.find("a").expect("a");
    assert_eq!(names(a), vec![""]);
    let a_empty = store.find("a/").expect("a/");
    assert_eq!(names(a_empty), vec!["b"]);
    assert!(store.node(a_empty).expect("live").is_topic(), "a/ is a topic of its own");
    for topic in ["a//b", "/a", "a/", "a"] {
        let id = store.find(topic).expect(topic);
        assert_eq!(store.path_of(id).as_deref(), Some(topic));
        assert_eq!(store.history(id).len(), 1);
    }
    assert_eq!(store.find("/"), None);
    assert_eq!(store.find("b"), None);
    assert_eq!(store.path_of(root).as_deref(), Some(""));
    assert_eq!(store.stats().topics, 4);
    assert_eq!(store.node(a).expect("live").topics(), 3);
}

#[test]
fn clear_makes_old_ids_stale_and_keeps_sequence_going() {
    let mut store = MessageStore::default();
    put(&mut store, "a/b", b"1");
    let old = store.find("a/b").expect("a/b");
    store.clear();
    assert!(store.node(old).is_none());
    assert!(store.history(old).is_empty());
    assert_eq!(store.children(old).count(), 0);
    assert_eq!(store.path_of(old), None);
    assert_eq!(store.stats(), StoreStats::default());
    assert_eq!(store.memory_bytes(), empty_store_bytes());
    assert_eq!(put(&mut store, "a/b", b"2"), 2);
    assert_eq!(store.find("a/b").map(|id| store.node(id).is_some()), Some(true));
}

#[test]
fn search_matches_path_and_latest_payload_ignoring_case() {
    let mut store = MessageStore::new(roomy());
    put(&mut store, "cems/v1/PK1/dev1/up/property/report", br#"{"soc":87}"#);
    put(&mut store, "cems/v1/pk2/dev2/up/alarm/report", "温度过高 Übertemperatur".as_bytes());
    put(&mut store, "cems/v1/pk2/dev2/up/event/report", b"old SOC");
    put(&mut store, "cems/v1/pk2/dev2/up/event/report", b"new");
    put(&mut store, "other", &[0xff, 0xfe, b'S', b'o', b'C']);
    let paths = |ids: Vec<NodeId>| -> Vec<String> {
        ids.into_iter().map(|id| store.path_of(id).expect("live")).collect()
    };
    assert_eq!(paths(store.search("pk1", 10)), vec!["cems/v1/PK1/dev1/up/property/report"]);
    assert_eq!(
        paths(store.search("SOC", 10)),
        vec!["cems/v1/PK1/dev1/up/property/report", "other"],
        "payload match, latest payload only, invalid UTF-8 tolerated"
    );
    assert_eq!(paths(store.search("温度", 10)), vec!["cems/v1/pk2/dev2/up/alarm/report"]);
    assert_eq!(paths(store.search("üBER", 10)), vec!["cems/v1/pk2/dev2/up/alarm/report"]);
    assert_eq!(store.search("cems", 10).len(), 3, "topics only, not the levels above them");
    assert_eq!(store.search("cems", 2).len(), 2);
    assert_eq!(store.search("", 0).len(), 0);
    assert_eq!(store.search("", 100).len(), 4);
    assert!(store.search("nowhere", 10).is_empty());
}

#[test]
fn nodes_matching_walks_the_tree_like_the_filter() {
    let mut store = MessageStore::new(roomy());
    for topic in ["sport", "sport/", "sport/tennis/p1", "sport/golf", "/finance", "$SYS/x", "a//b", "a", ""] {
        put(&mut store, topic, b"x");
    }
    for filter in ["#", "+", "+/+", "sport/#", "sport/+", "/+", "+/#", "$SYS/#", "a/+/b", "a/#", "x/#", "bad#"] {
        assert_eq!(store.nodes_matching(filter), brute_force_matching(&store, filter), "filter {filter:?}");
    }
    assert_eq!(store.nodes_matching("sport/#").len(), 4);
}

//! Pins: a pinned gateway keeps its messages within its share of the budget, and past the share
//! gives up its own oldest history first.

use super::*;

const GATEWAY: &str = "cems/v1/pk1/gw1/";

/// The gateway's topics: a retained status and a few report topics.
fn gateway_topics() -> Vec<String> {
    ["status", "info/report", "log/report", "history/report", "point/report"]
        .iter()
        .map(|kind| format!("{GATEWAY}up/{kind}"))
        .collect()
}

/// A gateway sending `per_topic` messages on each of its topics (status retained first), then a
/// busy broker flooding `flood` messages over ever-new and busy topics. Returns each gateway
/// topic's sent seqs.
fn gateway_then_flood(store: &mut MessageStore, per_topic: usize, flood: usize) -> Vec<(String, Vec<u64>)> {
    let mut sent: Vec<(String, Vec<u64>)> = gateway_topics().into_iter().map(|t| (t, Vec::new())).collect();
    for round in 0..per_topic {
        for (topic, seqs) in &mut sent {
            let retain = round == 0 && topic.ends_with("status");
            seqs.push(store.insert(topic, 0, 0, retain, Bytes::from(vec![b'g'; 80]), 1));
        }
    }
    for i in 0..flood {
        let topic = if i % 3 == 0 { format!("cems/v1/pk9/flood{i}/up/point/report") } else { format!("broker/busy{}", i % 10) };
        put(store, &topic, &[b'f'; 120]);
    }
    sent
}

#[test]
fn a_pinned_gateway_keeps_all_it_has_within_its_share() {
    let limits = StoreLimits { total_bytes: 256 * 1024, ..StoreLimits::default() };
    // Without the pin the flood takes the gateway's history, then the gateway: the pin matters.
    let mut unpinned = MessageStore::new(limits.clone());
    let sent = gateway_then_flood(&mut unpinned, 20, 20_000);
    let kept: usize = sent.iter().map(|(topic, _)| held(&unpinned, topic)).sum();
    assert!(kept < 20, "unpinned, the gateway keeps {kept} of 100");

    let mut store = MessageStore::new(limits);
    assert!(store.pin(GATEWAY));
    assert!(!store.pin(GATEWAY), "pinned once");
    let sent = gateway_then_flood(&mut store, 20, 20_000);
    for (topic, seqs) in &sent {
        assert_eq!(&super::seqs(&store, topic), seqs, "{topic} keeps every message");
        assert!(store.node(store.find(topic).expect("held")).expect("live").pinned());
    }
    assert!(store.pinned_bytes() <= store.pinned_budget());
    assert_eq!(store.pinned(), [GATEWAY.to_string()]);
    assert!(store.memory_bytes() <= store.limits().total_bytes);
    assert!(store.stats().evicted > 10_000, "the flood was evicted instead");
}

#[test]
fn past_its_share_a_pinned_gateway_gives_up_its_oldest_history() {
    let limits = StoreLimits { total_bytes: 256 * 1024, ..StoreLimits::default() };
    let mut store = MessageStore::new(limits);
    store.pin(GATEWAY);
    // 5 topics x 300 messages of ~160 bytes charged: about three times the 64 KiB share.
    let sent = gateway_then_flood(&mut store, 300, 20_000);
    let share = store.pinned_budget();
    assert!(store.pinned_bytes() <= share, "within the share: {} > {share}", store.pinned_bytes());
    assert!(store.pinned_bytes() > share / 2, "and using it: {}", store.pinned_bytes());
    // Oldest first across the pinned topics: every message evicted is older than every
    // message kept, but for each topic's retained and latest ones.
    let mut kept_history = Vec::new();
    let mut gone = Vec::new();
    for (topic, seqs) in &sent {
        let held = super::seqs(&store, topic);
        assert_eq!(held.last(), seqs.last(), "{topic} keeps its latest");
        if topic.ends_with("status") {
            assert_eq!(held.first(), seqs.first(), "and the status its retained message");
        }
        kept_history.extend(held.iter().filter(|&&s| s != seqs[0] && Some(&s) != seqs.last()).copied());
        gone.extend(seqs.iter().filter(|s| !held.contains(s)).copied());
    }
    assert!(!gone.is_empty() && !kept_history.is_empty());
    let newest_gone = gone.iter().max().expect("some went");
    assert!(kept_history.iter().all(|kept| kept > newest_gone), "oldest first among pinned topics");
}

#[test]
fn pinned_topics_are_never_dropped_whole() {
    let mut store = MessageStore::new(StoreLimits { total_bytes: 0, ..roomy() });
    store.pin(GATEWAY);
    let status = format!("{GATEWAY}up/status");
    let retained = store.insert(&status, 0, 0, true, Bytes::from_static(b"{\"online\":true}"), 1);
    let latest = put(&mut store, &status, b"{\"online\":true}");
    put(&mut store, "other/a", b"x");
    put(&mut store, "other/b", b"x");
    assert_eq!(seqs(&store, &status), vec![retained, latest], "over budget, its latest and retained stay");
    assert_eq!((held(&store, "other/a"), held(&store, "other/b")), (0, 1), "the unpinned topic goes whole");
}

#[test]
fn pins_follow_their_prefix_and_come_undone() {
    let mut store = MessageStore::new(roomy());
    put(&mut store, "cems/v1/pk1/gw1/up/status", b"1");
    put(&mut store, "cems/v1/pk1/gw10/up/status", b"1");
    store.pin("cems/v1/pk1/gw1/");
    store.pin("cems/v1/pk1/");
    put(&mut store, "cems/v1/pk1/gw1/up/info/report", b"1");
    let pinned = |store: &MessageStore, topic: &str| store.node(store.find(topic).expect(topic)).expect("live").pinned();
    assert!(pinned(&store, "cems/v1/pk1/gw1/up/status") && pinned(&store, "cems/v1/pk1/gw1/up/info/report"));
    assert!(pinned(&store, "cems/v1/pk1/gw10/up/status"), "under the wider pin");
    assert!(!store.unpin("cems/v1/pk2/"), "never pinned");
    assert!(store.unpin("cems/v1/pk1/"));
    assert!(!pinned(&store, "cems/v1/pk1/gw10/up/status"), "back to fair eviction");
    assert!(pinned(&store, "cems/v1/pk1/gw1/up/status"), "still under the gateway's pin");
    let mut received = Received::default();
    for topic in ["cems/v1/pk1/gw1/up/status", "cems/v1/pk1/gw10/up/status", "cems/v1/pk1/gw1/up/info/report"] {
        received.inserted(topic);
    }
    assert_counts_exact(&store, &received);
    store.clear();
    assert_eq!(store.pinned(), ["cems/v1/pk1/gw1/".to_string()], "pins outlive a clear");
    put(&mut store, "cems/v1/pk1/gw1/up/status", b"2");
    assert!(pinned(&store, "cems/v1/pk1/gw1/up/status"));
    assert_eq!(store.pinned_bytes(), 1 + MESSAGE_OVERHEAD_BYTES);
}

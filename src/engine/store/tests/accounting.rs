//! The charge is what the store holds: its own payload copies, slots by capacity, the tree and
//! the tables. (A counting allocator checks the sum in `tests/store_bench.rs`.)

use super::*;

#[test]
fn a_payload_is_held_as_an_own_copy_of_its_size() {
    // As a link delivers it: a slice of a larger read buffer.
    let read_buffer = Bytes::from(vec![b'r'; 64 * 1024]);
    let mut store = MessageStore::new(roomy());
    let before = store.memory_bytes();
    store.insert("t", 0, 0, false, read_buffer.slice(100..110), 1);
    let stored = store.latest(store.find("t").expect("t")).expect("held").payload.clone();
    let buffer = read_buffer.as_ptr_range();
    assert!(!buffer.contains(&stored.as_ptr()), "not a slice of the read buffer");
    assert_eq!(&stored[..], &read_buffer[100..110]);
    let charged = store.memory_bytes() - before;
    assert!(charged < 1024, "charged {charged}: the message and its topic, not the buffer");
}

#[test]
fn the_charge_covers_slots_nodes_and_index_not_only_payloads() {
    let mut store = MessageStore::new(roomy());
    let mut received = Received::default();
    for i in 0..10_000u32 {
        let topic = format!("cems/v1/pk{}/dev{}/up/point/report", i % 100 % 3, i % 100);
        put(&mut store, &topic, b"0123456789");
        received.inserted(&topic);
    }
    assert_counts_exact(&store, &received);
    assert_charge_covers_structures(&store);
    let stats = store.stats();
    // Payloads alone would be 100 kB; slots, blocks, 100 topics' nodes and keys are more.
    let floor = stats.bytes + stats.messages * MESSAGE_OVERHEAD_BYTES + 100 * size_of::<TopicNode>();
    assert!(store.memory_bytes() >= floor, "{} < {floor}", store.memory_bytes());
    assert!(store.memory_bytes() < 2 * floor, "and not wildly more: {}", store.memory_bytes());
}

#[test]
fn emptied_structures_give_their_room_back() {
    let mut store = MessageStore::new(StoreLimits { per_topic_count: 5_000, ..roomy() });
    for _ in 0..5_000 {
        put(&mut store, "busy", &[b'x'; 50]);
    }
    let full = store.memory_bytes();
    // Squeezed to a tenth, the history deque shrinks with it.
    store.limits.total_bytes = full / 10;
    store.enforce_budget(None);
    let id = store.find("busy").expect("busy");
    let history = store.history(id);
    assert!(history.capacity() < 4 * history.len() + 4, "{} slots for {}", history.capacity(), history.len());
    assert!(store.memory_bytes() <= full / 10);
    assert!(history.len() > 200, "and holds what fits: {}", history.len());
}

#[test]
fn one_message_topics_take_one_slot() {
    let mut store = MessageStore::new(roomy());
    put(&mut store, "a", b"x");
    let a = store.find("a").expect("a");
    assert_eq!(store.history(a).capacity(), 1);
    put(&mut store, "a", b"y");
    assert_eq!(store.history(a).capacity(), 2);
}

#[test]
fn evicted_blocks_go_to_the_next_payloads_of_their_length_and_stay_charged() {
    // Big enough for the pool's tables to fit its share (a tiny store keeps no blocks).
    const TOTAL: usize = 4 * 1024 * 1024;
    let mut store = MessageStore::new(StoreLimits { total_bytes: TOTAL, per_topic_count: 100_000, per_topic_bytes: usize::MAX, ..roomy() });
    let mut received = Received::default();
    let lengths = 100..108usize;
    let mut reused = 0;
    for i in 0..60_000usize {
        let topic = format!("t/{}", i % 50);
        let len = lengths.start + i % lengths.len();
        let kept = store.pool.next_block(len);
        let payload = vec![b'a' + (i % 26) as u8; len];
        put(&mut store, &topic, &payload);
        received.inserted(&topic);
        received.settle(&store);
        let stored = &store.latest(store.find(&topic).expect("held")).expect("latest").payload;
        assert_eq!(stored[..], payload[..], "the payload as sent");
        reused += usize::from(kept == Some(stored.as_ptr()));
        assert!(store.memory_bytes() <= TOTAL, "kept blocks count in the budget: {}", store.memory_bytes());
    }
    assert_counts_exact(&store, &received);
    assert!(store.stats().evicted > 20_000, "the budget was hit: {:?}", store.stats());
    assert!(reused > 10_000, "evicted blocks were reused: {reused}");
    // What the pool holds is charged on top of what the store holds besides it.
    assert_eq!(store.memory_bytes(), store.held_bytes() + store.pool.heap_bytes());
    // A change of budget lets every kept block go before any message does.
    store.limits.total_bytes = TOTAL / 2;
    store.enforce_budget(None);
    assert!(lengths.clone().all(|len| store.pool.next_block(len).is_none()), "no block kept");
    assert!(store.memory_bytes() <= TOTAL / 2);
}

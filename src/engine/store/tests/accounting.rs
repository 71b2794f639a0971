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

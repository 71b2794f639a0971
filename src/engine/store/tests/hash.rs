//! The topic index's hasher: equal topics hash equal, similar topics spread, seeds matter.

use std::collections::HashSet;
use std::hash::BuildHasher;

use super::super::hash::TopicHashing;

fn topics() -> Vec<String> {
    (0..20_000).map(|i| format!("cems/v1/pk{}/dev{}/up/point/report", i % 50, i / 10)).collect()
}

#[test]
fn equal_topics_hash_equal_whatever_they_are_held_in() {
    let hashing = TopicHashing::with_seeds(1, 2);
    let boxed: Box<str> = "cems/v1/pk1/dev1/up/status".into();
    assert_eq!(hashing.hash_one(&*boxed), hashing.hash_one("cems/v1/pk1/dev1/up/status"));
}

#[test]
fn similar_topics_spread_over_the_low_and_the_high_bits() {
    // hashbrown picks the bucket from the low bits and the tag byte from the top seven.
    let hashing = TopicHashing::random();
    let topics = topics();
    let hashes: Vec<u64> = topics.iter().map(|t| hashing.hash_one(t.as_str())).collect();
    assert_eq!(hashes.iter().collect::<HashSet<_>>().len(), topics.len(), "no full collisions");
    let buckets: HashSet<u64> = hashes.iter().map(|h| h & 0xFFF).collect();
    // 20,000 keys into 4,096 buckets leave about 0.7 % of them empty when spread at random.
    assert!(buckets.len() > 4_000, "{} of 4096 low-bit buckets used", buckets.len());
    let mut tags = [0usize; 128];
    hashes.iter().for_each(|h| tags[(h >> 57) as usize] += 1);
    let expected = topics.len() / 128;
    assert!(tags.iter().all(|&n| n > expected / 2 && n < expected * 2), "tags spread: {tags:?}");
}

#[test]
fn every_length_and_every_byte_counts() {
    let hashing = TopicHashing::with_seeds(7, 11);
    let long = "cems/v1/pk1/dev1/up/property/report/and/a/little/more";
    // Every prefix (lengths 0 to 55, through all the short and long paths) hashes differently.
    let prefixes: HashSet<u64> = (0..=long.len()).map(|n| hashing.hash_one(&long[..n])).collect();
    assert_eq!(prefixes.len(), long.len() + 1);
    // One byte changed anywhere changes the hash.
    let base = hashing.hash_one(long);
    for at in 0..long.len() {
        let mut bytes = long.as_bytes().to_vec();
        bytes[at] ^= 1;
        let changed = String::from_utf8(bytes).expect("ASCII");
        assert_ne!(hashing.hash_one(changed.as_str()), base, "byte {at}");
    }
}

#[test]
fn the_seeds_decide_the_hashes() {
    let (one, other) = (TopicHashing::with_seeds(1, 2), TopicHashing::with_seeds(3, 4));
    let topics = topics();
    let same = topics.iter().filter(|t| one.hash_one(t.as_str()) == other.hash_one(t.as_str())).count();
    assert_eq!(same, 0);
    // And a random pair of stores does not share them either.
    assert_ne!(TopicHashing::random().hash_one("a"), TopicHashing::random().hash_one("a"));
}

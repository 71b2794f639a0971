//! A link's pending publishes of one priority: a FIFO bounded by count and by bytes that drops
//! its oldest items to stay within both. Shared by the MQTT and serial links, which keep one
//! lane for essential and one for bulk publishes and always serve the essential lane first.

use std::collections::VecDeque;

/// Which lane a publish waits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    Essential,
    Bulk,
}

#[derive(Debug)]
pub struct Lane<T> {
    /// Each item with the bytes it counts for.
    items: VecDeque<(T, usize)>,
    bytes: usize,
    max_items: usize,
    max_bytes: usize,
}

impl<T> Lane<T> {
    pub fn new(max_items: usize, max_bytes: usize) -> Lane<T> {
        Lane { items: VecDeque::new(), bytes: 0, max_items, max_bytes }
    }

    /// Appends `item`, then drops the oldest items beyond the caps and returns them.
    pub fn push_back(&mut self, item: T, size: usize) -> Vec<T> {
        self.bytes += size;
        self.items.push_back((item, size));
        self.enforce()
    }

    /// Puts back an item taken from the front (it keeps its place as the oldest); no drop here,
    /// a caller putting back several calls [`Lane::enforce`] once after.
    pub fn push_front(&mut self, item: T, size: usize) {
        self.bytes += size;
        self.items.push_front((item, size));
    }

    pub fn pop_front(&mut self) -> Option<T> {
        let (item, size) = self.items.pop_front()?;
        self.bytes = self.bytes.saturating_sub(size);
        Some(item)
    }

    #[cfg(test)]
    pub fn front(&self) -> Option<&T> {
        self.items.front().map(|(item, _)| item)
    }

    /// Drops the oldest items while over a cap; the newest item stays even if alone over the
    /// byte cap (a single publish is bounded by the packet limit).
    pub fn enforce(&mut self) -> Vec<T> {
        let mut dropped = Vec::new();
        while self.items.len() > self.max_items || (self.bytes > self.max_bytes && self.items.len() > 1) {
            let Some(item) = self.pop_front() else { break };
            dropped.push(item);
        }
        dropped
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    #[cfg(test)]
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    #[cfg(test)]
    pub fn clear(&mut self) {
        self.items.clear();
        self.bytes = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_the_oldest_beyond_count_and_bytes() {
        let mut lane = Lane::new(3, 10);
        assert!(lane.push_back(1, 2).is_empty());
        assert!(lane.push_back(2, 2).is_empty());
        assert!(lane.push_back(3, 2).is_empty());
        assert_eq!(lane.push_back(4, 2), vec![1]);
        assert_eq!(lane.push_back(5, 7), vec![2, 3]);
        assert_eq!((lane.len(), lane.bytes()), (2, 9));
        // Alone over the byte cap, the newest still stays.
        assert_eq!(lane.push_back(6, 50), vec![4, 5]);
        assert_eq!(lane.pop_front(), Some(6));
        assert_eq!((lane.len(), lane.bytes()), (0, 0));
        lane.push_front(7, 1);
        lane.push_front(8, 1);
        assert_eq!(lane.front(), Some(&8));
        assert!(lane.enforce().is_empty());
    }
}

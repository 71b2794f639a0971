//! A node of the topic tree and its id. The node also carries what eviction needs to know about
//! it (which messages it must keep, where it is filed), so an insert touches one node.

use std::collections::VecDeque;

use super::StoredMessage;
use super::accounting::MESSAGE_OVERHEAD_BYTES;
use super::id::NodeId;

/// The generation of a free slot; no id carries it.
pub(super) const FREE_GENERATION: u32 = 0;

/// `TopicNode::bucket` of a node filed in no size bucket (nothing evictable, or pinned).
pub(super) const NO_BUCKET: u16 = 0;

/// One level of the topic tree.
#[derive(Debug)]
pub struct TopicNode {
    pub(super) name: Box<str>,
    pub(super) parent: Option<NodeId>,
    /// Sorted by name, so the explorer can draw them as they are.
    pub(super) children: Vec<NodeId>,
    /// Oldest first. Stays unallocated for nodes that never held a message.
    pub(super) history: VecDeque<StoredMessage>,
    pub(super) history_bytes: usize,
    /// The last message had the retain flag.
    pub(super) retained: bool,
    /// The newest message held that had the retain flag (0: none). It is kept like the latest:
    /// it is what the broker holds for the topic, and it says what state the topic is in.
    pub(super) retained_seq: u64,
    pub(super) retained_len: usize,
    pub(super) subtree_topics: usize,
    pub(super) subtree_messages: usize,
    pub(super) subtree_received: u64,
    /// Matches the ids handed out for this node; `FREE_GENERATION` while the slot is free.
    pub(super) generation: u32,
    /// The size bucket this node is filed in for fair eviction, or `NO_BUCKET`.
    pub(super) bucket: u16,
    /// Has an entry in the topic index (a message was inserted on it in this life of the node).
    pub(super) indexed: bool,
    /// Under a pinned prefix: exempt from fair eviction and never dropped whole.
    pub(super) pinned: bool,
    /// Received a message since the whole-topic queue last passed it (its second chance).
    pub(super) touched: bool,
    /// Has an entry in the whole-topic queue.
    pub(super) in_topic_queue: bool,
    /// Has an entry in the pinned oldest-first heap.
    pub(super) in_pin_heap: bool,
}

impl TopicNode {
    pub(super) fn new(name: &str, parent: Option<NodeId>, generation: u32) -> Self {
        TopicNode {
            name: name.into(),
            parent,
            children: Vec::new(),
            history: VecDeque::new(),
            history_bytes: 0,
            retained: false,
            retained_seq: 0,
            retained_len: 0,
            subtree_topics: 0,
            subtree_messages: 0,
            subtree_received: 0,
            generation,
            bucket: NO_BUCKET,
            indexed: false,
            pinned: false,
            touched: false,
            in_topic_queue: false,
            in_pin_heap: false,
        }
    }

    /// This level's name (may be empty: `a//b` has an empty middle level).
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn parent(&self) -> Option<NodeId> {
        self.parent
    }

    pub fn child_count(&self) -> usize {
        self.children.len()
    }

    /// Holds at least one message.
    pub fn is_topic(&self) -> bool {
        !self.history.is_empty()
    }

    /// The last message received on this topic had the retain flag.
    pub fn retained(&self) -> bool {
        self.retained
    }

    /// Under a prefix given to [`MessageStore::pin`](super::MessageStore::pin).
    pub fn pinned(&self) -> bool {
        self.pinned
    }

    /// Payload bytes held by this topic itself.
    pub fn history_bytes(&self) -> usize {
        self.history_bytes
    }

    /// Topics (nodes holding messages) in this subtree, this node included.
    pub fn topics(&self) -> usize {
        self.subtree_topics
    }

    /// Messages held in this subtree.
    pub fn messages(&self) -> usize {
        self.subtree_messages
    }

    /// Messages ever received in this subtree since the last clear or since this node was
    /// created; never decreases, and still counts descendants freed since.
    pub fn received(&self) -> u64 {
        self.subtree_received
    }

    /// The kept retained message, when it is not also the latest.
    fn retained_apart(&self) -> bool {
        self.retained_seq != 0 && self.history.back().is_some_and(|latest| latest.seq != self.retained_seq)
    }

    /// Where the oldest message that may go is: the front, or just behind it when the front is the
    /// kept retained message. The latest never goes. History is in seq order and only the retained
    /// message is ever kept out of turn, so nothing else can be in the way.
    pub(super) fn oldest_evictable(&self) -> Option<usize> {
        let front = self.history.front()?;
        let position = usize::from(front.seq == self.retained_seq);
        (position + 1 < self.history.len()).then_some(position)
    }

    /// Takes the oldest message that may go (see [`Self::oldest_evictable`]).
    pub(super) fn take_oldest_evictable(&mut self) -> Option<StoredMessage> {
        // Pops rather than `VecDeque::remove`, whose general shifting showed in profiles.
        let message = match self.oldest_evictable()? {
            0 => self.history.pop_front()?,
            _ => {
                let retained = self.history.pop_front()?;
                let message = self.history.pop_front();
                self.history.push_front(retained);
                message?
            }
        };
        self.history_bytes -= message.payload.len();
        Some(message)
    }

    /// What its messages cost by the fixed per-message rate (payloads plus
    /// [`MESSAGE_OVERHEAD_BYTES`] each): the measure of pinned bytes.
    pub(super) fn messages_cost(&self) -> usize {
        self.history_bytes + self.history.len() * MESSAGE_OVERHEAD_BYTES
    }

    /// The same measure over the messages that may go: what fair eviction ranks topics by.
    pub(super) fn evictable_cost(&self) -> usize {
        let Some(latest) = self.history.back() else { return 0 };
        let (kept, kept_bytes) = if self.retained_apart() {
            (2, latest.payload.len() + self.retained_len)
        } else {
            (1, latest.payload.len())
        };
        let count = self.history.len().saturating_sub(kept);
        if count == 0 { 0 } else { self.history_bytes - kept_bytes + count * MESSAGE_OVERHEAD_BYTES }
    }
}

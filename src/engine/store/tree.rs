//! The tree's upkeep: making nodes for a new topic, freeing the ones left empty, and carrying
//! count changes up to the root. Every block made or freed here is charged or credited.

use super::MessageStore;
use super::accounting::{block, children_block};
use super::id::NodeId;
use super::key::TopicKey;
use super::node::{FREE_GENERATION, TopicNode};

/// Child lists and the index with less than a quarter of their capacity in use give the rest back.
pub(super) const SHRINK_MIN_CAPACITY: usize = 64;

/// The arena grows by a quarter rather than doubling: it is charged by capacity, and a doubled
/// arena of 100,000 topics would charge megabytes that hold nothing.
const ARENA_GROWTH_DIVISOR: usize = 4;
const MIN_ARENA_GROWTH: usize = 8;

impl MessageStore {
    /// The node of `topic`, created with its missing ancestors.
    pub(super) fn intern(&mut self, topic: &str) -> NodeId {
        if let Some(&known) = self.topic_index.get(topic.as_bytes()) {
            return known;
        }
        let mut current = self.root();
        for level in topic.split('/') {
            current = match self.child_position(current, level) {
                Ok(position) => self.nodes[current.index()].children[position],
                Err(position) => self.make_child(current, position, level),
            };
        }
        self.topic_index.insert(TopicKey::new(topic), current);
        self.heap_bytes += block(TopicKey::heap_len(topic));
        let pinned = self.pins.iter().any(|prefix| topic.starts_with(prefix.as_str()));
        let node = &mut self.nodes[current.index()];
        node.indexed = true;
        node.pinned = pinned;
        current
    }

    fn make_child(&mut self, parent: NodeId, position: usize, name: &str) -> NodeId {
        let generation = self.take_generation();
        let node = TopicNode::new(name, Some(parent), generation);
        let index = match self.free.pop() {
            Some(index) => {
                self.nodes[index as usize] = node;
                index
            }
            None => {
                if self.nodes.len() == self.nodes.capacity() {
                    self.nodes.reserve_exact((self.nodes.len() / ARENA_GROWTH_DIVISOR).max(MIN_ARENA_GROWTH));
                }
                // Nodes cost well over 100 bytes each: memory runs out long before u32 does.
                self.nodes.push(node);
                (self.nodes.len() - 1) as u32
            }
        };
        let child = NodeId { index, generation };
        let siblings = &mut self.nodes[parent.index()].children;
        let before = siblings.capacity();
        siblings.insert(position, child);
        let after = siblings.capacity();
        self.heap_bytes = self.heap_bytes + children_block(after) + block(name.len()) - children_block(before);
        child
    }

    /// Frees `id` if it holds no messages and has no children, then its ancestors on the same
    /// terms. Subtree counts above need no change: a freed node counts no topics or messages, and
    /// what it received stays counted by its ancestors.
    pub(super) fn prune(&mut self, id: NodeId) {
        let mut cursor = id;
        while cursor.index() != 0 {
            let node = &self.nodes[cursor.index()];
            let Some(parent) = node.parent else { break };
            if !node.history.is_empty() || !node.children.is_empty() {
                break;
            }
            if node.indexed
                && let Some(topic) = self.path_of(cursor)
                && self.topic_index.remove(topic.as_bytes()).is_some()
            {
                self.heap_bytes -= block(TopicKey::heap_len(&topic));
            }
            // Found before the slot is blanked: the search reads the child's name.
            let position = self.child_position(parent, &self.nodes[cursor.index()].name);
            let freed = std::mem::replace(&mut self.nodes[cursor.index()], TopicNode::new("", None, FREE_GENERATION));
            self.heap_bytes -= block(freed.name.len()) + children_block(freed.children.capacity());
            if let Ok(position) = position {
                let siblings = &mut self.nodes[parent.index()].children;
                let before = siblings.capacity();
                siblings.remove(position);
                if siblings.capacity() > SHRINK_MIN_CAPACITY && siblings.len() < siblings.capacity() / 4 {
                    siblings.shrink_to(siblings.len() * 2);
                }
                let after = siblings.capacity();
                self.heap_bytes = self.heap_bytes + children_block(after) - children_block(before);
            }
            self.free.push(cursor.index);
            cursor = parent;
        }
        // The index keeps its peak capacity otherwise; shrinking at a quarter stays amortised.
        if self.topic_index.capacity() > SHRINK_MIN_CAPACITY && self.topic_index.len() < self.topic_index.capacity() / 4 {
            self.topic_index.shrink_to(self.topic_index.len() * 2);
        }
    }

    pub(super) fn child_position(&self, parent: NodeId, name: &str) -> Result<usize, usize> {
        let nodes = &self.nodes;
        nodes[parent.index()].children.binary_search_by(|child| (*nodes[child.index()].name).cmp(name))
    }

    /// Applies count changes to a node and all its ancestors.
    pub(super) fn propagate(&mut self, from: NodeId, received: u64, messages_delta: isize, topics_delta: isize) {
        let mut cursor = Some(from);
        while let Some(id) = cursor {
            let node = &mut self.nodes[id.index()];
            node.subtree_received += received;
            node.subtree_messages = node.subtree_messages.saturating_add_signed(messages_delta);
            node.subtree_topics = node.subtree_topics.saturating_add_signed(topics_delta);
            cursor = node.parent;
        }
    }
}

//! The id of a node of the topic tree, apart from the node itself so the accounting can size
//! it without reaching into the tree.

/// A node of the topic tree. Ids stay valid while their node is in the tree: until
/// [`MessageStore::clear`](super::MessageStore::clear), or until its topic is dropped whole and it
/// has no children left. After that they are recognised as stale (reads give `None` or empty
/// results), never as other nodes, even when the slot is reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId {
    pub(super) index: u32,
    /// The generation of the node in slot `index` when the id was made.
    pub(super) generation: u32,
}

impl NodeId {
    pub(super) fn index(self) -> usize {
        self.index as usize
    }
}

//! Reads over the whole tree: the explorer's search box and MQTT filter matching.

use super::MessageStore;
use super::id::NodeId;
use crate::protocol::topic_filter::is_valid_filter;

impl MessageStore {
    /// Topics (nodes holding messages) whose full topic or latest payload (read as lossy UTF-8)
    /// contains `query`, ignoring case; in display order, at most `limit`.
    pub fn search(&self, query: &str, limit: usize) -> Vec<NodeId> {
        let mut found = Vec::new();
        if limit == 0 {
            return found;
        }
        let needle = Needle::new(query);
        let mut path = String::new();
        // (node, length of its parent's path, or None for top-level nodes which take no '/').
        let mut stack: Vec<(NodeId, Option<usize>)> =
            self.nodes[0].children.iter().rev().map(|&child| (child, None)).collect();
        while let Some((id, parent_len)) = stack.pop() {
            let node = &self.nodes[id.index()];
            match parent_len {
                None => path.clear(),
                Some(len) => {
                    path.truncate(len);
                    path.push('/');
                }
            }
            path.push_str(&node.name);
            if let Some(latest) = node.history.back()
                && (needle.is_in(path.as_bytes()) || needle.is_in(&latest.payload))
            {
                found.push(id);
                if found.len() == limit {
                    break;
                }
            }
            let path_len = path.len();
            stack.extend(node.children.iter().rev().map(|&child| (child, Some(path_len))));
        }
        found
    }

    /// Topics (nodes holding messages) matching an MQTT topic filter, in display order; empty
    /// for an invalid filter. Walks only the branches the filter can reach.
    pub fn nodes_matching(&self, filter: &str) -> Vec<NodeId> {
        let mut found = Vec::new();
        if !is_valid_filter(filter) {
            return found;
        }
        let levels: Vec<&str> = filter.split('/').collect();
        let root = self.root();
        enum Pending {
            /// The node matched the filter's first `usize` levels.
            Matched(NodeId, usize),
            /// Below a `#`: everything matches.
            Below(NodeId),
        }
        let mut stack = vec![Pending::Matched(root, 0)];
        while let Some(pending) = stack.pop() {
            match pending {
                Pending::Below(id) => {
                    let node = &self.nodes[id.index()];
                    if self.is_matchable_topic(id) {
                        found.push(id);
                    }
                    stack.extend(node.children.iter().rev().map(|&child| Pending::Below(child)));
                }
                Pending::Matched(id, depth) => {
                    let node = &self.nodes[id.index()];
                    let Some(&level) = levels.get(depth) else {
                        if self.is_matchable_topic(id) {
                            found.push(id);
                        }
                        continue;
                    };
                    // MQTT: filters starting with a wildcard do not match topics starting with '$'.
                    let reachable = |child: &&NodeId| id != root || !self.nodes[child.index()].name.starts_with('$');
                    match level {
                        "#" => {
                            // "a/#" also matches "a" itself.
                            if self.is_matchable_topic(id) {
                                found.push(id);
                            }
                            stack.extend(node.children.iter().rev().filter(reachable).map(|&c| Pending::Below(c)));
                        }
                        "+" => {
                            stack.extend(
                                node.children.iter().rev().filter(reachable).map(|&c| Pending::Matched(c, depth + 1)),
                            );
                        }
                        name => {
                            if let Ok(position) = self.child_position(id, name) {
                                stack.push(Pending::Matched(node.children[position], depth + 1));
                            }
                        }
                    }
                }
            }
        }
        found
    }

    /// Holds messages and has a valid topic name: the empty topic (a single empty level,
    /// stored like any other) is not one, so no filter matches it.
    fn is_matchable_topic(&self, id: NodeId) -> bool {
        let node = &self.nodes[id.index()];
        node.is_topic() && !(node.name.is_empty() && node.parent == Some(self.root()))
    }
}

/// A case-insensitive search term. ASCII terms are matched on raw bytes without allocating
/// (ASCII bytes never occur inside multi-byte UTF-8, so this equals matching the lossy text).
enum Needle {
    Ascii(Vec<u8>),
    Unicode(String),
}

impl Needle {
    fn new(query: &str) -> Self {
        if query.is_ascii() { Needle::Ascii(query.as_bytes().to_vec()) } else { Needle::Unicode(query.to_lowercase()) }
    }

    fn is_in(&self, haystack: &[u8]) -> bool {
        match self {
            Needle::Ascii(needle) => {
                needle.is_empty() || haystack.windows(needle.len()).any(|window| window.eq_ignore_ascii_case(needle))
            }
            Needle::Unicode(needle) => String::from_utf8_lossy(haystack).to_lowercase().contains(needle.as_str()),
        }
    }
}

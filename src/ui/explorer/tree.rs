//! The topic tree as rows: the open part of the store's tree flattened in display order, so the
//! explorer lays out only the rows on screen. Pure functions over a [`MessageStore`], tested
//! without egui.

use std::collections::{HashMap, HashSet};

use crate::engine::store::{MessageStore, NodeId};

/// One visible row of the tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlatRow {
    pub id: NodeId,
    /// 0 for top-level levels.
    pub depth: usize,
    /// Has children that this view can show (under a search: matching ones).
    pub has_children: bool,
    pub open: bool,
}

/// Which levels are open, remembered by topic path so it survives re-sorting, evictions and
/// clears. A level the user never toggled opens when it is first shown with exactly one child:
/// chains such as `cems/v1/PK/dev` unfold by themselves while wide levels stay closed. Once
/// shown open it stays open when siblings arrive, so the tree never folds under the user.
#[derive(Debug, Clone, Default)]
pub struct OpenState {
    overrides: HashMap<String, bool>,
    /// Bumped on every change, so a cached flattening knows it is stale.
    generation: u64,
}

impl OpenState {
    pub fn is_open(&self, path: &str, child_count: usize) -> bool {
        self.overrides.get(path).copied().unwrap_or(child_count == 1)
    }

    /// Keeps a level that is open by default open later. Not a change of what is shown, so the
    /// generation stays.
    fn pin_default(&mut self, path: &str, child_count: usize) -> bool {
        if let Some(&open) = self.overrides.get(path) {
            return open;
        }
        let open = child_count == 1;
        if open {
            self.overrides.insert(path.to_owned(), true);
        }
        open
    }

    pub fn set(&mut self, path: &str, open: bool) {
        if self.overrides.insert(path.to_owned(), open) != Some(open) {
            self.generation += 1;
        }
    }

    pub fn toggle(&mut self, path: &str, child_count: usize) {
        let open = self.is_open(path, child_count);
        self.set(path, !open);
    }

    /// Opens every level above `topic`, so a selected topic is on screen.
    pub fn open_ancestors(&mut self, topic: &str) {
        for (i, _) in topic.match_indices('/') {
            self.set(&topic[..i], true);
        }
    }

    pub fn generation(&self) -> u64 {
        self.generation
    }
}

/// The rows to draw: the levels below open levels, depth first in the store's (sorted) order.
/// With `keep`, only those nodes are shown and all of them open (a search shows its matches).
/// Levels shown open by default are pinned open in `open`.
pub fn flatten(store: &MessageStore, open: &mut OpenState, keep: Option<&HashSet<NodeId>>) -> Vec<FlatRow> {
    let mut rows = Vec::new();
    let mut path = String::new();
    // (node, length of its parent's path or None at the top level, depth). An explicit stack:
    // topic depth is unbounded and must not overflow the call stack.
    let top: Vec<NodeId> = store.children(store.root()).collect();
    let mut stack: Vec<(NodeId, Option<usize>, usize)> = top.into_iter().rev().map(|c| (c, None, 0)).collect();
    let shown = |id: &NodeId| keep.is_none_or(|k| k.contains(id));
    while let Some((id, parent_len, depth)) = stack.pop() {
        if !shown(&id) {
            continue;
        }
        let Some(node) = store.node(id) else { continue };
        match parent_len {
            None => path.clear(),
            Some(len) => {
                path.truncate(len);
                path.push('/');
            }
        }
        path.push_str(node.name());
        let has_children = match keep {
            None => node.child_count() > 0,
            Some(_) => store.children(id).any(|c| shown(&c)),
        };
        let is_open = has_children && (keep.is_some() || open.pin_default(&path, node.child_count()));
        rows.push(FlatRow { id, depth, has_children, open: is_open });
        if is_open {
            let len = path.len();
            let children: Vec<NodeId> = store.children(id).collect();
            stack.extend(children.into_iter().rev().map(|c| (c, Some(len), depth + 1)));
        }
    }
    rows
}

/// What a search keeps: the matching topics and every level above them.
#[derive(Debug, Clone, Default)]
pub struct SearchHits {
    pub keep: HashSet<NodeId>,
    /// (matching topics, their messages) at and below each kept node: the tree's counts under a
    /// search count what matched, not the whole subtree.
    pub counts: HashMap<NodeId, (usize, usize)>,
    /// Topics matched (at most the limit).
    pub matches: usize,
    /// More topics matched than the limit; only the first are shown.
    pub capped: bool,
}

/// Topics whose path or latest payload contains `query` (case-insensitive), with their
/// ancestors, at most `limit` topics.
pub fn search(store: &MessageStore, query: &str, limit: usize) -> SearchHits {
    let found = store.search(query, limit.saturating_add(1));
    let capped = found.len() > limit;
    let found = &found[..found.len().min(limit)];
    let mut keep = HashSet::new();
    let mut counts: HashMap<NodeId, (usize, usize)> = HashMap::new();
    for &id in found {
        // The topic's own messages: a topic may also be a level with topics below it.
        let own = store.history(id).len();
        let mut cursor = Some(id);
        while let Some(current) = cursor {
            keep.insert(current);
            let count = counts.entry(current).or_default();
            count.0 += 1;
            count.1 += own;
            cursor = store.node(current).and_then(|n| n.parent());
        }
    }
    keep.remove(&store.root());
    counts.remove(&store.root());
    SearchHits { keep, counts, matches: found.len(), capped }
}

/// A row's text: `name  (topics/messages)`.
pub fn row_label(name: &str, topics: usize, messages: usize) -> String {
    format!("{name}  ({topics}/{messages})")
}

/// One line of a payload for the tree: a binary payload's first bytes in hex; text as lossy
/// UTF-8, whitespace runs folded to one space, other control characters shown as `·`, at most
/// `max_chars` characters and `…` if cut.
pub fn preview(payload: &[u8], max_chars: usize) -> String {
    if super::hex::looks_binary(payload) {
        return super::hex::hex_preview(payload, max_chars / 3);
    }
    // 4 bytes per character at most: no need to decode a megabyte for 60 characters.
    let head = &payload[..payload.len().min(max_chars.saturating_mul(4).saturating_add(4))];
    let text = String::from_utf8_lossy(head);
    let mut out = String::new();
    let mut count = 0;
    let mut last_space = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let c = if c.is_whitespace() {
            ' '
        } else if c.is_control() {
            '·'
        } else {
            c
        };
        if c == ' ' && last_space {
            continue;
        }
        if count == max_chars {
            out.push('…');
            break;
        }
        last_space = c == ' ';
        out.push(c);
        count += 1;
        if chars.peek().is_none() && head.len() < payload.len() {
            out.push('…');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::store::StoreLimits;
    use bytes::Bytes;

    fn store_with(topics: &[&str]) -> MessageStore {
        let mut store = MessageStore::new(StoreLimits::default());
        for topic in topics {
            store.insert(topic, 0, 0, false, Bytes::from_static(b"x"), 1);
        }
        store
    }

    fn paths(store: &MessageStore, rows: &[FlatRow]) -> Vec<String> {
        rows.iter().map(|r| store.path_of(r.id).expect("live")).collect()
    }

    #[test]
    fn single_child_chains_unfold_and_wide_levels_stay_closed() {
        let store = store_with(&["a/b/c", "a/b/d", "x"]);
        let rows = flatten(&store, &mut OpenState::default(), None);
        assert_eq!(paths(&store, &rows), ["a", "a/b", "x"]);
        assert!(rows[0].open && !rows[1].open && !rows[2].has_children);
        assert_eq!(rows[1].depth, 1);
    }

    #[test]
    fn a_level_open_by_default_stays_open_when_a_sibling_arrives() {
        let mut store = store_with(&["cems/v1/PK/GW/up/a", "cems/v1/PK/GW/up/b"]);
        let mut open = OpenState::default();
        let before = paths(&store, &flatten(&store, &mut open, None));
        assert_eq!(before, ["cems", "cems/v1", "cems/v1/PK", "cems/v1/PK/GW", "cems/v1/PK/GW/up"]);
        store.insert("cems/v1/PK/AA/up/a", 0, 0, false, Bytes::from_static(b"x"), 1);
        let after = paths(&store, &flatten(&store, &mut open, None));
        assert_eq!(
            after,
            [
                "cems",
                "cems/v1",
                "cems/v1/PK",
                "cems/v1/PK/AA",
                "cems/v1/PK/AA/up",
                "cems/v1/PK/AA/up/a",
                "cems/v1/PK/GW",
                "cems/v1/PK/GW/up"
            ],
            "PK now has two children and stays open; the new chain unfolds by itself"
        );
    }

    #[test]
    fn open_state_is_kept_by_path_across_new_topics_that_sort_first() {
        let mut store = store_with(&["m/1", "m/2"]);
        let mut open = OpenState::default();
        open.set("m", true);
        assert_eq!(paths(&store, &flatten(&store, &mut open, None)), ["m", "m/1", "m/2"]);
        store.insert("a/0", 0, 0, false, Bytes::from_static(b"x"), 1);
        store.insert("m/0", 0, 0, false, Bytes::from_static(b"x"), 1);
        assert_eq!(paths(&store, &flatten(&store, &mut open, None)), ["a", "a/0", "m", "m/0", "m/1", "m/2"]);
        open.toggle("m", 3);
        assert_eq!(paths(&store, &flatten(&store, &mut open, None)), ["a", "a/0", "m"]);
    }

    #[test]
    fn open_ancestors_opens_every_level_above() {
        let store = store_with(&["a/b/c", "a/b/d", "a/e", "z/1", "z/2"]);
        let mut open = OpenState::default();
        open.open_ancestors("a/b/c");
        assert_eq!(paths(&store, &flatten(&store, &mut open, None)), ["a", "a/b", "a/b/c", "a/b/d", "a/e", "z"]);
        assert!(open.is_open("a", 2));
        assert!(!open.is_open("a/b/c", 0));
    }

    #[test]
    fn search_keeps_matches_and_their_ancestors_only() {
        let mut store = store_with(&["cems/v1/PK/GW/up/point/report", "cems/v1/PK/GW/up/info/report", "other/x"]);
        store.insert("other/y", 0, 0, false, Bytes::from_static(b"{\"Ua\":231}"), 1);
        let hits = search(&store, "POINT", 100);
        assert_eq!((hits.matches, hits.capped), (1, false));
        let rows = flatten(&store, &mut OpenState::default(), Some(&hits.keep));
        assert_eq!(rows.len(), 7);
        assert_eq!(paths(&store, &rows).last().map(String::as_str), Some("cems/v1/PK/GW/up/point/report"));
        assert!(rows.iter().take(6).all(|r| r.open && r.has_children));

        let hits = search(&store, "ua", 100);
        assert_eq!(paths(&store, &flatten(&store, &mut OpenState::default(), Some(&hits.keep))), ["other", "other/y"]);

        let hits = search(&store, "report", 1);
        assert_eq!((hits.matches, hits.capped), (1, true));
        assert!(search(&store, "nowhere", 10).keep.is_empty());
    }

    #[test]
    fn search_counts_only_what_matched() {
        let mut store = store_with(&["a/x/1", "a/x/2", "a/y", "b"]);
        store.insert("a/x/1", 0, 0, false, Bytes::from_static(b"x"), 1);
        // "a/x" is both a topic and a level.
        store.insert("a/x", 0, 0, false, Bytes::from_static(b"hit"), 1);
        let hits = search(&store, "/X", 100);
        let count = |path: &str| store.find(path).and_then(|id| hits.counts.get(&id).copied());
        assert_eq!(count("a/x/1"), Some((1, 2)));
        assert_eq!(count("a/x"), Some((3, 4)), "itself and both topics below it");
        assert_eq!(count("a"), Some((3, 4)), "a/y did not match");
        assert_eq!(count("a/y"), None);
        assert_eq!(count("b"), None);
        let hits = search(&store, "hit", 100);
        assert_eq!(store.find("a").and_then(|id| hits.counts.get(&id).copied()), Some((1, 1)));
    }

    #[test]
    fn ten_thousand_topics_flatten_fully_open() {
        let topics: Vec<String> = (0..10_000).map(|i| format!("cems/v1/pk{}/dev{}/up/point/report", i / 100, i % 100)).collect();
        let refs: Vec<&str> = topics.iter().map(String::as_str).collect();
        let store = store_with(&refs);
        let mut open = OpenState::default();
        for topic in &topics {
            open.open_ancestors(topic);
        }
        let rows = flatten(&store, &mut open, None);
        // cems, v1, 100 pk levels, and 6 levels (dev, up, point, report… ) per topic below them.
        assert_eq!(rows.len(), 2 + 100 + 10_000 * 4);
        assert_eq!(rows.iter().filter(|r| !r.has_children).count(), 10_000);
    }

    #[test]
    fn previews_are_one_short_line() {
        assert_eq!(preview(b"{\"a\":\n  1}", 60), "{\"a\": 1}");
        assert_eq!(preview(b"abcdef", 3), "abc…");
        assert_eq!(preview(b"abc", 3), "abc");
        assert_eq!(preview(b"a\x1bb\tc", 10), "a·b c", "an escape is text, shown as ·");
        assert_eq!(preview(&[0xff, b'a', 0x01], 10), "ff 61 01", "binary in hex");
        assert_eq!(preview(&vec![0u8; 10 * 1024 * 1024], 9), "00 00 00 …");
        assert_eq!(preview("温度过高".as_bytes(), 2), "温度…");
        let long = vec![b'x'; 1_000_000];
        assert_eq!(preview(&long, 5), "xxxxx…");
    }

    #[test]
    fn row_label_shows_counts() {
        assert_eq!(row_label("report", 1, 12), "report  (1/12)");
    }
}

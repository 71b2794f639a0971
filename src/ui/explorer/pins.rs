//! Pinning from the topic tree: a subtree (or one topic) the engineer is looking at is kept when
//! the store is full, up to the pinned share of its budget. The store pins plain prefixes; a
//! subtree's prefix ends with `/`, so pinning `cems/v1/PK/GW` does not pin `cems/v1/PK/GW2`.

use egui::Ui;

use crate::ui::ViewContext;

/// The pin that covers a row: its own, or one of a level above.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinCover {
    pub prefix: String,
    /// The row's own pin (it can be taken back here), not one inherited from above.
    pub own: bool,
}

/// The prefix that pins the row at `path`: its subtree when it has children, else the topic.
pub fn prefix_of(path: &str, has_children: bool) -> String {
    if has_children { format!("{path}/") } else { path.to_owned() }
}

/// Which of `pins` covers the row at `path`, if any; its own pin first.
pub fn cover(pins: &[String], path: &str, has_children: bool) -> Option<PinCover> {
    let own = prefix_of(path, has_children);
    if pins.contains(&own) {
        return Some(PinCover { prefix: own, own: true });
    }
    let subtree = format!("{path}/");
    pins.iter()
        .find(|pin| path.starts_with(pin.as_str()) || subtree.starts_with(pin.as_str()))
        .map(|pin| PinCover { prefix: pin.clone(), own: false })
}

/// The pin entries of a row's right-click menu; returns `(prefix, pinned)` when one was picked.
pub fn menu_ui(ui: &mut Ui, ctx: &ViewContext, path: &str, has_children: bool, cover: Option<&PinCover>) -> Option<(String, bool)> {
    match cover {
        Some(pin) if pin.own => {
            if ui.button(ctx.tr("Unpin")).clicked() {
                ui.close();
                return Some((pin.prefix.clone(), false));
            }
        }
        Some(pin) => {
            ui.add_enabled(false, egui::Button::new(ctx.tr("Pinned by {prefix}").replace("{prefix}", &pin.prefix)));
        }
        None => {
            let label = if has_children { ctx.tr("Pin this subtree (keep when the store is full)") } else { ctx.tr("Pin this topic (keep when the store is full)") };
            if ui.button(label).clicked() {
                ui.close();
                return Some((prefix_of(path, has_children), true));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subtree_pin_ends_with_a_slash_and_does_not_cover_a_sibling() {
        let pins = vec!["cems/v1/PK/GW/".to_string()];
        assert_eq!(cover(&pins, "cems/v1/PK/GW", true), Some(PinCover { prefix: "cems/v1/PK/GW/".into(), own: true }));
        assert_eq!(cover(&pins, "cems/v1/PK/GW/up/status", false), Some(PinCover { prefix: "cems/v1/PK/GW/".into(), own: false }));
        assert_eq!(cover(&pins, "cems/v1/PK/GW2", true), None);
        assert_eq!(cover(&pins, "cems/v1/PK", true), None);
    }

    #[test]
    fn a_topic_pin_is_its_own_and_covers_nothing_above() {
        let pins = vec!["a/b/c".to_string()];
        assert_eq!(cover(&pins, "a/b/c", false), Some(PinCover { prefix: "a/b/c".into(), own: true }));
        assert_eq!(cover(&pins, "a/b", true), None);
        assert_eq!(prefix_of("a/b", true), "a/b/");
        assert_eq!(prefix_of("a/b/c", false), "a/b/c");
    }
}

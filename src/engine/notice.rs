//! The text of a notice: a catalogue key (its English template, `{name}` slots) and the values of
//! its slots, so the window can show it in its own language while the CLI and the logs read the
//! English. A slot's value is either text as it came (an OS error, a topic) or another notice
//! text, translated in turn.

use std::fmt;
use std::ops::Deref;

/// The key of the notice that counts events dropped for a slow reader (the engine looks for it).
pub const EVENTS_DROPPED: &str = "{n} events dropped (forwarded messages, repeated changes): the reader was too slow";

/// Keys the engine builds notices from without writing them as a literal `NoticeText::new("…"`;
/// the UI's catalogue test checks these too.
pub const KEYS_BY_NAME: &[&str] = &[EVENTS_DROPPED];

/// The key of a text the engine has no words for: it is shown as it came.
const PLAIN: &str = "{text}";

/// The value of one `{name}` slot.
#[derive(Debug, Clone, PartialEq)]
pub enum NoticeArg {
    /// Shown as it is in every language.
    Raw(String),
    /// Translated like the notice itself.
    Text(NoticeText),
}

impl From<String> for NoticeArg {
    fn from(text: String) -> Self {
        NoticeArg::Raw(text)
    }
}

impl From<&str> for NoticeArg {
    fn from(text: &str) -> Self {
        NoticeArg::Raw(text.to_owned())
    }
}

impl From<NoticeText> for NoticeArg {
    fn from(text: NoticeText) -> Self {
        NoticeArg::Text(text)
    }
}

/// A notice's text; reads as its English (`Deref<Target = str>`, `Display`).
#[derive(Debug, Clone, PartialEq)]
pub struct NoticeText {
    key: &'static str,
    args: Vec<(&'static str, NoticeArg)>,
    english: String,
}

impl NoticeText {
    /// The notice of catalogue key `key` with its slots filled by `args`.
    pub fn new(key: &'static str, args: Vec<(&'static str, NoticeArg)>) -> Self {
        let mut text = NoticeText { key, args, english: String::new() };
        text.english = text.render(&|k| k);
        text
    }

    /// A text with no catalogue key: shown as it came in every language.
    pub fn plain(text: impl Into<String>) -> Self {
        NoticeText::new(PLAIN, vec![("text", NoticeArg::Raw(text.into()))])
    }

    pub fn key(&self) -> &'static str {
        self.key
    }

    pub fn args(&self) -> &[(&'static str, NoticeArg)] {
        &self.args
    }

    /// The text with each key (this one and those of its slots) passed through `translate`.
    /// Slots are filled in one pass: a value that holds `{name}` is not filled again.
    pub fn render(&self, translate: &dyn Fn(&'static str) -> &'static str) -> String {
        let template = if self.key == PLAIN { PLAIN } else { translate(self.key) };
        fill_slots(template, |name, out| match self.args.iter().find(|(n, _)| *n == name) {
            Some((_, NoticeArg::Raw(raw))) => {
                out.push_str(raw);
                true
            }
            Some((_, NoticeArg::Text(inner))) => {
                out.push_str(&inner.render(translate));
                true
            }
            None => false,
        })
    }
}

/// Fills each `{name}` of `template` in one pass: `slot(name, out)` writes the value and says
/// whether it knew the name (an unknown one stays as written). A value holding `{name}` is not
/// filled again, so a file name or an OS error cannot pull in another slot.
pub fn fill_slots(template: &str, mut slot: impl FnMut(&str, &mut String) -> bool) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}').map(|close| &after[..close]) {
            Some(name) if slot(name, &mut out) => rest = &after[name.len() + 1..],
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

impl From<String> for NoticeText {
    fn from(text: String) -> Self {
        NoticeText::plain(text)
    }
}

impl From<&str> for NoticeText {
    fn from(text: &str) -> Self {
        NoticeText::plain(text)
    }
}

impl Deref for NoticeText {
    type Target = str;

    fn deref(&self) -> &str {
        &self.english
    }
}

impl fmt::Display for NoticeText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.english)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notice_reads_as_its_english_and_renders_in_another_language() {
        let inner = NoticeText::new("link closed: {error}", vec![("error", "connection reset".into())]);
        let text = NoticeText::new("{what}: {failure}", vec![("what", "PK/GW info/get".into()), ("failure", inner.into())]);
        assert_eq!(&*text, "PK/GW info/get: link closed: connection reset");
        assert_eq!(text.to_string(), "PK/GW info/get: link closed: connection reset");
        let zh = text.render(&|k| if k == "link closed: {error}" { "链路已关闭：{error}" } else { k });
        assert_eq!(zh, "PK/GW info/get: 链路已关闭：connection reset");
    }

    #[test]
    fn slots_are_filled_once_and_unknown_braces_stay() {
        let text = NoticeText::new("{a} and {b} {c", vec![("a", "{b}".into()), ("b", "x".into())]);
        assert_eq!(&*text, "{b} and x {c");
        assert_eq!(&*NoticeText::new("{unknown}: {a}", vec![("a", "1".into())]), "{unknown}: 1");
    }

    #[test]
    fn a_plain_text_stays_as_it_came() {
        let text = NoticeText::plain("session 3 does not exist");
        assert_eq!(text.render(&|_| "翻译"), "session 3 does not exist");
        assert_eq!(NoticeText::plain("x {text} y").render(&|k| k), "x {text} y");
    }
}

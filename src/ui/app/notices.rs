//! The status bar's notices: kept as catalogue keys with their values and put into words when
//! drawn, so they follow the UI language, also after it is switched. What came from elsewhere
//! (an OS error, a gateway's `msg`, a topic) stays a value, shown as it came.

use super::{Notice, WorkbenchApp};
use crate::engine::notice::{NoticeArg, NoticeText};
use crate::engine::{EngineStopped, RequestFailure, RequestOutcome, SessionId};
use crate::protocol::model::Lang;
use crate::protocol::time::now_ms;
use crate::ui::i18n;

impl Notice {
    /// The notice in `lang`.
    pub fn text_in(&self, lang: Lang) -> String {
        self.text.render(&|key| i18n::tr(lang, key))
    }
}

impl From<EngineStopped> for NoticeText {
    fn from(_: EngineStopped) -> Self {
        NoticeText::new("the engine has stopped", Vec::new())
    }
}

/// Why a request got no usable reply, in catalogue keys.
pub fn request_failure(failure: &RequestFailure) -> NoticeText {
    match failure {
        RequestFailure::Timeout { after_ms } => NoticeText::new("no reply within {ms} ms", vec![("ms", after_ms.to_string().into())]),
        RequestFailure::NoSession(s) => NoticeText::new("session {session} does not exist", vec![("session", s.to_string().into())]),
        RequestFailure::LinkClosed(e) => NoticeText::new("link closed: {error}", vec![("error", e.as_str().into())]),
        RequestFailure::Encode(e) => NoticeText::new("cannot send: {error}", vec![("error", e.as_str().into())]),
        RequestFailure::Superseded => NoticeText::new("superseded by a retry with the same id", Vec::new()),
        RequestFailure::ReadOnly(s) => NoticeText::new("session {session} is read-only: nothing is sent", vec![("session", s.to_string().into())]),
    }
}

/// The notice of a request that failed or was answered with a code other than 0; None for a
/// success.
pub fn request_done(outcome: &RequestOutcome) -> Option<NoticeText> {
    let what: NoticeArg = format!("{}/{} {}/{}", outcome.pk, outcome.dev, outcome.class, outcome.action).into();
    match &outcome.result {
        Err(failure) => Some(NoticeText::new("{what}: {failure}", vec![("what", what), ("failure", request_failure(failure).into())])),
        Ok(reply) if reply.code != 0 => {
            // The gateway's own words stay as sent; without any, the code's name.
            let msg = reply.msg.as_deref().unwrap_or(reply.name);
            Some(NoticeText::new("{what}: code {code} {msg}", vec![("what", what), ("code", reply.code.to_string().into()), ("msg", msg.into())]))
        }
        Ok(_) => None,
    }
}

impl WorkbenchApp {
    /// Keeps `text` among the latest notices (the oldest goes when full).
    /// Notices of start-up work that has finished (each reports once).
    pub(super) fn poll_background(&mut self) {
        let mut done = Vec::new();
        self.background.retain(|rx| match rx.try_recv() {
            Ok(texts) => {
                done.extend(texts);
                false
            }
            Err(std::sync::mpsc::TryRecvError::Empty) => true,
            Err(std::sync::mpsc::TryRecvError::Disconnected) => false,
        });
        for text in done {
            self.notice(None, text);
        }
    }

    pub(super) fn notice(&mut self, session: Option<SessionId>, text: impl Into<NoticeText>) {
        if self.notices.len() == super::NOTICE_CAPACITY {
            self.notices.pop_front();
        }
        self.notices.push_back(Notice { at_ms: now_ms(), session, text: text.into() });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every key a notice is made of, in the UI and in the engine, has its Chinese: the literal
    /// keys of `NoticeText::new` calls in the sources, and the keys the engine names.
    #[test]
    fn every_notice_key_has_chinese() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut missing: Vec<String> = crate::engine::notice::KEYS_BY_NAME.iter().filter(|k| !i18n::has_chinese(k)).map(|k| format!("{k:?}")).collect();
        let mut found = 0;
        let mut stack = vec![root.join("ui"), root.join("engine")];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                // Unit tests make up keys of their own.
                let text = text.split("#[cfg(test)]").next().unwrap_or_default();
                for (i, pattern) in text.match_indices("NoticeText::new(\"") {
                    // Comments that quote the pattern are not calls.
                    let line_start = text[..i].rfind('\n').map_or(0, |n| n + 1);
                    if text[line_start..i].trim_start().starts_with("//") {
                        continue;
                    }
                    let rest = &text[i + pattern.len()..];
                    let Some(end) = rest.find('"') else { continue };
                    found += 1;
                    if !i18n::has_chinese(&rest[..end]) {
                        missing.push(format!("{}: {:?}", path.display(), &rest[..end]));
                    }
                }
            }
        }
        assert!(found > 20, "the scan found only {found} notice keys: has the pattern changed?");
        assert!(missing.is_empty(), "notice keys without Chinese:\n{}", missing.join("\n"));
    }

    #[test]
    fn a_failed_request_reads_in_chinese_with_the_gateways_words_kept() {
        let mut outcome = RequestOutcome {
            id: "1".into(),
            session: 1,
            pk: "PK".into(),
            dev: "GW".into(),
            class: "info".into(),
            action: "get".into(),
            result: Err(RequestFailure::Timeout { after_ms: 5000 }),
            latency_ms: 0.0,
        };
        let text = request_done(&outcome).unwrap();
        assert_eq!(&*text, "PK/GW info/get: no reply within 5000 ms");
        let zh = text.render(&|k| i18n::tr(Lang::Zh, k));
        assert!(zh.starts_with("PK/GW info/get") && zh.contains("5000") && !zh.contains("no reply"), "{zh}");
        outcome.result = Err(RequestFailure::LinkClosed("connection reset by peer".into()));
        let zh = request_done(&outcome).unwrap().render(&|k| i18n::tr(Lang::Zh, k));
        assert!(zh.contains("connection reset by peer") && !zh.contains("link closed"), "{zh}");
    }
}

//! What the engine and the local services report, turned into view state and notices.

use super::WorkbenchApp;
use super::notices::request_done;
use crate::engine::notice::NoticeText;
use crate::engine::EngineEvent;
use crate::transport::{LinkKind, LinkState};
use crate::ui::local::{LocalEvent, LocalPlan, client_id};
use crate::ui::{SessionView, UiCommand};

impl WorkbenchApp {
    pub(super) fn on_event(&mut self, event: EngineEvent) {
        match event {
            EngineEvent::SessionState { session, state, attempts } => {
                if state == LinkState::Closed && self.closing.remove(&session) {
                    self.sessions.remove(&session);
                    return;
                }
                let view = self.sessions.entry(session).or_insert_with(|| SessionView {
                    // A session opened behind the app's back (none today): show what we know.
                    id: session,
                    label: format!("#{session}"),
                    target: String::new(),
                    kind: LinkKind::Mqtt,
                    state: state.clone(),
                    attempts,
                    frames_dropped: 0,
                    profile: None,
                    read_only: false,
                    replay: None,
                });
                view.state = state;
                view.attempts = attempts;
            }
            EngineEvent::FramesDropped { session, total } => {
                if let Some(view) = self.sessions.get_mut(&session) {
                    view.frames_dropped = total;
                }
            }
            EngineEvent::RequestDone(outcome) => {
                if let Some(text) = request_done(&outcome) {
                    self.notice(Some(outcome.session), text);
                }
            }
            EngineEvent::Notice { session, text } => self.notice(session, text),
            // The panels read gateways, messages and transfers from the shared state.
            EngineEvent::Message { .. }
            | EngineEvent::RequestSent { .. }
            | EngineEvent::ChunkServed { .. }
            | EngineEvent::Transfer(_)
            | EngineEvent::GatewayChanged(_)
            | EngineEvent::StationChanged(_)
            | EngineEvent::StorageCommandDone(_) => {}
        }
    }

    /// Brings the embedded broker and the demo up again as the settings now say; the
    /// session to the old broker closes when the new one is up.
    pub(super) fn restart_local(&mut self) {
        let Some(local) = self.local.as_mut() else {
            return self.notice(None, NoticeText::new("The embedded broker was not started: it starts with the window.", Vec::new()));
        };
        let plan = LocalPlan::of(&self.settings, local.plan().demo);
        local.restart(plan);
        self.notice(None, NoticeText::new("Restarting the embedded broker…", Vec::new()));
    }

    pub(super) fn poll_local(&mut self) {
        let Some(local) = self.local.as_mut() else { return };
        for event in local.poll() {
            match event {
                LocalEvent::BrokerUp { addr, fallback, access } => {
                    // A restarted broker: the session to the old one goes.
                    if let Some(old) = self.local_session.take() {
                        self.apply(vec![UiCommand::Disconnect(old)]);
                    }
                    let config = access.link_config(client_id());
                    self.local_session = self.open_session(config, access.url.clone(), None, false);
                    let addr = vec![("addr", addr.to_string().into())];
                    let text = if fallback {
                        NoticeText::new("Embedded broker listening on {addr} (port 1883 was taken)", addr)
                    } else {
                        NoticeText::new("Embedded broker listening on {addr}", addr)
                    };
                    self.notice(None, text);
                }
                LocalEvent::BrokerFailed(e) => {
                    let text = NoticeText::new("Embedded broker failed: {error}", vec![("error", e.into())]);
                    self.notice(None, text);
                }
                LocalEvent::DemoUp { pk, dev } => {
                    let text = NoticeText::new("Demo gateway started: {pk}/{dev}", vec![("pk", pk.into()), ("dev", dev.into())]);
                    self.notice(None, text);
                }
                LocalEvent::DemoFailed(e) => {
                    let text = NoticeText::new("Demo gateway failed: {error}", vec![("error", e.into())]);
                    self.notice(None, text);
                }
            }
        }
    }
}

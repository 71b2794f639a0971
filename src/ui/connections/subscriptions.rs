//! Each MQTT session's subscriptions: the workbench's own filters, listed but not removable, and
//! the user's (any valid filter, `#` included, at QoS 0 or 1), added and removed live, kept in
//! the session's profile and subscribed again when a session of that profile opens.
//!
//! The workbench's filters cannot be removed: the master filter carries the gateways' uplinks and
//! the replies to our requests, the acknowledgement filters show other masters' acknowledgements;
//! without them requests time out and alarms look unacknowledged, with no error to explain why.
//! For the same reason one of them cannot be added again as the user's (its removal would
//! unsubscribe the workbench's own) nor at another QoS (it would downgrade the replies).

use egui::{Button, RichText, TextEdit};

use crate::protocol::topic_filter::{FilterProblem, check_filter};
use crate::transport::{LinkState, Subscription};
use crate::ui::widgets::fill;
use crate::ui::{SessionView, ViewContext};

/// The QoS levels offered: the contract uses 0 and 1 only (§4).
pub const QOS_LEVELS: [u8; 2] = [0, 1];

/// The user's subscriptions of one session and the filter being typed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SessionSubscriptions {
    /// In the order added.
    pub user: Vec<Subscription>,
    pub draft: String,
    pub draft_qos: u8,
}

/// Why the typed filter cannot be added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DraftProblem {
    Filter(FilterProblem),
    /// One of the workbench's own filters.
    Workbench,
    /// Already subscribed at that QoS.
    Held,
}

/// What the user changed on a session, for the panel to send and to save in the profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Added(Subscription),
    Removed(String),
}

impl SessionSubscriptions {
    /// A session starting with `user` (its profile's), drafting at QoS 1.
    pub fn new(user: Vec<Subscription>) -> Self {
        SessionSubscriptions { user, draft: String::new(), draft_qos: Subscription::default_qos() }
    }

    /// Why the draft cannot be added, if it cannot.
    pub fn draft_problem(&self, defaults: &[String]) -> Option<DraftProblem> {
        if let Err(problem) = check_filter(&self.draft) {
            return Some(DraftProblem::Filter(problem));
        }
        if defaults.contains(&self.draft) {
            return Some(DraftProblem::Workbench);
        }
        self.user.iter().any(|s| s.filter == self.draft && s.qos == self.draft_qos).then_some(DraftProblem::Held)
    }

    /// Adds `subscription`, or changes the QoS of the same filter held.
    pub fn add(&mut self, subscription: Subscription) {
        match self.user.iter_mut().find(|s| s.filter == subscription.filter) {
            Some(held) => held.qos = subscription.qos,
            None => self.user.push(subscription),
        }
    }

    /// Removes `filter`; false when it was not there.
    pub fn remove(&mut self, filter: &str) -> bool {
        let before = self.user.len();
        self.user.retain(|s| s.filter != filter);
        self.user.len() != before
    }

    /// The draft as a subscription, when it can be added; the field is cleared then.
    fn take_draft(&mut self, defaults: &[String]) -> Option<Subscription> {
        if self.draft_problem(defaults).is_some() {
            return None;
        }
        let subscription = Subscription::new(std::mem::take(&mut self.draft), self.draft_qos);
        self.add(subscription.clone());
        Some(subscription)
    }
}

/// The catalogue text of a draft's problem.
pub fn draft_problem_text(ctx: &ViewContext, problem: DraftProblem) -> String {
    let reason = match problem {
        DraftProblem::Filter(FilterProblem::Empty) => ctx.tr("Type a filter, e.g. plant/meter/# or #."),
        DraftProblem::Filter(FilterProblem::HashNotLast) => ctx.tr("# may only be the last level."),
        DraftProblem::Filter(FilterProblem::HashNotWholeLevel) => ctx.tr("# must be a whole level (a/#, not a#)."),
        DraftProblem::Filter(FilterProblem::PlusNotWholeLevel) => ctx.tr("+ must be a whole level (a/+/b, not a+)."),
        DraftProblem::Filter(FilterProblem::Nul) => ctx.tr("A filter cannot hold a NUL character."),
        DraftProblem::Filter(FilterProblem::TooLong) => ctx.tr("A filter is at most 65535 bytes."),
        DraftProblem::Workbench => return ctx.tr("The workbench subscribes to this filter already.").to_owned(),
        DraftProblem::Held => return ctx.tr("Already subscribed at this QoS.").to_owned(),
    };
    fill(ctx.tr("Invalid filter: {reason}"), &[("reason", reason)])
}

/// The subscriptions of one session, in a collapsed section under its state line. Returns what
/// the user changed this frame.
pub fn subscriptions_ui(ui: &mut egui::Ui, ctx: &ViewContext, session: &SessionView, subs: &mut SessionSubscriptions, defaults: &[String]) -> Option<Change> {
    let mut change = None;
    let title = fill(ctx.tr("Subscriptions ({n})"), &[("n", &(defaults.len() + subs.user.len()).to_string())]);
    egui::CollapsingHeader::new(title).id_salt(("subscriptions", session.id)).show(ui, |ui| {
        let workbench_note = ctx.tr(
            "The workbench's own filter: the gateways' uplinks, the replies to requests and the acknowledgements arrive through it, so it cannot be removed.",
        );
        for filter in defaults {
            ui.horizontal_wrapped(|ui| {
                ui.monospace(filter);
                ui.weak(fill(ctx.tr("QoS {n}"), &[("n", "1")]));
                ui.weak(ctx.tr("workbench")).on_hover_text(workbench_note);
            });
        }
        let open = session.state != LinkState::Closed;
        for subscription in &subs.user {
            ui.horizontal_wrapped(|ui| {
                ui.monospace(&subscription.filter);
                ui.weak(fill(ctx.tr("QoS {n}"), &[("n", &subscription.qos.to_string())]));
                let remove = Button::new(ctx.tr("Remove")).small();
                let name = format!("{} {}", ctx.tr("Remove"), subscription.filter);
                if ui.add_enabled(open, remove).accessible_name(name).clicked() {
                    change = Some(Change::Removed(subscription.filter.clone()));
                }
            });
        }
        if let Some(Change::Removed(filter)) = &change {
            subs.remove(filter);
        }
        if open && let Some(added) = add_row_ui(ui, ctx, subs, defaults) {
            change = Some(Change::Added(added));
        }
        match &session.profile {
            Some(name) => ui.weak(fill(ctx.tr("Kept in profile {name} and subscribed when it connects."), &[("name", name)])),
            None => ui.weak(ctx.tr("Not kept: this session has no saved profile.")),
        };
    });
    change
}

/// The field, the QoS choice and "Subscribe"; the draft's problem under them.
fn add_row_ui(ui: &mut egui::Ui, ctx: &ViewContext, subs: &mut SessionSubscriptions, defaults: &[String]) -> Option<Subscription> {
    let mut submit = false;
    ui.horizontal_wrapped(|ui| {
        let label = ui.label(ctx.tr("New filter"));
        let width = (ui.available_width() - 8.0).clamp(80.0, 220.0);
        let field = ui.add(TextEdit::singleline(&mut subs.draft).hint_text("plant/meter/#").desired_width(width)).labelled_by(label.id);
        submit = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
    });
    let problem = subs.draft_problem(defaults);
    ui.horizontal_wrapped(|ui| {
        for qos in QOS_LEVELS {
            ui.radio_value(&mut subs.draft_qos, qos, fill(ctx.tr("QoS {n}"), &[("n", &qos.to_string())]));
        }
        let mut button = ui.add_enabled(problem.is_none(), Button::new(ctx.tr("Subscribe")));
        if let Some(problem) = problem {
            button = button.on_disabled_hover_text(draft_problem_text(ctx, problem));
        }
        submit |= button.clicked();
    });
    // An empty field is not an error yet: the button says what is missing.
    if let Some(problem) = problem.filter(|_| !subs.draft.is_empty()) {
        ui.add(egui::Label::new(RichText::new(draft_problem_text(ctx, problem)).color(ui.visuals().error_fg_color)).wrap());
    }
    if submit { subs.take_draft(defaults) } else { None }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> Vec<String> {
        vec!["cems/v1/+/+/up/#".to_owned()]
    }

    #[test]
    fn drafts_are_checked_against_the_rules_and_the_held_filters() {
        let mut subs = SessionSubscriptions::new(vec![Subscription::new("plant/#", 0)]);
        assert_eq!(subs.draft_qos, 1);
        assert_eq!(subs.draft_problem(&defaults()), Some(DraftProblem::Filter(FilterProblem::Empty)));
        subs.draft = "a/#/b".into();
        assert_eq!(subs.draft_problem(&defaults()), Some(DraftProblem::Filter(FilterProblem::HashNotLast)));
        subs.draft = "cems/v1/+/+/up/#".into();
        assert_eq!(subs.draft_problem(&defaults()), Some(DraftProblem::Workbench));
        subs.draft = "plant/#".into();
        subs.draft_qos = 0;
        assert_eq!(subs.draft_problem(&defaults()), Some(DraftProblem::Held));
        // The same filter at another QoS changes it, in place.
        subs.draft_qos = 1;
        assert_eq!(subs.take_draft(&defaults()), Some(Subscription::new("plant/#", 1)));
        assert_eq!(subs.user, vec![Subscription::new("plant/#", 1)]);
        assert!(subs.draft.is_empty());
        subs.draft = "#".into();
        assert_eq!(subs.take_draft(&defaults()), Some(Subscription::new("#", 1)));
        assert!(subs.remove("plant/#"));
        assert!(!subs.remove("plant/#"));
        assert_eq!(subs.user, vec![Subscription::new("#", 1)]);
    }
}

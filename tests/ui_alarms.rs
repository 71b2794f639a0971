//! The device page's Alarms and Logs tabs under egui_kittest, fed by a real engine: the
//! embedded broker and the simulator serving the built-in energy gateway. An alarm the simulator
//! raises and clears shows as one row with its duration and our acknowledgement, and puts a badge
//! on the tab's title until the tab is looked at; the log table filters by level, module and text.

use std::time::{Duration, Instant};

use cems_workbench::engine::gateways::alarm_log::AlarmRow;
use cems_workbench::engine::{Engine, EngineConfig, EngineHandle, GatewayKey};
use cems_workbench::protocol::model::{Lang, ModelSet};
use cems_workbench::protocol::time::now_ms;
use cems_workbench::protocol::topic::TopicProfile;
use cems_workbench::sim::{self, SimConfig, SimHandle};
use cems_workbench::transport::broker::{BrokerConfig, EmbeddedBroker};
use cems_workbench::transport::mqtt::MqttConfig;
use cems_workbench::transport::{LinkConfig, LinkKind, LinkState};
use cems_workbench::ui::device::DevicePage;
use cems_workbench::ui::device::alarms::duration_text;
use cems_workbench::ui::{SessionView, Sessions, UiCommand, ViewContext};
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

const PK: &str = "PK-GW-01";
const DEV: &str = "GW-ALARM";

struct State {
    page: DevicePage,
    commands: Vec<UiCommand>,
    sessions: Sessions,
    engine: EngineHandle,
    models: ModelSet,
    profile: TopicProfile,
}

/// Everything that must outlive the frames: the runtime last.
struct Bench {
    sim: SimHandle,
    _broker: EmbeddedBroker,
    _files: tempfile::TempDir,
    _rt: tokio::runtime::Runtime,
}

fn key() -> GatewayKey {
    GatewayKey { pk: PK.into(), dev: DEV.into() }
}

fn start() -> (Harness<'static, State>, Bench) {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().worker_threads(2).build().expect("test runtime");
    let broker = rt.block_on(EmbeddedBroker::start(BrokerConfig::ephemeral())).expect("embedded broker");
    let url = broker.url();
    let files = tempfile::tempdir().unwrap();
    let (engine, sim) = {
        let _entered = rt.enter();
        let (engine, _events) = Engine::spawn_with(EngineConfig::default(), || {}).expect("engine");
        engine.connect(LinkConfig::Mqtt(MqttConfig::new(url.clone(), "wb-ui-alarms")), engine.default_session_options("lab")).expect("connect");
        let mut config = SimConfig::new(ModelSet::builtin(), PK, DEV, LinkConfig::Mqtt(MqttConfig::new(url.clone(), "x")), files.path().to_path_buf());
        config.report_period_ms = Some(200);
        (engine, sim::spawn(config).expect("simulator"))
    };
    let mut sessions = Sessions::new();
    sessions.insert(1, SessionView { id: 1, label: "lab".into(), target: url, kind: LinkKind::Mqtt, state: LinkState::Up, attempts: 1, frames_dropped: 0, profile: None, read_only: false, replay: None });
    let state = State { page: DevicePage::new(key()), commands: Vec::new(), sessions, engine, models: ModelSet::builtin(), profile: TopicProfile::builtin() };
    let harness = Harness::builder()
        .with_size(egui::vec2(1400.0, 1600.0))
        .with_context_setup(cems_workbench::ui::fonts::install)
        .build_ui_state(
            |ui, s: &mut State| {
                let ctx = ViewContext { lang: Lang::En, state: &s.engine.state, sessions: &s.sessions, models: &s.models, profile: &s.profile, now_ms: now_ms() };
                s.page.ui(ui, &ctx, &mut s.commands);
            },
            state,
        );
    (harness, Bench { sim, _broker: broker, _files: files, _rt: rt })
}

fn run_until(harness: &mut Harness<'static, State>, what: &str, done: impl Fn(&Harness<'static, State>) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        harness.run_steps(2);
        if done(harness) {
            harness.run_steps(2);
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(30));
    }
}

fn over_voltage(h: &Harness<'static, State>) -> Option<AlarmRow> {
    let g = h.state().engine.state.gateways();
    g.get(&key())?.alarm_log.rows.iter().find(|r| r.alarm_type == "overVoltage").cloned()
}

#[test]
fn a_raised_alarm_badges_the_tab_until_seen_and_pairs_with_its_clear() {
    let (mut harness, bench) = start();
    run_until(&mut harness, "the gateway online", |h| h.state().engine.state.gateways().get(&key()).is_some_and(|g| g.online == Some(true)));
    // Ua of meter-1 past its upper threshold for 1.5 s: raised, then cleared.
    let forced = bench.sim.with_state(|s| {
        let now = s.now_ms();
        let dev = s.devices.iter_mut().find(|d| d.sub == "meter-1")?;
        Some(dev.points.iter_mut().find(|p| p.pid == "Ua")?.force_excursion(true, now, 1_500))
    });
    assert_eq!(forced, Some(true));
    run_until(&mut harness, "overVoltage raised", |h| over_voltage(h).is_some());
    // Not looked at yet: the title carries the count.
    harness.get_by_label_contains("Alarms (");
    harness.get_by_label_contains("Alarms (").click();
    harness.run_steps(2);
    assert_eq!(harness.state().page.active_tab_id(), "alarms");
    harness.run_steps(2);
    assert!(harness.query_by_label_contains("Alarms (").is_none(), "the badge goes once the tab was seen");

    run_until(&mut harness, "overVoltage cleared and acknowledged", |h| over_voltage(h).is_some_and(|r| !r.active() && r.ack.as_str() == "us"));
    harness.get_by_role_and_label(Role::CheckBox, "Show cleared alarms").click();
    harness.run_steps(3);
    let row = over_voltage(&harness).unwrap();
    let duration = duration_text(row.duration_ms().unwrap());
    harness.get_by_label(&duration);
    // The model's name of the type, in the UI language, and who acknowledged it.
    harness.get_by_label("Over-voltage");
    assert!(!harness.query_all_by_label("Acknowledged by us").collect::<Vec<_>>().is_empty());
}

//! The device page's forms built from the product model (Commands, Properties, Ports) under
//! egui_kittest, fed by a real engine: the embedded broker and the simulator serving the built-in
//! energy gateway as GW-FORMS. What a form pushes is checked, then carried out through the engine,
//! and the tab shows the outcome from the gateway's record. A command's form opens from its name.

use std::time::{Duration, Instant};

use cems_workbench::engine::{Engine, EngineConfig, EngineHandle, GatewayKey, RequestSpec};
use cems_workbench::protocol::model::{Lang, ModelSet};
use cems_workbench::protocol::time::now_ms;
use cems_workbench::protocol::topic::TopicProfile;
use cems_workbench::sim::{self, SimConfig, SimHandle};
use cems_workbench::transport::broker::{BrokerConfig, EmbeddedBroker};
use cems_workbench::transport::mqtt::MqttConfig;
use cems_workbench::transport::{LinkConfig, LinkKind, LinkState};
use cems_workbench::ui::device::DevicePage;
use cems_workbench::ui::{SessionView, Sessions, UiCommand, ViewContext};
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use serde_json::json;

const PK: &str = "PK-GW-01";
const DEV: &str = "GW-FORMS";

struct State {
    page: DevicePage,
    commands: Vec<UiCommand>,
    sessions: Sessions,
    engine: EngineHandle,
    /// What the window knows: the built-in models, or none (generic forms).
    models: ModelSet,
    lang: Lang,
    profile: TopicProfile,
}

/// Everything that must outlive the frames: the runtime last.
struct Bench {
    _sim: SimHandle,
    _broker: EmbeddedBroker,
    _files: tempfile::TempDir,
    rt: tokio::runtime::Runtime,
}

fn key() -> GatewayKey {
    GatewayKey { pk: PK.into(), dev: DEV.into() }
}

fn start(models: ModelSet) -> (Harness<'static, State>, Bench) {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().worker_threads(2).build().expect("test runtime");
    let broker = rt.block_on(EmbeddedBroker::start(BrokerConfig::ephemeral())).expect("embedded broker");
    let url = broker.url();
    let files = tempfile::tempdir().unwrap();
    let (engine, sim) = {
        let _entered = rt.enter();
        let (engine, _events) = Engine::spawn_with(EngineConfig::default(), || {}).expect("engine");
        let session = engine.connect(LinkConfig::Mqtt(MqttConfig::new(url.clone(), "wb-ui-forms")), engine.default_session_options("lab")).expect("connect");
        assert_eq!(session, 1);
        // The simulator reports its ports once, on connect: the engine must be subscribed before
        // it starts, or a loaded machine loses that report (seen in a full run).
        let probe = "cems/v1/_/_/up";
        let deadline = Instant::now() + Duration::from_secs(10);
        while engine.state.store().find(probe).is_none() {
            assert!(Instant::now() < deadline, "the engine subscribed within 10 s");
            let _ = engine.publish(session, cems_workbench::transport::Message::new(probe, "probe", 1, false));
            std::thread::sleep(Duration::from_millis(100));
        }
        let mut config = SimConfig::new(ModelSet::builtin(), PK, DEV, LinkConfig::Mqtt(MqttConfig::new(url.clone(), "x")), files.path().to_path_buf());
        config.report_period_ms = Some(200);
        (engine, sim::spawn(config).expect("simulator"))
    };
    let mut sessions = Sessions::new();
    sessions.insert(1, SessionView { id: 1, label: "lab".into(), target: url, kind: LinkKind::Mqtt, state: LinkState::Up, attempts: 1, frames_dropped: 0, profile: None, read_only: false, replay: None });
    let state = State { page: DevicePage::new(key()), commands: Vec::new(), sessions, engine, models, lang: Lang::En, profile: TopicProfile::builtin() };
    let harness = Harness::builder().with_size(egui::vec2(1200.0, 2000.0)).with_context_setup(cems_workbench::ui::fonts::install).build_ui_state(
        |ui, s: &mut State| {
            let ctx = ViewContext { lang: s.lang, state: &s.engine.state, sessions: &s.sessions, models: &s.models, profile: &s.profile, now_ms: now_ms() };
            s.page.ui(ui, &ctx, &mut s.commands);
        },
        state,
    );
    (harness, Bench { _sim: sim, _broker: broker, _files: files, rt })
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

/// Online, with its info (which declares its sub-devices) and its sub-devices seen.
fn open_tab(harness: &mut Harness<'static, State>, tab: &str) {
    run_until(harness, "GW-FORMS online with its devices", |h| {
        h.state().engine.state.gateways().get(&key()).is_some_and(|g| g.online == Some(true) && g.info.is_some() && g.subs.contains_key("pcs-1"))
    });
    harness.get_by_role_and_label(Role::Button, tab).click();
    harness.run_steps(2);
    assert_eq!(harness.state().page.active_tab_id(), tab.to_lowercase());
}

/// The one request the tab pushed since the last call.
fn one_request(harness: &mut Harness<'static, State>) -> RequestSpec {
    let commands = std::mem::take(&mut harness.state_mut().commands);
    match commands.as_slice() {
        [UiCommand::Request(spec)] => {
            assert_eq!((spec.session, spec.pk.as_str(), spec.dev.as_str()), (1, PK, DEV));
            assert!(spec.id.is_some(), "a form keeps the id to find its outcome");
            spec.clone()
        }
        other => panic!("expected one Request, got {other:?}"),
    }
}

fn call(harness: &Harness<'static, State>, bench: &Bench, spec: RequestSpec) -> Option<i64> {
    bench.rt.block_on(harness.state().engine.call(spec)).expect("engine").code()
}

fn has_text(harness: &Harness<'static, State>, part: &str) -> bool {
    harness.query_all_by_label_contains(part).next().is_some()
}

/// Opens the form of the command whose header starts with `name` (forms start closed).
fn open_command(harness: &mut Harness<'static, State>, name: &str) {
    let header = format!("{name} ·");
    harness.get_by_label_contains(&header).click();
    harness.run_steps(2);
}

#[test]
fn a_command_out_of_range_shows_its_reason_and_a_valid_one_is_sent() {
    let (mut harness, _bench) = start(ModelSet::builtin());
    open_tab(&mut harness, "Commands");
    assert!(harness.query_by_label("Delay").is_none(), "a form stays closed until its name is clicked");
    open_command(&mut harness, "Reboot");
    harness.get_by_label("Delay").set_text_value_accesskit("601");
    harness.run_steps(2);
    assert!(has_text(&harness, "delay: 601 is above the maximum 600"), "the reason beside the field");
    harness.get_by_role_and_label(Role::Button, "Send").click();
    harness.run_steps(2);
    assert!(harness.state().commands.is_empty(), "nothing sent while a field is wrong: {:?}", harness.state().commands);

    harness.get_by_label("Delay").set_text_value_accesskit("5");
    harness.run_steps(2);
    assert!(!has_text(&harness, "above the maximum"));
    harness.get_by_role_and_label(Role::Button, "Send").click();
    harness.run_steps(2);
    let spec = one_request(&mut harness);
    assert_eq!((spec.class.as_str(), spec.action.as_str()), ("command", "request"));
    assert_eq!(spec.data, json!({"cmd": "reboot", "params": {"delay": 5}}), "a gateway command names no sub-device");
    assert!(has_text(&harness, "Pending"), "pending until the reply");
}

#[test]
fn an_enum_is_chosen_by_its_label_and_a_device_command_names_the_device() {
    let (mut harness, _bench) = start(ModelSet::builtin());
    open_tab(&mut harness, "Commands");
    open_command(&mut harness, "Stop");
    assert_eq!(harness.get_by_role_and_label(Role::ComboBox, "Sub-device").value().as_deref(), Some("pcs-1"), "the only PCS is picked");
    harness.get_by_role_and_label(Role::ComboBox, "Stop mode").click();
    harness.run_steps(2);
    harness.get_by_label("Emergency (emergency)").click();
    harness.run_steps(2);
    harness.get_by_role_and_label(Role::Button, "Send").click();
    harness.run_steps(2);
    let spec = one_request(&mut harness);
    assert_eq!(spec.data, json!({"cmd": "stop", "sub": "pcs-1", "params": {"mode": "emergency"}}), "by its key, to the sub-device picked");

    // The labels are the model's, in the UI language.
    harness.state_mut().lang = Lang::Zh;
    harness.run_steps(2);
    assert!(has_text(&harness, "停机 ·"), "the command's name");
    assert_eq!(harness.get_by_role_and_label(Role::ComboBox, "停机方式").value().as_deref(), Some("紧急停机 (emergency)"));
}

#[test]
fn a_reply_is_shown_by_the_commands_output_spec() {
    let (mut harness, bench) = start(ModelSet::builtin());
    open_tab(&mut harness, "Commands");
    open_command(&mut harness, "Start");
    harness.get_by_role_and_label(Role::Button, "Send").click();
    harness.run_steps(2);
    let spec = one_request(&mut harness);
    assert_eq!(spec.data, json!({"cmd": "start", "sub": "pcs-1", "params": {}}));
    assert_eq!(call(&harness, &bench, spec), Some(0));
    run_until(&mut harness, "the outcome", |h| has_text(h, "command/request: 0 ok · "));
    let outcome = harness.get_by_label_contains("command/request: 0 ok · ").value().unwrap_or_default();
    assert!(outcome.contains(" ms · "), "code, its name and the latency: {outcome}");
    assert!(harness.query_by_label("Run state").is_some(), "the output by its model name");
    assert!(!has_text(&harness, "runState"), "not the reply's JSON keys");
}

#[test]
fn without_a_model_the_generic_form_is_marked_unchecked_and_never_sends_invalid_json() {
    let (mut harness, _bench) = start(ModelSet::new());
    open_tab(&mut harness, "Commands");
    assert!(has_text(&harness, "Unchecked: no product model describes this"));
    harness.get_by_label("Command").set_text_value_accesskit("reboot");
    harness.get_by_label("Params (JSON)").set_text_value_accesskit("{\"delay\": ");
    harness.run_steps(2);
    assert!(has_text(&harness, "Not valid JSON"));
    harness.get_by_role_and_label(Role::Button, "Send unchecked").click();
    harness.run_steps(2);
    assert!(harness.state().commands.is_empty(), "{:?}", harness.state().commands);
    harness.get_by_label("Params (JSON)").set_text_value_accesskit("{\"delay\": 1}");
    harness.run_steps(2);
    assert!(!has_text(&harness, "Not valid JSON"));
    harness.get_by_role_and_label(Role::Button, "Send unchecked").click();
    harness.run_steps(2);
    assert_eq!(one_request(&mut harness).data, json!({"cmd": "reboot", "params": {"delay": 1}}));
}

#[test]
fn properties_get_all_keys_set_only_the_changed_one_and_read_it_back() {
    let (mut harness, bench) = start(ModelSet::builtin());
    open_tab(&mut harness, "Properties");
    harness.get_by_role_and_label(Role::Button, "Get all").click();
    harness.run_steps(2);
    let spec = one_request(&mut harness);
    assert_eq!((spec.class.as_str(), spec.action.as_str()), ("property", "get"));
    assert_eq!(spec.data, json!({"keys": ["reportPeriod", "brokerAddress", "ntpServer", "subDevices", "logLevel", "fwVersion"]}));
    assert_eq!(call(&harness, &bench, spec), Some(0));
    run_until(&mut harness, "the properties", |h| h.state().engine.state.gateways().get(&key()).is_some_and(|g| g.properties.contains_key("reportPeriod")));

    harness.get_by_label("Report period").set_text_value_accesskit("99999");
    harness.run_steps(2);
    assert!(has_text(&harness, "reportPeriod: 99999 is above the maximum 3600"));
    harness.get_by_role_and_label(Role::Button, "Set").click();
    harness.run_steps(2);
    assert!(harness.state().commands.is_empty());

    harness.get_by_label("Report period").set_text_value_accesskit("30");
    harness.run_steps(2);
    harness.get_by_role_and_label(Role::Button, "Set").click();
    harness.run_steps(2);
    let spec = one_request(&mut harness);
    assert_eq!((spec.class.as_str(), spec.action.as_str()), ("property", "set"));
    assert_eq!(spec.data, json!({"props": {"reportPeriod": 30}}), "only the changed key");
    assert_eq!(call(&harness, &bench, spec), Some(0));
    run_until(&mut harness, "the read-back request", |h| !h.state().commands.is_empty());
    let spec = one_request(&mut harness);
    assert_eq!((spec.action.as_str(), &spec.data), ("get", &json!({"keys": ["reportPeriod"]})), "read back by itself");
    assert_eq!(call(&harness, &bench, spec), Some(0));
    run_until(&mut harness, "target → current", |h| has_text(h, "30 → 30"));
}

#[test]
fn a_key_the_gateway_refuses_shows_its_failure_on_its_row() {
    let (mut harness, bench) = start(ModelSet::builtin());
    open_tab(&mut harness, "Properties");
    harness.get_by_label("Report period").set_text_value_accesskit("30");
    harness.get_by_label("NTP server").set_text_value_accesskit("pool.ntp.org");
    harness.run_steps(2);
    harness.get_by_role_and_label(Role::Button, "Set").click();
    harness.run_steps(2);
    let mut spec = one_request(&mut harness);
    assert_eq!(spec.data, json!({"props": {"reportPeriod": 30, "ntpServer": "pool.ntp.org"}}));
    // A gateway whose range is narrower than the model's: the same request, one value refused.
    spec.data = json!({"props": {"reportPeriod": 0, "ntpServer": "pool.ntp.org"}});
    assert_eq!(call(&harness, &bench, spec), Some(4));
    run_until(&mut harness, "the refusal on its row", |h| has_text(h, "✗ 4"));
    run_until(&mut harness, "the read-back request", |h| !h.state().commands.is_empty());
    let spec = one_request(&mut harness);
    assert_eq!(spec.data, json!({"keys": ["ntpServer", "reportPeriod"]}));
    assert_eq!(call(&harness, &bench, spec), Some(0));
    run_until(&mut harness, "the applied key read back", |h| has_text(h, "pool.ntp.org → pool.ntp.org"));
    assert_eq!(harness.query_all_by_label_contains("✗ 4").count(), 1, "only the refused key's row");
}


fn port_of(harness: &Harness<'static, State>, id: &str) -> Option<cems_workbench::protocol::port::Port> {
    harness.state().engine.state.gateways().get(&key()).and_then(|g| g.ports.get(id).cloned())
}

/// Ports tab open, the three ports of the connect-time `port/report` listed.
fn open_ports(harness: &mut Harness<'static, State>) {
    open_tab(harness, "Ports");
    run_until(harness, "the ports reported on connect", |h| ["COM1", "COM2", "ETH1"].iter().all(|p| port_of(h, p).is_some()));
}

#[test]
fn ports_show_their_status_and_counters_with_rates_from_successive_reads() {
    let (mut harness, bench) = start(ModelSet::builtin());
    open_ports(&mut harness);
    assert_eq!(harness.query_all_by_label("Online").count(), 3, "each port's status on its row");
    assert_eq!(harness.query_all_by_label("9600 8N1").count(), 2, "the serial settings in short");
    assert!(harness.query_by_label("192.168.1.100").is_some(), "the Ethernet port's address");
    assert!(!has_text(&harness, "/s)"), "no rate from one reading");

    // The simulator counts field-bus traffic as it samples; each read gives new counters.
    let mut reads = 0;
    while harness.query_all_by_label_contains("/s)").count() < 9 {
        reads += 1;
        assert!(reads <= 40, "no rates after {reads} reads");
        harness.get_by_role_and_label(Role::Button, "Refresh ports").click();
        harness.run_steps(2);
        let spec = one_request(&mut harness);
        assert_eq!((spec.class.as_str(), spec.action.as_str(), &spec.data), ("port", "get", &json!({})));
        assert_eq!(call(&harness, &bench, spec), Some(0));
        harness.run_steps(2);
        std::thread::sleep(Duration::from_millis(250));
    }
    let com1 = port_of(&harness, "COM1").expect("COM1").status;
    assert!(com1.tx > 0 && com1.rx > 0, "{com1:?}");
    assert!(harness.query_all_by_label_contains(&format!("{} (", com1.tx)).next().is_some(), "the tx count read last, with its rate");
    assert_eq!(harness.query_all_by_label("0 (0/s)").count(), 3, "errors: none, at no rate");
    assert!(has_text(&harness, "port/get: 0 ok"));
}

#[test]
fn a_port_is_set_within_the_models_choices_and_a_refused_one_shows_on_its_row() {
    let (mut harness, bench) = start(ModelSet::builtin());
    open_ports(&mut harness);
    harness.get_by_role_and_label(Role::Button, "Edit COM1").click();
    harness.run_steps(2);
    assert!(has_text(&harness, "Settings of port COM1"));
    let protocol = harness.get_by_role_and_label(Role::ComboBox, "Protocol");
    assert_eq!(protocol.value().as_deref(), Some("modbus-rtu"));
    protocol.click();
    harness.run_steps(2);
    assert!(harness.query_by_label("iec104").is_none(), "only what the model lets COM1 speak");
    harness.get_by_label("dlt645-2007").click();
    harness.run_steps(2);
    harness.get_by_role_and_label(Role::ComboBox, "Baud rate").click();
    harness.run_steps(2);
    harness.get_by_label("19200").click();
    harness.run_steps(2);
    harness.get_by_role_and_label(Role::Button, "Apply to the port").click();
    harness.run_steps(2);
    let spec = one_request(&mut harness);
    assert_eq!((spec.class.as_str(), spec.action.as_str()), ("port", "set"));
    let com1 = json!({"baud": 19200, "parity": "none", "dataBits": 8, "stopBits": 1, "protocol": "dlt645-2007"});
    assert_eq!(spec.data, json!({"ports": [{"portId": "COM1", "params": com1}]}));
    assert_eq!(call(&harness, &bench, spec), Some(0));
    run_until(&mut harness, "COM1's new settings", |h| has_text(h, "19200 8N1") && has_text(h, "dlt645-2007") && has_text(h, "port/set: 0 ok"));

    harness.get_by_role_and_label(Role::Button, "Edit COM2").click();
    harness.run_steps(2);
    harness.get_by_role_and_label(Role::ComboBox, "Baud rate").click();
    harness.run_steps(2);
    harness.get_by_label("4800").click();
    harness.run_steps(2);
    harness.get_by_role_and_label(Role::Button, "Apply to the port").click();
    harness.run_steps(2);
    let mut spec = one_request(&mut harness);
    let com2 = json!({"portId": "COM2", "params": {"baud": 4800, "parity": "none", "dataBits": 8, "stopBits": 1}});
    assert_eq!(spec.data, json!({"ports": [com2.clone()]}));
    // A request naming two ports, one of them wrong for that port: the gateway applies the other.
    spec.data = json!({"ports": [com2, {"portId": "ETH1", "params": {"protocol": "modbus-rtu"}}]});
    assert_eq!(call(&harness, &bench, spec), Some(4), "the first failure's code");
    let refusal = "✗ 4 protocol \"modbus-rtu\" is not one this port speaks";
    run_until(&mut harness, "the refusal on ETH1's row", |h| h.query_by_label(refusal).is_some() && has_text(h, "4800 8N1"));
    assert_eq!(harness.query_all_by_label_contains("✗ 4").count(), 1, "only the refused port's row");
    assert!(has_text(&harness, "port/set: 4 bad_param"));
    assert_eq!(port_of(&harness, "ETH1").map(|p| p.protocol).as_deref(), Some("modbus-tcp"), "refused: unchanged");
}

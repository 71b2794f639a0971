//! The device page's Ports tab (contract §6.3): the ports of the gateway's record with their live
//! counters (online, tx, rx, errors) and rates per second from successive values (view state
//! only), "Refresh" (`port/get`), and one port's link settings edited within what a port can take
//! (`protocol::port`: parities, data and stop bits) and the field protocols its model lists, sent
//! with `port/set`; each port a reply lists in `data.failed` shows its code and message on its row.

use std::collections::BTreeMap;

use egui::{ComboBox, Grid, RichText, TextEdit};
use serde_json::{Value, json};

use super::tab::DeviceTab;
use super::view::DeviceView;
use crate::engine::RequestSpec;
use crate::protocol::model::PortDef;
use crate::protocol::port::{Parity, Port, PortParams, PortType};
use crate::ui::forms::{find_request, item_failure, outcome_ui, send_button_ui};
use crate::ui::format::format_number;
use crate::ui::widgets::{fill, ok_color, state_dot_ui};
use crate::ui::{UiCommand, ViewContext};

/// Baud rates offered for a serial port (the current one is added when it is not listed).
const BAUDS: [u32; 9] = [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400];
const PARITIES: [Parity; 5] = [Parity::None, Parity::Even, Parity::Odd, Parity::Mark, Parity::Space];
const STOP_BITS: [f64; 3] = [1.0, 1.5, 2.0];

/// Counters of one port at one moment, and the rates between the last two different readings.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RateTrack {
    at_ms: i64,
    counters: [u64; 3],
    /// tx, rx, errors per second; `None` until two readings differ.
    pub rates: Option<[f64; 3]>,
}

impl RateTrack {
    /// Takes the counters seen at `now_ms`; a change gives a rate over the time since the last
    /// change (a counter that went back, a gateway restart, restarts the measure).
    pub fn update(&mut self, counters: [u64; 3], now_ms: i64) {
        if self.at_ms == 0 {
            *self = RateTrack { at_ms: now_ms, counters, rates: None };
            return;
        }
        if counters == self.counters {
            return;
        }
        let secs = (now_ms - self.at_ms) as f64 / 1000.0;
        let went_back = counters.iter().zip(self.counters).any(|(new, old)| *new < old);
        self.rates = if secs > 0.0 && !went_back {
            Some([0, 1, 2].map(|i| (counters[i] - self.counters[i]) as f64 / secs))
        } else {
            None
        };
        self.at_ms = now_ms;
        self.counters = counters;
    }
}

/// The settings of one port being edited: typed choices, text for the free values.
#[derive(Debug, Clone, PartialEq)]
pub struct PortEdit {
    pub port_id: String,
    pub port_type: PortType,
    pub params: PortParams,
    pub ip: String,
    pub netmask: String,
    pub gateway: String,
    pub tcp_port: String,
    pub timeout_ms: String,
    /// The field protocol chosen, and the one the port speaks now.
    pub protocol: String,
    current_protocol: String,
    /// What the model lets this port speak (empty: no model, no choice).
    pub protocols: Vec<String>,
}

/// The protocols the model lets port `def` speak: its default, then the ones it can switch to.
fn protocol_choices(def: Option<&PortDef>) -> Vec<String> {
    let Some(def) = def else { return Vec::new() };
    let mut out: Vec<String> = def.protocol.iter().cloned().collect();
    out.extend(def.protocols.iter().filter(|p| Some(*p) != def.protocol.as_ref()).cloned());
    out
}

fn is_serial(t: PortType) -> bool {
    matches!(t, PortType::Rs485 | PortType::Rs232)
}

impl PortEdit {
    /// The port's settings as reported, the protocol choices from its model definition.
    pub fn of(port: &Port, def: Option<&PortDef>) -> PortEdit {
        let p = &port.params;
        PortEdit {
            port_id: port.port_id.clone(),
            port_type: port.port_type,
            params: p.clone(),
            ip: p.ip.clone().unwrap_or_default(),
            netmask: p.netmask.clone().unwrap_or_default(),
            gateway: p.gateway.clone().unwrap_or_default(),
            tcp_port: p.tcp_port.map(|n| n.to_string()).unwrap_or_default(),
            timeout_ms: p.timeout_ms.map(|n| n.to_string()).unwrap_or_default(),
            protocol: port.protocol.clone(),
            current_protocol: port.protocol.clone(),
            protocols: protocol_choices(def),
        }
    }

    /// The params to send, or why they cannot be. A new protocol goes as `params.protocol` (how
    /// a gateway is told to switch, the simulator's way), only when it changed.
    pub fn build(&self) -> Result<PortParams, String> {
        let mut p = self.params.clone();
        let text = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        p.ip = text(&self.ip);
        p.netmask = text(&self.netmask);
        p.gateway = text(&self.gateway);
        for (name, value) in [("ip", &p.ip), ("netmask", &p.netmask), ("gateway", &p.gateway)] {
            if let Some(v) = value
                && v.parse::<std::net::Ipv4Addr>().is_err()
            {
                return Err(format!("{name}: {v:?} is not an IPv4 address"));
            }
        }
        p.tcp_port = match text(&self.tcp_port) {
            None => None,
            Some(t) => Some(t.parse::<u16>().ok().filter(|n| *n > 0).ok_or_else(|| format!("tcpPort: {t:?} is not a port number 1–65535"))?),
        };
        p.timeout_ms = match text(&self.timeout_ms) {
            None => None,
            Some(t) => Some(t.parse::<u32>().map_err(|_| format!("timeoutMs: {t:?} is not a whole number of milliseconds"))?),
        };
        p.check()?;
        if self.protocol != self.current_protocol {
            if !self.protocols.contains(&self.protocol) {
                return Err(format!("protocol {:?} is not one the model lists for this port", self.protocol));
            }
            p.other.insert("protocol".into(), Value::String(self.protocol.clone()));
        }
        Ok(p)
    }
}

/// The `port/set` data for one port's new params.
pub fn set_data(port_id: &str, params: &PortParams) -> Value {
    json!({ "ports": [{ "portId": port_id, "params": params }] })
}

/// The Ports tab of one gateway.
#[derive(Debug, Default)]
pub struct PortsTab {
    rates: BTreeMap<String, RateTrack>,
    editing: Option<PortEdit>,
    get: Option<String>,
    /// The id of the last `port/set`.
    set: Option<String>,
}

fn rate_text(rate: Option<f64>) -> String {
    rate.map(|r| format!(" ({}/s)", format_number(r))).unwrap_or_default()
}

impl DeviceTab for PortsTab {
    fn id(&self) -> &'static str {
        "ports"
    }

    fn title(&self) -> &'static str {
        "Ports"
    }

    fn ui(&mut self, ui: &mut egui::Ui, page: &DeviceView, ctx: &ViewContext, commands: &mut Vec<UiCommand>) {
        // Copy out under the read lock, then draw.
        let ports: Vec<Port> = ctx.state.gateways().get(&page.key).map(|g| g.ports.values().cloned().collect()).unwrap_or_default();
        let model = ctx.models.get(&page.key.pk).map(|d| d.model());
        for port in &ports {
            let s = &port.status;
            self.rates.entry(port.port_id.clone()).or_default().update([s.tx, s.rx, s.errors], ctx.now_ms);
        }
        ui.horizontal(|ui| {
            if send_button_ui(ui, ctx, page.session, "Refresh ports") {
                let spec = RequestSpec::new(page.session, &page.key.pk, &page.key.dev, "port", "get", json!({})).with_fresh_id();
                self.get = spec.id.clone();
                commands.push(UiCommand::Request(spec));
            }
            let done = self.get.as_deref().and_then(|id| find_request(ctx, &page.key, id));
            outcome_ui(ui, ctx, self.get.as_deref(), done.as_ref());
        });
        if ports.is_empty() {
            ui.weak(ctx.tr("No port reported yet: use Refresh ports."));
            return;
        }
        let set_done = self.set.as_deref().and_then(|id| find_request(ctx, &page.key, id));
        Grid::new(("ports", &page.key)).striped(true).num_columns(9).show(ui, |ui| {
            for header in ["Port", "Status", "Type", "Protocol", "Settings", "TX", "RX", "Errors", ""] {
                ui.label(RichText::new(ctx.tr(header)).strong());
            }
            ui.end_row();
            for port in &ports {
                let def = model.and_then(|m| m.port(&port.port_id));
                let name = def.and_then(|d| d.name.as_ref()).map(|n| n.get(ctx.lang).to_owned()).filter(|n| !n.is_empty());
                let label = ui.label(RichText::new(&port.port_id).monospace());
                if let Some(name) = name {
                    label.on_hover_text(name);
                }
                ui.horizontal(|ui| {
                    let color = if port.status.online { ok_color(ui.visuals()) } else { ui.visuals().error_fg_color };
                    state_dot_ui(ui, color);
                    ui.colored_label(color, ctx.tr(if port.status.online { "Online" } else { "Offline" }));
                });
                ui.label(port.port_type.as_str());
                ui.label(&port.protocol);
                let summary = port.params.serial_summary().or_else(|| port.params.ip.clone()).unwrap_or_default();
                ui.label(summary);
                let rates = self.rates.get(&port.port_id).and_then(|r| r.rates);
                ui.label(format!("{}{}", port.status.tx, rate_text(rates.map(|r| r[0]))));
                ui.label(format!("{}{}", port.status.rx, rate_text(rates.map(|r| r[1]))));
                let errors = format!("{}{}", port.status.errors, rate_text(rates.map(|r| r[2])));
                if port.status.errors > 0 {
                    ui.colored_label(ui.visuals().warn_fg_color, errors);
                } else {
                    ui.label(errors);
                }
                ui.horizontal(|ui| {
                    // Every row has its "Edit": the port names it for screen readers and tests.
                    if ui.button(ctx.tr("Edit")).accessible_name(format!("{} {}", ctx.tr("Edit"), port.port_id)).clicked() {
                        self.editing = Some(PortEdit::of(port, def));
                    }
                    // A reply may list other ports than the one edited (a gateway's own reasons).
                    if let Some(why) = set_done.as_ref().and_then(|done| item_failure(done, &port.port_id)) {
                        ui.colored_label(ui.visuals().error_fg_color, format!("✗ {why}"));
                    }
                });
                ui.end_row();
            }
        });
        if let Some(id) = &self.set {
            outcome_ui(ui, ctx, Some(id), set_done.as_ref());
        }
        self.edit_ui(ui, page, ctx, commands);
    }
}

impl PortsTab {
    fn edit_ui(&mut self, ui: &mut egui::Ui, page: &DeviceView, ctx: &ViewContext, commands: &mut Vec<UiCommand>) {
        let Some(edit) = self.editing.as_mut() else { return };
        ui.separator();
        ui.label(RichText::new(fill(ctx.tr("Settings of port {port}"), &[("port", &edit.port_id)])).strong());
        Grid::new(("port_edit", &page.key)).num_columns(2).show(ui, |ui| {
            if is_serial(edit.port_type) || edit.params.baud.is_some() {
                let label = ui.label(ctx.tr("Baud rate"));
                let mut bauds = BAUDS.to_vec();
                if let Some(b) = edit.params.baud.filter(|b| !bauds.contains(b)) {
                    bauds.push(b);
                }
                let shown = edit.params.baud.map_or_else(|| "—".to_owned(), |b| b.to_string());
                ComboBox::from_id_salt("port_baud").selected_text(shown).show_ui(ui, |ui| {
                    for b in bauds {
                        ui.selectable_value(&mut edit.params.baud, Some(b), b.to_string());
                    }
                }).response.labelled_by(label.id);
                ui.end_row();
                let label = ui.label(ctx.tr("Parity"));
                let shown = edit.params.parity.map_or("—", Parity::as_str);
                ComboBox::from_id_salt("port_parity").selected_text(shown).show_ui(ui, |ui| {
                    for p in PARITIES {
                        ui.selectable_value(&mut edit.params.parity, Some(p), p.as_str());
                    }
                }).response.labelled_by(label.id);
                ui.end_row();
                let label = ui.label(ctx.tr("Data bits"));
                let shown = edit.params.data_bits.map_or_else(|| "—".to_owned(), |b| b.to_string());
                ComboBox::from_id_salt("port_data_bits").selected_text(shown).show_ui(ui, |ui| {
                    for b in 5..=8u8 {
                        ui.selectable_value(&mut edit.params.data_bits, Some(b), b.to_string());
                    }
                }).response.labelled_by(label.id);
                ui.end_row();
                let label = ui.label(ctx.tr("Stop bits"));
                let shown = edit.params.stop_bits.map_or_else(|| "—".to_owned(), format_number);
                ComboBox::from_id_salt("port_stop_bits").selected_text(shown).show_ui(ui, |ui| {
                    for s in STOP_BITS {
                        ui.selectable_value(&mut edit.params.stop_bits, Some(s), format_number(s));
                    }
                }).response.labelled_by(label.id);
                ui.end_row();
            }
            if !is_serial(edit.port_type) {
                for (key, text) in [("IP address", &mut edit.ip), ("Netmask", &mut edit.netmask), ("Gateway", &mut edit.gateway), ("TCP port", &mut edit.tcp_port)] {
                    let label = ui.label(ctx.tr(key));
                    ui.add(TextEdit::singleline(text).desired_width(160.0)).labelled_by(label.id);
                    ui.end_row();
                }
            }
            let label = ui.label(ctx.tr("Protocol"));
            if edit.protocols.is_empty() {
                // Without the port in a model, nothing says what else it could speak.
                ui.label(&edit.protocol).on_hover_text(ctx.tr("No product model lists the protocols of this port."));
            } else {
                ComboBox::from_id_salt("port_protocol").selected_text(edit.protocol.as_str()).show_ui(ui, |ui| {
                    for p in &edit.protocols {
                        ui.selectable_value(&mut edit.protocol, p.clone(), p);
                    }
                }).response.labelled_by(label.id);
            }
            ui.end_row();
            let label = ui.label(ctx.tr("Timeout (ms)"));
            ui.add(TextEdit::singleline(&mut edit.timeout_ms).desired_width(160.0)).labelled_by(label.id);
            ui.end_row();
        });
        let built = edit.build();
        if let Err(why) = &built {
            ui.colored_label(ui.visuals().error_fg_color, why);
        }
        let port_id = edit.port_id.clone();
        let mut cancel = false;
        ui.horizontal(|ui| {
            if send_button_ui(ui, ctx, page.session, "Apply to the port")
                && let Ok(params) = &built
            {
                let spec = RequestSpec::new(page.session, &page.key.pk, &page.key.dev, "port", "set", set_data(&port_id, params)).with_fresh_id();
                self.set = spec.id.clone();
                commands.push(UiCommand::Request(spec));
            }
            cancel = ui.button(ctx.tr("Cancel")).clicked();
        });
        if cancel {
            self.editing = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_come_from_successive_different_counters() {
        let mut r = RateTrack::default();
        r.update([10, 20, 0], 1_000);
        assert_eq!(r.rates, None);
        r.update([10, 20, 0], 1_500);
        assert_eq!(r.rates, None, "no change, no rate yet");
        r.update([30, 60, 2], 3_000);
        assert_eq!(r.rates, Some([10.0, 20.0, 1.0]));
        r.update([1, 1, 0], 4_000);
        assert_eq!(r.rates, None, "a counter that went back restarts the measure");
    }

    #[test]
    fn an_edit_builds_checked_params() {
        let port: Port = serde_json::from_value(json!({"portId": "ETH1", "type": "eth", "params": {"ip": "192.168.1.100", "tcpPort": 502}})).unwrap();
        let mut edit = PortEdit::of(&port, None);
        edit.ip = "10.0.0.300".into();
        assert!(edit.build().unwrap_err().starts_with("ip:"));
        edit.ip = "10.0.0.3".into();
        edit.tcp_port = "0".into();
        assert!(edit.build().unwrap_err().starts_with("tcpPort:"));
        edit.tcp_port = "1502".into();
        let params = edit.build().unwrap();
        assert_eq!(set_data("ETH1", &params), json!({"ports": [{"portId": "ETH1", "params": {"ip": "10.0.0.3", "tcpPort": 1502}}]}));
    }

    #[test]
    fn a_protocol_is_chosen_among_the_models_and_sent_only_when_changed() {
        let def: PortDef = serde_json::from_value(json!({"id": "COM1", "type": "rs485", "protocol": "modbus-rtu", "protocols": ["modbus-rtu", "dlt645-2007"]})).unwrap();
        let port: Port = serde_json::from_value(json!({"portId": "COM1", "type": "rs485", "protocol": "modbus-rtu", "params": {"baud": 9600}})).unwrap();
        let mut edit = PortEdit::of(&port, Some(&def));
        assert_eq!(edit.protocols, ["modbus-rtu", "dlt645-2007"], "the default once, then the others");
        assert_eq!(set_data("COM1", &edit.build().unwrap()), json!({"ports": [{"portId": "COM1", "params": {"baud": 9600}}]}), "unchanged: not sent");
        edit.protocol = "dlt645-2007".into();
        assert_eq!(set_data("COM1", &edit.build().unwrap()), json!({"ports": [{"portId": "COM1", "params": {"baud": 9600, "protocol": "dlt645-2007"}}]}));
        edit.protocol = "iec104".into();
        assert!(edit.build().unwrap_err().contains("not one the model lists"));
        assert!(PortEdit::of(&port, None).protocols.is_empty(), "no model, no choice");
    }
}

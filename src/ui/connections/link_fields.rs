//! The link fields of the connection form: MQTT (broker, credentials, TLS files chosen in a
//! dialog) and serial (port scan, line settings).

use std::path::PathBuf;

use egui::{Button, ComboBox, Grid, RichText, TextEdit};

use super::background::Pending;
use super::form_ui::form_row;
use super::{ConnectionsPanel, FilePick, Notice, TlsFile, Tone, form, ports};
use crate::transport::serial::Parity;
use crate::ui::ViewContext;
use crate::ui::file_dialog::{Dialog, DialogRequest};

impl ConnectionsPanel {
    pub(super) fn mqtt_form_ui(&mut self, ui: &mut egui::Ui, ctx: &ViewContext) {
        let editing_with_password = self.editing.as_deref().is_some_and(|name| self.store.has_saved_password(name));
        let picking = self.file_pick.is_some();
        let mut pick_request = None;
        let error_color = ui.visuals().error_fg_color;
        let warn_color = ui.visuals().warn_fg_color;
        // The left column may be narrow: fields take what is left after the labels.
        let field = (ui.available_width() - 120.0).clamp(120.0, 280.0);
        let m = &mut self.form.mqtt;
        Grid::new("mqtt_form").num_columns(2).spacing([8.0, 4.0]).show(ui, |ui| {
            form_row(ui, ctx.tr("Broker URL"), |ui, label| {
                ui.add(TextEdit::singleline(&mut m.url).hint_text("mqtt://host:1883").desired_width(field)).labelled_by(label);
            });
            // Under the field rather than beside it: the column may be narrow.
            if let Some(problem) = form::url_problem(&m.url) {
                ui.label("");
                ui.add(egui::Label::new(RichText::new(format!("{}: {problem}", ctx.tr("Invalid URL"))).color(error_color)).wrap());
                ui.end_row();
            }
            form_row(ui, ctx.tr("Client id"), |ui, label| {
                ui.add(TextEdit::singleline(&mut m.client_id).desired_width(field - 50.0)).labelled_by(label);
                if ui.small_button(ctx.tr("New id")).on_hover_text(ctx.tr("New random client id")).clicked() {
                    m.client_id = form::default_client_id();
                }
            });
            form_row(ui, ctx.tr("Username"), |ui, label| {
                ui.add(TextEdit::singleline(&mut m.username).desired_width(field)).labelled_by(label);
            });
            form_row(ui, ctx.tr("Password"), |ui, label| {
                let hint = if editing_with_password { ctx.tr("(saved; leave empty to keep it)") } else { "" };
                ui.add(TextEdit::singleline(&mut m.password).password(true).hint_text(hint).desired_width(field)).labelled_by(label);
            });
            if form::wants_tls(&m.url) {
                let files = [
                    (TlsFile::Ca, ctx.tr("CA certificate"), ctx.tr("Choose the CA certificate"), &mut m.ca_file),
                    (TlsFile::Cert, ctx.tr("Client certificate"), ctx.tr("Choose the client certificate"), &mut m.client_cert),
                    (TlsFile::Key, ctx.tr("Client key"), ctx.tr("Choose the client key"), &mut m.client_key),
                ];
                for (which, name, choose, text) in files {
                    form_row(ui, name, |ui, label| {
                        ui.add(TextEdit::singleline(text).hint_text(ctx.tr("PEM file (optional)")).desired_width(field - 30.0)).labelled_by(label);
                        let button = ui.add_enabled(!picking, Button::new("…")).on_hover_text(choose).accessible_name(choose);
                        if button.clicked() {
                            pick_request = Some(which);
                        }
                    });
                }
            }
            form_row(ui, ctx.tr("Keep-alive"), |ui, label| {
                ui.add(egui::DragValue::new(&mut m.keep_alive_secs).range(0..=3600).suffix(" s")).labelled_by(label);
            });
        });
        // Below the grid, where its long text can wrap.
        if form::wants_tls(&m.url) {
            let text = RichText::new(ctx.tr("⚠ Insecure: accept any server certificate")).color(warn_color);
            ui.add(egui::Checkbox::new(&mut m.insecure, text)).on_hover_text(ctx.tr(
                "Skips checking the broker's certificate and name. Anyone on the network path can then read and change the traffic, passwords included. Use only with a lab broker whose certificate you made yourself.",
            ));
        }
        if let Some(field) = pick_request {
            self.start_file_pick(field, ctx);
        }
    }

    fn start_file_pick(&mut self, field: TlsFile, ctx: &ViewContext) {
        let title = match field {
            TlsFile::Ca => ctx.tr("Choose the CA certificate"),
            TlsFile::Cert => ctx.tr("Choose the client certificate"),
            TlsFile::Key => ctx.tr("Choose the client key"),
        };
        let current = match field {
            TlsFile::Ca => &self.form.mqtt.ca_file,
            TlsFile::Cert => &self.form.mqtt.client_cert,
            TlsFile::Key => &self.form.mqtt.client_key,
        };
        let start_dir = PathBuf::from(current.trim()).parent().filter(|d| d.is_dir()).map(PathBuf::from);
        let filters = vec![("PEM".to_owned(), ["pem", "crt", "cer", "key"].map(String::from).to_vec()), ("*".to_owned(), vec!["*".to_owned()])];
        match Dialog::open(DialogRequest::Open { title: title.to_owned(), start_dir, filters }) {
            Ok(dialog) => self.file_pick = Some(FilePick { field, dialog }),
            // No dialog here (no portal, no zenity): say so; the typed path field is beside the button.
            Err(problem) => self.notice = Some(Notice { tone: Tone::Warn, text: problem.message(ctx.lang) }),
        }
    }

    pub(super) fn serial_form_ui(&mut self, ui: &mut egui::Ui, ctx: &ViewContext) {
        if !self.ports_scanned {
            self.rescan_ports();
        }
        let scanning = self.ports_scan.is_some();
        let mut rescan = false;
        let field = (ui.available_width() - 120.0).clamp(120.0, 280.0);
        let ports = &self.ports;
        let s = &mut self.form.serial;
        Grid::new("serial_form").num_columns(2).spacing([8.0, 4.0]).show(ui, |ui| {
            form_row(ui, ctx.tr("Port"), |ui, label| {
                let selected = if s.path.is_empty() { ctx.tr("choose…").to_owned() } else { s.path.clone() };
                ComboBox::from_id_salt("serial_port")
                    .selected_text(selected)
                    .width(field - 70.0)
                    .show_ui(ui, |ui| {
                        if ports.is_empty() {
                            ui.weak(ctx.tr("No serial ports found"));
                        }
                        for port in ports {
                            ui.selectable_value(&mut s.path, port.clone(), port);
                        }
                    })
                    .response
                    .labelled_by(label);
                if scanning {
                    ui.spinner();
                } else if ui.button(ctx.tr("Rescan")).on_hover_text(ctx.tr("Look for serial ports again")).clicked() {
                    rescan = true;
                }
            });
            form_row(ui, ctx.tr("Port path"), |ui, label| {
                ui.add(TextEdit::singleline(&mut s.path).hint_text("/dev/ttyUSB0, COM3").desired_width(field)).labelled_by(label);
            });
            form_row(ui, ctx.tr("Baud rate"), |ui, label| {
                ComboBox::from_id_salt("serial_baud")
                    .selected_text(s.baud.to_string())
                    .show_ui(ui, |ui| {
                        for baud in form::COMMON_BAUDS {
                            ui.selectable_value(&mut s.baud, baud, baud.to_string());
                        }
                    })
                    .response
                    .labelled_by(label);
            });
            form_row(ui, ctx.tr("Data bits"), |ui, label| {
                ComboBox::from_id_salt("serial_data_bits")
                    .selected_text(s.data_bits.to_string())
                    .show_ui(ui, |ui| {
                        for bits in form::DATA_BITS {
                            ui.selectable_value(&mut s.data_bits, bits, bits.to_string());
                        }
                    })
                    .response
                    .labelled_by(label);
            });
            form_row(ui, ctx.tr("Parity"), |ui, label| {
                ComboBox::from_id_salt("serial_parity")
                    .selected_text(parity_text(ctx, s.parity))
                    .show_ui(ui, |ui| {
                        for parity in Parity::SERIAL_LINE {
                            ui.selectable_value(&mut s.parity, parity, parity_text(ctx, parity));
                        }
                    })
                    .response
                    .labelled_by(label);
            });
            form_row(ui, ctx.tr("Stop bits"), |ui, label| {
                ComboBox::from_id_salt("serial_stop_bits")
                    .selected_text(s.stop_bits.to_string())
                    .show_ui(ui, |ui| {
                        for bits in form::STOP_BITS {
                            ui.selectable_value(&mut s.stop_bits, bits, bits.to_string());
                        }
                    })
                    .response
                    .labelled_by(label);
            });
        });
        if rescan {
            self.rescan_ports();
        }
    }

    fn rescan_ports(&mut self) {
        self.ports_scanned = true;
        // If no thread can be started the list stays as it is; the path field still works.
        self.ports_scan = Pending::spawn("serial-ports", ports::list_ports).ok();
    }
}

fn parity_text(ctx: &ViewContext, parity: Parity) -> &'static str {
    match parity {
        Parity::None => ctx.tr("None"),
        Parity::Odd => ctx.tr("Odd"),
        Parity::Even => ctx.tr("Even"),
        Parity::Mark => ctx.tr("Mark"),
        Parity::Space => ctx.tr("Space"),
    }
}

//! Drawing the tab: the server line, the form (ids offered from the model), the exchange (signed
//! headers, answer table, raw JSON) and the probe's table.

use egui::{RichText, ScrollArea, TextEdit};

use super::AppApiPage;
use super::form::takes;
use super::table::{answer_rows, probe_ui, rows_ui};
use crate::api::Exchange;
use crate::protocol::app_api::{Interface, Period, Stat};
use crate::ui::ViewContext;
use crate::ui::file_dialog::{Dialog, DialogEnd, DialogRequest};
use crate::ui::widgets::fill;

/// Ids listed for choosing before the list scrolls.
const CHOICE_HEIGHT: f32 = 140.0;

impl AppApiPage {
    pub fn ui(&mut self, ui: &mut egui::Ui, view: &ViewContext) {
        self.refresh_choices(view.state, view.models, false);
        ScrollArea::vertical().id_salt("app_api_tab").auto_shrink([false, false]).show(ui, |ui| {
            self.server_line_ui(ui, view);
            ui.separator();
            self.target_ui(ui, view);
            ui.separator();
            self.fields_ui(ui, view);
            ui.horizontal(|ui| {
                let idle = self.call.is_none();
                if ui.add_enabled(idle, egui::Button::new(view.tr("Send"))).clicked() {
                    self.send();
                }
                let probing = self.probe.is_some();
                if ui.add_enabled(!probing, egui::Button::new(view.tr("Run probe"))).clicked() {
                    self.run_probe(view.state, view.models);
                }
                ui.checkbox(&mut self.compare_with_links, view.tr("Compare dynamic values with this window's links"));
                if !idle || probing {
                    ui.spinner();
                }
            });
            ui.separator();
            match &self.last {
                None => {}
                Some(Err(message)) => {
                    ui.label(RichText::new(format!("{}: {message}", view.tr("Call failed"))).color(ui.visuals().error_fg_color));
                }
                Some(Ok(exchange)) => exchange_ui(ui, view, exchange),
            }
            match &self.report {
                None => {}
                Some(Err(message)) => {
                    ui.separator();
                    ui.label(RichText::new(format!("{}: {message}", view.tr("Probe failed"))).color(ui.visuals().error_fg_color));
                }
                Some(Ok(report)) => {
                    ui.separator();
                    ui.label(RichText::new(fill(view.tr("Probe of {url}"), &[("url", &report.url)])).strong());
                    probe_ui(ui, view, report);
                }
            }
        });
    }

    fn server_line_ui(&self, ui: &mut egui::Ui, view: &ViewContext) {
        super::settings_ui::status_ui(ui, view, &self.serving);
    }

    fn target_ui(&mut self, ui: &mut egui::Ui, view: &ViewContext) {
        egui::Grid::new("app_api_target").num_columns(2).show(ui, |ui| {
            let label = ui.label(view.tr("URL"));
            let hint = self.serving.url().unwrap_or("http://127.0.0.1:8686/api").to_owned();
            ui.add(TextEdit::singleline(&mut self.form.url).hint_text(hint).desired_width(320.0)).labelled_by(label.id);
            ui.end_row();
            let label = ui.label(view.tr("App id"));
            ui.add(TextEdit::singleline(&mut self.form.app_id).desired_width(200.0)).labelled_by(label.id);
            ui.end_row();
            let label = ui.label(view.tr("Secret"));
            ui.add(TextEdit::singleline(&mut self.form.secret).password(true).desired_width(200.0)).labelled_by(label.id);
            ui.end_row();
            if self.target_url().is_some_and(|u| u.starts_with("https://")) {
                self.server_ca_ui(ui, view);
                ui.end_row();
            }
            ui.label(view.tr("HTTP"));
            ui.horizontal(|ui| {
                ui.radio_value(&mut self.form.http2, true, "HTTP/2");
                ui.radio_value(&mut self.form.http2, false, "HTTP/1.1");
            });
            ui.end_row();
        });
    }

    /// The server's CA file: typed, or chosen in the dialog where one opens.
    fn server_ca_ui(&mut self, ui: &mut egui::Ui, view: &ViewContext) {
        if let Some(dialog) = &self.ca_dialog {
            match dialog.poll() {
                DialogEnd::Waiting => ui.ctx().request_repaint_after(std::time::Duration::from_millis(100)),
                DialogEnd::Chosen(path) => {
                    self.form.server_ca = path.display().to_string();
                    self.ca_dialog = None;
                }
                DialogEnd::NothingChosen(problem) => {
                    self.ca_problem = problem;
                    self.ca_dialog = None;
                }
            }
        }
        let label = ui.label(view.tr("CA certificate"));
        ui.vertical(|ui| {
            ui.horizontal(|ui| {
                ui.add(TextEdit::singleline(&mut self.form.server_ca).hint_text(view.tr("PEM file (optional)")).desired_width(290.0)).labelled_by(label.id);
                let choose = view.tr("Choose the CA certificate");
                if ui.add_enabled(self.ca_dialog.is_none(), egui::Button::new("…")).on_hover_text(choose).accessible_name(choose).clicked() {
                    let start_dir = std::path::PathBuf::from(self.form.server_ca.trim()).parent().filter(|d| d.is_dir()).map(std::path::PathBuf::from);
                    let filters = vec![("PEM".to_owned(), ["pem", "crt", "cer"].map(String::from).to_vec()), ("*".to_owned(), vec!["*".to_owned()])];
                    match Dialog::open(DialogRequest::Open { title: choose.to_owned(), start_dir, filters }) {
                        Ok(dialog) => {
                            self.ca_dialog = Some(dialog);
                            self.ca_problem = None;
                        }
                        Err(problem) => self.ca_problem = Some(problem),
                    }
                }
            });
            if let Some(problem) = &self.ca_problem {
                ui.colored_label(ui.visuals().warn_fg_color, problem.message(view.lang));
            }
        });
    }

    fn fields_ui(&mut self, ui: &mut egui::Ui, view: &ViewContext) {
        let form = &mut self.form;
        let choices = &self.choices;
        let mut refresh = false;
        egui::Grid::new("app_api_fields").num_columns(2).show(ui, |ui| {
            ui.label(view.tr("Interface"));
            egui::ComboBox::from_id_salt("app_api_interface").selected_text(format!("{} {}", form.interface.section(), form.interface)).width(320.0).show_ui(ui, |ui| {
                for i in Interface::all() {
                    ui.selectable_value(&mut form.interface, i, format!("{} {i}", i.section()));
                }
            });
            ui.end_row();
            let label = ui.label("cemsId");
            ui.horizontal(|ui| {
                ui.add(TextEdit::singleline(&mut form.cems_id).desired_width(160.0)).labelled_by(label.id);
                for site in &choices.sites {
                    if ui.selectable_label(form.cems_id == *site, site).clicked() {
                        form.cems_id = site.clone();
                    }
                }
                refresh = ui.button(view.tr("Read the ids again")).clicked();
            });
            ui.end_row();
            let t = takes(form.interface);
            if t.paging {
                ui.label(view.tr("Page"));
                ui.horizontal(|ui| {
                    ui.add(egui::DragValue::new(&mut form.page_no).range(1..=u32::MAX).prefix("pageNo "));
                    let max = form.interface.max_page_size() as u32;
                    ui.add(egui::DragValue::new(&mut form.page_size).range(1..=max).prefix("pageSize "));
                });
                ui.end_row();
            }
            if t.category {
                ui.label("categoryId");
                egui::ComboBox::from_id_salt("app_api_category").selected_text(form.category_id.clone()).show_ui(ui, |ui| {
                    for c in &choices.categories {
                        ui.selectable_value(&mut form.category_id, c.clone(), c);
                    }
                });
                ui.end_row();
            }
            if t.points || t.items {
                ui.label("pointIds");
                ScrollArea::vertical().id_salt("app_api_points").max_height(CHOICE_HEIGHT).show(ui, |ui| {
                    if choices.points.is_empty() {
                        ui.label(RichText::new(view.tr("No points seen yet.")).weak());
                    }
                    for (id, category, _) in &choices.points {
                        let mut on = form.point_ids.contains(id);
                        if ui.checkbox(&mut on, format!("{id}  ({category})")).changed() {
                            if on { form.point_ids.insert(id.clone()) } else { form.point_ids.remove(id) };
                        }
                    }
                });
                ui.end_row();
            }
            if t.parameters.is_some() || t.items {
                let optional = t.parameters == Some(false);
                ui.label(if optional { view.tr("parameterIds (optional)") } else { "parameterIds" });
                ScrollArea::vertical().id_salt("app_api_parameters").max_height(CHOICE_HEIGHT).show(ui, |ui| {
                    for id in choices.parameters(&form.point_ids) {
                        let mut on = form.parameter_ids.contains(&id);
                        if ui.checkbox(&mut on, &id).changed() {
                            if on { form.parameter_ids.insert(id) } else { form.parameter_ids.remove(&id) };
                        }
                    }
                });
                ui.end_row();
            }
            if t.range {
                let label = ui.label("from");
                ui.add(TextEdit::singleline(&mut form.from).desired_width(260.0)).labelled_by(label.id);
                ui.end_row();
                let label = ui.label("to");
                ui.add(TextEdit::singleline(&mut form.to).desired_width(260.0)).labelled_by(label.id);
                ui.end_row();
            }
            if t.period {
                ui.label("period");
                ui.horizontal(|ui| {
                    for p in [Period::Hour, Period::Day, Period::Month] {
                        ui.radio_value(&mut form.period, p, p.as_str());
                    }
                });
                ui.end_row();
            }
            if t.stat || t.items {
                ui.label("stat");
                ui.horizontal(|ui| {
                    for s in [Stat::Avg, Stat::Min, Stat::Max, Stat::Sum, Stat::Delta] {
                        ui.radio_value(&mut form.stat, s, s.as_str());
                    }
                });
                ui.end_row();
            }
        });
        if refresh {
            self.refresh_choices(view.state, view.models, true);
        }
    }
}

fn pretty(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

fn exchange_ui(ui: &mut egui::Ui, view: &ViewContext, exchange: &Exchange) {
    let reply = &exchange.reply;
    let answer = reply.json();
    let code = answer.as_ref().and_then(|a| a.get("code")).and_then(serde_json::Value::as_i64);
    let msg = answer.as_ref().and_then(|a| a.get("msg")).and_then(serde_json::Value::as_str).unwrap_or("");
    let line = format!("HTTP {} · {} · code {} {msg} · {:.1} ms", reply.status, reply.version, code.map_or("?".to_owned(), |c| c.to_string()), reply.latency_ms);
    let colour = if code == Some(0) { ui.visuals().text_color() } else { ui.visuals().error_fg_color };
    ui.label(RichText::new(line).strong().color(colour));
    ui.collapsing(view.tr("Request"), |ui| {
        ui.label(format!("POST {}", exchange.path));
        egui::Grid::new("app_api_headers").striped(true).num_columns(2).show(ui, |ui| {
            for (name, value) in exchange.headers.pairs() {
                ui.label(name);
                ui.label(value);
                ui.end_row();
            }
        });
        ui.label(RichText::new(pretty(&exchange.request)).monospace());
    });
    match &answer {
        None => {
            ui.label(RichText::new(view.tr("The answer is not JSON.")).color(ui.visuals().error_fg_color));
            ui.label(RichText::new(String::from_utf8_lossy(&reply.body)).monospace());
        }
        Some(answer) => {
            if let Some(page) = answer.get("page") {
                ui.label(format!("page {page}"));
            }
            let rows = answer_rows(exchange.interface, answer);
            ScrollArea::horizontal().id_salt("app_api_rows").show(ui, |ui| rows_ui(ui, "app_api_answer", &rows));
            ui.collapsing(view.tr("Raw JSON"), |ui| {
                ui.label(RichText::new(pretty(answer)).monospace());
            });
        }
    }
}

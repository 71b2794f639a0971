//! The sites the window's App API serves (§5 用户端), edited in the Settings popup: each with its
//! cemsId, name, address, timezone and either every gateway or those ticked. Empty: the apps
//! file's sites, else `site-1` with every gateway. Checked when the server (re)starts.

use egui::RichText;

use crate::api::apps::SiteEntry;
use crate::ui::ViewContext;
use crate::ui::widgets::fill;

pub fn sites_ui(ui: &mut egui::Ui, view: &ViewContext, sites: &mut Vec<SiteEntry>) {
    let title = fill(view.tr("Sites ({count})"), &[("count", &sites.len().to_string())]);
    egui::CollapsingHeader::new(title).id_salt("app_api_sites").show(ui, |ui| {
        if sites.is_empty() {
            ui.label(RichText::new(view.tr("No sites here: those of the apps file are served, else site-1 with every gateway.")).weak());
        }
        let known: Vec<String> = view.state.gateways().iter().map(|g| format!("{}/{}", g.key.pk, g.key.dev)).collect();
        let mut remove = None;
        for (i, site) in sites.iter_mut().enumerate() {
            ui.push_id(("app_api_site", i), |ui| {
                ui.group(|ui| {
                    if site_ui(ui, view, site, &known) {
                        remove = Some(i);
                    }
                });
            });
        }
        if let Some(i) = remove {
            sites.remove(i);
        }
        if ui.button(view.tr("Add site")).clicked() {
            let cems_id = next_id(sites);
            sites.push(SiteEntry { cems_id, gateways: Some(Vec::new()), ..SiteEntry::default() });
        }
        ui.label(RichText::new(view.tr("Changes apply when the App API restarts.")).weak());
    });
}

/// One site's fields; true when the user removes it.
fn site_ui(ui: &mut egui::Ui, view: &ViewContext, site: &mut SiteEntry, known: &[String]) -> bool {
    let mut removed = false;
    egui::Grid::new("fields").num_columns(2).show(ui, |ui| {
        let label = ui.label("cemsId");
        ui.horizontal(|ui| {
            ui.add(egui::TextEdit::singleline(&mut site.cems_id).desired_width(120.0)).labelled_by(label.id);
            removed = ui.button("🗑").on_hover_text(view.tr("Remove this site")).clicked();
        });
        ui.end_row();
        let label = ui.label(view.tr("Name"));
        let mut name = site.name.clone().unwrap_or_default();
        if ui.add(egui::TextEdit::singleline(&mut name).desired_width(180.0)).labelled_by(label.id).changed() {
            site.name = Some(name);
        }
        ui.end_row();
        let label = ui.label(view.tr("Address"));
        ui.add(egui::TextEdit::singleline(&mut site.address).desired_width(180.0)).labelled_by(label.id);
        ui.end_row();
        let label = ui.label(view.tr("Timezone"));
        let mut timezone = site.timezone.clone().unwrap_or_default();
        if ui.add(egui::TextEdit::singleline(&mut timezone).hint_text("+08:00").desired_width(70.0)).labelled_by(label.id).changed() {
            site.timezone = Some(timezone);
        }
        ui.end_row();
    });
    let mut every = site.gateways.is_none();
    if ui.checkbox(&mut every, view.tr("Every gateway")).changed() {
        site.gateways = if every { None } else { Some(Vec::new()) };
    }
    if let Some(list) = &mut site.gateways {
        // The ticked ones that are not seen now stay listed, so a gateway offline today is kept.
        let mut shown: Vec<String> = known.to_vec();
        shown.extend(list.iter().filter(|g| !known.contains(g)).cloned());
        if shown.is_empty() {
            ui.label(RichText::new(view.tr("No gateway seen yet.")).weak());
        }
        ui.horizontal_wrapped(|ui| {
            for gateway in shown {
                let mut on = list.contains(&gateway);
                if ui.checkbox(&mut on, &gateway).changed() {
                    if on {
                        list.push(gateway);
                    } else {
                        list.retain(|g| *g != gateway);
                    }
                }
            }
        });
    }
    removed
}

/// `site-N`, the first N not taken.
fn next_id(sites: &[SiteEntry]) -> String {
    (1..).map(|n| format!("site-{n}")).find(|id| sites.iter().all(|s| s.cems_id != *id)).unwrap_or_default()
}

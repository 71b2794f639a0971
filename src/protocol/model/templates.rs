//! Starting points for a new model (`model new --template T`, "New from template" in the editor):
//! identity with placeholder values that already validate, and a few typical entries.

/// Template names, in the order they are offered.
pub const TEMPLATE_NAMES: &[&str] = &["gateway", "meter", "pcs", "bms", "pv"];

/// The model text of template `name` (2-space JSON, trailing newline), None for an unknown name.
pub fn template_text(name: &str) -> Option<&'static str> {
    Some(match name {
        "gateway" => include_str!("../../../assets/templates/gateway.json"),
        "meter" => include_str!("../../../assets/templates/meter.json"),
        "pcs" => include_str!("../../../assets/templates/pcs.json"),
        "bms" => include_str!("../../../assets/templates/bms.json"),
        "pv" => include_str!("../../../assets/templates/pv.json"),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::model::{Category, ModelDocument, ModelKind};

    #[test]
    fn every_template_parses_and_validates() {
        for name in TEMPLATE_NAMES {
            let text = template_text(name).unwrap_or_else(|| panic!("template {name} missing"));
            let doc = ModelDocument::parse(&format!("template:{name}"), text)
                .unwrap_or_else(|e| panic!("template {name} is invalid: {e:?}"));
            let model = doc.model();
            let expected_kind = if *name == "gateway" { ModelKind::Gateway } else { ModelKind::Device };
            assert_eq!(model.kind, expected_kind, "{name}");
            assert_eq!(model.category().as_str(), *name, "{name}");
            assert!(model.name.zh.is_some() && model.name.en.is_some(), "{name} names zh+en");
            assert!(model.vendor.is_some() && model.model.is_some(), "{name} vendor/model");
            assert!(text.ends_with('\n'), "{name} ends with a newline");
        }
    }

    #[test]
    fn templates_hold_their_typical_entries() {
        let model = |name: &str| {
            ModelDocument::parse(name, template_text(name).unwrap_or_default()).map(|d| d.model().clone())
        };
        let meter = model("meter").expect("meter");
        for pid in ["Ua", "Ub", "Uc", "Ia", "P", "Q", "PF"] {
            assert!(meter.point(pid).is_some(), "meter point {pid}");
        }
        assert!(meter.meter("EpImp").is_some() && meter.meter("EpExp").is_some());
        let pcs = model("pcs").expect("pcs");
        assert!(pcs.point("Pset").is_some_and(|p| p.writable));
        assert!(pcs.command("start").is_some() && pcs.command("stop").is_some());
        let gateway = model("gateway").expect("gateway");
        assert!(gateway.property("reportPeriod").is_some() && gateway.command("reboot").is_some());
        assert_eq!(gateway.category(), Category::Gateway);
        assert!(template_text("nope").is_none());
    }
}

//! Which model describes a device behind a gateway. A gateway may say it (`Info.subs`, contract
//! §2); when it does not, a master goes by the sub-device's id (`meter-1` → the sub-product whose
//! key stem is `meter`), then by which model defines what the device reported.

use super::document::ModelSet;
use super::types::{ModelKind, PointDef, ProductModel};
use crate::protocol::payload::SubRef;

/// The models a CEMS gateway's messages can refer to: its own, its sub-products', and the
/// product keys it declared for its sub-devices.
#[derive(Debug, Clone, Default)]
pub struct GatewayModels<'a> {
    pub gateway: Option<&'a ProductModel>,
    pub subs: Vec<&'a ProductModel>,
    /// (sub-device id, its model) as the gateway declared them, where the model is loaded.
    declared: Vec<(String, &'a ProductModel)>,
}

impl<'a> GatewayModels<'a> {
    /// The gateway model of product key `pk`, the models of its `subProducts` that are loaded
    /// (every device model when the gateway's own is unknown or names none), and the models the
    /// gateway `declared` for its sub-devices.
    pub fn new(models: &'a ModelSet, pk: &str, declared: &[SubRef]) -> Self {
        let gateway = models.get(pk).map(|doc| doc.model());
        let subs = match gateway {
            Some(g) if !g.sub_products.is_empty() => g.sub_products.iter().filter_map(|sub| models.get(sub)).map(|doc| doc.model()).collect(),
            _ => models.iter().map(|doc| doc.model()).filter(|m| m.kind != ModelKind::Gateway).collect(),
        };
        let declared = declared.iter().filter_map(|d| models.get(&d.product_key).map(|doc| (d.sub.clone(), doc.model()))).collect();
        GatewayModels { gateway, subs, declared }
    }

    /// The model the gateway declared for `sub`, if it is loaded.
    pub fn declared(&self, sub: &str) -> Option<&'a ProductModel> {
        self.declared.iter().find(|(id, _)| *id == sub).map(|(_, m)| *m)
    }

    /// Models to look an item of device `sub` up in, most likely first: the declared model, then
    /// the sub-products whose key matches the sub-device's id stem, then the others, then the
    /// gateway itself; for the gateway's own items (`sub` absent or equal to `dev`) the gateway
    /// comes first.
    pub fn candidates(&self, sub: Option<&str>, dev: &str) -> Vec<&'a ProductModel> {
        let own = sub.is_none_or(|s| s == dev);
        if !own && let Some(model) = sub.and_then(|s| self.declared(s)) {
            return std::iter::once(model).chain(self.gateway).collect();
        }
        let stem = sub.map(sub_stem).unwrap_or_default();
        let (mut matching, others): (Vec<_>, Vec<_>) =
            self.subs.iter().copied().partition(|m| !stem.is_empty() && product_stem(&m.product_key) == stem);
        matching.extend(others);
        match self.gateway {
            Some(g) if own => std::iter::once(g).chain(matching).collect(),
            Some(g) => matching.into_iter().chain(std::iter::once(g)).collect(),
            None => matching,
        }
    }

    pub fn point(&self, sub: Option<&str>, dev: &str, pid: &str) -> Option<&'a PointDef> {
        self.candidates(sub, dev).into_iter().find_map(|m| m.point(pid))
    }

    /// The one model of device `sub` of gateway `dev`: the gateway's own for its own id, the
    /// declared one, else the candidate that defines most of the point and meter ids it reported
    /// (`seen`), the id stem breaking ties; `None` when none defines any.
    pub fn model_of<'s>(&self, sub: &str, dev: &str, seen: impl Iterator<Item = &'s str> + Clone) -> Option<&'a ProductModel> {
        if sub == dev {
            return self.gateway;
        }
        if let Some(model) = self.declared(sub) {
            return Some(model);
        }
        let score = |m: &ProductModel| seen.clone().filter(|id| m.point(id).is_some() || m.meter(id).is_some()).count();
        let mut best: Option<(&ProductModel, usize)> = None;
        for model in self.candidates(Some(sub), dev) {
            if model.kind == ModelKind::Gateway {
                continue;
            }
            let s = score(model);
            // The first of equals wins: the candidates' order.
            if s > 0 && best.is_none_or(|(_, b)| s > b) {
                best = Some((model, s));
            }
        }
        best.map(|(m, _)| m)
    }
}

/// `PK-METER-3P` → `meter` (the simulator's naming of sub-devices).
fn product_stem(pk: &str) -> String {
    let trimmed = pk.strip_prefix("PK-").or_else(|| pk.strip_prefix("PK_")).unwrap_or(pk);
    trimmed.split(['-', '_', '.']).find(|s| !s.is_empty()).unwrap_or("").to_ascii_lowercase()
}

/// `meter-1` → `meter`.
fn sub_stem(sub: &str) -> String {
    let stem = match sub.rsplit_once('-') {
        Some((head, tail)) if !tail.is_empty() && tail.chars().all(|c| c.is_ascii_digit()) => head,
        _ => sub,
    };
    stem.to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sub_stem_prefers_the_matching_sub_product() {
        let set = ModelSet::builtin();
        let models = GatewayModels::new(&set, "PK-GW-01", &[]);
        assert_eq!(models.subs.len(), 2);
        // `P` exists in both the meter and the PCS: the sub's id decides.
        assert_eq!(models.candidates(Some("pcs-1"), "GW")[0].product_key, "PK-PCS-100");
        assert_eq!(models.candidates(Some("meter-2"), "GW")[0].product_key, "PK-METER-3P");
        assert_eq!(models.candidates(None, "GW")[0].product_key, "PK-GW-01");
        assert_eq!(models.candidates(Some("GW"), "GW")[0].product_key, "PK-GW-01");
        assert!(models.point(Some("x-9"), "GW", "SOC").is_some(), "unknown stem still searches every model");
        assert!(GatewayModels::new(&set, "PK-NONE", &[]).candidates(Some("meter-1"), "GW").iter().all(|m| m.kind != ModelKind::Gateway));
    }

    #[test]
    fn a_declared_product_wins_over_the_id() {
        let set = ModelSet::builtin();
        // A PCS the vendor happened to call `meter-7`.
        let declared = [SubRef { sub: "meter-7".into(), product_key: "PK-PCS-100".into() }];
        let models = GatewayModels::new(&set, "PK-GW-01", &declared);
        assert_eq!(models.candidates(Some("meter-7"), "GW")[0].product_key, "PK-PCS-100");
        assert_eq!(models.model_of("meter-7", "GW", ["Ua"].into_iter()).map(|m| m.product_key.as_str()), Some("PK-PCS-100"));
        // Without the declaration the id and the points decide.
        let plain = GatewayModels::new(&set, "PK-GW-01", &[]);
        assert_eq!(plain.model_of("meter-7", "GW", ["Ua"].into_iter()).map(|m| m.product_key.as_str()), Some("PK-METER-3P"));
        assert_eq!(plain.model_of("x-1", "GW", ["zz"].into_iter()), None);
        assert_eq!(plain.model_of("GW", "GW", std::iter::empty()).map(|m| m.product_key.as_str()), Some("PK-GW-01"));
        // A declared key that is not loaded falls back to the id.
        let unknown = [SubRef { sub: "meter-7".into(), product_key: "PK-NOT-LOADED".into() }];
        let fallback = GatewayModels::new(&set, "PK-GW-01", &unknown);
        assert_eq!(fallback.candidates(Some("meter-7"), "GW")[0].product_key, "PK-METER-3P");
    }
}

//! "Simulate this model": which models a simulated gateway serves for the model being edited.
//! A gateway model is served as it is, with its sub-products; a device model is carried by a
//! small gateway made for it, so either can be seen live on a device page.

use crate::protocol::model::{ModelDocument, ModelKind, ModelSet};

/// Product key and device id of the gateway that carries a simulated device model.
pub const CARRIER_PK: &str = "PK-SIM-CARRIER";
/// Device id of every simulated model's gateway.
pub const SIM_DEV: &str = "SIM-EDIT-01";

/// What to start: the models, and the gateway among them.
#[derive(Debug, Clone)]
pub struct SimulationPlan {
    pub models: ModelSet,
    pub gateway_pk: String,
    pub dev: String,
    /// Product keys the plan took from the editor (a save of one of them restarts the simulation).
    pub edited: Vec<String>,
}

/// The plan for `target`: the editor's `open` models win over the `known` ones of the same key.
pub fn plan(target: &ModelDocument, open: &[ModelDocument], known: &ModelSet) -> Result<SimulationPlan, String> {
    let mut models = known.clone();
    let mut edited = Vec::new();
    for doc in open.iter().chain(std::iter::once(target)) {
        edited.push(doc.product_key().to_owned());
        models.insert(doc.clone());
    }
    let gateway_pk = match target.model().kind {
        ModelKind::Gateway => target.product_key().to_owned(),
        ModelKind::Device => {
            models.insert(carrier(target.product_key())?);
            CARRIER_PK.to_owned()
        }
    };
    let gateway = models.get(&gateway_pk).ok_or_else(|| format!("{gateway_pk}: no model"))?;
    let missing: Vec<&str> = gateway.model().sub_products.iter().map(String::as_str).filter(|pk| models.get(pk).is_none()).collect();
    if !missing.is_empty() {
        return Err(format!("no model for the sub-products {}: open or create them first", missing.join(", ")));
    }
    edited.sort();
    edited.dedup();
    Ok(SimulationPlan { models, gateway_pk, dev: SIM_DEV.to_owned(), edited })
}

/// A gateway that carries one device of product `pk`.
fn carrier(pk: &str) -> Result<ModelDocument, String> {
    let value = serde_json::json!({
        "modelVersion": "1.0",
        "productKey": CARRIER_PK,
        "kind": "gateway",
        "name": {"zh": "模型仿真网关", "en": "Gateway simulating an edited model"},
        "subProducts": [pk],
    });
    let text = value.to_string();
    ModelDocument::parse("builtin:simulation-carrier", &text).map_err(|errors| errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> ModelDocument {
        ModelDocument::parse("t", text).unwrap()
    }

    #[test]
    fn a_device_model_gets_a_gateway_that_carries_it() {
        let meter = doc(r#"{"modelVersion":"1.0","productKey":"PK-NEW-M","kind":"device","name":"表","points":[{"id":"Ua","name":"电压","kind":"analog","type":"float"}]}"#);
        let plan = plan(&meter, &[], &ModelSet::new()).unwrap();
        assert_eq!(plan.gateway_pk, CARRIER_PK);
        assert_eq!(plan.models.get(CARRIER_PK).unwrap().model().sub_products, vec!["PK-NEW-M".to_owned()]);
        assert_eq!(plan.edited, vec!["PK-NEW-M".to_owned()]);
    }

    #[test]
    fn a_gateway_whose_sub_product_has_no_model_is_refused_by_name() {
        let gw = doc(r#"{"modelVersion":"1.0","productKey":"PK-G","kind":"gateway","name":"网关","subProducts":["PK-NOWHERE"]}"#);
        let err = plan(&gw, &[], &ModelSet::builtin()).unwrap_err();
        assert!(err.contains("PK-NOWHERE"), "{err}");
        let gw = doc(r#"{"modelVersion":"1.0","productKey":"PK-GW-01","kind":"gateway","name":"网关","subProducts":["PK-METER-3P"]}"#);
        let plan = plan(&gw, &[], &ModelSet::builtin()).unwrap();
        assert_eq!(plan.gateway_pk, "PK-GW-01");
        assert_eq!(plan.models.get("PK-GW-01").unwrap().model().name.get(crate::protocol::model::Lang::Zh), "网关");
    }
}

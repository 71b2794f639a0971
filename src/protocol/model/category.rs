//! The device category a model declares (`category`, product-model.md): what the
//! application-side API (GB/T 35031.5) groups devices by.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A device category: one of the standard's, or a vendor's `x-…`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Category {
    Gateway,
    Meter,
    Pcs,
    Bms,
    Pv,
    Charger,
    Hvac,
    Lighting,
    Load,
    Other,
    /// A vendor's category, spelled `x-…`.
    Vendor(String),
}

impl Category {
    /// The standard categories, in the order product-model.md lists them.
    pub const STANDARD: [Category; 10] = [
        Category::Gateway,
        Category::Meter,
        Category::Pcs,
        Category::Bms,
        Category::Pv,
        Category::Charger,
        Category::Hvac,
        Category::Lighting,
        Category::Load,
        Category::Other,
    ];

    /// The on-disk spelling.
    pub fn as_str(&self) -> &str {
        match self {
            Category::Gateway => "gateway",
            Category::Meter => "meter",
            Category::Pcs => "pcs",
            Category::Bms => "bms",
            Category::Pv => "pv",
            Category::Charger => "charger",
            Category::Hvac => "hvac",
            Category::Lighting => "lighting",
            Category::Load => "load",
            Category::Other => "other",
            Category::Vendor(name) => name,
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Category {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(known) = Category::STANDARD.iter().find(|c| c.as_str() == s) {
            return Ok(known.clone());
        }
        let vendor_name = s.strip_prefix("x-").unwrap_or("");
        let well_formed = vendor_name.starts_with(|c: char| c.is_ascii_alphanumeric())
            && vendor_name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if well_formed {
            Ok(Category::Vendor(s.to_owned()))
        } else {
            let names: Vec<&str> = Category::STANDARD.iter().map(Category::as_str).collect();
            Err(format!("category {s:?} is not one of {} nor a vendor's x-…", names.join(", ")))
        }
    }
}

impl Serialize for Category {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Category {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_and_vendor_categories_read_back() {
        for c in Category::STANDARD {
            assert_eq!(c.as_str().parse::<Category>(), Ok(c.clone()));
        }
        assert_eq!("x-heat-pump".parse::<Category>(), Ok(Category::Vendor("x-heat-pump".into())));
        let err = "inverter".parse::<Category>().unwrap_err();
        assert!(err.contains("not one of gateway, meter"), "{err}");
        assert!("x-".parse::<Category>().is_err());
    }
}

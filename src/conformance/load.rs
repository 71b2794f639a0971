//! Where a catalogue comes from: the built-in file or a user's, checked against the cases that
//! have code (kept apart from `catalogue.rs` so the data does not import the cases' code).

use std::path::Path;

use super::cases::has_code;
use super::catalogue::{BUILTIN, Catalogue, CatalogueError};

impl Catalogue {
    /// The compiled-in catalogue (checked by a test, so this cannot fail in a release).
    pub fn builtin() -> Result<Catalogue, CatalogueError> {
        Catalogue::parse("cems-v1.json (built in)", BUILTIN)
    }

    /// A user's catalogue file instead of the built-in one.
    pub fn load(path: &Path) -> Result<Catalogue, CatalogueError> {
        let text = std::fs::read_to_string(path).map_err(|source| CatalogueError::Read { path: path.display().to_string(), source })?;
        Catalogue::parse(&path.display().to_string(), &text)
    }

    /// [`Catalogue::parse_with`] against the cases this build has code for.
    pub fn parse(name: &str, text: &str) -> Result<Catalogue, CatalogueError> {
        Catalogue::parse_with(name, text, has_code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_catalogue_loads_and_filters() {
        let catalogue = Catalogue::builtin().unwrap();
        assert!(catalogue.cases.len() >= 30);
        assert_eq!(catalogue.select(Some("6.9")).len(), 2);
        assert_eq!(catalogue.select(Some("TC-6.7")).len(), 5);
        assert_eq!(catalogue.select(Some("TC-4.2-01, TC-6.10-01")).len(), 2);
        assert_eq!(catalogue.select(None).len(), catalogue.cases.len());
    }
}

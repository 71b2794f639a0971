//! The 24 interfaces of §6: four families (static, dynamic, historic, statistic) of six shapes.

/// What an interface returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    Static,
    Dynamic,
    Historic,
    Statistic,
}

/// Which points an interface covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Shape {
    /// The whole site; for static data only the site itself, otherwise the given parameters.
    Cems,
    /// Every parameter of every point of the site.
    CemsFull,
    /// The points of one category.
    CemsSpecCategory,
    /// Chosen points (and parameters).
    Point,
    /// Every parameter of chosen points.
    PointFull,
    /// Chosen points of one category.
    PointSpecCategory,
}

/// One interface: a family in a shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Interface {
    pub family: Family,
    pub shape: Shape,
}

const FAMILIES: [Family; 4] = [Family::Static, Family::Dynamic, Family::Historic, Family::Statistic];
const SHAPES: [Shape; 6] = [Shape::Cems, Shape::CemsFull, Shape::CemsSpecCategory, Shape::Point, Shape::PointFull, Shape::PointSpecCategory];

impl Interface {
    /// All 24, in the contract's order (7.1 … 10.6).
    pub fn all() -> Vec<Interface> {
        FAMILIES.iter().flat_map(|&family| SHAPES.iter().map(move |&shape| Interface { family, shape })).collect()
    }

    /// `GetCemsSpecCategoryDynamicData` and the like.
    pub fn name(self) -> String {
        let shape = match self.shape {
            Shape::Cems => "Cems",
            Shape::CemsFull => "CemsFull",
            Shape::CemsSpecCategory => "CemsSpecCategory",
            Shape::Point => "Point",
            Shape::PointFull => "PointFull",
            Shape::PointSpecCategory => "PointSpecCategory",
        };
        let family = match self.family {
            Family::Static => "Static",
            Family::Dynamic => "Dynamic",
            Family::Historic => "Historic",
            Family::Statistic => "Statistic",
        };
        format!("Get{shape}{family}Data")
    }

    pub fn from_name(name: &str) -> Option<Interface> {
        Interface::all().into_iter().find(|i| i.name() == name)
    }

    /// The section of the standard (`7.1` … `10.6`).
    pub fn section(self) -> String {
        let family = FAMILIES.iter().position(|f| *f == self.family).unwrap_or(0) + 7;
        let shape = SHAPES.iter().position(|s| *s == self.shape).unwrap_or(0) + 1;
        format!("{family}.{shape}")
    }

    /// Whether the answer carries `page` (§2: 7.2, 7.3, 8.1–8.3, all of §9, 10.1–10.3).
    pub fn paged(self) -> bool {
        let cems_wide = matches!(self.shape, Shape::Cems | Shape::CemsFull | Shape::CemsSpecCategory);
        match self.family {
            Family::Static => matches!(self.shape, Shape::CemsFull | Shape::CemsSpecCategory),
            Family::Dynamic | Family::Statistic => cems_wide,
            Family::Historic => true,
        }
    }

    /// The largest `pageSize` accepted: 10,000 for historic samples, else 1,000.
    pub fn max_page_size(self) -> u64 {
        if self.family == Family::Historic { 10_000 } else { 1_000 }
    }

    /// The key of the list in `data` (`points`, `values`, `series`).
    pub fn list_key(self) -> &'static str {
        match self.family {
            Family::Static => "points",
            Family::Dynamic => "values",
            Family::Historic | Family::Statistic => "series",
        }
    }
}

impl std::fmt::Display for Interface {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name())
    }
}

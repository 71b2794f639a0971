//! Point tables (点表): the spreadsheets vendors keep their points in. Reading CSV (UTF-8, with or
//! without BOM, GBK/GB18030) and XLSX/XLS, finding the header row, guessing which column is which
//! field, turning rows into entries of a model section, applying them to a model, and writing a
//! section back out as CSV or XLSX. No egui: the CLI and the editor's import dialog share it.

mod apply;
mod csv;
mod export;
mod header;
mod rows;
mod spreadsheet;
#[cfg(test)]
mod tests;
mod text;
mod xlsx_writer;

use std::path::Path;

pub use apply::{apply_plan, import_errors};
pub use export::{export_rows, export_table};
pub use header::{ColumnField, MODBUS_FIELDS, column_letter, find_header_row, guess_field, guess_mapping, parse_column_ref};
pub use rows::{AcceptedRow, ImportPlan, RejectedRow, plan_import};

/// One non-empty row of a table: its 1-based row number in the file and its trimmed cells.
#[derive(Debug, Clone, PartialEq)]
pub struct TableRow {
    pub number: usize,
    pub cells: Vec<String>,
}

/// A table as read: its non-empty rows and where they came from.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub rows: Vec<TableRow>,
    /// The charset a CSV was read in ("UTF-8", "UTF-8 with BOM", "GB18030", "UTF-16LE"), or the
    /// spreadsheet format ("XLSX", "XLS", …).
    pub encoding: String,
    /// The workbook's sheet names (empty for CSV).
    pub sheets: Vec<String>,
    /// The sheet read (None for CSV).
    pub sheet: Option<String>,
}

/// Why a table could not be read.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path}: not a spreadsheet or text table ({why})")]
    NotATable { path: String, why: String },
    #[error("{path}: no sheet named {sheet:?} (sheets: {})", sheets.join(", "))]
    NoSuchSheet { path: String, sheet: String, sheets: Vec<String> },
    #[error("{path}: the table is empty")]
    Empty { path: String },
}

/// The model section rows are imported into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Section {
    #[default]
    Points,
    Meters,
    Properties,
}

impl Section {
    pub const ALL: [Section; 3] = [Section::Points, Section::Meters, Section::Properties];

    /// The model's key for the section.
    pub fn key(self) -> &'static str {
        match self {
            Section::Points => "points",
            Section::Meters => "meters",
            Section::Properties => "properties",
        }
    }
}

/// Reads a table from `path`: CSV (or TSV/TXT) by its text, anything else as a workbook
/// (`sheet` by name, the first when None). `progress` hears fractions from 0 to 1.
pub fn read_table(path: &Path, sheet: Option<&str>, progress: &dyn Fn(f32)) -> Result<Table, TableError> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| TableError::Io { path: shown.clone(), source })?;
    progress(0.05);
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    let workbook = matches!(ext.as_str(), "xlsx" | "xlsm" | "xlsb" | "xls" | "ods") || spreadsheet::looks_like_workbook(&bytes);
    let table = if workbook {
        spreadsheet::read(&shown, bytes, sheet, progress)?
    } else {
        csv::read(&shown, &bytes, progress)?
    };
    progress(1.0);
    if table.rows.is_empty() {
        return Err(TableError::Empty { path: shown });
    }
    Ok(table)
}

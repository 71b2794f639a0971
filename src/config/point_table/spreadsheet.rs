//! Workbooks (XLSX, XLSM, XLSB, XLS, ODS) through calamine, merged cells filled across.

use std::io::Cursor;

use calamine::{Data, Dimensions, Range, Reader, Sheets, open_workbook_auto_from_rs};

use super::text::number_text;
use super::{Table, TableError, TableRow};

/// A ZIP (XLSX, ODS) or an OLE compound file (XLS) by its first bytes.
pub fn looks_like_workbook(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0])
}

pub fn read(path: &str, bytes: Vec<u8>, sheet: Option<&str>, progress: &dyn Fn(f32)) -> Result<Table, TableError> {
    let not_a_table = |why: String| TableError::NotATable { path: path.to_owned(), why };
    let first = bytes.iter().copied().find(|b| !b.is_ascii_whitespace());
    if first == Some(b'<') && !looks_like_workbook(&bytes) {
        return Err(not_a_table("an HTML or XML page; open it in Excel and save it as .xlsx".into()));
    }
    // calamine reads untrusted files; a panic in it must become a message, not end the program.
    let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read_workbook(bytes, sheet, progress)));
    match read {
        Ok(Ok((table, None))) => Ok(table),
        Ok(Ok((table, Some(missing)))) => Err(TableError::NoSuchSheet { path: path.to_owned(), sheet: missing, sheets: table.sheets }),
        Ok(Err(why)) => Err(not_a_table(why)),
        Err(_) => Err(not_a_table("the workbook reader failed on it".into())),
    }
}

/// The table, or the table's sheet list and the missing sheet's name.
fn read_workbook(bytes: Vec<u8>, sheet: Option<&str>, progress: &dyn Fn(f32)) -> Result<(Table, Option<String>), String> {
    let mut workbook = open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(|e| e.to_string())?;
    let format = match &workbook {
        Sheets::Xls(_) => "XLS",
        Sheets::Xlsx(_) => "XLSX",
        Sheets::Xlsb(_) => "XLSB",
        Sheets::Ods(_) => "ODS",
    };
    let sheets = workbook.sheet_names();
    let mut table = Table { rows: Vec::new(), encoding: format.to_owned(), sheets: sheets.clone(), sheet: None };
    let name = match sheet {
        Some(wanted) => match sheets.iter().find(|s| s.as_str() == wanted || s.trim().eq_ignore_ascii_case(wanted.trim())) {
            Some(found) => found.clone(),
            None => return Ok((table, Some(wanted.to_owned()))),
        },
        None => sheets.first().cloned().ok_or("the workbook has no sheets")?,
    };
    progress(0.2);
    let range = workbook.worksheet_range(&name).map_err(|e| format!("sheet {name:?}: {e}"))?;
    progress(0.6);
    let merged = match &mut workbook {
        Sheets::Xlsx(x) => x.merge_cells_by_sheet_name(&name).unwrap_or_default(),
        Sheets::Xls(x) => x.merge_cells_by_sheet_name(&name).unwrap_or_default(),
        _ => Vec::new(),
    };
    table.rows = rows_of(&range, &merged);
    table.sheet = Some(name);
    Ok((table, None))
}

/// The range's non-empty rows as text, numbered as in the sheet, each merged region holding its
/// top-left value in every cell (calamine gives it in the top-left cell only).
fn rows_of(range: &Range<Data>, merged: &[Dimensions]) -> Vec<TableRow> {
    let Some((row0, col0)) = range.start() else { return Vec::new() };
    let (height, width) = range.get_size();
    let mut grid: Vec<Vec<String>> = range.rows().map(|r| r.iter().map(cell_text).collect()).collect();
    for region in merged {
        let (top, left) = region.start;
        let (bottom, right) = region.end;
        let (Some(r0), Some(c0)) = (top.checked_sub(row0), left.checked_sub(col0)) else { continue };
        let Some(value) = grid.get(r0 as usize).and_then(|r| r.get(c0 as usize)).cloned() else { continue };
        for r in r0 as usize..=((bottom - row0) as usize).min(height.saturating_sub(1)) {
            for c in c0 as usize..=((right.saturating_sub(col0)) as usize).min(width.saturating_sub(1)) {
                if let Some(cell) = grid.get_mut(r).and_then(|row| row.get_mut(c))
                    && cell.is_empty()
                {
                    cell.clone_from(&value);
                }
            }
        }
    }
    grid.into_iter()
        .enumerate()
        .filter(|(_, cells)| cells.iter().any(|c| !c.is_empty()))
        .map(|(i, cells)| TableRow { number: row0 as usize + i + 1, cells })
        .collect()
}

fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty | Data::Error(_) => String::new(),
        Data::Int(n) => n.to_string(),
        Data::Float(f) => number_text(*f),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.trim().to_owned(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(d) => number_text(d.as_f64()),
    }
}

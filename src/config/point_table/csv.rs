//! CSV as Excel and vendors write it: UTF-8 (with or without BOM), GBK/GB18030, or UTF-16 with
//! BOM; `,` `;` or tab between cells; quoted cells with doubled quotes and line breaks.

use super::{Table, TableError, TableRow};

/// Reads CSV bytes into a table, rows numbered as lines of the file (1-based, a quoted line break
/// continues its row).
pub fn read(path: &str, bytes: &[u8], progress: &dyn Fn(f32)) -> Result<Table, TableError> {
    let (text, encoding) = decode(path, bytes)?;
    let separator = detect_separator(&text);
    let rows = parse(&text, separator, progress);
    Ok(Table { rows, encoding: encoding.to_owned(), sheets: Vec::new(), sheet: None })
}

/// The text and the name of its charset: valid UTF-8 is UTF-8, anything else GB18030 (a superset of GBK).
fn decode(path: &str, bytes: &[u8]) -> Result<(String, &'static str), TableError> {
    let not_text = |why: &str| TableError::NotATable { path: path.to_owned(), why: why.to_owned() };
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        let text = std::str::from_utf8(rest).map_err(|_| not_text("a UTF-8 mark but not UTF-8 text"))?;
        return Ok((text.to_owned(), "UTF-8 with BOM"));
    }
    for (bom, encoding, name) in [
        (&b"\xFF\xFE"[..], encoding_rs::UTF_16LE, "UTF-16LE"),
        (&b"\xFE\xFF"[..], encoding_rs::UTF_16BE, "UTF-16BE"),
    ] {
        if let Some(rest) = bytes.strip_prefix(bom) {
            let (text, had_errors) = encoding.decode_without_bom_handling(rest);
            if had_errors {
                return Err(not_text("a UTF-16 mark but not UTF-16 text"));
            }
            return Ok((text.into_owned(), name));
        }
    }
    // Text tables hold no NUL bytes; binary files (images, archives) nearly always do.
    if bytes.contains(&0) {
        return Err(not_text("binary data"));
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok((text.to_owned(), "UTF-8"));
    }
    let (text, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(bytes);
    if had_errors {
        return Err(not_text("neither UTF-8 nor GBK/GB18030 text"));
    }
    Ok((text.into_owned(), "GB18030"))
}

/// The separator used most in the first lines, outside quotes: `,` when there is no sign of another.
fn detect_separator(text: &str) -> char {
    let mut counts = [0usize; 3];
    let candidates = [',', ';', '\t'];
    let mut quoted = false;
    let mut lines = 0;
    for c in text.chars() {
        match c {
            '"' => quoted = !quoted,
            '\n' if !quoted => {
                lines += 1;
                if lines >= 20 {
                    break;
                }
            }
            _ if !quoted => {
                if let Some(i) = candidates.iter().position(|&s| s == c) {
                    counts[i] += 1;
                }
            }
            _ => {}
        }
    }
    let best = (0..3).max_by_key(|&i| (counts[i], usize::from(i == 0))).unwrap_or(0);
    if counts[best] == 0 { ',' } else { candidates[best] }
}

/// Splits the text into rows of trimmed cells, dropping rows whose cells are all empty.
fn parse(text: &str, separator: char, progress: &dyn Fn(f32)) -> Vec<TableRow> {
    let mut rows = Vec::new();
    let mut cells: Vec<String> = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut line = 1usize;
    let mut row_start = 1usize;
    let total = text.len().max(1);
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek().is_some_and(|&(_, n)| n == '"') => {
                    chars.next();
                    cell.push('"');
                }
                '"' => quoted = false,
                '\n' => {
                    line += 1;
                    cell.push('\n');
                }
                _ => cell.push(c),
            }
            continue;
        }
        match c {
            '"' if cell.trim().is_empty() => {
                cell.clear();
                quoted = true;
            }
            '\r' => {}
            '\n' => {
                cells.push(cell.trim().to_owned());
                cell.clear();
                finish_row(&mut cells, row_start, &mut rows);
                line += 1;
                row_start = line;
                if line.is_multiple_of(4096) {
                    progress(0.05 + 0.9 * at as f32 / total as f32);
                }
            }
            _ if c == separator => cells.push(std::mem::take(&mut cell).trim().to_owned()),
            _ => cell.push(c),
        }
    }
    if !cell.is_empty() || !cells.is_empty() {
        cells.push(cell.trim().to_owned());
        finish_row(&mut cells, row_start, &mut rows);
    }
    rows
}

/// Keeps a row unless all its cells are empty.
fn finish_row(cells: &mut Vec<String>, row_start: usize, rows: &mut Vec<TableRow>) {
    if cells.iter().any(|c| !c.is_empty()) {
        rows.push(TableRow { number: row_start, cells: std::mem::take(cells) });
    } else {
        cells.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn point_table_csv_quotes_separators_and_charsets() {
        let rows = parse("a;\"b;\"\"c\"\"\";d\r\n\r\n;;\n\"x\ny\";2\n", ';', &|_| {});
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].cells, ["a", "b;\"c\"", "d"]);
        assert_eq!(rows[1].number, 4);
        assert_eq!(rows[1].cells, ["x\ny", "2"]);
        assert_eq!(detect_separator("a\tb\tc\n1\t2\t3\n"), '\t');
        assert_eq!(detect_separator("\"a,b\";c\n"), ';');
        let (gbk, _, _) = encoding_rs::GBK.encode("名称,单位\n");
        let (text, name) = decode("t.csv", &gbk).expect("gbk decodes");
        assert_eq!((text.as_str(), name), ("名称,单位\n", "GB18030"));
        assert!(decode("t.csv", b"PK\x03\x04\x00\x00").is_err());
    }
}

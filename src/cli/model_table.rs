//! `model new`, `model import` and `model export`: a model from a template, a point table into a
//! model's section, and a section back out as a table.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use serde_json::{Value, json};

use crate::config::point_table::{
    ColumnField, ImportPlan, Section, Table, apply_plan, column_letter, export_table, find_header_row, guess_mapping,
    import_errors, parse_column_ref, plan_import, read_table,
};
use crate::protocol::model::templates::{TEMPLATE_NAMES, template_text};

/// What `model import` was told.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The point table: .csv (UTF-8, UTF-8 with BOM or GBK/GB18030) or .xlsx/.xlsm/.xls.
    pub table: PathBuf,
    /// The model file the rows go into (written in place, the rest of its text kept).
    #[arg(long)]
    pub into: PathBuf,
    /// The sheet to read [default: the first].
    #[arg(long)]
    pub sheet: Option<String>,
    /// The section the rows become entries of.
    #[arg(long, value_enum, default_value_t = Section::Points)]
    pub section: Section,
    /// COLUMN=FIELD, COLUMN a header's text or a column letter, FIELD one of id name name.en
    /// description kind type unit min max range step access period x-modbus.KEY ignore. Repeatable;
    /// overrides the guess from the headers.
    #[arg(long = "map", value_name = "COLUMN=FIELD")]
    pub map: Vec<String>,
    /// The header's row number in the file (1-based) [default: found: the first row naming two fields].
    #[arg(long)]
    pub header_row: Option<usize>,
    /// Import the good rows even when others are rejected.
    #[arg(long)]
    pub skip_bad: bool,
    /// Print one JSON object instead of lines.
    #[arg(long)]
    pub json: bool,
}

/// `model new --template T --out FILE`: exit 2 for an unknown template or an existing file without --force.
pub fn new_model(template: &str, out: &Path, force: bool) -> ExitCode {
    let Some(text) = template_text(template) else {
        eprintln!("unknown template {template:?}; one of: {}", TEMPLATE_NAMES.join(", "));
        return ExitCode::from(2);
    };
    if out.exists() && !force {
        eprintln!("{}: exists; --force overwrites it", out.display());
        return ExitCode::from(2);
    }
    match crate::disk::write_atomic(out, text.as_bytes()) {
        Ok(()) => {
            println!("wrote {} from template {template}", out.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{}: {e}", out.display());
            ExitCode::FAILURE
        }
    }
}

/// `model export FILE --out TABLE`.
pub fn export(file: &Path, out: &Path, section: Section) -> ExitCode {
    let result = read_model(file).and_then(|(_, model)| export_table(&model, section, out));
    match result {
        Ok(rows) => {
            println!("wrote {rows} {} to {}", section.key(), out.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `model import`: exit 0 when written, 1 on rejected rows (unless --skip-bad), an unreadable
/// table or model, or a model that would not validate; 2 for a bad --map or --header-row.
pub fn import(args: &ImportArgs) -> ExitCode {
    match run_import(args) {
        Ok(code) => code,
        Err(Failure::Usage(e)) => {
            eprintln!("{e:#}");
            ExitCode::from(2)
        }
        Err(Failure::Input(e)) => {
            eprintln!("{e:#}");
            ExitCode::FAILURE
        }
    }
}

enum Failure {
    Usage(anyhow::Error),
    Input(anyhow::Error),
}

fn run_import(args: &ImportArgs) -> Result<ExitCode, Failure> {
    let (original, model) = read_model(&args.into).map_err(Failure::Input)?;
    let table = read_table(&args.table, args.sheet.as_deref(), &|_| {}).map_err(|e| Failure::Input(e.into()))?;
    let header_index = match args.header_row {
        None => find_header_row(&table.rows),
        Some(n) => table
            .rows
            .iter()
            .position(|r| r.number == n)
            .ok_or_else(|| Failure::Usage(anyhow::anyhow!("--header-row {n}: that row is empty or past the end of the table")))?,
    };
    let header = &table.rows[header_index].cells;
    let mut mapping = guess_mapping(header);
    for spec in &args.map {
        let (column, field) = parse_map(spec, header).map_err(Failure::Usage)?;
        if mapping.len() <= column {
            mapping.resize(column + 1, ColumnField::Ignore);
        }
        mapping[column] = field;
    }
    if !mapping.contains(&ColumnField::Id) {
        return Err(Failure::Usage(anyhow::anyhow!(
            "no column is the id (headers: {}); name one with --map COLUMN=id",
            header.join(", ")
        )));
    }
    let plan = plan_import(&table.rows, header_index, &mapping, args.section, &model);
    let mut errors = Vec::new();
    let may_write = plan.rejected.is_empty() || args.skip_bad;
    let mut written = false;
    if may_write && !plan.accepted.is_empty() {
        let updated = apply_plan(&model, &plan);
        errors = import_errors(&updated, &args.into.display().to_string());
        if errors.is_empty() {
            let text = model_text(&original, &updated);
            crate::disk::write_atomic(&args.into, text.as_bytes())
                .with_context(|| format!("{}", args.into.display()))
                .map_err(Failure::Input)?;
            written = true;
        }
    }
    report(args, &table, header_index, header, &mapping, &plan, &errors, written);
    let clean = errors.is_empty() && (plan.rejected.is_empty() || args.skip_bad);
    Ok(if clean { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// `COLUMN=FIELD` of `--map`.
fn parse_map(spec: &str, header: &[String]) -> anyhow::Result<(usize, ColumnField)> {
    let (column, field) = spec.rsplit_once('=').with_context(|| format!("--map {spec:?}: write COLUMN=FIELD"))?;
    let index = parse_column_ref(column, header)
        .with_context(|| format!("--map {spec:?}: no column {column:?} (headers: {})", header.join(", ")))?;
    let field = ColumnField::parse(field).with_context(|| {
        format!("--map {spec:?}: unknown field {field:?}; one of id name name.en description kind type unit min max range step access period x-modbus.KEY ignore")
    })?;
    Ok((index, field))
}

fn read_model(path: &Path) -> anyhow::Result<(String, Value)> {
    let text = std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))?;
    let value: Value = serde_json::from_str(&text).with_context(|| format!("{}: not JSON", path.display()))?;
    anyhow::ensure!(value.is_object(), "{}: a model is a JSON object", path.display());
    Ok((text, value))
}

/// The model's new text, keeping the original's formatting where it did not change.
fn model_text(original: &str, updated: &Value) -> String {
    crate::protocol::model::write_preserving(original, updated)
}

#[allow(clippy::too_many_arguments)]
fn report(args: &ImportArgs, table: &Table, header_index: usize, header: &[String], mapping: &[ColumnField], plan: &ImportPlan, errors: &[String], written: bool) {
    let replaced: std::collections::HashSet<&str> = plan.replaced.iter().map(String::as_str).collect();
    if args.json {
        let mapping_json: serde_json::Map<String, Value> = mapping
            .iter()
            .enumerate()
            .filter(|(_, f)| **f != ColumnField::Ignore)
            .map(|(i, f)| (header.get(i).filter(|h| !h.is_empty()).cloned().unwrap_or_else(|| column_letter(i)), Value::String(f.name())))
            .collect();
        let out = json!({
            "accepted": plan.accepted.iter().map(|a| json!({"row": a.row, "id": a.id, "replaced": replaced.contains(a.id.as_str())})).collect::<Vec<_>>(),
            "rejected": plan.rejected.iter().map(|r| json!({"row": r.row, "id": r.id, "reason": r.reason})).collect::<Vec<_>>(),
            "errors": errors,
            "written": written,
            "encoding": table.encoding,
            "sheet": table.sheet,
            "headerRow": table.rows[header_index].number,
            "mapping": mapping_json,
        });
        println!("{out}");
        return;
    }
    println!("{} ({}), header at row {}", args.table.display(), table.encoding, table.rows[header_index].number);
    for a in &plan.accepted {
        let note = if replaced.contains(a.id.as_str()) { " (replaces the existing one)" } else { "" };
        println!("accepted row {}: {}{note}", a.row, a.id);
    }
    for r in &plan.rejected {
        println!("rejected row {}: {}: {}", r.row, r.id.as_deref().unwrap_or("-"), r.reason);
    }
    for e in errors {
        println!("invalid model: {e}");
    }
    let verdict = if written {
        format!("wrote {} {} into {}", plan.accepted.len(), plan.section.key(), args.into.display())
    } else if !plan.rejected.is_empty() && !args.skip_bad {
        format!("nothing written: {} rejected row(s); fix them or pass --skip-bad", plan.rejected.len())
    } else if !errors.is_empty() {
        "nothing written: the model would not validate".to_owned()
    } else {
        "nothing written: no rows to import".to_owned()
    };
    println!("{verdict}");
}

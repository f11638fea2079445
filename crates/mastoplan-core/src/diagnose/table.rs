//! Query results as psql prints them, read back: the aligned format (with or without the
//! `---+---` rule and `(N rows)` footer, any `\pset border`, ASCII or Unicode lines), the
//! expanded format (`\x`) and CSV (`\pset format csv`, `psql --csv`). A paste may hold
//! several results between prompts and other text; each becomes a [`Table`].

use serde::Serialize;

use crate::import::text::{clean, lines, list};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TableFormat {
    Aligned,
    Expanded,
    Csv,
}

impl TableFormat {
    pub fn name(self) -> &'static str {
        match self {
            TableFormat::Aligned => "aligned",
            TableFormat::Expanded => "expanded",
            TableFormat::Csv => "csv",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    /// Where the row starts in the input, from 1.
    pub line: usize,
    /// One cell per column; psql prints NULL as an empty cell.
    pub cells: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Table {
    pub format: TableFormat,
    /// The line of the header (aligned, CSV) or of the first record (expanded).
    pub line: usize,
    /// Column names, lower-cased.
    pub columns: Vec<String>,
    pub rows: Vec<Row>,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }

    pub fn has(&self, names: &[&str]) -> bool {
        names.iter().all(|n| self.column(n).is_some())
    }
}

/// A problem met while reading, with its line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineNote {
    pub line: usize,
    pub message: String,
}

/// Box-drawing characters of `\pset linestyle unicode` as their ASCII counterparts.
fn ascii_lines(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '│' | '┃' | '║' => '|',
            '─' | '━' | '═' => '-',
            '┼' | '╋' | '┬' | '┴' | '├' | '┤' | '┌' | '┐' | '└' | '┘' | '╪' | '╤' | '╧' | '╞' | '╡' | '╔' | '╗' | '╚'
            | '╝' | '╬' | '╦' | '╩' | '╠' | '╣' => '+',
            other => other,
        })
        .collect()
}

/// Cells of a `|`-separated line. With `\pset border 2` every line has an outer `|` on
/// both sides; without it a leading `|` is an empty first cell.
fn pipe_cells(line: &str, bordered: bool) -> Vec<String> {
    let t = if bordered {
        let t = line.trim();
        let t = t.strip_prefix('|').unwrap_or(t);
        t.strip_suffix('|').unwrap_or(t)
    } else {
        line
    };
    t.split('|').map(|c| c.trim().to_string()).collect()
}

fn is_bordered(line: &str) -> bool {
    let t = line.trim_start();
    t.starts_with('|') || t.starts_with('+')
}

fn is_rule(line: &str) -> bool {
    let t = line.trim();
    !t.is_empty() && t.contains('-') && t.chars().all(|c| matches!(c, '-' | '+' | '|' | ' ' | '='))
}

/// A column name as psql prints one: an identifier, or `?column?`.
fn is_column_name(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' || c == '?' => {}
        _ => return false,
    }
    s.len() <= 63 && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '?')
}

/// `(4 rows)` / `(1 row)`: the count psql prints under an aligned result.
fn footer_count(line: &str) -> Option<usize> {
    let t = line.trim();
    let inner = t.strip_prefix('(')?.strip_suffix(')')?;
    let mut parts = inner.split_whitespace();
    let n = parts.next()?.parse().ok()?;
    matches!(parts.next(), Some("row" | "rows")).then_some(n)
}

fn record_header(line: &str) -> bool {
    let t = line.trim_start_matches(['+', '|', ' ']);
    t.starts_with("-[ RECORD ") || t.starts_with("-[ record ")
}

/// Split one CSV record (RFC 4180 quoting, no line breaks inside fields). `None` on an
/// unbalanced quote.
pub fn csv_fields(line: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    let mut at_field_start = true;
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    cur.push('"');
                } else {
                    quoted = false;
                }
            } else {
                cur.push(c);
            }
        } else if c == '"' && at_field_start {
            quoted = true;
            at_field_start = false;
        } else if c == ',' {
            out.push(std::mem::take(&mut cur));
            at_field_start = true;
        } else {
            cur.push(c);
            at_field_start = false;
        }
    }
    if quoted {
        return None;
    }
    out.push(cur);
    Some(out.into_iter().map(|f| f.trim().to_string()).collect())
}

fn csv_header(line: &str) -> Option<Vec<String>> {
    if line.contains('|') || !line.contains(',') {
        return None;
    }
    let fields = csv_fields(line)?;
    (fields.len() >= 2 && fields.iter().all(|f| is_column_name(f)))
        .then(|| fields.iter().map(|f| f.to_ascii_lowercase()).collect())
}

fn aligned_header(line: &str) -> Option<Vec<String>> {
    if !line.contains('|') || record_header(line) {
        return None;
    }
    let cells = pipe_cells(line, is_bordered(line));
    (cells.len() >= 2 && cells.iter().all(|c| is_column_name(c)))
        .then(|| cells.iter().map(|c| c.to_ascii_lowercase()).collect())
}

/// Every result table in `text`, and notes for the lines that looked like part of one but
/// could not be read.
pub fn parse_tables(text: &str) -> (Vec<Table>, Vec<LineNote>) {
    let all: Vec<(usize, String)> = lines(text).map(|(n, l)| (n, ascii_lines(l))).collect();
    let mut tables = Vec::new();
    let mut notes = Vec::new();
    let mut i = 0;
    while i < all.len() {
        let (n, line) = (all[i].0, all[i].1.as_str());
        if record_header(line) {
            i = read_expanded(&all, i, &mut tables, &mut notes);
        } else if let Some(columns) = aligned_header(line) {
            i = read_aligned(&all, i, columns, &mut tables, &mut notes);
        } else if let Some(columns) = csv_header(line) {
            i = read_csv(&all, i, columns, &mut tables, &mut notes);
        } else {
            if line.contains('|') && !line.trim().is_empty() && !is_rule(line) && footer_count(line).is_none() {
                notes.push(LineNote {
                    line: n,
                    message: format!("not part of a result table: \"{}\"", clean(line.trim(), 60)),
                });
            }
            i += 1;
        }
    }
    (tables, notes)
}

fn read_aligned(
    all: &[(usize, String)],
    start: usize,
    columns: Vec<String>,
    tables: &mut Vec<Table>,
    notes: &mut Vec<LineNote>,
) -> usize {
    let mut table = Table { format: TableFormat::Aligned, line: all[start].0, columns, rows: Vec::new() };
    let bordered = is_bordered(&all[start].1);
    let mut i = start + 1;
    let ruled = i < all.len() && is_rule(&all[i].1);
    if ruled {
        i += 1;
    }
    while i < all.len() {
        let (n, line) = (all[i].0, all[i].1.as_str());
        if let Some(count) = footer_count(line) {
            if count != table.rows.len() {
                notes.push(LineNote {
                    line: n,
                    message: format!("psql counted {count} rows here but {} could be read", table.rows.len()),
                });
            }
            i += 1;
            break;
        }
        if line.trim().is_empty() || record_header(line) {
            break;
        }
        if is_rule(line) {
            i += 1;
            continue;
        }
        if !line.contains('|') {
            break;
        }
        if aligned_header(line).is_some() {
            if !table.rows.is_empty() {
                break;
            }
            if !ruled {
                // What looked like a header was a stray line: start again at this one.
                notes.push(LineNote {
                    line: table.line,
                    message: format!("not part of a result table: \"{}\"", clean(all[start].1.trim(), 60)),
                });
                return i;
            }
        }
        let cells = pipe_cells(line, bordered);
        if cells.len() == table.columns.len() {
            table.rows.push(Row { line: n, cells });
        } else {
            notes.push(LineNote {
                line: n,
                message: format!(
                    "expected {} columns ({}), found {}: \"{}\"",
                    table.columns.len(),
                    list(&table.columns, 8),
                    cells.len(),
                    clean(line.trim(), 60)
                ),
            });
        }
        i += 1;
    }
    tables.push(table);
    i
}

fn read_csv(
    all: &[(usize, String)],
    start: usize,
    columns: Vec<String>,
    tables: &mut Vec<Table>,
    notes: &mut Vec<LineNote>,
) -> usize {
    let mut table = Table { format: TableFormat::Csv, line: all[start].0, columns, rows: Vec::new() };
    let mut i = start + 1;
    while i < all.len() {
        let (n, line) = (all[i].0, all[i].1.as_str());
        if line.trim().is_empty() || !line.contains(',') || line.contains('|') {
            break;
        }
        if csv_header(line).is_some() && !table.rows.is_empty() && looks_like_new_header(line, &table.columns) {
            break;
        }
        match csv_fields(line) {
            Some(cells) if cells.len() == table.columns.len() => table.rows.push(Row { line: n, cells }),
            Some(cells) => notes.push(LineNote {
                line: n,
                message: format!(
                    "expected {} fields ({}), found {}: \"{}\"",
                    table.columns.len(),
                    list(&table.columns, 8),
                    cells.len(),
                    clean(line.trim(), 60)
                ),
            }),
            None => notes.push(LineNote {
                line: n,
                message: format!("unbalanced quote: \"{}\"", clean(line.trim(), 60)),
            }),
        }
        i += 1;
    }
    tables.push(table);
    i
}

/// A second CSV header: its names differ from the current columns.
fn looks_like_new_header(line: &str, columns: &[String]) -> bool {
    csv_header(line).is_some_and(|h| h != columns && h.iter().any(|c| columns.contains(c) || c == "count"))
}

fn read_expanded(all: &[(usize, String)], start: usize, tables: &mut Vec<Table>, notes: &mut Vec<LineNote>) -> usize {
    let mut columns: Vec<String> = Vec::new();
    // (line, key/value pairs) per record
    let mut records: Vec<(usize, Vec<(String, String)>)> = Vec::new();
    let bordered = is_bordered(&all[start].1);
    let mut i = start;
    while i < all.len() {
        let (n, line) = (all[i].0, all[i].1.as_str());
        if record_header(line) {
            records.push((n, Vec::new()));
            i += 1;
            continue;
        }
        if line.trim().is_empty() || !line.contains('|') || is_rule(line) {
            break;
        }
        let t = if bordered {
            let t = line.trim();
            let t = t.strip_prefix('|').unwrap_or(t);
            t.strip_suffix('|').unwrap_or(t)
        } else {
            line
        };
        let Some((k, v)) = t.split_once('|') else { break };
        let key = k.trim().to_ascii_lowercase();
        if !is_column_name(&key) {
            notes.push(LineNote { line: n, message: format!("not a column name: \"{}\"", clean(k.trim(), 60)) });
            i += 1;
            continue;
        }
        if let Some((_, rec)) = records.last_mut() {
            if !columns.contains(&key) {
                columns.push(key.clone());
            }
            rec.push((key, v.trim().to_string()));
        }
        i += 1;
    }
    if !records.is_empty() {
        let rows = records
            .into_iter()
            .map(|(line, pairs)| Row {
                line,
                cells: columns
                    .iter()
                    .map(|c| pairs.iter().rev().find(|(k, _)| k == c).map(|(_, v)| v.clone()).unwrap_or_default())
                    .collect(),
            })
            .collect();
        tables.push(Table { format: TableFormat::Expanded, line: all[start].0, columns, rows });
    }
    i.max(start + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compendium_example_without_rule_line() {
        let text = "        state        | count | res_for_super | max_conn\n active              |    12 |             3 |     300\n idle                |   127 |             3 |     300\n idle in transaction |     6 |             3 |     300\n                     |     6 |             3 |     300\n(4 rows)\n";
        let (tables, notes) = parse_tables(text);
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(tables.len(), 1);
        let t = &tables[0];
        assert_eq!(t.columns, ["state", "count", "res_for_super", "max_conn"]);
        assert_eq!(t.rows.len(), 4);
        assert_eq!(t.rows[3].cells[0], "");
        assert_eq!(t.rows[2].line, 4);
    }

    #[test]
    fn csv_with_quotes_and_empty_cells() {
        let (tables, _) = parse_tables("state,count\n\"idle in transaction\",6\n,3\n");
        assert_eq!(tables[0].rows[0].cells, ["idle in transaction", "6"]);
        assert_eq!(tables[0].rows[1].cells, ["", "3"]);
    }

    #[test]
    fn expanded_records() {
        let text = "-[ RECORD 1 ]-+-------\nstate         | active\ncount         | 12\n-[ RECORD 2 ]-+-------\nstate         | \ncount         | 6\n";
        let (tables, notes) = parse_tables(text);
        assert!(notes.is_empty());
        assert_eq!(tables[0].format, TableFormat::Expanded);
        assert_eq!(tables[0].rows[1].cells, ["", "6"]);
        assert_eq!(tables[0].rows[1].line, 4);
    }

    #[test]
    fn unicode_border_two() {
        let text = "┌────────┬───────┐\n│ state  │ count │\n├────────┼───────┤\n│ idle   │     3 │\n└────────┴───────┘\n(1 row)\n";
        let (tables, notes) = parse_tables(text);
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(tables[0].rows[0].cells, ["idle", "3"]);
    }

    #[test]
    fn short_row_is_reported_with_its_line() {
        let (tables, notes) = parse_tables(" state | count\n-------+------\n idle | 3 | 9\n active | 2\n(2 rows)\n");
        assert_eq!(tables[0].rows.len(), 1);
        assert_eq!(notes[0].line, 3);
        assert_eq!(notes[1].line, 5);
    }
}

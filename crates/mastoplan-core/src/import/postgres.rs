//! `postgresql.conf`, or the settings as psql shows them: `SHOW ALL` (values with units) or
//! `SELECT name, setting, unit FROM pg_settings` (numbers in the parameter's unit, e.g. 8 kB
//! pages), in any of psql's output formats.

use super::text::{lines, parse_pg_memory_kb, parse_u32, quoted, strip_inline_comment, unquote};
use super::{Collector, NoteAction, Val};
use crate::diagnose::table::parse_tables;

/// Setting names that mark a text as Postgres configuration.
pub(crate) const KNOWN_HINTS: &[&str] = &[
    "max_connections", "shared_buffers", "work_mem", "effective_cache_size", "maintenance_work_mem",
    "synchronous_commit", "listen_addresses", "wal_level", "max_wal_size", "min_wal_size",
    "checkpoint_completion_target", "random_page_cost", "superuser_reserved_connections", "log_line_prefix",
    "datestyle", "lc_messages", "default_text_search_config", "data_directory", "hba_file",
    "shared_preload_libraries", "huge_pages", "effective_io_concurrency", "max_worker_processes", "wal_buffers",
    "dynamic_shared_memory_type", "log_timezone", "cluster_name", "reserved_connections", "server_version",
];

pub(crate) fn read(c: &mut Collector, input: &str) {
    let (tables, table_notes) = parse_tables(input);
    let settings: Vec<_> = tables.iter().filter(|t| t.has(&["name", "setting"])).collect();
    if !settings.is_empty() {
        for note in table_notes {
            let at = c.at(Some(note.line), "");
            c.note(&at, NoteAction::Malformed, note.message);
        }
        let mut ignored = 0;
        for t in settings {
            let (name, setting, unit) = (t.column("name").unwrap_or(0), t.column("setting").unwrap_or(1), t.column("unit"));
            for row in &t.rows {
                let unit = unit.map(|u| row.cells[u].as_str()).unwrap_or("");
                if !setting_line(c, row.line, &row.cells[name].to_ascii_lowercase(), &row.cells[setting], unit) {
                    ignored += 1;
                }
            }
        }
        ignored_summary(c, ignored);
        return;
    }

    let mut ignored = 0;
    for (n, raw) in lines(input) {
        let t = raw.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let t = strip_inline_comment(t, &['#']);
        let (key, value) = match t.split_once('=') {
            Some((k, v)) if !k.trim().contains(char::is_whitespace) => (k.trim(), v.trim()),
            _ => match t.split_once(char::is_whitespace) {
                Some((k, v)) => (k.trim(), v.trim()),
                None => {
                    c.malformed(n, raw, "not a name = value line");
                    continue;
                }
            },
        };
        let key = key.to_ascii_lowercase();
        if !key.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '.') || key.is_empty() {
            c.malformed(n, raw, "not a setting name");
            continue;
        }
        if matches!(key.as_str(), "include" | "include_if_exists" | "include_dir") {
            c.note_line(n, &key, NoteAction::Ignored, "included files are not followed: add them as another input");
            continue;
        }
        let Some(value) = unquote(value) else {
            c.malformed(n, raw, "the quote is never closed");
            continue;
        };
        let value = value.replace("''", "'");
        if !setting_line(c, n, &key, &value, "") {
            ignored += 1;
        }
    }
    ignored_summary(c, ignored);
}

fn ignored_summary(c: &mut Collector, ignored: usize) {
    if ignored > 0 {
        c.note_input(
            NoteAction::Ignored,
            format!("{ignored} other settings are not part of the plan (it holds connection limits, memory and synchronous_commit)"),
        );
    }
}

/// Read one setting; false when it is not one the plan holds.
fn setting_line(c: &mut Collector, n: usize, key: &str, value: &str, unit: &str) -> bool {
    let at = c.at(Some(n), key);
    let value = value.trim();
    let count = |c: &mut Collector| match parse_u32(value) {
        Some(v) => Some(Val { v, at: at.clone() }),
        None => {
            c.note(&at, NoteAction::Malformed, format!("{} is not a number", quoted(value)));
            None
        }
    };
    match key {
        "max_connections" | "superuser_reserved_connections" | "reserved_connections" => {
            if let Some(v) = count(c) {
                c.recognised += 1;
                let slot = match key {
                    "max_connections" => &mut c.pg.max_connections,
                    "superuser_reserved_connections" => &mut c.pg.superuser_reserved_connections,
                    _ => &mut c.pg.reserved_connections,
                };
                Collector::set(&mut c.notes, slot, v);
            }
        }
        "shared_buffers" | "work_mem" | "effective_cache_size" | "maintenance_work_mem" => {
            let base_kb = if matches!(key, "shared_buffers" | "effective_cache_size") { 8 } else { 1 };
            let parsed = match unit.trim() {
                "" => parse_pg_memory_kb(value, base_kb),
                // pg_settings: a bare number in the unit its `unit` column names (`8kB`, `kB`…).
                u => {
                    let digits_end = u.find(|ch: char| !ch.is_ascii_digit()).unwrap_or(u.len());
                    let (count, name) = u.split_at(digits_end);
                    let count = if count.is_empty() { 1 } else { parse_u32(count).unwrap_or(0) as u64 };
                    match (parse_pg_memory_kb(&format!("1{name}"), base_kb), parse_u32(value)) {
                        (Ok(kb), Some(v)) if count > 0 => Ok(v as u64 * kb * count),
                        (Ok(_), None) => Err(format!("{} is not a number", quoted(value))),
                        (Err(e), _) => Err(e),
                        _ => Err(format!("{} is not a unit of memory", quoted(u))),
                    }
                }
            };
            match parsed {
                Ok(kb) => {
                    c.recognised += 1;
                    // The plan keeps whole megabytes; a setting under 1 MB rounds up to 1.
                    let mb = ((kb + 512) / 1024).max(1);
                    let v = u32::try_from(mb).unwrap_or(u32::MAX);
                    let slot = match key {
                        "shared_buffers" => &mut c.pg.shared_buffers_mb,
                        "work_mem" => &mut c.pg.work_mem_mb,
                        "effective_cache_size" => &mut c.pg.effective_cache_size_mb,
                        _ => &mut c.pg.maintenance_work_mem_mb,
                    };
                    Collector::set(&mut c.notes, slot, Val { v, at });
                }
                Err(e) => c.note(&at, NoteAction::Malformed, e),
            }
        }
        "synchronous_commit" => match value.to_ascii_lowercase().as_str() {
            "off" | "false" | "no" | "0" => {
                c.recognised += 1;
                Collector::set(&mut c.notes, &mut c.pg.synchronous_commit_off, Val { v: true, at });
            }
            "on" | "true" | "yes" | "1" | "local" | "remote_write" | "remote_apply" => {
                c.recognised += 1;
                Collector::set(&mut c.notes, &mut c.pg.synchronous_commit_off, Val { v: false, at });
            }
            _ => c.note(&at, NoteAction::Malformed, format!("{} is not a synchronous_commit level", quoted(value))),
        },
        "server_version" | "server_version_num" => {
            let major = if key == "server_version_num" {
                parse_u32(value).map(|v| v / 10_000)
            } else {
                let digits: String = value.chars().take_while(|ch| ch.is_ascii_digit()).collect();
                parse_u32(&digits)
            };
            match major {
                Some(v) => {
                    c.recognised += 1;
                    Collector::set(&mut c.notes, &mut c.pg.version, Val { v, at });
                }
                None => c.note(&at, NoteAction::Malformed, format!("{} is not a Postgres version", quoted(value))),
            }
        }
        _ => {
            c.recognised += 1;
            return false;
        }
    }
    true
}

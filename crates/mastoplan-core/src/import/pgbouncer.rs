//! `pgbouncer.ini`: the `[pgbouncer]` settings that shape its two sides, and how many
//! database entries it pools.

use std::collections::BTreeSet;

use super::text::{lines, parse_u32, quoted, strip_inline_comment};
use super::{Collector, NoteAction, Val};
use crate::plan::PoolMode;

pub(crate) fn read(c: &mut Collector, input: &str) {
    let mut section = String::new();
    let mut databases: BTreeSet<String> = BTreeSet::new();
    let mut databases_at = None;
    let mut ignored: Vec<String> = Vec::new();
    let mut ignored_at = None;
    for (n, raw) in lines(input) {
        let t = raw.trim();
        if t.is_empty() || t.starts_with(';') || t.starts_with('#') {
            continue;
        }
        if t.starts_with("%include") {
            c.note_line(n, "%include", NoteAction::Ignored, "included files are not followed: add them as another input");
            continue;
        }
        if let Some(rest) = t.strip_prefix('[') {
            match rest.strip_suffix(']') {
                Some(name) if !name.trim().is_empty() => section = name.trim().to_ascii_lowercase(),
                _ => {
                    section = rest.trim_end_matches(']').trim().to_ascii_lowercase();
                    c.malformed(n, raw, &format!("not a [section] line; read as [{}]", super::text::clean(&section, 30)));
                }
            }
            if section == "pgbouncer" && c.bouncer.seen.is_none() {
                c.bouncer.seen = Some(c.at(Some(n), "[pgbouncer]"));
            }
            continue;
        }
        let Some((k, v)) = t.split_once('=') else {
            c.malformed(n, raw, "not a key = value line");
            continue;
        };
        let key = k.trim();
        if key.is_empty() {
            c.malformed(n, raw, "no setting name before '='");
            continue;
        }
        match section.as_str() {
            "databases" => {
                c.recognised += 1;
                databases_at.get_or_insert(n);
                databases.insert(key.to_string());
            }
            "pgbouncer" => {
                let key = key.to_ascii_lowercase();
                let value = strip_inline_comment(v.trim(), &[';', '#']);
                read_setting(c, n, &key, &value, &mut ignored, &mut ignored_at);
            }
            "" => c.malformed(n, raw, "setting before any [section]"),
            _ => {}
        }
    }
    if !databases.is_empty() {
        let at = c.at(databases_at, "[databases]");
        let count = u32::try_from(databases.len()).unwrap_or(u32::MAX);
        Collector::set(&mut c.notes, &mut c.bouncer.databases, Val { v: count, at });
    }
    if !ignored.is_empty() {
        let at = c.at(ignored_at, "[pgbouncer]");
        c.note(&at, NoteAction::Ignored, format!("{}: not part of the plan", super::text::list(&ignored, 8)));
    }
}

fn read_setting(c: &mut Collector, n: usize, key: &str, value: &str, ignored: &mut Vec<String>, ignored_at: &mut Option<usize>) {
    let at = c.at(Some(n), key);
    let number = |c: &mut Collector| -> Option<Val<u32>> {
        match parse_u32(value) {
            Some(v) => Some(Val { v, at: at.clone() }),
            None => {
                c.note(&at, NoteAction::Malformed, format!("{} is not a number", quoted(value)));
                None
            }
        }
    };
    match key {
        "pool_mode" => {
            let mode = match value.to_ascii_lowercase().as_str() {
                "session" => Some(PoolMode::Session),
                "transaction" => Some(PoolMode::Transaction),
                "statement" => Some(PoolMode::Statement),
                _ => None,
            };
            match mode {
                Some(v) => {
                    c.recognised += 1;
                    Collector::set(&mut c.notes, &mut c.bouncer.pool_mode, Val { v, at });
                }
                None => c.note(&at, NoteAction::Malformed, format!("{} is not session, transaction or statement", quoted(value))),
            }
        }
        "max_client_conn" | "default_pool_size" | "reserve_pool_size" | "max_db_connections" | "listen_port" => {
            if let Some(v) = number(c) {
                c.recognised += 1;
                let slot = match key {
                    "max_client_conn" => &mut c.bouncer.max_client_conn,
                    "default_pool_size" => &mut c.bouncer.default_pool_size,
                    "reserve_pool_size" => &mut c.bouncer.reserve_pool_size,
                    "max_db_connections" => &mut c.bouncer.max_db_connections,
                    _ => &mut c.bouncer.listen_port,
                };
                Collector::set(&mut c.notes, slot, v);
            }
        }
        _ => {
            c.recognised += 1;
            ignored_at.get_or_insert(n);
            if !ignored.iter().any(|k| k == key) {
                ignored.push(super::text::clean(key, 40));
            }
        }
    }
}

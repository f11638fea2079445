//! `redis.conf`, or `CONFIG GET *` as redis-cli prints it: numbered (`1) "maxmemory"`) at
//! a terminal, or bare alternating name and value lines when piped (`--raw`).

use super::text::{lines, parse_bool, parse_redis_memory, parse_u32, quoted, split_words};
use super::{Collector, NoteAction, RedisConf, Val};
use crate::plan::EvictionPolicy;

/// Directive names that mark a text as Redis configuration.
pub(crate) const KNOWN_HINTS: &[&str] = &[
    "maxmemory", "maxmemory-policy", "appendonly", "appendfsync", "save", "bind", "protected-mode",
    "tcp-backlog", "daemonize", "supervised", "databases", "dbfilename", "requirepass", "maxclients",
    "tcp-keepalive", "loglevel", "rdbcompression", "lazyfree-lazy-eviction", "io-threads", "maxmemory-samples",
];

/// The value of a `N) "value"` line, for telling the format.
pub(crate) fn numbered_item(line: &str) -> Option<String> {
    numbered(line).map(|(_, v)| v)
}

fn numbered(line: &str) -> Option<(u64, String)> {
    let t = line.trim_start();
    let close = t.find(')')?;
    let index: u64 = t[..close].parse().ok()?;
    let rest = t[close + 1..].trim();
    let value = if rest.starts_with('"') { super::text::unquote(rest)? } else { rest.to_string() };
    Some((index, value))
}

fn is_prompt(line: &str) -> bool {
    let l = line.to_ascii_lowercase();
    l.contains("> ") && l.contains("config") || l.trim_start().starts_with("redis-cli") || l.starts_with('$')
}

pub(crate) fn read(c: &mut Collector, input: &str) {
    let all: Vec<(usize, &str)> = lines(input).collect();
    let mut conf = RedisConf {
        at: c.at(all.iter().find(|(_, l)| !l.trim().is_empty()).map(|(n, _)| *n), "redis"),
        port: None,
        maxmemory_mb: None,
        policy: None,
        appendonly: None,
        save: None,
    };
    let mut ignored = 0usize;
    let pairs = if all.iter().any(|(_, l)| numbered(l).is_some()) {
        numbered_pairs(c, &all)
    } else if looks_like_plain_dump(&all) {
        plain_pairs(&all)
    } else {
        conf_pairs(c, &all)
    };
    for (n, key, value) in pairs {
        if !setting(c, &mut conf, n, &key, &value) {
            ignored += 1;
        }
    }
    if ignored > 0 {
        c.note_input(
            NoteAction::Ignored,
            format!("{ignored} other settings are not part of the plan (it holds port, maxmemory, its policy and persistence)"),
        );
    }
    c.redis.push(conf);
}

/// Bare `CONFIG GET` output: mostly one-word lines, no comments.
fn looks_like_plain_dump(all: &[(usize, &str)]) -> bool {
    let content: Vec<&str> = all.iter().map(|(_, l)| l.trim()).filter(|l| !l.is_empty() && !is_prompt(l)).collect();
    if content.len() < 4 || content.iter().any(|l| l.starts_with('#')) {
        return false;
    }
    let single = content.iter().filter(|l| !l.contains(char::is_whitespace)).count();
    single * 10 >= content.len() * 8
}

fn plain_pairs(all: &[(usize, &str)]) -> Vec<(usize, String, String)> {
    let mut body: Vec<(usize, &str)> = all.iter().copied().skip_while(|(_, l)| l.trim().is_empty() || is_prompt(l)).collect();
    while body.last().is_some_and(|(_, l)| l.trim().is_empty()) && body.len() % 2 == 1 {
        body.pop();
    }
    body.chunks(2)
        .filter(|pair| pair.len() == 2)
        .map(|pair| (pair[0].0, pair[0].1.trim().to_ascii_lowercase(), pair[1].1.trim().to_string()))
        .collect()
}

fn numbered_pairs(c: &mut Collector, all: &[(usize, &str)]) -> Vec<(usize, String, String)> {
    let mut out = Vec::new();
    let mut pending: Option<(usize, u64, String)> = None;
    for (n, raw) in all {
        if raw.trim().is_empty() || is_prompt(raw) {
            continue;
        }
        let Some((index, value)) = numbered(raw) else {
            c.malformed(*n, raw, "not a numbered CONFIG GET line");
            continue;
        };
        match pending.take() {
            Some((kn, ki, key)) if index == ki + 1 => out.push((kn, key.to_ascii_lowercase(), value)),
            Some((kn, _, key)) => {
                c.note_line(kn, &key, NoteAction::Malformed, "no value follows this name");
                if index % 2 == 1 {
                    pending = Some((*n, index, value));
                }
            }
            None if index % 2 == 1 => pending = Some((*n, index, value)),
            None => c.malformed(*n, raw, "a value without its name"),
        }
    }
    if let Some((kn, _, key)) = pending {
        c.note_line(kn, &key, NoteAction::Malformed, "no value follows this name");
    }
    out
}

fn conf_pairs(c: &mut Collector, all: &[(usize, &str)]) -> Vec<(usize, String, String)> {
    let mut out = Vec::new();
    for (n, raw) in all {
        let t = raw.trim();
        if t.is_empty() || t.starts_with('#') || is_prompt(t) {
            continue;
        }
        let words = match split_words(t) {
            Some(w) if !w.is_empty() => w,
            Some(_) => {
                c.malformed(*n, raw, "not a directive");
                continue;
            }
            None => {
                c.malformed(*n, raw, "the quote is never closed");
                continue;
            }
        };
        let key = words[0].to_ascii_lowercase();
        if !key.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_') {
            c.malformed(*n, raw, "not a directive name");
            continue;
        }
        if words.len() < 2 && key != "save" {
            c.malformed(*n, raw, "a directive without a value");
            continue;
        }
        if key == "include" {
            c.note_line(*n, "include", NoteAction::Ignored, "included files are not followed: add them as another input");
            continue;
        }
        // `save ""` has one empty word; `save 900 1` several.
        let value = words[1..].join(" ");
        out.push((*n, key, value));
    }
    out
}

/// Read one setting into `conf`; false when the plan does not hold it.
fn setting(c: &mut Collector, conf: &mut RedisConf, n: usize, key: &str, value: &str) -> bool {
    let at = c.at(Some(n), key);
    match key {
        "port" => match parse_u32(value) {
            Some(v) => {
                c.recognised += 1;
                Collector::set(&mut c.notes, &mut conf.port, Val { v, at });
            }
            None => c.note(&at, NoteAction::Malformed, format!("{} is not a port", quoted(value))),
        },
        "maxmemory" => match parse_redis_memory(value) {
            Ok(bytes) => {
                c.recognised += 1;
                let mb = if bytes == 0 { 0 } else { (bytes / (1024 * 1024)).max(1) };
                let v = u32::try_from(mb).unwrap_or(u32::MAX);
                Collector::set(&mut c.notes, &mut conf.maxmemory_mb, Val { v, at });
            }
            Err(e) => c.note(&at, NoteAction::Malformed, e),
        },
        "maxmemory-policy" => match policy(value) {
            Some(v) => {
                c.recognised += 1;
                Collector::set(&mut c.notes, &mut conf.policy, Val { v, at });
            }
            None => c.note(&at, NoteAction::Malformed, format!("{} is not an eviction policy", quoted(value))),
        },
        "appendonly" => match parse_bool(value) {
            Some(v) => {
                c.recognised += 1;
                Collector::set(&mut c.notes, &mut conf.appendonly, Val { v, at });
            }
            None => c.note(&at, NoteAction::Malformed, format!("{} is not yes or no", quoted(value))),
        },
        "save" => {
            // `save ""` clears the snapshot rules; each `save SECONDS CHANGES` adds one, so
            // repeated save lines are not overrides.
            c.recognised += 1;
            let on = !value.trim().is_empty() && value.trim() != "\"\"";
            conf.save = Some(Val { v: on, at });
        }
        _ => {
            c.recognised += 1;
            return false;
        }
    }
    true
}

fn policy(value: &str) -> Option<EvictionPolicy> {
    use EvictionPolicy::*;
    Some(match value.trim().to_ascii_lowercase().as_str() {
        "noeviction" => Noeviction,
        "allkeys-lru" => AllkeysLru,
        "allkeys-lfu" => AllkeysLfu,
        "allkeys-random" => AllkeysRandom,
        "volatile-lru" => VolatileLru,
        "volatile-lfu" => VolatileLfu,
        "volatile-random" => VolatileRandom,
        "volatile-ttl" => VolatileTtl,
        _ => return None,
    })
}

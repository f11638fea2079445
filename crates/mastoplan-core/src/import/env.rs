//! `.env.production`: `KEY=value` lines as dotenv reads them. `export` prefixes, quotes,
//! `KEY = value`, inline ` # comments` and values in quotes that span lines are all taken.

use super::text::{self, lines, strip_inline_comment};
use super::Collector;

/// Variables that mark a text as a Mastodon environment file.
pub(crate) const MASTODON_HINTS: &[&str] = &[
    "LOCAL_DOMAIN", "WEB_DOMAIN", "DB_HOST", "DB_PORT", "DB_POOL", "DB_NAME", "DB_USER", "DB_PASS", "REDIS_URL",
    "REDIS_HOST", "REDIS_PORT", "CACHE_REDIS_URL", "SIDEKIQ_REDIS_URL", "WEB_CONCURRENCY", "MAX_THREADS",
    "STREAMING_CLUSTER_NUM", "PREPARED_STATEMENTS", "S3_ENABLED", "SECRET_KEY_BASE", "OTP_SECRET", "RAILS_ENV",
    "SMTP_SERVER", "ES_ENABLED", "DATABASE_URL",
];

pub(crate) fn is_env_key(k: &str) -> bool {
    let mut chars = k.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        && k.len() <= 128
}

/// `KEY=...` with a plausible key: used to tell the format.
pub(crate) fn looks_like_assignment(line: &str) -> bool {
    let t = line.trim();
    let t = t.strip_prefix("export ").unwrap_or(t);
    match t.split_once('=') {
        Some((k, _)) => is_env_key(k.trim()) && k.trim().chars().any(|c| c.is_ascii_uppercase()),
        None => false,
    }
}

pub(crate) fn read(c: &mut Collector, input: &str) {
    let all: Vec<(usize, &str)> = lines(input).collect();
    let mut i = 0;
    while i < all.len() {
        let (n, raw) = all[i];
        i += 1;
        let t = raw.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let t = t.strip_prefix("export ").map(str::trim_start).unwrap_or(t);
        let split = match (t.find('='), t.find(':')) {
            (Some(e), Some(col)) if col < e => Some((col, 1)),
            (Some(e), _) => Some((e, 1)),
            (None, Some(col)) if t[col + 1..].starts_with(' ') => Some((col, 1)),
            _ => None,
        };
        let Some((pos, len)) = split else {
            c.malformed(n, raw, "not a KEY=value line");
            continue;
        };
        let key = t[..pos].trim();
        if !is_env_key(key) {
            c.malformed(n, raw, "not a variable name");
            continue;
        }
        let mut value = t[pos + len..].trim().to_string();
        if let Some(q @ ('"' | '\'')) = value.chars().next() {
            // A quoted value may run over several lines (dotenv allows it in double quotes).
            let resume = i;
            let mut joined = value.clone();
            let mut extra = 0;
            while closing_quote(&joined, q).is_none() && i < all.len() && extra < 100 {
                joined.push('\n');
                joined.push_str(all[i].1);
                i += 1;
                extra += 1;
            }
            match closing_quote(&joined, q) {
                Some(end) => {
                    let rest = joined[end + 1..].trim();
                    if !rest.is_empty() && !rest.starts_with('#') {
                        c.malformed(n, raw, "text after the closing quote");
                        continue;
                    }
                    value = text::unquote(&joined[..=end]).unwrap_or_default();
                }
                None => {
                    c.malformed(n, raw, "the quote is never closed");
                    i = resume;
                    continue;
                }
            }
        } else {
            value = strip_inline_comment(&value, &['#']);
        }
        c.set_env(key, value, Some(n));
    }
}

/// Byte index of the quote closing the value that opens with `q` at index 0.
fn closing_quote(s: &str, q: char) -> Option<usize> {
    let mut esc = false;
    for (i, ch) in s.char_indices().skip(1) {
        if esc {
            esc = false;
        } else if ch == '\\' && q == '"' {
            esc = true;
        } else if ch == q {
            return Some(i);
        }
    }
    None
}

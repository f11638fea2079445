//! Helpers every importer shares: numbered lines, quoting, numbers with units, and messages
//! that are safe to show whatever the input held.

/// Inputs larger than this are not read: no configuration file of the kinds imported comes
/// near it, and the page must stay responsive whatever is pasted.
pub const MAX_INPUT_BYTES: usize = 1 << 20;

/// How much of a value a message quotes.
pub const QUOTE_CHARS: usize = 60;

/// The lines of a text, numbered from 1, without a leading byte-order mark, carriage
/// returns or trailing whitespace.
pub fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    text.split('\n').enumerate().map(|(i, l)| (i + 1, l.trim_end()))
}

/// A piece of input as a message may show it: control and bidi characters dropped, tabs as
/// spaces, at most `max` characters.
pub fn clean(s: &str, max: usize) -> String {
    let mut out = String::new();
    let mut n = 0;
    for c in s.chars() {
        let c = if c == '\t' { ' ' } else { c };
        if c.is_control() || is_format_char(c) {
            continue;
        }
        if n == max {
            out.push('…');
            break;
        }
        out.push(c);
        n += 1;
    }
    out
}

/// Invisible characters that reorder or hide text (bidi controls, zero-width marks).
fn is_format_char(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}' | '\u{ad}')
}

/// Names for a message: at most `max` of them, each cleaned, then how many more.
pub fn list<S: AsRef<str>>(items: &[S], max: usize) -> String {
    let shown: Vec<String> = items.iter().take(max).map(|i| clean(i.as_ref(), 40)).collect();
    match items.len().saturating_sub(max) {
        0 => shown.join(", "),
        more => format!("{} and {more} more", shown.join(", ")),
    }
}

/// `"value"` for a message, cleaned and capped.
pub fn quoted(s: &str) -> String {
    format!("\"{}\"", clean(s, QUOTE_CHARS))
}

/// Variables whose values are secrets: never quoted in a message.
pub fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_uppercase();
    ["PASS", "SECRET", "TOKEN", "PRIVATE", "OTP", "CREDENTIAL", "SALT", "AUTH", "_KEY", "KEY_"]
        .iter()
        .any(|w| k.contains(w))
        || k.ends_with("KEY")
}

/// A value as a message may show it: secrets hidden, credentials removed from URLs.
pub fn shown_value(key: &str, value: &str) -> String {
    if is_secret_key(key) {
        return "(hidden)".into();
    }
    quoted(&strip_userinfo(value))
}

/// `redis://user:pass@host:6379/0` without `user:pass@`.
pub fn strip_userinfo(value: &str) -> String {
    if let Some(scheme_end) = value.find("://") {
        let rest = &value[scheme_end + 3..];
        let authority_end = rest.find('/').unwrap_or(rest.len());
        if let Some(at) = rest[..authority_end].rfind('@') {
            return format!("{}{}", &value[..scheme_end + 3], &rest[at + 1..]);
        }
    }
    value.to_string()
}

/// An unsigned number as configuration files write it: digits, maybe a leading `+`.
pub fn parse_u64(s: &str) -> Option<u64> {
    let s = s.trim();
    let s = s.strip_prefix('+').unwrap_or(s);
    if s.is_empty() || s.len() > 19 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

pub fn parse_u32(s: &str) -> Option<u32> {
    parse_u64(s).and_then(|v| u32::try_from(v).ok())
}

/// Booleans as Rails, systemd, Postgres and Redis spell them.
pub fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" | "y" | "t" => Some(true),
        "false" | "no" | "off" | "0" | "n" | "f" => Some(false),
        _ => None,
    }
}

/// A Postgres memory setting in kB. `base_kb` is the parameter's unit when the value has
/// none: 1 for work_mem and maintenance_work_mem, 8 for shared_buffers and
/// effective_cache_size (8 kB pages).
pub fn parse_pg_memory_kb(value: &str, base_kb: u64) -> Result<u64, String> {
    let v = value.trim();
    let digits_end = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    let (num, unit) = v.split_at(digits_end);
    let n = parse_u64(num).ok_or_else(|| format!("{} is not a memory size", quoted(value)))?;
    let unit = unit.trim();
    let kb: u64 = match unit {
        "" => base_kb,
        "B" | "b" => return Ok(n / 1024),
        "kB" | "KB" | "kb" | "k" | "K" => 1,
        "8kB" | "8KB" | "8kb" => 8,
        "MB" | "mb" | "M" | "m" => 1024,
        "GB" | "gb" | "G" | "g" => 1024 * 1024,
        "TB" | "tb" | "T" | "t" => 1024 * 1024 * 1024,
        _ => return Err(format!("{} has an unknown unit (Postgres takes B, kB, MB, GB, TB)", quoted(value))),
    };
    n.checked_mul(kb).ok_or_else(|| format!("{} is too large", quoted(value)))
}

/// A Redis memory setting in bytes: `1gb` is 1024^3, `1g` is 10^9, as redis.conf documents.
pub fn parse_redis_memory(value: &str) -> Result<u64, String> {
    let v = value.trim();
    let digits_end = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    let (num, unit) = v.split_at(digits_end);
    let n = parse_u64(num).ok_or_else(|| format!("{} is not a memory size", quoted(value)))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1_000_000,
        "mb" => 1024 * 1024,
        "g" => 1_000_000_000,
        "gb" => 1024 * 1024 * 1024,
        _ => return Err(format!("{} has an unknown unit (Redis takes k, kb, m, mb, g, gb)", quoted(value))),
    };
    n.checked_mul(mult).ok_or_else(|| format!("{} is too large", quoted(value)))
}

/// A value in double or single quotes without them, with `\"` and `\\` unescaped in double
/// quotes. Unbalanced quotes give `None`.
pub fn unquote(v: &str) -> Option<String> {
    let v = v.trim();
    let mut chars = v.chars();
    match chars.next() {
        Some(q @ ('"' | '\'')) => {
            if v.len() < 2 || !v.ends_with(q) {
                return None;
            }
            let inner = &v[1..v.len() - 1];
            if q == '\'' {
                return Some(inner.to_string());
            }
            let mut out = String::new();
            let mut esc = false;
            for c in inner.chars() {
                if esc {
                    out.push(match c {
                        'n' => '\n',
                        't' => '\t',
                        other => other,
                    });
                    esc = false;
                } else if c == '\\' {
                    esc = true;
                } else {
                    out.push(c);
                }
            }
            Some(out)
        }
        _ => Some(v.to_string()),
    }
}

/// Split on whitespace, keeping quoted runs together and removing their quotes, as systemd
/// and shells do. Unbalanced quotes give `None`.
pub fn split_words(s: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) if c == q => quote = None,
            Some('"') if c == '\\' => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            Some(_) => cur.push(c),
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                in_word = true;
            }
            None if c == '\\' => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                    in_word = true;
                }
            }
            None if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            None => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if quote.is_some() {
        return None;
    }
    if in_word {
        words.push(cur);
    }
    Some(words)
}

/// Cut a `#` comment off an unquoted value: only a `#` at the start or after whitespace
/// starts one, so `a#b` stays whole.
pub fn strip_inline_comment(v: &str, markers: &[char]) -> String {
    let mut quote: Option<char> = None;
    let mut prev_space = true;
    for (i, c) in v.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None if markers.contains(&c) && prev_space => return v[..i].trim_end().to_string(),
            None => {}
        }
        prev_space = c.is_whitespace();
    }
    v.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_drops_controls_and_caps() {
        assert_eq!(clean("a\u{1b}[31mb\u{202e}c\td", 80), "a[31mbc d");
        assert_eq!(clean(&"x".repeat(100), 5), "xxxxx…");
    }

    #[test]
    fn secrets_are_hidden_and_urls_lose_credentials() {
        assert_eq!(shown_value("DB_PASS", "hunter2"), "(hidden)");
        assert_eq!(shown_value("SECRET_KEY_BASE", "abc"), "(hidden)");
        assert_eq!(shown_value("REDIS_URL", "redis://:pw@10.0.0.5:6379/0"), "\"redis://10.0.0.5:6379/0\"");
        assert_eq!(shown_value("DB_POOL", "25"), "\"25\"");
    }

    #[test]
    fn memory_units() {
        assert_eq!(parse_pg_memory_kb("128MB", 8), Ok(128 * 1024));
        assert_eq!(parse_pg_memory_kb("16384", 8), Ok(131072));
        assert_eq!(parse_pg_memory_kb("4096", 1), Ok(4096));
        assert_eq!(parse_pg_memory_kb("2GB", 1), Ok(2 * 1024 * 1024));
        assert!(parse_pg_memory_kb("lots", 1).is_err());
        assert_eq!(parse_redis_memory("2gb"), Ok(2 << 30));
        assert_eq!(parse_redis_memory("100mb"), Ok(100 << 20));
        assert_eq!(parse_redis_memory("1g"), Ok(1_000_000_000));
        assert_eq!(parse_redis_memory("0"), Ok(0));
    }

    #[test]
    fn words_and_comments() {
        assert_eq!(split_words(r#""A=1 2" B=3 'C=4'"#).unwrap(), vec!["A=1 2", "B=3", "C=4"]);
        assert!(split_words("\"open").is_none());
        assert_eq!(strip_inline_comment("25 # threads", &['#']), "25");
        assert_eq!(strip_inline_comment("a#b", &['#']), "a#b");
        assert_eq!(strip_inline_comment("'x # y' # z", &['#']), "'x # y'");
        assert_eq!(unquote("\"a\\\"b\"").unwrap(), "a\"b");
        assert!(unquote("\"a").is_none());
    }
}

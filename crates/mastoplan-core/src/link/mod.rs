//! Share links: the whole plan in a URL fragment, which browsers never send to a server.
//!
//! A plan link's fragment is `v1.` followed by base64url (no padding) of one flag byte and a
//! payload: the plan in the v1 wire format (see `v1.rs`), raw when that is shortest, else
//! compressed with raw deflate.
//!
//! Why this encoding:
//! - Size: JSON, even compressed, spends most of a link on field names. A positional binary
//!   format with varints (postcard) spends a byte or two per number, and names that equal
//!   what the planner would call the unit anyway are left out. The compendium's worked
//!   example takes well under 200 characters.
//! - Years of compatibility: postcard's wire format is specified and stable since 1.0, deflate
//!   (RFC 1951) and base64url (RFC 4648) are standards. Each format version has its own frozen
//!   wire types; a decoder for every version ever published stays, and golden links under
//!   `tests/links/` pin them. Fields that later versions add take their defaults when a v1
//!   link is opened.
//! - Safety: the fragment length and the inflated size are capped before anything is
//!   allocated for them, and a decoded plan goes through `Plan::validate` like any other
//!   untrusted plan.
//!
//! Other fragments the page understands: `preset=NAME` and `rule=NAME`, deep links for docs.

mod v1;

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::plan::Plan;
use crate::validate::PlanError;

/// Longer fragments are refused before decoding: a 50-host plan takes about a tenth of this.
pub const MAX_FRAGMENT_LEN: usize = 16 * 1024;
/// The most bytes a link may inflate to; a decompression bomb stops here.
pub const MAX_DECODED_LEN: usize = 256 * 1024;

const FLAG_RAW: u8 = 0;
const FLAG_DEFLATE: u8 = 1;

/// Why a link could not be opened. Each says what to do, for the page's banner.
#[derive(Debug, Clone, PartialEq)]
pub enum LinkError {
    Empty,
    TooLong { len: usize },
    UnknownVersion(String),
    NotBase64,
    Corrupt(String),
    TooLarge,
    InvalidPlan(PlanError),
    UnknownPreset(String),
    UnknownRule(String),
}

impl fmt::Display for LinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinkError::Empty => write!(f, "the link holds no plan"),
            LinkError::TooLong { len } => write!(
                f,
                "the link is {len} characters long; plan links are at most {MAX_FRAGMENT_LEN}"
            ),
            LinkError::UnknownVersion(v) => write!(
                f,
                "this link was made in a format this planner does not know ({}); it may be cut off or come from a newer version",
                printable(v)
            ),
            LinkError::NotBase64 => write!(f, "the link is damaged: it contains characters a plan link never has"),
            LinkError::Corrupt(why) => write!(f, "the link is damaged or cut off ({why})"),
            LinkError::TooLarge => write!(f, "the link unpacks to more than {MAX_DECODED_LEN} bytes; refused"),
            LinkError::InvalidPlan(e) => write!(f, "the link's plan is not valid: {e}"),
            LinkError::UnknownPreset(p) => write!(f, "no preset is named {}", printable(p)),
            LinkError::UnknownRule(r) => write!(f, "no rule is named {}", printable(r)),
        }
    }
}

impl std::error::Error for LinkError {}

/// Untrusted text quoted back in a message: short, and with no control characters.
fn printable(s: &str) -> String {
    let cut: String = s.chars().take(40).map(|c| if c.is_control() { '\u{fffd}' } else { c }).collect();
    format!("{cut:?}")
}

/// What a fragment asks the page to open.
#[derive(Debug, Clone, PartialEq)]
pub enum Fragment {
    Plan(Box<Plan>),
    Preset(String),
    Rule(String),
}

/// The fragment for a plan, without the `#`.
pub fn encode(plan: &Plan) -> String {
    let payload = v1::to_bytes(plan);
    let deflated = miniz_oxide::deflate::compress_to_vec(&payload, 10);
    let mut framed = Vec::with_capacity(payload.len() + 1);
    if deflated.len() < payload.len() {
        framed.push(FLAG_DEFLATE);
        framed.extend_from_slice(&deflated);
    } else {
        framed.push(FLAG_RAW);
        framed.extend_from_slice(&payload);
    }
    format!("v1.{}", URL_SAFE_NO_PAD.encode(framed))
}

/// A full share URL: `base` without its own fragment, then `#` and the plan.
pub fn share_url(base: &str, plan: &Plan) -> String {
    let base = base.split('#').next().unwrap_or(base);
    format!("{base}#{}", encode(plan))
}

/// The fragment part of a URL or a bare fragment, with or without its `#`.
pub fn fragment_of(input: &str) -> &str {
    let input = input.trim();
    match input.find('#') {
        Some(i) => &input[i + 1..],
        None => input,
    }
}

/// Decode a plan link (a URL, `#v1.…` or `v1.…`) into a validated plan.
pub fn decode(input: &str) -> Result<Plan, LinkError> {
    match parse(input)? {
        Fragment::Plan(plan) => Ok(*plan),
        Fragment::Preset(name) => crate::presets::get(&name).ok_or(LinkError::UnknownPreset(name)),
        Fragment::Rule(_) => Err(LinkError::Empty),
    }
}

/// Understand any fragment the page may be opened with.
pub fn parse(input: &str) -> Result<Fragment, LinkError> {
    let fragment = fragment_of(input);
    if fragment.len() > MAX_FRAGMENT_LEN {
        return Err(LinkError::TooLong { len: fragment.len() });
    }
    if fragment.is_empty() {
        return Err(LinkError::Empty);
    }
    if let Some(name) = fragment.strip_prefix("preset=") {
        return match crate::presets::get(name) {
            Some(_) => Ok(Fragment::Preset(name.to_string())),
            None => Err(LinkError::UnknownPreset(name.to_string())),
        };
    }
    if let Some(name) = fragment.strip_prefix("rule=") {
        return match crate::rules::by_name(name) {
            Some(rule) => Ok(Fragment::Rule(rule.name.to_string())),
            None => Err(LinkError::UnknownRule(name.to_string())),
        };
    }
    let (version, data) = fragment.split_once('.').ok_or_else(|| LinkError::UnknownVersion(fragment.to_string()))?;
    let plan = match version {
        "v1" => v1::from_bytes(&unframe(data)?)?,
        other => return Err(LinkError::UnknownVersion(other.to_string())),
    };
    plan.validate().map_err(LinkError::InvalidPlan)?;
    Ok(Fragment::Plan(Box::new(plan)))
}

fn unframe(data: &str) -> Result<Vec<u8>, LinkError> {
    let framed = URL_SAFE_NO_PAD.decode(data.as_bytes()).map_err(|_| LinkError::NotBase64)?;
    let (flag, body) = framed.split_first().ok_or_else(|| LinkError::Corrupt("no data".into()))?;
    match *flag {
        FLAG_RAW if body.len() <= MAX_DECODED_LEN => Ok(body.to_vec()),
        FLAG_RAW => Err(LinkError::TooLarge),
        FLAG_DEFLATE => miniz_oxide::inflate::decompress_to_vec_with_limit(body, MAX_DECODED_LEN).map_err(|e| {
            match e.status {
                miniz_oxide::inflate::TINFLStatus::HasMoreOutput => LinkError::TooLarge,
                _ => LinkError::Corrupt("the compressed data does not unpack".into()),
            }
        }),
        other => Err(LinkError::Corrupt(format!("unknown packing {other}"))),
    }
}

#[cfg(test)]
mod tests;

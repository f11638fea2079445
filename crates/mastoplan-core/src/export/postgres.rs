//! A `postgresql.conf` include (`conf.d/mastoplan.conf`, which Debian's postgresql.conf reads
//! through `include_dir = 'conf.d'`) with every setting on its own line and its reason beside it.
//!
//! The file is written from a list of [`PgSetting`]s ([`conf_text`] takes any list), built by
//! [`postgres_settings_for`]: the plan's connection limits, the recommended memory and planner
//! settings of [`crate::resources`] with the plan's overrides, and the opt-ins.

use super::{header, Ctx, ExportFile, Target};
use crate::budget::ConnectionBudget;
use crate::pgtune;
use crate::plan::Plan;
use crate::resources::{self, Resources};

/// One line of the include: `name = value  # reason`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgSetting {
    pub name: String,
    /// As Postgres reads it: `200`, `4096MB`, `off`, or any text, which is quoted as needed.
    pub value: String,
    /// Why this value; one line (line breaks are turned into spaces).
    pub reason: String,
}

impl PgSetting {
    pub fn new(name: impl Into<String>, value: impl ToString, reason: impl Into<String>) -> Self {
        PgSetting { name: name.into(), value: value.to_string(), reason: reason.into() }
    }

    /// The line as written, or `None` when the name is not a Postgres parameter name.
    pub fn render(&self) -> Option<String> {
        let name_ok = !self.name.is_empty()
            && self.name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.');
        if !name_ok {
            return None;
        }
        let reason: String = self.reason.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
        Some(format!("{} = {}\t# {}", self.name, quote_value(&self.value), reason.trim()))
    }
}

/// Bare numbers with an optional unit and bare words stay as they are; anything else is
/// single-quoted with quotes doubled and control characters dropped, so a value is one token.
fn quote_value(v: &str) -> String {
    let number = {
        let digits = v.strip_prefix('-').unwrap_or(v);
        let end = digits.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(digits.len());
        end > 0
            && digits[..end].chars().next().is_some_and(|c| c.is_ascii_digit())
            && digits[..end].matches('.').count() <= 1
            && digits[end..].chars().all(|c| c.is_ascii_alphabetic())
    };
    let word = v.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if number || word {
        v.to_string()
    } else {
        let inner: String = v.chars().filter(|c| !c.is_control()).collect::<String>().replace('\'', "''");
        format!("'{inner}'")
    }
}

/// The settings of the Postgres primary, each with its reason: the connection limits the plan
/// fixes, then the recommended settings of [`crate::resources`] (PGTune's formulas for the RAM
/// Postgres gets on its host, the plan's `postgres.settings` overriding them), then
/// `synchronous_commit` when the plan opts in.
///
/// This is the one place the include's settings come from: a new recommendation is added to
/// `resources`, or here, and the exporter writes it.
pub fn postgres_settings_for(plan: &Plan) -> Vec<PgSetting> {
    let pg = &plan.postgres;
    let budget = ConnectionBudget::compute(plan);
    let tuning = Resources::compute(plan, &budget).postgres;
    let mut out = vec![
        PgSetting::new(
            "max_connections",
            pg.max_connections,
            format!(
                "the plan's budget: {} available after {} reserved; the app opens {} at peak ({} direct, {} through PgBouncer)",
                budget.available,
                budget.reserved,
                budget.total,
                budget.direct,
                budget.total - budget.direct
            ),
        ),
        PgSetting::new(
            "superuser_reserved_connections",
            pg.superuser_reserved_connections,
            "slots kept for superusers (psql, maintenance) once the app has used the rest",
        ),
    ];
    if pg.version >= 16 {
        out.push(PgSetting::new(
            "reserved_connections",
            pg.reserved_connections,
            format!(
                "Postgres 16+ (this is {}): slots for roles granted pg_use_reserved_connections",
                pg.version
            ),
        ));
    }
    out.extend(tuned(&tuning.settings, &tuning.ram_basis));
    if pg.synchronous_commit_off {
        out.push(PgSetting::new(
            "synchronous_commit",
            "off",
            "opted in by the plan against WALWrite waits. WARNING: a crash can lose the last transactions reported committed (it does not corrupt data)",
        ));
    }
    out
}

/// The recommended settings, less those written with their own reasons here.
fn tuned(settings: &[resources::PgSetting], ram_basis: &str) -> Vec<PgSetting> {
    settings
        .iter()
        .filter(|s| !matches!(s.name, "max_connections" | "synchronous_commit"))
        .map(|s| {
            let reason = match (&s.recommended, s.overridden) {
                (Some(r), true) => format!("fixed in the plan (postgres.settings); recommended {r}: {}", s.basis),
                (None, true) => "fixed in the plan (postgres.settings)".to_string(),
                (_, false) => s.basis.clone(),
            };
            let reason = if is_memory(s.name) { format!("{reason}; RAM: {ram_basis}") } else { reason };
            PgSetting::new(s.name, &s.value, reason)
        })
        .collect()
}

/// Settings computed from the RAM Postgres is given, whose reason says how much that is.
fn is_memory(name: &str) -> bool {
    matches!(name, "shared_buffers" | "effective_cache_size" | "maintenance_work_mem" | "work_mem")
}

/// Settings for the read replica. A hot standby refuses to start with less than the
/// primary's max_connections or max_worker_processes, so those never go below the primary's.
fn replica_settings(plan: &Plan) -> Vec<PgSetting> {
    let Some(r) = &plan.replica else { return Vec::new() };
    let budget = ConnectionBudget::compute(plan);
    let res = Resources::compute(plan, &budget);
    let Some(tuning) = &res.replica else { return Vec::new() };
    let mut reason = "the plan's replica budget; a hot standby needs at least the primary's max_connections".to_string();
    if r.max_connections < plan.postgres.max_connections {
        reason.push_str(&format!(
            ". WARNING: below the primary's {}, the standby refuses to start",
            plan.postgres.max_connections
        ));
    }
    let mut out = vec![
        PgSetting::new("max_connections", r.max_connections, reason),
        PgSetting::new(
            "superuser_reserved_connections",
            r.superuser_reserved_connections,
            "slots kept for superusers once the app has used the rest",
        ),
    ];
    let workers = |settings: &[resources::PgSetting]| {
        settings
            .iter()
            .find(|s| s.name == "max_worker_processes")
            .and_then(|s| s.value.parse::<u32>().ok())
            .unwrap_or(pgtune::DEFAULT_MAX_WORKER_PROCESSES)
    };
    let primary_workers = workers(&res.postgres.settings);
    let mut rest = tuned(&tuning.settings, &tuning.ram_basis);
    if workers(&tuning.settings) < primary_workers {
        rest.retain(|s| s.name != "max_worker_processes");
        rest.push(PgSetting::new(
            "max_worker_processes",
            primary_workers,
            format!("the primary's {primary_workers}: a hot standby refuses to start with fewer"),
        ));
    }
    out.extend(rest);
    out
}

pub fn conf_path(version: u32) -> String {
    format!("etc/postgresql/{version}/main/conf.d/mastoplan.conf")
}

pub fn files(cx: &Ctx) -> Vec<ExportFile> {
    let plan = cx.plan;
    let pg = &plan.postgres;
    let mut primary = listen_setting(cx, &pg.host, Target::Postgres);
    primary.extend(postgres_settings_for(plan));
    let mut notes = Vec::new();
    if pg.version < 16 && pg.reserved_connections > 0 {
        notes.push(format!(
            "reserved_connections ({} in the plan) is not written: Postgres {} has no such setting (16+).",
            pg.reserved_connections, pg.version
        ));
    }
    let mut out = vec![conf_file(cx, &pg.host, "the Postgres primary", &primary, &notes)];
    if let Some(r) = &plan.replica {
        let mut settings = listen_setting(cx, &r.host, Target::Replica);
        settings.extend(replica_settings(plan));
        out.push(conf_file(cx, &r.host, "the Postgres read replica", &settings, &[]));
    }
    out
}

fn listen_setting(cx: &Ctx, host: &str, target: Target) -> Vec<PgSetting> {
    let remote = cx.remote_clients(target);
    if remote.is_empty() {
        return Vec::new();
    }
    vec![PgSetting::new(
        "listen_addresses",
        // Postgres's `localhost` covers ::1 as well; the app's loopback clients use 127.0.0.1.
        cx.listen_addresses(host).iter().map(|a| if a == "127.0.0.1" { "localhost" } else { a }).collect::<Vec<_>>().join(","),
        format!("hosts {} connect (allow them in pg_hba.conf too)", remote.join(", ")),
    )]
}

/// The include's text for any list of settings.
pub fn conf_text(plan: &Plan, what: &str, settings: &[PgSetting], notes: &[String]) -> String {
    let mut t = header("#", plan, what);
    t.push_str("# Read through Debian's `include_dir = 'conf.d'`; later files in conf.d win. max_connections\n");
    t.push_str("# and shared_buffers take effect at a restart, not a reload.\n");
    for n in notes {
        t.push_str(&format!("# {n}\n"));
    }
    t.push('\n');
    for s in settings {
        match s.render() {
            Some(line) => t.push_str(&line),
            None => t.push_str("# (a setting with an invalid name was left out)"),
        }
        t.push('\n');
    }
    t
}

fn conf_file(cx: &Ctx, host: &str, role: &str, settings: &[PgSetting], notes: &[String]) -> ExportFile {
    let what = format!("Settings of {role} on host {host}.");
    ExportFile {
        host: Some(host.to_string()),
        path: conf_path(cx.plan.postgres.version),
        content: conf_text(cx.plan, &what, settings, notes),
    }
}

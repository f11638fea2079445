//! Import: read the configuration files of a running server into a plan.
//!
//! Admins rarely plan from zero. They paste or upload what they run — `.env.production`,
//! systemd units (or `systemctl cat` output), `pgbouncer.ini`, `postgresql.conf` (or `SHOW
//! ALL`), `redis.conf` (or `CONFIG GET *`), the Helm chart's `values.yaml` — and
//! [`apply`] fills the plan fields those files determine into a base plan, leaving the rest.
//! Every value taken, ignored, overridden or unreadable gets an [`ImportNote`] naming its
//! input and line.
//!
//! Input is untrusted: every value is range-checked and every derived name goes through
//! [`check_name`](crate::validate::check_name) before it lands in the plan, messages quote
//! input only cleaned and capped, secrets are never quoted, and the resulting plan always
//! passes [`Plan::validate`].

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::plan::{EvictionPolicy, Plan, PoolMode, Queue};

mod env;
mod helm;
mod pgbouncer;
mod postgres;
mod redis;
mod resolve;
mod systemd;
pub mod text;
mod yaml;


/// One pasted text or uploaded file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportInput {
    /// A file name, or any label for pasted text; a file name helps tell the format
    /// (`pgbouncer.ini`, `mastodon-sidekiq-default@.service`) and names units.
    #[serde(default)]
    pub name: String,
    pub text: String,
    /// The format, when the admin says it; otherwise [`detect`] tells it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<Format>,
}

impl ImportInput {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        ImportInput { name: name.into(), text: text.into(), format: None }
    }

    pub fn with_format(mut self, format: Format) -> Self {
        self.format = Some(format);
        self
    }
}

/// The kinds of file [`apply`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// `.env.production`: KEY=value lines.
    Env,
    /// systemd unit files, one or several as `systemctl cat` prints them.
    Systemd,
    /// `pgbouncer.ini`.
    Pgbouncer,
    /// `postgresql.conf`, or `SHOW ALL` / `pg_settings` output from psql.
    Postgres,
    /// `redis.conf`, or `CONFIG GET *` output from redis-cli.
    Redis,
    /// The official Helm chart's `values.yaml`.
    Helm,
}

impl Format {
    pub const ALL: [Format; 6] =
        [Format::Env, Format::Systemd, Format::Pgbouncer, Format::Postgres, Format::Redis, Format::Helm];

    pub fn name(self) -> &'static str {
        match self {
            Format::Env => "env",
            Format::Systemd => "systemd",
            Format::Pgbouncer => "pgbouncer",
            Format::Postgres => "postgres",
            Format::Redis => "redis",
            Format::Helm => "helm",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Format::Env => ".env.production",
            Format::Systemd => "systemd units",
            Format::Pgbouncer => "pgbouncer.ini",
            Format::Postgres => "postgresql.conf / SHOW ALL",
            Format::Redis => "redis.conf / CONFIG GET *",
            Format::Helm => "Helm values.yaml",
        }
    }

    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// What happened to one setting of the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NoteAction {
    /// The value is in the plan now; `fields` says where.
    Taken,
    /// Read, but not used; the message says why.
    Ignored,
    /// Could not be read; the rest of the input still was.
    Malformed,
    /// A later line or input set the same thing; the message names it.
    Overridden,
}

impl NoteAction {
    pub fn name(self) -> &'static str {
        match self {
            NoteAction::Taken => "taken",
            NoteAction::Ignored => "ignored",
            NoteAction::Malformed => "malformed",
            NoteAction::Overridden => "overridden",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportNote {
    /// The input's name (cleaned).
    pub source: String,
    /// The line in that input, from 1; none for notes about a whole input.
    pub line: Option<usize>,
    /// The setting concerned, e.g. `DB_POOL`, `max_connections`, `mastodon-sidekiq-default`.
    pub key: String,
    pub action: NoteAction,
    pub message: String,
    /// JSON pointers to the plan fields a taken value set.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
}

/// How one input was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputReport {
    pub name: String,
    /// None when the format could not be told; nothing was read from it then.
    pub format: Option<Format>,
    /// Settings read from it that [`apply`] used or considered.
    pub recognised: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportOutcome {
    /// The base plan with the imported fields filled in; always valid.
    pub plan: Plan,
    /// In input order, then line order; notes about the merge follow.
    pub summary: Vec<ImportNote>,
    pub inputs: Vec<InputReport>,
}

impl ImportOutcome {
    /// True when no input gave anything: every one was empty, unknown or unreadable.
    pub fn nothing_read(&self) -> bool {
        self.inputs.iter().all(|i| i.recognised == 0)
    }

    pub fn count(&self, action: NoteAction) -> usize {
        self.summary.iter().filter(|n| n.action == action).count()
    }
}

/// Tell an input's format from its content, with its name as a hint.
pub fn detect(name: &str, text: &str) -> Option<Format> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut score: BTreeMap<Format, i64> = BTreeMap::new();
    let mut add = |f: Format, n: i64| *score.entry(f).or_default() += n;

    let base = name.rsplit(['/', '\\']).next().unwrap_or(name).to_ascii_lowercase();
    if base.ends_with(".service") || base.contains(".service.d") || base.ends_with(".conf") && base.contains("override") {
        add(Format::Systemd, 20);
    }
    if base.contains("pgbouncer") && base.ends_with(".ini") {
        add(Format::Pgbouncer, 20);
    } else if base.ends_with(".ini") {
        add(Format::Pgbouncer, 5);
    }
    if base.starts_with("postgresql") && base.ends_with(".conf") {
        add(Format::Postgres, 20);
    }
    if base.starts_with("redis") && base.ends_with(".conf") {
        add(Format::Redis, 20);
    }
    if base.starts_with(".env") || base.ends_with(".env") || base == "env.production" {
        add(Format::Env, 20);
    }
    if base.ends_with(".yaml") || base.ends_with(".yml") {
        add(Format::Helm, 20);
    }

    let mut lines_seen = 0;
    for (_, line) in text::lines(text).take(5000) {
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        lines_seen += 1;
        let lower = t.to_ascii_lowercase();
        if matches!(lower.as_str(), "[unit]" | "[service]" | "[install]") {
            add(Format::Systemd, 10);
        }
        if lower.starts_with("# /") && (lower.ends_with(".service") || lower.ends_with(".conf")) {
            add(Format::Systemd, 10);
        }
        if systemd::list_units_line(t).is_some() {
            add(Format::Systemd, 5);
        }
        if lower.starts_with("execstart=") || lower.starts_with("environment=") {
            add(Format::Systemd, 3);
        }
        if matches!(lower.as_str(), "[pgbouncer]" | "[databases]" | "[users]" | "[peers]") {
            add(Format::Pgbouncer, 10);
        }
        let key = lower
            .trim_start_matches("export ")
            .split(['=', ' ', '\t', ':', '|', ','])
            .next()
            .unwrap_or("")
            .trim_matches(['"', '\'', ' '])
            .to_string();
        if lower.starts_with('#') || lower.starts_with(';') {
            continue;
        }
        if matches!(
            key.as_str(),
            "pool_mode" | "max_client_conn" | "default_pool_size" | "reserve_pool_size" | "auth_type" | "auth_file"
        ) {
            add(Format::Pgbouncer, 3);
        }
        if postgres::KNOWN_HINTS.contains(&key.as_str()) {
            add(Format::Postgres, 2);
        }
        if (key == "name" && lower.contains("setting")) || lower.contains("| setting") {
            add(Format::Postgres, 6);
        }
        if redis::KNOWN_HINTS.contains(&key.as_str()) || redis::numbered_item(t).is_some_and(|v| redis::KNOWN_HINTS.contains(&v.as_str())) {
            add(Format::Redis, 3);
        }
        if env::looks_like_assignment(t) {
            add(Format::Env, 1);
            if env::MASTODON_HINTS.contains(&key.to_ascii_uppercase().as_str()) {
                add(Format::Env, 3);
            }
        }
        if matches!(key.as_str(), "mastodon" | "postgresql" | "redis" | "elasticsearch" | "image" | "ingress")
            && t.ends_with(':')
        {
            add(Format::Helm, 6);
        }
        if lower.starts_with("- name:") || lower.starts_with("workers:") || lower.starts_with("replicas:") {
            add(Format::Helm, 2);
        }
    }
    if lines_seen == 0 {
        return None;
    }
    score.into_iter().filter(|(_, s)| *s >= 3).max_by_key(|(f, s)| (*s, std::cmp::Reverse(*f))).map(|(f, _)| f)
}

/// Read `inputs` in order into a copy of `base`. Later inputs override earlier ones for the
/// same setting; within a file the last of a duplicated key wins. `base` should be valid;
/// if it is not, nothing is applied and the summary says why.
pub fn apply(base: &Plan, inputs: &[ImportInput]) -> ImportOutcome {
    let mut c = Collector::default();
    let mut reports = Vec::new();
    for input in inputs {
        let mut name = if input.name.trim().is_empty() { "pasted text".to_string() } else { text::clean(&input.name, 80) };
        if c.sources.contains(&name) {
            let mut k = 2;
            while c.sources.contains(&format!("{name} ({k})")) {
                k += 1;
            }
            name = format!("{name} ({k})");
        }
        c.sources.push(name.clone());
        c.source = name.clone();
        let before = c.recognised;
        let format = if input.text.len() > text::MAX_INPUT_BYTES {
            c.note_input(
                NoteAction::Ignored,
                format!("{} bytes is more than the {} a configuration file needs: not read", input.text.len(), text::MAX_INPUT_BYTES),
            );
            None
        } else {
            let format = input.format.or_else(|| detect(&input.name, &input.text));
            match format {
                Some(Format::Env) => env::read(&mut c, &input.text),
                Some(Format::Systemd) => systemd::read(&mut c, &input.name, &input.text),
                Some(Format::Pgbouncer) => pgbouncer::read(&mut c, &input.text),
                Some(Format::Postgres) => postgres::read(&mut c, &input.text),
                Some(Format::Redis) => redis::read(&mut c, &input.text),
                Some(Format::Helm) => helm::read(&mut c, &input.text),
                None => c.note_input(
                    NoteAction::Ignored,
                    "could not tell what kind of file this is (.env.production, systemd unit, pgbouncer.ini, postgresql.conf, redis.conf or Helm values.yaml): not read".into(),
                ),
            }
            format
        };
        reports.push(InputReport { name, format, recognised: c.recognised - before });
    }
    let (plan, summary) = resolve::resolve(base, c);
    ImportOutcome { plan, summary, inputs: reports }
}

// ---------------------------------------------------------------------------------------
// What the readers collect, before it is resolved against the base plan.

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct At {
    pub source: String,
    pub line: Option<usize>,
    pub key: String,
}

impl At {
    pub fn describe(&self) -> String {
        match self.line {
            Some(l) => format!("{} line {l}", self.source),
            None => self.source.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Val<T> {
    pub v: T,
    pub at: At,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UnitKind {
    Web,
    Streaming,
    Sidekiq,
}

impl UnitKind {
    pub fn name(self) -> &'static str {
        match self {
            UnitKind::Web => "web",
            UnitKind::Streaming => "streaming",
            UnitKind::Sidekiq => "sidekiq",
        }
    }
}

/// A web, streaming or sidekiq unit described by a unit file or the Helm chart.
#[derive(Debug, Clone)]
pub(crate) struct UnitDef {
    pub name: String,
    pub kind: UnitKind,
    pub at: At,
    /// Environment set on the unit itself; it wins over `.env.production` (dotenv does not
    /// override variables the process already has).
    pub env: BTreeMap<String, Val<String>>,
    /// sidekiq `-c` as written, maybe `$DB_POOL`.
    pub concurrency: Option<Val<String>>,
    /// sidekiq `-q` arguments as written; none means every queue (config/sidekiq.yml).
    pub queues: Option<Val<Vec<String>>>,
    /// Processes: Helm replicas; templates take theirs from `systemctl list-units` or the base.
    pub instances: Option<Val<u32>>,
    /// `name@.service`: how many instances run is not in the file.
    pub template: bool,
}

#[derive(Debug, Default)]
pub(crate) struct PgFacts {
    pub version: Option<Val<u32>>,
    pub max_connections: Option<Val<u32>>,
    pub superuser_reserved_connections: Option<Val<u32>>,
    pub reserved_connections: Option<Val<u32>>,
    pub shared_buffers_mb: Option<Val<u32>>,
    pub work_mem_mb: Option<Val<u32>>,
    pub effective_cache_size_mb: Option<Val<u32>>,
    pub maintenance_work_mem_mb: Option<Val<u32>>,
    pub synchronous_commit_off: Option<Val<bool>>,
}

#[derive(Debug, Default)]
pub(crate) struct BouncerFacts {
    pub seen: Option<At>,
    pub pool_mode: Option<Val<PoolMode>>,
    pub max_client_conn: Option<Val<u32>>,
    pub default_pool_size: Option<Val<u32>>,
    pub reserve_pool_size: Option<Val<u32>>,
    pub max_db_connections: Option<Val<u32>>,
    pub listen_port: Option<Val<u32>>,
    pub databases: Option<Val<u32>>,
    pub limit_nofile: Option<Val<u32>>,
}

/// One redis.conf or CONFIG GET dump.
#[derive(Debug, Clone)]
pub(crate) struct RedisConf {
    pub at: At,
    pub port: Option<Val<u32>>,
    pub maxmemory_mb: Option<Val<u32>>,
    pub policy: Option<Val<EvictionPolicy>>,
    pub appendonly: Option<Val<bool>>,
    /// Whether RDB snapshots are on: any `save` rule but `save ""`.
    pub save: Option<Val<bool>>,
}

/// Helm-only facts that have no environment variable to travel in.
#[derive(Debug, Default)]
pub(crate) struct HelmFacts {
    pub version: Option<Val<String>>,
    pub redis_sidekiq_separate: Option<Val<bool>>,
    pub redis_cache_separate: Option<Val<bool>>,
}

#[derive(Debug, Default)]
pub(crate) struct Collector {
    /// The input being read.
    pub source: String,
    /// Every input's name, in order, each once.
    pub sources: Vec<String>,
    /// Settings recognised so far, over all inputs.
    pub recognised: usize,
    pub notes: Vec<ImportNote>,
    /// The app's environment: `.env.production` and the chart's ConfigMap.
    pub env: BTreeMap<String, Val<String>>,
    pub units: Vec<UnitDef>,
    /// Template name -> instance names seen in `systemctl list-units` or `Wants=` lines.
    pub instances_seen: BTreeMap<String, (BTreeSet<String>, At)>,
    pub pg: PgFacts,
    pub bouncer: BouncerFacts,
    pub redis: Vec<RedisConf>,
    pub helm: HelmFacts,
}

impl Collector {
    pub fn at(&self, line: Option<usize>, key: &str) -> At {
        At { source: self.source.clone(), line, key: text::clean(key, 60) }
    }

    pub fn note(&mut self, at: &At, action: NoteAction, message: impl Into<String>) {
        self.notes.push(ImportNote {
            source: at.source.clone(),
            line: at.line,
            key: at.key.clone(),
            action,
            message: message.into(),
            fields: Vec::new(),
        });
    }

    pub fn note_line(&mut self, line: usize, key: &str, action: NoteAction, message: impl Into<String>) {
        let at = self.at(Some(line), key);
        self.note(&at, action, message);
    }

    pub fn note_input(&mut self, action: NoteAction, message: String) {
        let at = self.at(None, "");
        self.note(&at, action, message);
    }

    pub fn malformed(&mut self, line: usize, raw: &str, why: &str) {
        let key = text::clean(raw.trim(), 40);
        self.note_line(line, &key, NoteAction::Malformed, format!("{why}: {}", text::quoted(raw.trim())));
    }

    /// Store a value, noting the one it replaces.
    pub fn set<T>(notes: &mut Vec<ImportNote>, slot: &mut Option<Val<T>>, new: Val<T>) {
        if let Some(old) = slot.take() {
            notes.push(overridden(&old.at, &new.at));
        }
        *slot = Some(new);
    }

    pub fn set_env(&mut self, key: &str, value: String, line: Option<usize>) {
        self.set_env_as(key, value, line, key);
    }

    /// Like `set_env`, with another name for the setting in notes.
    pub fn set_env_as(&mut self, key: &str, value: String, line: Option<usize>, shown: &str) {
        self.recognised += 1;
        let at = self.at(line, shown);
        let mut slot = self.env.remove(key);
        Collector::set(&mut self.notes, &mut slot, Val { v: value, at });
        self.env.insert(key.to_string(), slot.expect("just set"));
    }

    /// Add or replace a unit; a later definition of the same name wins whole.
    pub fn add_unit(&mut self, unit: UnitDef) {
        self.recognised += 1;
        if let Some(i) = self.units.iter().position(|u| u.name == unit.name) {
            let old = self.units.remove(i);
            self.notes.push(overridden(&old.at, &unit.at));
        }
        self.units.push(unit);
    }
}

pub(crate) fn overridden(old: &At, new: &At) -> ImportNote {
    let by = if old.source == new.source {
        match new.line {
            Some(l) => format!("line {l}"),
            None => "a later setting".into(),
        }
    } else {
        new.describe()
    };
    ImportNote {
        source: old.source.clone(),
        line: old.line,
        key: old.key.clone(),
        action: NoteAction::Overridden,
        message: format!("set again by {by}; the last one wins"),
        fields: Vec::new(),
    }
}

/// Queue names as sidekiq `-q` or the chart's `queues:` write them: `default`, `push,6`.
pub(crate) fn parse_queue(arg: &str) -> Result<(Queue, Option<String>), String> {
    let (name, weight) = match arg.split_once(',') {
        Some((n, w)) => (n.trim(), Some(w.trim().to_string())),
        None => (arg.trim(), None),
    };
    let queue = Queue::ALL
        .into_iter()
        .find(|q| q.name() == name)
        .ok_or_else(|| format!("{} is not a Mastodon queue", text::quoted(name)))?;
    if let Some(w) = &weight {
        if text::parse_u32(w).is_none() {
            return Err(format!("{} is not a queue weight", text::quoted(w)));
        }
    }
    Ok((queue, weight))
}

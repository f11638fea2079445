//! Deployable files from a plan: one module per format, each file placed on the host it
//! belongs to.
//!
//! Admins deploy files, not numbers, so every file here is meant to be copied verbatim. Paths
//! mirror the host's filesystem (`etc/mastodon/web.env` goes to `/etc/mastodon/web.env`), so a
//! host's folder can be laid over `/` as it is. Two files concern the whole cluster rather than
//! one host: the rollout note and the Helm values fragment.
//!
//! [`export`] validates the plan itself before any exporter sees it: names and addresses can
//! then only hold characters that need no quoting in any of these formats, so no plan text can
//! add a line or a directive to a generated file.

use std::collections::{HashMap, HashSet};
use std::fmt;

use crate::budget::{ConnectionBudget, ConnectionLine, UnitKind};
use crate::plan::{Plan, Queue, RedisInstance, RedisRole, SidekiqUnit};
use crate::validate::PlanError;

pub mod env;
pub mod helm;
pub mod nginx;
pub mod pgbouncer;
pub mod postgres;
pub mod redis;
pub mod rollout;
pub mod systemd;

pub use postgres::{postgres_settings_for, PgSetting};

/// The command that writes these files again, quoted in every file's header.
pub const REGENERATE: &str = "mastoplan export PLAN.json --out DIR";

/// Where Mastodon's code lives in the stock install (docs.joinmastodon.org/admin/install).
pub const MASTODON_HOME: &str = "/home/mastodon/live";

/// Postgres's port: the plan has no field for it, Mastodon's and PgBouncer's defaults agree.
pub const POSTGRES_PORT: u16 = 5432;

/// Puma's port in the stock `mastodon-web.service`.
pub const WEB_PORT: u16 = 3000;

/// The first streaming port; instances count up from it (`mastodon-streaming@4000`, 4001, ...).
pub const STREAMING_FIRST_PORT: u16 = 4000;

/// The database Mastodon uses unless DB_NAME says otherwise.
pub const DATABASE: &str = "mastodon_production";

/// The Postgres role Mastodon connects as unless DB_USER says otherwise.
pub const DATABASE_USER: &str = "mastodon";

/// One generated file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportFile {
    /// The host it goes on; `None` for files about the whole cluster.
    pub host: Option<String>,
    /// Relative path: on a host, its absolute path without the leading `/`.
    pub path: String,
    pub content: String,
}

impl ExportFile {
    /// Where it lands under an output folder: `HOST/PATH`, or `PATH` for cluster files.
    pub fn relative_path(&self) -> String {
        match &self.host {
            Some(h) => format!("{h}/{}", self.path),
            None => self.path.clone(),
        }
    }
}

/// Every file of a plan, hosts in plan order, then the cluster-wide files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Export {
    pub files: Vec<ExportFile>,
}

impl Export {
    pub fn file(&self, relative_path: &str) -> Option<&ExportFile> {
        self.files.iter().find(|f| f.relative_path() == relative_path)
    }

    /// All files in one text, each under a `==> PATH <==` line, for review and snapshots.
    pub fn concatenated(&self) -> String {
        let mut out = String::new();
        for f in &self.files {
            out.push_str(&format!("==> {} <==\n", f.relative_path()));
            out.push_str(&f.content);
            if !f.content.ends_with('\n') {
                out.push('\n');
            }
            out.push('\n');
        }
        out
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportError {
    /// The plan failed validation.
    Invalid(PlanError),
    /// The plan is valid but cannot be laid out as files, e.g. two web units on one host.
    Conflict(String),
}

impl fmt::Display for ExportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExportError::Invalid(e) => write!(f, "invalid plan: {e}"),
            ExportError::Conflict(m) => write!(f, "cannot export this plan: {m}"),
        }
    }
}

impl std::error::Error for ExportError {}

impl From<PlanError> for ExportError {
    fn from(e: PlanError) -> Self {
        ExportError::Invalid(e)
    }
}

/// Validate the plan, then generate every file.
pub fn export(plan: &Plan) -> Result<Export, ExportError> {
    plan.validate()?;
    let cx = Ctx::new(plan)?;
    let mut per_host: HashMap<&str, Vec<ExportFile>> = HashMap::new();
    let mut push = |f: ExportFile| {
        let host = f.host.as_deref().expect("host files name their host");
        let host = plan.host(host).expect("validated").name.as_str();
        per_host.entry(host).or_default().push(f);
    };
    for f in postgres::files(&cx) {
        push(f);
    }
    for f in redis::files(&cx) {
        push(f);
    }
    for f in pgbouncer::files(&cx) {
        push(f);
    }
    for f in env::files(&cx) {
        push(f);
    }
    for f in systemd::files(&cx) {
        push(f);
    }
    for f in nginx::files(&cx) {
        push(f);
    }
    let mut files = Vec::new();
    for h in &plan.hosts {
        files.extend(per_host.remove(h.name.as_str()).unwrap_or_default());
    }
    files.push(rollout::file(&cx, &files));
    files.push(helm::file(&cx));

    // The layout checks above refuse every known clash; this catches any they miss.
    let mut seen = HashSet::new();
    for f in &files {
        if !seen.insert(f.relative_path()) {
            return Err(ExportError::Conflict(format!("two files would be written to {}", f.relative_path())));
        }
    }
    Ok(Export { files })
}

/// A comment header naming the plan and how to regenerate, in a format's comment syntax.
pub(crate) fn header(comment: &str, plan: &Plan, what: &str) -> String {
    format!(
        "{comment} {what}\n{comment} Generated by mastoplan from plan \"{}\"; edit the plan, not this file.\n{comment} Regenerate with: {REGENERATE}\n",
        plan.name
    )
}

/// How a sidekiq unit is deployed: its template, its env file and its queue arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SidekiqLayout {
    /// `mastodon-sidekiq-pull` for `mastodon-sidekiq-pull@.service`.
    pub template: String,
    /// `/etc/mastodon/sidekiq-pull.env`.
    pub env_file: String,
    /// `-q pull`, or `-q default,8 -q push,6` for a unit serving several queues.
    pub queue_args: String,
}

impl SidekiqLayout {
    pub fn for_unit(unit: &SidekiqUnit) -> SidekiqLayout {
        let suffix = match unit.queues.as_slice() {
            [only] => format!("sidekiq-{}", only.name()),
            _ => {
                // Several queues: the template is named after the unit, without repeating
                // the `mastodon-` and `sidekiq` the name may already carry.
                let name = unit.name.strip_prefix("mastodon-").unwrap_or(&unit.name);
                if name == "sidekiq" || name.starts_with("sidekiq-") {
                    name.to_string()
                } else {
                    format!("sidekiq-{name}")
                }
            }
        };
        let queue_args = match unit.queues.as_slice() {
            [only] => format!("-q {}", only.name()),
            many => many
                .iter()
                .map(|q| format!("-q {},{}", q.name(), queue_weight(*q)))
                .collect::<Vec<_>>()
                .join(" "),
        };
        SidekiqLayout {
            template: format!("mastodon-{suffix}"),
            env_file: format!("/etc/mastodon/{suffix}.env"),
            queue_args,
        }
    }
}

/// Mastodon's weights from `config/sidekiq.yml` (default 8, push 6, ingress 4, mailers 2,
/// the rest 1). Written out for units serving several queues, so that Sidekiq picks among
/// them by weight and no queue starves, as with the stock unit.
pub fn queue_weight(q: Queue) -> u32 {
    match q {
        Queue::Default => 8,
        Queue::Push => 6,
        Queue::Ingress => 4,
        Queue::Mailers => 2,
        Queue::Pull | Queue::Scheduler | Queue::Fasp => 1,
    }
}

/// What every exporter reads: the validated plan, its budget and the layout decisions.
pub struct Ctx<'p> {
    pub plan: &'p Plan,
    pub budget: ConnectionBudget,
    pub sidekiq: Vec<SidekiqLayout>,
    /// Streaming ports per streaming unit, counting up from 4000 on each host.
    pub streaming_ports: Vec<Vec<u16>>,
}

impl<'p> Ctx<'p> {
    fn new(plan: &'p Plan) -> Result<Ctx<'p>, ExportError> {
        let budget = ConnectionBudget::compute(plan);
        let sidekiq: Vec<SidekiqLayout> = plan.sidekiq.iter().map(SidekiqLayout::for_unit).collect();
        let mut streaming_ports = Vec::new();
        for s in &plan.streaming {
            let count = u16::try_from(s.instances).ok().filter(|n| *n <= 1000).ok_or_else(|| {
                ExportError::Conflict(format!("streaming unit {} has more than 1000 instances", s.name))
            })?;
            streaming_ports.push((0..count).map(|i| STREAMING_FIRST_PORT + i).collect());
        }
        let cx = Ctx { plan, budget, sidekiq, streaming_ports };
        cx.check_layout()?;
        Ok(cx)
    }

    /// Refuse plans whose units would share a file or a port on one host.
    fn check_layout(&self) -> Result<(), ExportError> {
        let plan = self.plan;
        let conflict = |m: String| Err(ExportError::Conflict(m));
        let mut web_on: HashMap<&str, &str> = HashMap::new();
        for w in &plan.web {
            if let Some(other) = web_on.insert(&w.host, &w.name) {
                return conflict(format!(
                    "web units {other} and {} are both on host {}: a host runs one mastodon-web.service on port {WEB_PORT}; merge them (raise WEB_CONCURRENCY) or move one",
                    w.name, w.host
                ));
            }
        }
        let mut streaming_on: HashMap<&str, &str> = HashMap::new();
        for s in &plan.streaming {
            if let Some(other) = streaming_on.insert(&s.host, &s.name) {
                return conflict(format!(
                    "streaming units {other} and {} are both on host {}: a host runs one set of mastodon-streaming@PORT units; merge them (raise instances) or move one",
                    s.name, s.host
                ));
            }
        }
        let mut templates: HashMap<(&str, &str), &str> = HashMap::new();
        for (s, layout) in plan.sidekiq.iter().zip(&self.sidekiq) {
            if let Some(other) = templates.insert((&s.host, &layout.template), &s.name) {
                return conflict(format!(
                    "sidekiq units {other} and {} on host {} would both be {}@.service; merge them (raise instances) or rename one",
                    s.name, s.host, layout.template
                ));
            }
        }
        let mut bouncer_on: HashMap<&str, &str> = HashMap::new();
        for b in &plan.pgbouncers {
            if let Some(other) = bouncer_on.insert(&b.host, &b.name) {
                return conflict(format!(
                    "PgBouncers {other} and {} are both on host {}: the export writes one /etc/pgbouncer/pgbouncer.ini per host",
                    b.name, b.host
                ));
            }
        }
        if let Some(r) = &plan.replica {
            if r.host == plan.postgres.host {
                return conflict(format!(
                    "the replica and the primary are both on host {}: they would share one postgresql.conf",
                    r.host
                ));
            }
        }
        let mut redis_ports: HashMap<(&str, u16), &str> = HashMap::new();
        for r in &plan.redis {
            if let Some(other) = redis_ports.insert((&r.host, r.port), &r.name) {
                return conflict(format!(
                    "Redis instances {other} and {} both listen on {}:{}",
                    r.name, r.host, r.port
                ));
            }
        }
        // A host that other hosts connect to needs an address they can reach.
        for l in self.links() {
            if l.from != l.to && plan.host(l.to).and_then(|h| h.address.as_ref()).is_none() {
                return conflict(format!(
                    "host {} has no address, but {} on host {} connects to it: give host {} an address",
                    l.to, l.who, l.from, l.to
                ));
            }
        }
        Ok(())
    }

    /// Every connection the files set up, from the connecting host to the serving one.
    pub fn links(&self) -> Vec<Link<'p>> {
        let plan = self.plan;
        let mut links = Vec::new();
        for l in &self.budget.lines {
            let from = plan.host(&l.host).expect("validated").name.as_str();
            let who = format!("{} unit {}", kind_word(l.kind), l.unit);
            match l.pgbouncer.as_deref().and_then(|b| plan.pgbouncer(b)) {
                Some(b) => links.push(Link { from, to: &b.host, target: Target::Bouncer(&b.name), who: who.clone() }),
                None => links.push(Link { from, to: &plan.postgres.host, target: Target::Postgres, who: who.clone() }),
            }
            // The streaming server reads no REPLICA_* variable (streaming/database.js).
            if let (Some(r), false) = (&plan.replica, l.kind == UnitKind::Streaming) {
                links.push(Link { from, to: &r.host, target: Target::Replica, who: who.clone() });
            }
            for (_, r) in self.redis_env(l.kind) {
                links.push(Link { from, to: &r.host, target: Target::Redis(&r.name), who: who.clone() });
            }
        }
        for b in &plan.pgbouncers {
            links.push(Link {
                from: &b.host,
                to: &plan.postgres.host,
                target: Target::Postgres,
                who: format!("PgBouncer {}", b.name),
            });
        }
        if let Some(n) = &plan.nginx {
            for w in &plan.web {
                links.push(Link { from: &n.host, to: &w.host, target: Target::Web, who: "nginx".into() });
            }
            for s in &plan.streaming {
                links.push(Link { from: &n.host, to: &s.host, target: Target::Streaming, who: "nginx".into() });
            }
        }
        links
    }

    /// Hosts other than the serving one that connect to `target`, in plan order, deduplicated.
    pub fn remote_clients(&self, target: Target) -> Vec<&'p str> {
        let mut out: Vec<&str> = Vec::new();
        for l in self.links() {
            if l.target == target && l.from != l.to && !out.contains(&l.from) {
                out.push(l.from);
            }
        }
        out
    }

    /// The Redis variables a unit kind reads and the instance each points at, following
    /// Mastodon's fallbacks (`Plan::redis_for`). Streaming reads only the base REDIS_*.
    /// A variable whose instance would be the base one is left out: it falls back by itself.
    pub fn redis_env(&self, kind: UnitKind) -> Vec<(&'static str, &'p RedisInstance)> {
        let plan = self.plan;
        let mut out = Vec::new();
        let base = plan.redis_for(RedisRole::Persistent);
        if let Some(b) = base {
            out.push(("REDIS_URL", b));
        }
        if kind != UnitKind::Streaming {
            for (var, role) in [("SIDEKIQ_REDIS_URL", RedisRole::SidekiqOnly), ("CACHE_REDIS_URL", RedisRole::Cache)] {
                if let Some(r) = plan.redis_for(role) {
                    if base.map(|b| &b.name) != Some(&r.name) {
                        out.push((var, r));
                    }
                }
            }
        }
        out
    }

    /// The address `from` uses to reach `to`: loopback on the same host.
    pub fn reach(&self, from: &str, to: &str) -> String {
        if from == to {
            "127.0.0.1".to_string()
        } else {
            self.address(to)
        }
    }

    /// A host's address; `check_layout` made sure it exists wherever another host needs it.
    pub fn address(&self, host: &str) -> String {
        let h = self.plan.host(host).expect("validated");
        h.address.clone().unwrap_or_else(|| h.name.clone())
    }

    /// Where a unit's DB_HOST and DB_PORT point, and why.
    pub fn db_endpoint(&self, line: &ConnectionLine) -> (String, u16, String) {
        let plan = self.plan;
        match line.pgbouncer.as_deref().and_then(|b| plan.pgbouncer(b)) {
            Some(b) if b.host == line.host => (
                "127.0.0.1".into(),
                b.listen_port,
                format!("PgBouncer {} on this host ({} pooling)", b.name, b.pool_mode.name()),
            ),
            Some(b) => (
                self.address(&b.host),
                b.listen_port,
                format!("PgBouncer {} on host {} ({} pooling)", b.name, b.host, b.pool_mode.name()),
            ),
            None if plan.postgres.host == line.host => {
                ("127.0.0.1".into(), POSTGRES_PORT, "Postgres on this host, no PgBouncer".into())
            }
            None => (
                self.address(&plan.postgres.host),
                POSTGRES_PORT,
                format!("Postgres on host {}, no PgBouncer", plan.postgres.host),
            ),
        }
    }

    /// Where a server on `host` listens when other hosts connect: loopback and the host's
    /// address, once (a plan whose hosts all say 127.0.0.1 must not bind it twice).
    pub fn listen_addresses(&self, host: &str) -> Vec<String> {
        let address = self.address(host);
        if matches!(address.as_str(), "127.0.0.1" | "localhost") {
            vec!["127.0.0.1".into()]
        } else {
            vec!["127.0.0.1".into(), address]
        }
    }

    /// The ledger line of a unit.
    pub fn line(&self, kind: UnitKind, index: usize) -> &ConnectionLine {
        self.budget
            .lines
            .iter()
            .find(|l| l.kind == kind && l.index == index)
            .expect("the budget has a line per unit")
    }
}

/// One connection the generated files set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link<'p> {
    pub from: &'p str,
    pub to: &'p str,
    pub target: Target<'p>,
    /// Who connects, for messages: "web unit web-1", "PgBouncer b", "nginx".
    pub who: String,
}

/// What a link connects to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target<'p> {
    Postgres,
    Replica,
    Bouncer(&'p str),
    Redis(&'p str),
    Web,
    Streaming,
}

fn kind_word(kind: UnitKind) -> &'static str {
    match kind {
        UnitKind::Web => "web",
        UnitKind::Streaming => "streaming",
        UnitKind::Sidekiq => "sidekiq",
    }
}

/// `host:port`, with IPv6 addresses in brackets as URLs and nginx want them.
pub fn host_port(address: &str, port: u16) -> String {
    if address.contains(':') {
        format!("[{address}]:{port}")
    } else {
        format!("{address}:{port}")
    }
}

#[cfg(test)]
mod tests;

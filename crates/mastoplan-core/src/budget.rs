//! The Postgres connection budget: who opens how many connections, and against which limit.
//!
//! Every thread that can run a query holds one connection from its process's pool, so a unit
//! opens `processes x pool` connections. The compendium's formula sums them over web, streaming
//! and sidekiq; with PgBouncer in between, the sum splits into each bouncer's client side and
//! the server connections the bouncers open to Postgres.

use std::collections::HashMap;

use serde::Serialize;

use crate::plan::{PgBouncer, Plan};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UnitKind {
    Web,
    Streaming,
    Sidekiq,
}

impl UnitKind {
    /// The plan's array the unit lives in, for JSON pointers.
    pub fn plan_field(self) -> &'static str {
        match self {
            UnitKind::Web => "web",
            UnitKind::Streaming => "streaming",
            UnitKind::Sidekiq => "sidekiq",
        }
    }
}

/// Which setting sized a unit's pool, for the ledger's "how".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PoolSource {
    DbPool,
    MaxThreads,
    /// A default of the Mastodon version, explained in `default_applied`.
    Default,
}

/// How a line's connections were reached, e.g. "3 processes x DB_POOL 15 = 45". Written out
/// only when shown, so the ledger costs no string formatting on every recompute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Derivation {
    pub kind: UnitKind,
    pub processes: u32,
    pub pool: u32,
    pub source: PoolSource,
    pub connections: u32,
}

impl std::fmt::Display for Derivation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let setting = match self.source {
            PoolSource::MaxThreads => "MAX_THREADS",
            PoolSource::DbPool | PoolSource::Default => "DB_POOL",
        };
        let (n, pool, total) = (self.processes, self.pool, self.connections);
        match self.kind {
            UnitKind::Web => write!(f, "WEB_CONCURRENCY {n} x {setting} {pool} = {total}"),
            _ => {
                let word = if n == 1 { "process" } else { "processes" };
                write!(f, "{n} {word} x {setting} {pool} = {total}")
            }
        }
    }
}

impl Serialize for Derivation {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// One unit's share of the budget.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConnectionLine {
    pub unit: String,
    pub kind: UnitKind,
    /// Position in the plan's array of that kind.
    pub index: usize,
    pub host: String,
    pub processes: u32,
    /// Threads per process that may each want a connection.
    pub threads: u32,
    pub pool: u32,
    pub pool_source: PoolSource,
    pub connections: u32,
    pub derivation: Derivation,
    /// The version default that set the pool when DB_POOL is unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_applied: Option<&'static str>,
    /// The bouncer the pools point at; none means straight to Postgres.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pgbouncer: Option<String>,
    /// Position of that bouncer in the plan.
    #[serde(skip)]
    pub pgbouncer_index: Option<usize>,
    /// The second pool every process opens against the read replica.
    pub replica_connections: u32,
}

impl ConnectionLine {
    pub fn pointer(&self) -> String {
        format!("/{}/{}", self.kind.plan_field(), self.index)
    }
}

/// A bouncer's two sides: the app pools it accepts, the server connections it opens.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BouncerLoad {
    pub name: String,
    pub index: usize,
    pub host: String,
    /// App connections pointed at it.
    pub clients: u32,
    pub max_client_conn: u32,
    /// The most server connections it may open: (default_pool_size + reserve_pool_size),
    /// capped by max_db_connections, times its database/user pairs.
    pub server_pool: u32,
    /// What it opens to Postgres at peak: never more than its clients or its pools.
    pub server_connections: u32,
    /// `max_client_conn + max pool size x databases x users` (PgBouncer docs).
    pub file_descriptors_needed: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReplicaLoad {
    pub host: String,
    pub total: u32,
    pub available: u32,
}

/// The whole budget, with the figures the CLI's JSON promises under `connections`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConnectionBudget {
    pub lines: Vec<ConnectionLine>,
    pub bouncers: Vec<BouncerLoad>,
    /// All app pools added up, wherever they point.
    pub clients: u32,
    /// App pools that go straight to Postgres.
    pub direct: u32,
    /// What the Postgres primary sees at peak: direct pools plus the bouncers' server side.
    pub total: u32,
    pub max_connections: u32,
    /// superuser_reserved_connections + reserved_connections.
    pub reserved: u32,
    /// max_connections minus the reserved slots.
    pub available: u32,
    /// available - total; negative when Postgres would refuse connections.
    pub headroom: i64,
    /// total / available.
    pub utilisation: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replica: Option<ReplicaLoad>,
}

impl ConnectionBudget {
    pub fn compute(plan: &Plan) -> ConnectionBudget {
        let lines = ledger_lines(plan);
        // One pass over the lines fills every bouncer's client side.
        let mut bouncer_clients = vec![0u32; plan.pgbouncers.len()];
        let mut clients = 0u32;
        let mut direct = 0u32;
        for l in &lines {
            clients = clients.saturating_add(l.connections);
            match l.pgbouncer_index {
                Some(i) => bouncer_clients[i] = bouncer_clients[i].saturating_add(l.connections),
                // A unit naming a bouncer that does not exist cannot connect through it;
                // validation rejects such plans, and here it counts as direct so no
                // connection goes unseen.
                None => direct = direct.saturating_add(l.connections),
            }
        }
        let bouncers: Vec<BouncerLoad> = plan
            .pgbouncers
            .iter()
            .zip(bouncer_clients)
            .enumerate()
            .map(|(index, (b, clients))| bouncer_load(b, index, clients))
            .collect();
        let total = bouncers.iter().fold(direct, |t, b| t.saturating_add(b.server_connections));

        let pg = &plan.postgres;
        // reserved_connections arrived in Postgres 16; older servers ignore the setting.
        let reserved_connections = if pg.version >= 16 { pg.reserved_connections } else { 0 };
        let reserved = pg.superuser_reserved_connections + reserved_connections;
        let available = pg.max_connections.saturating_sub(reserved);

        let replica = plan.replica.as_ref().map(|r| ReplicaLoad {
            host: r.host.clone(),
            total: lines.iter().map(|l| l.replica_connections).sum(),
            available: r.max_connections.saturating_sub(r.superuser_reserved_connections),
        });

        ConnectionBudget {
            lines,
            bouncers,
            clients,
            direct,
            total,
            max_connections: pg.max_connections,
            reserved,
            available,
            headroom: available as i64 - total as i64,
            utilisation: ratio(total, available),
            replica,
        }
    }

    pub fn lines_through<'a>(&'a self, bouncer: &'a str) -> impl Iterator<Item = &'a ConnectionLine> {
        self.lines.iter().filter(move |l| l.pgbouncer.as_deref() == Some(bouncer))
    }
}

pub(crate) fn ratio(part: u32, whole: u32) -> f64 {
    if whole == 0 {
        if part == 0 { 0.0 } else { f64::INFINITY }
    } else {
        part as f64 / whole as f64
    }
}

fn ledger_lines(plan: &Plan) -> Vec<ConnectionLine> {
    let version = plan.mastodon_version;
    let replica = plan.replica.is_some();
    // Bouncers by name, so a line finds its own without scanning them all; the first of a name
    // wins, as a linear search would find it.
    let mut by_name: HashMap<&str, usize> = HashMap::with_capacity(plan.pgbouncers.len());
    for (i, b) in plan.pgbouncers.iter().enumerate() {
        by_name.entry(b.name.as_str()).or_insert(i);
    }
    let bouncer_index = |name: &Option<String>| -> Option<usize> { by_name.get(name.as_deref()?).copied() };
    let mut lines = Vec::with_capacity(plan.web.len() + plan.streaming.len() + plan.sidekiq.len());

    for (index, w) in plan.web.iter().enumerate() {
        let (pool, source, default_applied) = match w.db_pool {
            Some(p) => (p, PoolSource::DbPool, None),
            None => (w.max_threads, PoolSource::MaxThreads, Some("web without DB_POOL pools MAX_THREADS")),
        };
        let unit = Unit { name: &w.name, kind: UnitKind::Web, index, host: &w.host, pgbouncer: &w.pgbouncer };
        lines.push(unit.line(w.web_concurrency, w.max_threads, pool, source, default_applied, bouncer_index(&w.pgbouncer), replica));
    }

    for (index, s) in plan.streaming.iter().enumerate() {
        let (pool, source, default_applied) = match s.db_pool {
            Some(p) => (p, PoolSource::DbPool, None),
            // streaming/database.js: `max: parseInt(process.env.DB_POOL || '10')`.
            None => (10, PoolSource::Default, Some("streaming without DB_POOL gets 10")),
        };
        let unit = Unit { name: &s.name, kind: UnitKind::Streaming, index, host: &s.host, pgbouncer: &s.pgbouncer };
        lines.push(unit.line(s.instances, pool, pool, source, default_applied, bouncer_index(&s.pgbouncer), replica));
    }

    for (index, s) in plan.sidekiq.iter().enumerate() {
        let (pool, source, default_applied) = match s.db_pool {
            Some(p) => (p, PoolSource::DbPool, None),
            None => {
                let (p, why) = version.sidekiq_default_pool(s.concurrency);
                (p, PoolSource::Default, Some(why))
            }
        };
        let unit = Unit { name: &s.name, kind: UnitKind::Sidekiq, index, host: &s.host, pgbouncer: &s.pgbouncer };
        lines.push(unit.line(s.instances, s.concurrency, pool, source, default_applied, bouncer_index(&s.pgbouncer), replica));
    }
    lines
}

/// The parts of a unit every ledger line names.
struct Unit<'p> {
    name: &'p str,
    kind: UnitKind,
    index: usize,
    host: &'p str,
    pgbouncer: &'p Option<String>,
}

impl Unit<'_> {
    #[allow(clippy::too_many_arguments)]
    fn line(
        &self,
        processes: u32,
        threads: u32,
        pool: u32,
        pool_source: PoolSource,
        default_applied: Option<&'static str>,
        pgbouncer_index: Option<usize>,
        replica: bool,
    ) -> ConnectionLine {
        let connections = processes.saturating_mul(pool);
        ConnectionLine {
            unit: self.name.to_string(),
            kind: self.kind,
            index: self.index,
            host: self.host.to_string(),
            processes,
            threads,
            pool,
            pool_source,
            connections,
            derivation: Derivation { kind: self.kind, processes, pool, source: pool_source, connections },
            default_applied,
            pgbouncer: pgbouncer_index.and(self.pgbouncer.clone()),
            pgbouncer_index,
            replica_connections: if replica { connections } else { 0 },
        }
    }
}

fn bouncer_load(b: &PgBouncer, index: usize, clients: u32) -> BouncerLoad {
    let mut per_pair = b.default_pool_size + b.reserve_pool_size;
    if b.max_db_connections > 0 {
        per_pair = per_pair.min(b.max_db_connections);
    }
    let server_pool = per_pair.saturating_mul(b.databases);
    BouncerLoad {
        name: b.name.clone(),
        index,
        host: b.host.clone(),
        clients,
        max_client_conn: b.max_client_conn,
        server_pool,
        // In transaction mode a client holds a server connection only while it runs a
        // transaction, so the server side never exceeds the clients nor the pools.
        server_connections: clients.min(server_pool),
        file_descriptors_needed: b.max_client_conn.saturating_add(server_pool),
    }
}

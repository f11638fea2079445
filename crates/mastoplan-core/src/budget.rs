//! The Postgres connection budget: who opens how many connections, and against which limit.
//!
//! Every thread that can run a query holds one connection from its process's pool, so a unit
//! opens `processes x pool` connections. The compendium's formula sums them over web, streaming
//! and sidekiq; with PgBouncer in between, the sum splits into each bouncer's client side and
//! the server connections the bouncers open to Postgres.

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
    pub connections: u32,
    /// How `connections` was reached, e.g. "3 processes x DB_POOL 10".
    pub derivation: String,
    /// The version default that set the pool when DB_POOL is unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_applied: Option<String>,
    /// The bouncer the pools point at; none means straight to Postgres.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pgbouncer: Option<String>,
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
        let bouncers: Vec<BouncerLoad> = plan
            .pgbouncers
            .iter()
            .enumerate()
            .map(|(index, b)| bouncer_load(b, index, &lines))
            .collect();

        let clients = lines.iter().map(|l| l.connections).sum();
        // A unit naming a bouncer that does not exist cannot connect through it; validation
        // rejects such plans, and here it counts as direct so no connection goes unseen.
        let direct: u32 = lines
            .iter()
            .filter(|l| l.pgbouncer.as_deref().and_then(|n| plan.pgbouncer(n)).is_none())
            .map(|l| l.connections)
            .sum();
        let total = direct + bouncers.iter().map(|b| b.server_connections).sum::<u32>();

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
    let mut lines = Vec::new();

    for (index, w) in plan.web.iter().enumerate() {
        let (pool, default_applied) = match w.db_pool {
            Some(p) => (p, None),
            None => (w.max_threads, Some("web without DB_POOL pools MAX_THREADS".to_string())),
        };
        let pool_label = if w.db_pool.is_some() { "DB_POOL" } else { "MAX_THREADS" };
        lines.push(line(
            &w.name,
            UnitKind::Web,
            index,
            &w.host,
            w.web_concurrency,
            w.max_threads,
            pool,
            format!("WEB_CONCURRENCY {} x {pool_label} {pool}", w.web_concurrency),
            default_applied,
            w.pgbouncer.clone(),
            replica,
        ));
    }

    for (index, s) in plan.streaming.iter().enumerate() {
        let (pool, default_applied) = match s.db_pool {
            Some(p) => (p, None),
            None => (10, Some("streaming without DB_POOL gets 10".to_string())),
        };
        lines.push(line(
            &s.name,
            UnitKind::Streaming,
            index,
            &s.host,
            s.instances,
            pool,
            pool,
            format!("{} {} x DB_POOL {pool}", s.instances, processes_word(s.instances)),
            default_applied,
            s.pgbouncer.clone(),
            replica,
        ));
    }

    for (index, s) in plan.sidekiq.iter().enumerate() {
        let (pool, default_applied) = match s.db_pool {
            Some(p) => (p, None),
            None => {
                let (p, why) = version.sidekiq_default_pool(s.concurrency);
                (p, Some(why.to_string()))
            }
        };
        lines.push(line(
            &s.name,
            UnitKind::Sidekiq,
            index,
            &s.host,
            s.instances,
            s.concurrency,
            pool,
            format!("{} {} x DB_POOL {pool}", s.instances, processes_word(s.instances)),
            default_applied,
            s.pgbouncer.clone(),
            replica,
        ));
    }
    lines
}

fn processes_word(n: u32) -> &'static str {
    if n == 1 { "process" } else { "processes" }
}

#[allow(clippy::too_many_arguments)]
fn line(
    unit: &str,
    kind: UnitKind,
    index: usize,
    host: &str,
    processes: u32,
    threads: u32,
    pool: u32,
    derivation: String,
    default_applied: Option<String>,
    pgbouncer: Option<String>,
    replica: bool,
) -> ConnectionLine {
    let connections = processes.saturating_mul(pool);
    ConnectionLine {
        unit: unit.to_string(),
        kind,
        index,
        host: host.to_string(),
        processes,
        threads,
        pool,
        connections,
        derivation: format!("{derivation} = {connections}"),
        default_applied,
        pgbouncer,
        replica_connections: if replica { connections } else { 0 },
    }
}

fn bouncer_load(b: &PgBouncer, index: usize, lines: &[ConnectionLine]) -> BouncerLoad {
    let clients: u32 = lines
        .iter()
        .filter(|l| l.pgbouncer.as_deref() == Some(b.name.as_str()))
        .map(|l| l.connections)
        .sum();
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

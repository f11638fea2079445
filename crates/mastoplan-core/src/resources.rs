//! The other half of the story: each host's RAM and cores, and what every unit placed on it
//! claims of them, from the plan's `estimates`. And the Postgres settings recommended for the
//! database host, which depend on it: where Postgres shares a host, it is tuned for the RAM the
//! other units leave.
//!
//! What a unit claims:
//! - every host: `os_reserve_mb` for the system;
//! - web: WEB_CONCURRENCY Puma workers, each `puma_worker_mb` (doubled without jemalloc);
//! - streaming: one Node process per instance;
//! - sidekiq: one process per instance, 512 MB with jemalloc and 1 GB without (the compendium);
//!   a process serving ingress a whole core;
//! - PgBouncer: its base plus 2 kB per client and server connection, and one core;
//! - Redis: maxmemory plus overhead, or an estimate from the users when it has no maxmemory;
//! - Postgres: shared_buffers, and work_mem plus a backend's own memory for every connection it
//!   sees at peak; cores for the connections busy at once (CYBERTEC's session_busy_ratio).
//!   maintenance_work_mem and autovacuum are left out: they run on few backends at a time and
//!   fit in the headroom PGTune's formulas leave.

use std::collections::HashMap;

use serde::Serialize;

use crate::budget::ConnectionBudget;
use crate::ceiling::{trim_float, Ceiling};
use crate::estimates::Estimates;
use crate::finding::Context;
use crate::pgtune::{self, format_kb, PgTune, PgTuneInput, KB_PER_MB};
use crate::plan::{DiskKind, HugePages, IoMethod, Plan, PostgresSettings, Queue, RedisRole, WalCompression};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ClaimKind {
    Os,
    Web,
    Streaming,
    Sidekiq,
    Pgbouncer,
    Redis,
    Postgres,
    Replica,
}

/// What one unit takes of its host.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Claim {
    pub unit: String,
    pub kind: ClaimKind,
    pub ram_mb: u64,
    pub cores: f64,
    /// How the figures were reached, e.g. "4 Puma workers x 384 MB".
    pub derivation: String,
    /// A JSON pointer to the unit in the plan.
    pub at: String,
}

/// One host's RAM and cores and who claims them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HostLedger {
    pub host: String,
    pub index: usize,
    pub ram_mb: u64,
    pub cores: u32,
    pub claimed_ram_mb: u64,
    pub claimed_cores: f64,
    /// In the order the plan lists the units, the system reserve first.
    pub claims: Vec<Claim>,
}

impl HostLedger {
    pub fn ram_overcommitted(&self) -> bool {
        self.claimed_ram_mb > self.ram_mb
    }

    /// A tolerance keeps 4 x 0.25 from reading as more than 1.
    pub fn cores_oversubscribed(&self) -> bool {
        self.claimed_cores > f64::from(self.cores) + 1e-9
    }

    /// The claims, largest RAM first.
    pub fn by_ram(&self) -> Vec<&Claim> {
        let mut v: Vec<&Claim> = self.claims.iter().collect();
        v.sort_by_key(|c| std::cmp::Reverse(c.ram_mb));
        v
    }

    /// "postgres 2526 MB, redis-cache 640 MB, sidekiq 512 MB": the largest RAM claims.
    pub fn top_ram(&self, n: usize) -> String {
        let v: Vec<String> = self.by_ram().into_iter().take(n).map(|c| format!("{} {} MB", c.unit, c.ram_mb)).collect();
        v.join(", ")
    }

    /// "sidekiq-ingress 3 cores, web 2 cores": the largest CPU claims, those claiming none left out.
    pub fn top_cores(&self, n: usize) -> String {
        let v: Vec<String> = self
            .by_cores()
            .into_iter()
            .filter(|c| c.cores > 0.0)
            .take(n)
            .map(|c| format!("{} {} {}", c.unit, trim_float(c.cores), if c.cores == 1.0 { "core" } else { "cores" }))
            .collect();
        v.join(", ")
    }

    /// The claims, most cores first.
    pub fn by_cores(&self) -> Vec<&Claim> {
        let mut v: Vec<&Claim> = self.claims.iter().collect();
        v.sort_by(|a, b| b.cores.total_cmp(&a.cores));
        v
    }
}

/// One setting as it goes into postgresql.conf.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PgSetting {
    pub name: &'static str,
    pub value: String,
    /// What the planner recommends; none when it would leave the setting at Postgres's default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recommended: Option<String>,
    /// The admin set it in `postgres.settings`.
    pub overridden: bool,
    /// The formula or reason behind the recommendation.
    pub basis: String,
}

/// The settings that decide Postgres's memory, after the admin's overrides.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PgMemory {
    pub shared_buffers_kb: u64,
    pub work_mem_kb: u64,
    pub effective_cache_size_kb: u64,
    pub maintenance_work_mem_kb: u64,
}

/// Recommended settings for one Postgres server: the report's `postgres_settings`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PostgresTuning {
    pub host: String,
    pub host_ram_mb: u64,
    /// The RAM the recommendations are computed for.
    pub ram_mb: u64,
    /// Why that much: the whole host, what the other units leave, or the plan's override.
    pub ram_basis: String,
    pub cores: u32,
    pub disk: DiskKind,
    pub version: u32,
    pub max_connections: u32,
    /// The connections it sees at peak (the budget's total).
    pub connections: u32,
    /// PGTune's recommendation for these inputs, before any override.
    pub pgtune: PgTune,
    /// The memory settings in force: an override where the admin set one, else the
    /// recommendation.
    pub memory: PgMemory,
    /// postgresql.conf lines, in PGTune's order.
    pub settings: Vec<PgSetting>,
    pub ceiling: Ceiling,
}

/// Hosts' ledgers and the Postgres settings, computed together.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Resources {
    pub hosts: Vec<HostLedger>,
    pub postgres: PostgresTuning,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replica: Option<PostgresTuning>,
}

impl Context<'_> {
    /// The hosts' ledgers and Postgres's settings for this plan, computed once per evaluation:
    /// the report holds them anyway, and several rules read them.
    pub fn resources(&self) -> &Resources {
        self.resources
    }
}

fn mb_of_kb(kb: u64) -> u64 {
    kb.div_ceil(KB_PER_MB)
}

impl Resources {
    pub fn compute(plan: &Plan, budget: &ConnectionBudget) -> Resources {
        let e = &plan.estimates;
        let mut hosts: Vec<HostLedger> = plan
            .hosts
            .iter()
            .enumerate()
            .map(|(index, h)| HostLedger {
                host: h.name.clone(),
                index,
                ram_mb: u64::from(h.ram_gb) * 1024,
                cores: h.cores,
                claimed_ram_mb: 0,
                claimed_cores: 0.0,
                claims: vec![Claim {
                    unit: "system".into(),
                    kind: ClaimKind::Os,
                    ram_mb: u64::from(e.os_reserve_mb),
                    cores: 0.0,
                    derivation: format!("os_reserve_mb {}", e.os_reserve_mb),
                    at: "/estimates/os_reserve_mb".into(),
                }],
            })
            .collect();
        // Ledgers by host name, so placing a claim does not scan every host: the first host of
        // a name wins, as a linear search would find it.
        let mut by_name: HashMap<&str, usize> = HashMap::with_capacity(plan.hosts.len());
        for (i, h) in plan.hosts.iter().enumerate() {
            by_name.entry(h.name.as_str()).or_insert(i);
        }
        let mut add = |host: &str, claim: Claim| {
            if let Some(&i) = by_name.get(host) {
                hosts[i].claims.push(claim);
            }
        };
        // The same few per-process figures, formatted once rather than once per unit.
        let puma_cores = cores_text(e.puma_worker_cores);
        let streaming_cores = cores_text(e.streaming_process_cores);
        let sidekiq_cores = cores_text(e.sidekiq_process_cores);
        let ingress_cores = cores_text(e.sidekiq_ingress_cores);
        let pgbouncer_cores = cores_text(e.pgbouncer_cores);

        for (i, w) in plan.web.iter().enumerate() {
            let (mb, malloc) = if w.jemalloc {
                (e.puma_worker_mb, "")
            } else {
                (e.puma_worker_mb_without_jemalloc, " without jemalloc")
            };
            let n = w.web_concurrency;
            add(
                &w.host,
                Claim {
                    unit: w.name.clone(),
                    kind: ClaimKind::Web,
                    ram_mb: u64::from(n) * u64::from(mb),
                    cores: f64::from(n) * e.puma_worker_cores,
                    derivation: format!("{n} Puma {} x {mb} MB{malloc}, {puma_cores} each", plural(n, "worker", "workers")),
                    at: format!("/web/{i}"),
                },
            );
        }
        for (i, s) in plan.streaming.iter().enumerate() {
            let n = s.instances;
            add(
                &s.host,
                Claim {
                    unit: s.name.clone(),
                    kind: ClaimKind::Streaming,
                    ram_mb: u64::from(n) * u64::from(e.streaming_process_mb),
                    cores: f64::from(n) * e.streaming_process_cores,
                    derivation: format!(
                        "{n} streaming {} x {} MB, {streaming_cores} each",
                        plural(n, "process", "processes"),
                        e.streaming_process_mb,
                    ),
                    at: format!("/streaming/{i}"),
                },
            );
        }
        for (i, s) in plan.sidekiq.iter().enumerate() {
            let (mb, malloc) = if s.jemalloc {
                (e.sidekiq_process_mb, "")
            } else {
                (e.sidekiq_process_mb_without_jemalloc, " without jemalloc")
            };
            let (per_core, per_core_text, why) = if s.queues.contains(&Queue::Ingress) {
                (e.sidekiq_ingress_cores, &ingress_cores, " (serves ingress)")
            } else {
                (e.sidekiq_process_cores, &sidekiq_cores, "")
            };
            let n = s.instances;
            add(
                &s.host,
                Claim {
                    unit: s.name.clone(),
                    kind: ClaimKind::Sidekiq,
                    ram_mb: u64::from(n) * u64::from(mb),
                    cores: f64::from(n) * per_core,
                    derivation: format!(
                        "{n} sidekiq {} x {mb} MB{malloc}, {per_core_text} each{why}",
                        plural(n, "process", "processes"),
                    ),
                    at: format!("/sidekiq/{i}"),
                },
            );
        }
        for (b, load) in plan.pgbouncers.iter().zip(&budget.bouncers) {
            let conns = u64::from(b.max_client_conn) + u64::from(load.server_pool);
            let kb = conns * u64::from(e.pgbouncer_kb_per_connection);
            add(
                &b.host,
                Claim {
                    unit: b.name.clone(),
                    kind: ClaimKind::Pgbouncer,
                    ram_mb: u64::from(e.pgbouncer_base_mb) + mb_of_kb(kb),
                    cores: e.pgbouncer_cores,
                    derivation: format!(
                        "{} MB + {conns} connections x {} kB; single-threaded: {pgbouncer_cores}",
                        e.pgbouncer_base_mb, e.pgbouncer_kb_per_connection,
                    ),
                    at: format!("/pgbouncers/{}", load.index),
                },
            );
        }
        for (i, r) in plan.redis.iter().enumerate() {
            let overhead = |mb: u64| mb * (100 + u64::from(e.redis_overhead_percent)) / 100;
            let (ram_mb, derivation) = if r.maxmemory_mb > 0 {
                (
                    overhead(u64::from(r.maxmemory_mb)),
                    format!("maxmemory {} MB + {}%", r.maxmemory_mb, e.redis_overhead_percent),
                )
            } else {
                let per_user = match r.role {
                    RedisRole::Persistent | RedisRole::Cache => {
                        u64::from(plan.expected_active_users) * u64::from(e.redis_kb_per_user) / 1024
                    }
                    RedisRole::SidekiqOnly => 0,
                };
                let data = u64::from(e.redis_base_mb) + per_user;
                let users = if per_user > 0 {
                    format!(" + {} users x {} kB", plan.expected_active_users, e.redis_kb_per_user)
                } else {
                    String::new()
                };
                (
                    overhead(data),
                    format!("no maxmemory: {} MB{users} + {}%", e.redis_base_mb, e.redis_overhead_percent),
                )
            };
            add(
                &r.host,
                Claim {
                    unit: r.name.clone(),
                    kind: ClaimKind::Redis,
                    ram_mb,
                    cores: e.redis_cores,
                    derivation: format!("{derivation}; {}", cores_text(e.redis_cores)),
                    at: format!("/redis/{i}"),
                },
            );
        }

        let pg = &plan.postgres;
        let primary = tune_on_host(
            plan,
            &hosts,
            Server {
                host: &pg.host,
                max_connections: pg.max_connections,
                connections: budget.total,
                overrides: &pg.settings,
                synchronous_commit_off: pg.synchronous_commit_off,
                estimates: e,
            },
        );
        push_postgres(&mut hosts, &primary, ClaimKind::Postgres, "postgres", "/postgres", e);

        let replica = match (&plan.replica, &budget.replica) {
            (Some(r), Some(load)) => {
                let none = PostgresSettings::default();
                let t = tune_on_host(
                    plan,
                    &hosts,
                    Server {
                        host: &r.host,
                        max_connections: r.max_connections,
                        connections: load.total,
                        overrides: &none,
                        synchronous_commit_off: false,
                        estimates: e,
                    },
                );
                push_postgres(&mut hosts, &t, ClaimKind::Replica, "replica", "/replica", e);
                Some(t)
            }
            _ => None,
        };

        for h in &mut hosts {
            h.claimed_ram_mb = h.claims.iter().map(|c| c.ram_mb).sum();
            h.claimed_cores = h.claims.iter().map(|c| c.cores).sum();
        }
        Resources { hosts, postgres: primary, replica }
    }

    pub fn host(&self, name: &str) -> Option<&HostLedger> {
        self.hosts.iter().find(|h| h.host == name)
    }
}

/// "1 core", "0.5 cores".
fn cores_text(v: f64) -> String {
    format!("{} {}", trim_float(v), if v == 1.0 { "core" } else { "cores" })
}

fn plural<'a>(n: u32, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 {
        one
    } else {
        many
    }
}

struct Server<'a> {
    host: &'a str,
    max_connections: u32,
    connections: u32,
    overrides: &'a PostgresSettings,
    synchronous_commit_off: bool,
    estimates: &'a Estimates,
}

/// Postgres is never tuned for less than this share of its host, however crowded: the ledger
/// then shows the host overcommitted rather than recommending a starved server.
const MIN_RAM_SHARE: u64 = 4;

fn tune_on_host(plan: &Plan, hosts: &[HostLedger], s: Server) -> PostgresTuning {
    let host = plan.host(s.host);
    let host_ram_mb = host.map_or(1024, |h| u64::from(h.ram_gb) * 1024);
    let cores = host.map_or(1, |h| h.cores);
    // Everything else on the host but the system reserve: PGTune's formulas already leave the
    // system its share (a quarter for shared_buffers, a quarter at most for work_mem, the rest
    // page cache).
    let others: u64 = hosts
        .iter()
        .find(|h| h.host == s.host)
        .map_or(0, |h| h.claims.iter().filter(|c| c.kind != ClaimKind::Os).map(|c| c.ram_mb).sum());
    let (ram_mb, ram_basis) = match s.overrides.ram_mb {
        Some(mb) => (u64::from(mb), format!("postgres.settings.ram_mb {mb}")),
        None if others == 0 => (host_ram_mb, format!("all of {}'s {} MB", s.host, host_ram_mb)),
        None => {
            // Rounded down to 64 MB so shared_buffers (a quarter) and the rest come out in
            // whole megabytes, as they would from PGTune given a round figure.
            let left = host_ram_mb.saturating_sub(others) / 64 * 64;
            let floor = host_ram_mb / MIN_RAM_SHARE;
            if left >= floor {
                (
                    left,
                    format!(
                        "{}'s {host_ram_mb} MB less {others} MB claimed by the other units on it, rounded down to 64 MB",
                        s.host
                    ),
                )
            } else {
                (
                    floor,
                    format!(
                        "a quarter of {}'s {host_ram_mb} MB: the other units on it claim {others} MB, leaving too little",
                        s.host
                    ),
                )
            }
        }
    };
    let version = plan.postgres.version;
    let disk = plan.postgres.disk;
    let input = PgTuneInput { ram_kb: ram_mb * KB_PER_MB, cores, max_connections: s.max_connections, disk, pg_version: version };
    let tune = PgTune::compute(input);
    let (memory, settings) = resolve(&tune, input, s.overrides, s.synchronous_commit_off);
    PostgresTuning {
        host: s.host.to_string(),
        host_ram_mb,
        ram_mb,
        ram_basis,
        cores,
        disk,
        version,
        max_connections: s.max_connections,
        connections: s.connections,
        pgtune: tune,
        memory,
        settings,
        ceiling: Ceiling::compute(cores, s.max_connections, s.estimates),
    }
}

fn push_postgres(hosts: &mut [HostLedger], t: &PostgresTuning, kind: ClaimKind, unit: &str, at: &str, e: &Estimates) {
    let Some(h) = hosts.iter_mut().find(|h| h.host == t.host) else { return };
    let m = &t.memory;
    let per_connection_kb = m.work_mem_kb + u64::from(e.postgres_backend_mb) * KB_PER_MB;
    let ram_kb = m.shared_buffers_kb + u64::from(t.connections) * per_connection_kb;
    let cores = f64::from(t.connections) * e.session_busy_ratio * e.avg_parallelism;
    h.claims.push(Claim {
        unit: unit.to_string(),
        kind,
        ram_mb: mb_of_kb(ram_kb),
        cores,
        derivation: format!(
            "shared_buffers {} + {} connections x (work_mem {} + {} MB backend); {} busy x {} = {} cores",
            format_kb(m.shared_buffers_kb),
            t.connections,
            format_kb(m.work_mem_kb),
            e.postgres_backend_mb,
            e.session_busy_ratio,
            e.avg_parallelism,
            trim_float(cores)
        ),
        at: at.to_string(),
    });
}

fn kb_of_mb(mb: Option<u32>) -> Option<u64> {
    mb.map(|v| u64::from(v) * KB_PER_MB)
}

/// Apply the overrides. Settings PGTune derives from others (work_mem from shared_buffers,
/// wal_buffers and huge_pages from shared_buffers, autovacuum_work_mem from
/// maintenance_work_mem) are recomputed from the values in force, so an override of
/// shared_buffers also moves the work_mem recommended beside it; without overrides every
/// value is PGTune's.
fn resolve(t: &PgTune, i: PgTuneInput, o: &PostgresSettings, sync_off: bool) -> (PgMemory, Vec<PgSetting>) {
    let mut out: Vec<PgSetting> = Vec::new();
    let mut set = |name: &'static str, recommended: Option<String>, over: Option<String>, basis: String| {
        let overridden = over.is_some();
        if let Some(value) = over.or_else(|| recommended.clone()) {
            out.push(PgSetting { name, value, recommended, overridden, basis });
        }
    };
    let ram = format_kb(i.ram_kb);

    set(
        "max_connections",
        Some(i.max_connections.to_string()),
        None,
        "the plan's postgres.max_connections".into(),
    );
    let sb = kb_of_mb(o.shared_buffers_mb).unwrap_or(t.shared_buffers_kb);
    set(
        "shared_buffers",
        Some(format_kb(t.shared_buffers_kb)),
        o.shared_buffers_mb.map(|_| format_kb(sb)),
        format!("RAM / 4 = {ram} / 4 (PGTune, web)"),
    );
    let ecs = kb_of_mb(o.effective_cache_size_mb).unwrap_or(t.effective_cache_size_kb);
    set(
        "effective_cache_size",
        Some(format_kb(t.effective_cache_size_kb)),
        o.effective_cache_size_mb.map(|_| format_kb(ecs)),
        format!("RAM x 3/4 = {ram} x 3/4 (PGTune, web)"),
    );
    let mwm = kb_of_mb(o.maintenance_work_mem_mb).unwrap_or(t.maintenance_work_mem_kb);
    set(
        "maintenance_work_mem",
        Some(format_kb(t.maintenance_work_mem_kb)),
        o.maintenance_work_mem_mb.map(|_| format_kb(mwm)),
        format!("RAM / 16 = {ram} / 16, at most 8GB (PGTune)"),
    );
    set(
        "checkpoint_completion_target",
        Some(t.checkpoint_completion_target.to_string()),
        o.checkpoint_completion_target.map(|v| v.to_string()),
        "0.9 (PGTune; Postgres's default since 14)".into(),
    );
    let wal_buffers = pgtune::wal_buffers_kb(sb);
    set(
        "wal_buffers",
        Some(format_kb(wal_buffers)),
        o.wal_buffers_kb.map(|v| format_kb(u64::from(v))),
        format!("3% of shared_buffers {}, at most 16MB (PGTune)", format_kb(sb)),
    );
    set(
        "default_statistics_target",
        Some(t.default_statistics_target.to_string()),
        o.default_statistics_target.map(|v| v.to_string()),
        "100 for a web application (PGTune)".into(),
    );
    set(
        "random_page_cost",
        Some(t.random_page_cost.to_string()),
        o.random_page_cost.map(|v| v.to_string()),
        format!("{} storage (PGTune: 4 on HDD, 1.1 otherwise)", i.disk.name()),
    );
    set(
        "effective_io_concurrency",
        Some(t.effective_io_concurrency.to_string()),
        o.effective_io_concurrency.map(|v| v.to_string()),
        format!("{} storage on Linux (PGTune: HDD 2, SSD 200, network 300, NVMe 1000)", i.disk.name()),
    );
    // Parallel workers first: work_mem's divisor counts max_worker_processes.
    let workers = o
        .max_worker_processes
        .or(t.parallel.map(|p| p.max_worker_processes))
        .unwrap_or(pgtune::DEFAULT_MAX_WORKER_PROCESSES);
    let workers_parallel = Some(pgtune::Parallel {
        max_worker_processes: workers,
        max_parallel_workers_per_gather: 0,
        max_parallel_workers: None,
        max_parallel_maintenance_workers: None,
    });
    let wm_recommended = pgtune::work_mem_kb(i.ram_kb, sb, i.max_connections, workers_parallel);
    let wm = kb_of_mb(o.work_mem_mb).unwrap_or(wm_recommended);
    set(
        "work_mem",
        Some(format_kb(wm_recommended)),
        o.work_mem_mb.map(|_| format_kb(wm)),
        format!(
            "(RAM - shared_buffers) / ((max_connections + max_worker_processes) x 3) = ({ram} - {}) / (({} + {workers}) x 3), at least 4MB (PGTune)",
            format_kb(sb),
            i.max_connections
        ),
    );
    let hp = |h: HugePages| match h {
        HugePages::Try => "try",
        HugePages::On => "on",
        HugePages::Off => "off",
    };
    set(
        "huge_pages",
        Some(hp(pgtune::huge_pages(sb)).to_string()),
        o.huge_pages.map(|h| hp(h).to_string()),
        "try once shared_buffers reaches 2GB, else off (PGTune)".into(),
    );
    set(
        "jit",
        t.jit.map(on_off),
        o.jit.map(on_off),
        "off from Postgres 12: compiling costs short web queries more than it saves (PGTune)".into(),
    );
    let wc = |w: WalCompression| match w {
        WalCompression::Off => "off",
        WalCompression::On => "on",
        WalCompression::Pglz => "pglz",
        WalCompression::Lz4 => "lz4",
        WalCompression::Zstd => "zstd",
    };
    set(
        "wal_compression",
        t.wal_compression.map(|w| wc(w).to_string()),
        o.wal_compression.map(|w| wc(w).to_string()),
        "lz4 from Postgres 15 (needs a build with lz4, as PGDG's and Debian's are), on (pglz) for 10-14 (PGTune)".into(),
    );
    set(
        "autovacuum_max_workers",
        t.autovacuum_max_workers.map(|v| v.to_string()),
        o.autovacuum_max_workers.map(|v| v.to_string()),
        "5 from 32 cores, 4 from 16, else Postgres's 3 (PGTune)".into(),
    );
    set(
        "autovacuum_work_mem",
        pgtune::autovacuum_work_mem_kb(mwm).map(format_kb),
        o.autovacuum_work_mem_mb.map(|v| format_kb(u64::from(v) * KB_PER_MB)),
        "2GB once maintenance_work_mem reaches 2GB, so autovacuum workers cannot each take 8GB (PGTune)".into(),
    );
    let io = |m: IoMethod| match m {
        IoMethod::Sync => "sync",
        IoMethod::Worker => "worker",
        IoMethod::IoUring => "io_uring",
    };
    set(
        "io_method",
        t.io_method.map(|m| io(m).to_string()),
        o.io_method.map(|m| io(m).to_string()),
        "io_uring from Postgres 18 on Linux (PGTune); needs a build with liburing, else use worker".into(),
    );
    set(
        "min_wal_size",
        Some(format_kb(t.min_wal_size_kb)),
        o.min_wal_size_mb.map(|v| format_kb(u64::from(v) * KB_PER_MB)),
        "1GB for a web application (PGTune)".into(),
    );
    set(
        "max_wal_size",
        Some(format_kb(t.max_wal_size_kb)),
        o.max_wal_size_mb.map(|v| format_kb(u64::from(v) * KB_PER_MB)),
        "4GB for a web application (PGTune)".into(),
    );
    let p = t.parallel;
    set(
        "max_worker_processes",
        p.map(|p| p.max_worker_processes.to_string()),
        o.max_worker_processes.map(|v| v.to_string()),
        format!("the {} cores, from 4 cores (PGTune)", i.cores),
    );
    set(
        "max_parallel_workers_per_gather",
        p.map(|p| p.max_parallel_workers_per_gather.to_string()),
        o.max_parallel_workers_per_gather.map(|v| v.to_string()),
        "half the cores, at most 4, from 4 cores (PGTune)".into(),
    );
    set(
        "max_parallel_workers",
        p.and_then(|p| p.max_parallel_workers).map(|v| v.to_string()),
        o.max_parallel_workers.map(|v| v.to_string()),
        "the cores, from 4 cores, Postgres 10+ (PGTune)".into(),
    );
    set(
        "max_parallel_maintenance_workers",
        p.and_then(|p| p.max_parallel_maintenance_workers).map(|v| v.to_string()),
        o.max_parallel_maintenance_workers.map(|v| v.to_string()),
        "half the cores, at most 4, from 4 cores, Postgres 11+ (PGTune)".into(),
    );
    set(
        "synchronous_commit",
        None,
        sync_off.then(|| "off".to_string()),
        "opted in: a crash can lose the last commits (see synchronous-commit-off)".into(),
    );

    let memory = PgMemory {
        shared_buffers_kb: sb,
        work_mem_kb: wm,
        effective_cache_size_kb: ecs,
        maintenance_work_mem_kb: mwm,
    };
    (memory, out)
}

fn on_off(b: bool) -> String {
    if b { "on" } else { "off" }.to_string()
}

/// Validation of `postgres.settings`, called from `Plan::validate`.
pub(crate) fn check_settings(s: &PostgresSettings, version: u32) -> Result<(), crate::PlanError> {
    use crate::estimates::check_float;
    use crate::validate::check_range;
    const MAX_MB: u64 = 64 * 1024 * 1024;
    for (field, v, min, max) in [
        ("shared_buffers_mb", s.shared_buffers_mb, 1, MAX_MB),
        ("work_mem_mb", s.work_mem_mb, 1, MAX_MB),
        ("effective_cache_size_mb", s.effective_cache_size_mb, 1, MAX_MB),
        ("maintenance_work_mem_mb", s.maintenance_work_mem_mb, 1, MAX_MB),
        ("ram_mb", s.ram_mb, 64, MAX_MB),
        // Postgres's own bounds: wal_buffers 32 kB..2 GB; wal sizes in MB.
        ("wal_buffers_kb", s.wal_buffers_kb, 32, 2 * 1024 * 1024),
        ("min_wal_size_mb", s.min_wal_size_mb, 2, MAX_MB),
        ("max_wal_size_mb", s.max_wal_size_mb, 2, MAX_MB),
        ("default_statistics_target", s.default_statistics_target, 1, 10_000),
        ("effective_io_concurrency", s.effective_io_concurrency, 0, 1000),
        ("max_worker_processes", s.max_worker_processes, 0, 262_143),
        ("max_parallel_workers_per_gather", s.max_parallel_workers_per_gather, 0, 1024),
        ("max_parallel_workers", s.max_parallel_workers, 0, 1024),
        ("max_parallel_maintenance_workers", s.max_parallel_maintenance_workers, 0, 1024),
        ("autovacuum_max_workers", s.autovacuum_max_workers, 1, 262_143),
        ("autovacuum_work_mem_mb", s.autovacuum_work_mem_mb, 1, MAX_MB),
    ] {
        if let Some(v) = v {
            check_range(&format!("/postgres/settings/{field}"), u64::from(v), min, max)?;
        }
    }
    if let Some(v) = s.checkpoint_completion_target {
        check_float("/postgres/settings/checkpoint_completion_target", v, 0.0, 1.0)?;
    }
    if let Some(v) = s.random_page_cost {
        check_float("/postgres/settings/random_page_cost", v, 0.0, 1000.0)?;
    }
    if s.io_method.is_some() && version < 18 {
        return Err(crate::PlanError::at("/postgres/settings/io_method", "io_method exists from Postgres 18"));
    }
    if matches!(s.wal_compression, Some(WalCompression::Lz4 | WalCompression::Zstd | WalCompression::Pglz)) && version < 15 {
        return Err(crate::PlanError::at(
            "/postgres/settings/wal_compression",
            "wal_compression takes pglz, lz4 or zstd from Postgres 15; use on or off",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pgtune::KB_PER_GB;
    use crate::presets;

    fn resources(plan: &Plan) -> Resources {
        plan.validate().unwrap();
        Resources::compute(plan, &ConnectionBudget::compute(plan))
    }

    fn setting<'a>(t: &'a PostgresTuning, name: &str) -> &'a PgSetting {
        t.settings.iter().find(|s| s.name == name).unwrap_or_else(|| panic!("no {name}"))
    }

    #[test]
    fn a_dedicated_database_host_is_tuned_for_all_its_ram() {
        let plan = presets::get("large-split").unwrap();
        let r = resources(&plan);
        let t = &r.postgres;
        assert_eq!(t.ram_mb, 64 * 1024);
        let pgtune = PgTune::compute(PgTuneInput {
            ram_kb: 64 * KB_PER_GB,
            cores: 16,
            max_connections: 200,
            disk: DiskKind::Ssd,
            pg_version: 16,
        });
        assert_eq!(t.pgtune, pgtune);
        assert_eq!(setting(t, "shared_buffers").value, "16GB");
        assert_eq!(setting(t, "effective_cache_size").value, "48GB");
        // (64 GB - 16 GB) / ((200 + 16) x 3) = 77672 kB.
        assert_eq!(setting(t, "work_mem").value, "77672kB");
        assert!(t.settings.iter().all(|s| !s.overridden));
    }

    #[test]
    fn a_shared_host_tunes_postgres_for_what_the_others_leave() {
        let plan = presets::get("single-server").unwrap();
        let r = resources(&plan);
        let h = r.host("mastodon").unwrap();
        let others: u64 = h.claims.iter().filter(|c| !matches!(c.kind, ClaimKind::Os | ClaimKind::Postgres)).map(|c| c.ram_mb).sum();
        assert_eq!(others, 768 + 128 + 512 + 350 + 640);
        // 8192 - 2398 = 5794, rounded down to 5760: shared_buffers 1440MB.
        assert_eq!(r.postgres.ram_mb, 5760);
        assert_eq!(setting(&r.postgres, "shared_buffers").value, "1440MB");
        assert!(r.postgres.ram_basis.contains("less 2398 MB"), "{}", r.postgres.ram_basis);
    }

    #[test]
    fn the_ram_override_wins() {
        let mut plan = presets::get("single-server").unwrap();
        plan.postgres.settings.ram_mb = Some(4096);
        let r = resources(&plan);
        assert_eq!(r.postgres.ram_mb, 4096);
        assert_eq!(setting(&r.postgres, "shared_buffers").value, "1GB");
    }

    #[test]
    fn a_crowded_host_still_gives_postgres_a_quarter() {
        let mut plan = presets::get("single-server").unwrap();
        plan.sidekiq[0].instances = 12; // 6 GB of sidekiq on an 8 GB host
        let r = resources(&plan);
        assert_eq!(r.postgres.ram_mb, 2048);
        assert!(r.postgres.ram_basis.starts_with("a quarter"), "{}", r.postgres.ram_basis);
        assert!(r.host("mastodon").unwrap().ram_overcommitted());
    }

    #[test]
    fn an_override_of_shared_buffers_moves_the_work_mem_beside_it() {
        let mut plan = presets::get("large-split").unwrap();
        plan.postgres.settings.shared_buffers_mb = Some(8192);
        let r = resources(&plan);
        let sb = setting(&r.postgres, "shared_buffers");
        assert_eq!((sb.value.as_str(), sb.recommended.as_deref(), sb.overridden), ("8GB", Some("16GB"), true));
        // (64 GB - 8 GB) / ((200 + 16) x 3) = 90617 kB.
        assert_eq!(setting(&r.postgres, "work_mem").value, "90617kB");
        assert_eq!(r.postgres.memory.shared_buffers_kb, 8 * KB_PER_GB);
    }

    #[test]
    fn overrides_of_settings_pgtune_leaves_alone_are_printed() {
        let mut plan = presets::get("single-server").unwrap();
        plan.hosts[0].cores = 2; // no parallel settings from PGTune under 4 cores
        plan.postgres.settings.max_parallel_workers = Some(2);
        plan.postgres.settings.random_page_cost = Some(1.5);
        let r = resources(&plan);
        let p = setting(&r.postgres, "max_parallel_workers");
        assert_eq!((p.value.as_str(), p.recommended.as_deref(), p.overridden), ("2", None, true));
        assert!(r.postgres.settings.iter().all(|s| s.name != "max_worker_processes"));
        assert_eq!(setting(&r.postgres, "random_page_cost").value, "1.5");
    }

    #[test]
    fn postgres_claims_shared_buffers_and_its_connections() {
        let plan = presets::get("large-split").unwrap();
        let r = resources(&plan);
        let pg = r.host("db").unwrap().claims.iter().find(|c| c.kind == ClaimKind::Postgres).unwrap();
        // 16 GB + 100 connections x (77672 kB + 10 MB), in MB rounded up.
        let kb = 16 * KB_PER_GB + 100 * (77672 + 10 * 1024);
        assert_eq!(pg.ram_mb, kb.div_ceil(1024));
        assert!((pg.cores - 2.5).abs() < 1e-9, "100 connections x 0.025 busy");
    }

    #[test]
    fn sidekiq_without_jemalloc_claims_a_gigabyte() {
        let mut plan = presets::get("large-split").unwrap();
        let before = resources(&plan).host("worker-1").unwrap().claimed_ram_mb;
        plan.sidekiq[0].jemalloc = false; // sidekiq-default, 2 instances
        let after = resources(&plan).host("worker-1").unwrap().claimed_ram_mb;
        assert_eq!(after - before, 2 * (1024 - 512));
    }

    #[test]
    fn redis_claims_maxmemory_plus_overhead_or_an_estimate_from_the_users() {
        let plan = presets::get("large-split").unwrap();
        let r = resources(&plan);
        let h = r.host("redis").unwrap();
        let claim = |name: &str| h.claims.iter().find(|c| c.unit == name).unwrap().ram_mb;
        assert_eq!(claim("redis-cache"), 4096 * 125 / 100);
        // 256 MB + 50,000 users x 50 kB, + 25%.
        assert_eq!(claim("redis-feeds"), (256 + 50_000 * 50 / 1024) * 125 / 100);
        assert_eq!(claim("redis-sidekiq"), 256 * 125 / 100);
    }

    #[test]
    fn a_bouncer_claims_a_core_and_little_ram() {
        let plan = presets::get("large-split").unwrap();
        let r = resources(&plan);
        let b = r.host("web-1").unwrap().claims.iter().find(|c| c.kind == ClaimKind::Pgbouncer).unwrap();
        // 16 MB + (200 clients + 25 server) x 2 kB, rounded up.
        assert_eq!(b.ram_mb, 17);
        assert_eq!(b.cores, 1.0);
    }

    #[test]
    fn a_replica_is_tuned_and_counted_on_its_host() {
        let mut plan = presets::get("large-split").unwrap();
        plan.hosts.push(crate::plan::Host { name: "replica".into(), cores: 8, ram_gb: 32, address: None });
        plan.replica = Some(crate::plan::Replica { host: "replica".into(), max_connections: 200, superuser_reserved_connections: 3 });
        let r = resources(&plan);
        let t = r.replica.as_ref().unwrap();
        assert_eq!(setting(t, "shared_buffers").value, "8GB");
        assert!(r.host("replica").unwrap().claims.iter().any(|c| c.kind == ClaimKind::Replica));
    }

    #[test]
    fn the_sensible_presets_fit_their_hosts() {
        for name in ["single-server", "large-split", "compendium-example"] {
            let r = resources(&presets::get(name).unwrap());
            for h in &r.hosts {
                assert!(!h.ram_overcommitted(), "{name}/{}: {} of {} MB", h.host, h.claimed_ram_mb, h.ram_mb);
                assert!(!h.cores_oversubscribed(), "{name}/{}: {} of {} cores", h.host, h.claimed_cores, h.cores);
            }
        }
    }

    #[test]
    fn settings_are_checked_against_the_postgres_version() {
        let mut plan = presets::get("large-split").unwrap();
        plan.postgres.settings.io_method = Some(IoMethod::Worker);
        assert_eq!(plan.validate().unwrap_err().path, "/postgres/settings/io_method");
        plan.postgres.version = 18;
        plan.validate().unwrap();
        plan.postgres.settings.checkpoint_completion_target = Some(1.5);
        assert_eq!(plan.validate().unwrap_err().path, "/postgres/settings/checkpoint_completion_target");
    }

    #[test]
    fn postgres_18_gets_io_uring() {
        let mut plan = presets::get("large-split").unwrap();
        plan.postgres.version = 18;
        assert_eq!(setting(&resources(&plan).postgres, "io_method").value, "io_uring");
    }
}

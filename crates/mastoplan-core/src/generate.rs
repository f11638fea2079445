//! A starting plan from what a new admin knows: how many active users they expect, and how many
//! hosts of what size they have.
//!
//! How it decides:
//! 1. Size the app from the users, by the `Sizing` below: Puma workers, streaming processes
//!    (the plan's streaming assumptions, from the docs' ~800-1,200 concurrent connections for
//!    10-20k monthly actives), and sidekiq: one process serving every queue for a small server,
//!    one queue per systemd template unit from `queue_per_unit_from_users` (the compendium),
//!    with Hachyderm's tested threads (DB_POOL = -c = 10 for default, push and pull, 5 for
//!    ingress and the one scheduler, 1 for mailers).
//! 2. Lay out the hosts: Postgres gets a host of its own as soon as there are two; Redis joins
//!    it until there are four, then gets its own; the rest are split between web (Puma and
//!    streaming behind nginx) and workers (sidekiq) in proportion to what each side needs.
//! 3. Pool: straight to Postgres while the app's pools stay under ~100 connections, else one
//!    PgBouncer per app host, in transaction mode with PREPARED_STATEMENTS=false (Mastodon
//!    docs, the compendium). max_connections leaves a fifth of the budget and at least 15
//!    connections loose, and stays below CYBERTEC's ceiling and the compendium's 512.
//! 4. Fit: the host ledger (`resources`) is computed for the plan; while a host is over its RAM
//!    or cores, what runs on it (web and streaming, sidekiq, the cache's maxmemory; on
//!    Postgres's host, the app whose connections it serves) is scaled down by a tenth and the
//!    plan rebuilt. A plan that had to shrink says so in its warnings.
//!
//! Every number used is returned as a named assumption with its value and its source (or why,
//! when no source gives one), and every one can be changed by name (`Options::set`).

use serde::{Deserialize, Serialize};

use crate::budget::ConnectionBudget;
use crate::ceiling::max_connections_ceiling;
use crate::estimates::{Assumption, Estimates};
use crate::plan::{
    Assumptions, DiskKind, EvictionPolicy, Host, MastodonVersion, MediaStorage, Nginx, PgBouncer, Plan, PoolMode, Postgres,
    PostgresSettings, Queue, RedisInstance, RedisPersistence, RedisRole, SidekiqUnit, StreamingUnit, WebUnit,
};
use crate::resources::Resources;

/// What the admin tells the generator.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub name: String,
    /// Monthly active users expected.
    pub users: u32,
    /// How many hosts, all of the size below.
    pub hosts: u32,
    pub ram_gb: u32,
    pub cores: u32,
    pub mastodon_version: MastodonVersion,
    pub disk: DiskKind,
}

impl Request {
    pub fn new(users: u32, hosts: u32, ram_gb: u32, cores: u32) -> Request {
        Request {
            name: "generated".into(),
            users,
            hosts,
            ram_gb,
            cores,
            mastodon_version: MastodonVersion::default(),
            disk: DiskKind::Ssd,
        }
    }
}

/// How the generator sizes and lays out a plan. Where a source gives the number it is cited;
/// the rest are assumptions, said so in `describe`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Sizing {
    /// Active users one Puma worker serves. Assumption: 5,000 (10 workers for 50k users, a
    /// little above the large-split preset's 8).
    pub users_per_puma_worker: u32,
    /// At least Puma's default WEB_CONCURRENCY, 2 (config/puma.rb).
    pub min_puma_workers: u32,
    /// MAX_THREADS: Puma's default 5; more processes beat more threads under Ruby's lock.
    pub puma_threads: u32,
    /// From this many users, one queue per sidekiq template unit (the compendium's layout);
    /// below it, one process serves every queue, Mastodon's documented default. Assumption:
    /// 2,000, where one process of 10 threads starts to lag behind a busy federated timeline.
    pub queue_per_unit_from_users: u32,
    /// -c of the one process serving every queue on a small server. Assumption: 10, Hachyderm's
    /// figure for the busy queues.
    pub all_queues_threads: u32,
    /// Active users one process of default, push and pull each serves. Assumption: 20,000.
    pub users_per_sidekiq_process: u32,
    /// Active users one ingress process serves. Assumption: 15,000; ingress is CPU bound (the
    /// compendium) and scales by processes.
    pub users_per_ingress_process: u32,
    /// Active users one mailers process serves. Assumption: 100,000: mail is rare next to
    /// federation, and Hachyderm runs it with one thread.
    pub users_per_mailers_process: u32,
    /// -c and DB_POOL for default, push and pull: 10 (Hachyderm, via the compendium).
    pub busy_queue_threads: u32,
    /// -c for ingress: 5 (Hachyderm).
    pub ingress_threads: u32,
    /// -c for the one scheduler: 5 (the compendium: "5 is fine"; Hachyderm).
    pub scheduler_threads: u32,
    /// -c for mailers: 1 (Hachyderm).
    pub mailers_threads: u32,
    /// -c for fasp (4.4+). Assumption: 5; the queue is new and quiet.
    pub fasp_threads: u32,
    /// Pools above this many connections go through PgBouncer: ~100 (the compendium, Mastodon's
    /// docs on PgBouncer).
    pub bouncer_from_connections: u32,
    /// App connections per server connection in a bouncer's pool. Assumption: 3; in transaction
    /// mode a client holds a server connection only inside a transaction.
    pub bouncer_clients_per_server_connection: u32,
    /// The smallest default_pool_size: Mastodon's docs start with 20.
    pub bouncer_min_pool: u32,
    /// The share of max_connections (after reserved slots) the plan may use, in percent.
    /// Assumption: 80, under the compendium's 90% "impending doom" line.
    pub target_utilisation_percent: u32,
    /// Connections left loose for migrations, psql and maintenance: at least 15, the
    /// compendium's worked example.
    pub loose_connections: u32,
    /// Cache Redis maxmemory per active user, in kB. Assumption: 80 (4 GB for 50k users, as in
    /// the large-split preset).
    pub cache_kb_per_user: u32,
    /// The smallest cache Redis maxmemory, in MB. Assumption: 256.
    pub cache_min_mb: u32,
    /// From this many users sidekiq gets a Redis of its own (SIDEKIQ_REDIS_URL), so a flood of
    /// jobs and the feeds do not share one single-threaded instance (Mike Perham, "Storing data
    /// with Redis"). Assumption: 50,000.
    pub sidekiq_redis_from_users: u32,
    /// Beyond this many users, media goes to object storage: ~20,000 (the compendium).
    pub object_storage_from_users: u32,
    /// With this many hosts or more, Redis gets a host of its own. Assumption: 4.
    pub redis_host_from_hosts: u32,
    /// Postgres major version. Assumption: 17, what Debian 13 ships.
    pub postgres_version: u32,
}

impl Default for Sizing {
    fn default() -> Self {
        Sizing {
            users_per_puma_worker: 5_000,
            min_puma_workers: 2,
            puma_threads: 5,
            queue_per_unit_from_users: 2_000,
            all_queues_threads: 10,
            users_per_sidekiq_process: 20_000,
            users_per_ingress_process: 15_000,
            users_per_mailers_process: 100_000,
            busy_queue_threads: 10,
            ingress_threads: 5,
            scheduler_threads: 5,
            mailers_threads: 1,
            fasp_threads: 5,
            bouncer_from_connections: 100,
            bouncer_clients_per_server_connection: 3,
            bouncer_min_pool: 20,
            target_utilisation_percent: 80,
            loose_connections: 15,
            cache_kb_per_user: 80,
            cache_min_mb: 256,
            sidekiq_redis_from_users: 50_000,
            object_storage_from_users: 20_000,
            redis_host_from_hosts: 4,
            postgres_version: 17,
        }
    }
}

impl Sizing {
    /// Values the generator can work with; a name and the accepted range otherwise.
    pub fn check(&self) -> Result<(), String> {
        let ranges: [(&str, u32, u32, u32); 13] = [
            ("users_per_puma_worker", self.users_per_puma_worker, 1, u32::MAX),
            ("puma_threads", self.puma_threads, 1, 1024),
            ("all_queues_threads", self.all_queues_threads, 1, 1000),
            ("users_per_sidekiq_process", self.users_per_sidekiq_process, 1, u32::MAX),
            ("users_per_ingress_process", self.users_per_ingress_process, 1, u32::MAX),
            ("users_per_mailers_process", self.users_per_mailers_process, 1, u32::MAX),
            ("busy_queue_threads", self.busy_queue_threads, 1, 1000),
            ("ingress_threads", self.ingress_threads, 1, 1000),
            ("scheduler_threads", self.scheduler_threads, 1, 1000),
            ("mailers_threads", self.mailers_threads, 1, 1000),
            ("fasp_threads", self.fasp_threads, 1, 1000),
            ("target_utilisation_percent", self.target_utilisation_percent, 1, 100),
            ("postgres_version", self.postgres_version, 12, 30),
        ];
        for (name, v, min, max) in ranges {
            if !(min..=max).contains(&v) {
                return Err(format!("{name} is {v}: expected {min} to {max}"));
            }
        }
        if self.bouncer_clients_per_server_connection == 0 {
            return Err("bouncer_clients_per_server_connection must be at least 1".into());
        }
        Ok(())
    }

    pub fn describe(&self) -> Vec<Assumption> {
        const ASSUMED: &str = "assumption (no source gives a figure)";
        let a = |name: &str, value: u32, source: &str| Assumption::new(name, value, source);
        vec![
            a("users_per_puma_worker", self.users_per_puma_worker, &format!("{ASSUMED}: 10 workers for 50k users, a little above the large-split preset's 8")),
            a("min_puma_workers", self.min_puma_workers, "Puma's default WEB_CONCURRENCY (config/puma.rb)"),
            a("puma_threads", self.puma_threads, "Puma's default MAX_THREADS; more processes beat threads under Ruby's lock"),
            a("queue_per_unit_from_users", self.queue_per_unit_from_users, &format!("{ASSUMED}; the compendium: one queue per systemd template unit at scale")),
            a("all_queues_threads", self.all_queues_threads, &format!("{ASSUMED}: Hachyderm's figure for the busy queues")),
            a("users_per_sidekiq_process", self.users_per_sidekiq_process, &format!("{ASSUMED}: per process of default, push and pull each")),
            a("users_per_ingress_process", self.users_per_ingress_process, &format!("{ASSUMED}; the compendium: ingress is CPU bound, scale it by processes")),
            a("users_per_mailers_process", self.users_per_mailers_process, &format!("{ASSUMED}: mail is rare next to federation")),
            a("busy_queue_threads", self.busy_queue_threads, "Hachyderm's tested DB_POOL = -c for default, push, pull (the compendium)"),
            a("ingress_threads", self.ingress_threads, "Hachyderm's tested value (the compendium)"),
            a("scheduler_threads", self.scheduler_threads, "the compendium: exactly one scheduler, 5 threads is fine"),
            a("mailers_threads", self.mailers_threads, "Hachyderm's tested value (the compendium)"),
            a("fasp_threads", self.fasp_threads, &format!("{ASSUMED}: fasp (4.4+) is new and quiet")),
            a("bouncer_from_connections", self.bouncer_from_connections, "the compendium and Mastodon's docs: PgBouncer once pools pass ~100"),
            a("bouncer_clients_per_server_connection", self.bouncer_clients_per_server_connection, &format!("{ASSUMED}: transaction pooling shares a server connection between transactions")),
            a("bouncer_min_pool", self.bouncer_min_pool, "Mastodon's docs: default_pool_size = 20 to start"),
            a("target_utilisation_percent", self.target_utilisation_percent, &format!("{ASSUMED}: under the compendium's 90% line")),
            a("loose_connections", self.loose_connections, "the compendium's worked example leaves 15 loose"),
            a("cache_kb_per_user", self.cache_kb_per_user, &format!("{ASSUMED}: 4 GB for 50k users, as in the large-split preset")),
            a("cache_min_mb", self.cache_min_mb, ASSUMED),
            a("sidekiq_redis_from_users", self.sidekiq_redis_from_users, &format!("{ASSUMED}; Perham: one Redis per dataset, it is single-threaded")),
            a("object_storage_from_users", self.object_storage_from_users, "the compendium: object storage beyond ~20k users"),
            a("redis_host_from_hosts", self.redis_host_from_hosts, ASSUMED),
            a("postgres_version", self.postgres_version, "assumption: what Debian 13 ships"),
        ]
    }
}

/// Everything the generator reads besides the request; each can be set by name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Options {
    pub sizing: Sizing,
    /// Copied into the plan's `estimates`.
    pub estimates: Estimates,
    /// Copied into the plan's `assumptions` (streaming).
    pub assumptions: Assumptions,
}

impl Options {
    /// `--assume name=value`: a field of `Sizing`, of `Estimates` or of the plan's assumptions.
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), String> {
        // Estimates are listed as `estimates.NAME`; both spellings are accepted.
        if let Some(r) = self.estimates.set(name.strip_prefix("estimates.").unwrap_or(name), value) {
            return r;
        }
        let mut sizing = self.sizing.clone();
        if let Some(r) = set_field(&mut sizing, name, value) {
            r?;
            sizing.check()?;
            self.sizing = sizing;
            return Ok(());
        }
        if let Some(r) = set_field(&mut self.assumptions, name, value) {
            return r;
        }
        let mut names: Vec<String> = self.sizing.describe().into_iter().map(|a| a.name).collect();
        names.extend(self.estimates.describe().into_iter().map(|a| format!("estimates.{}", a.name)));
        names.extend(["streaming_connections_per_user".to_string(), "streaming_connections_per_process".to_string()]);
        Err(format!("no assumption is named {name:?}; known: {}", names.join(", ")))
    }
}

fn set_field<T: Serialize + for<'de> Deserialize<'de>>(target: &mut T, name: &str, value: &str) -> Option<Result<(), String>> {
    let mut v = serde_json::to_value(&*target).expect("serialises");
    let slot = v.as_object_mut()?.get_mut(name)?;
    match serde_json::from_str::<serde_json::Value>(value) {
        Ok(n @ serde_json::Value::Number(_)) => *slot = n,
        _ => return Some(Err(format!("{name} takes a number, not {value:?}"))),
    }
    Some(match serde_json::from_value::<T>(v) {
        Ok(t) => {
            *target = t;
            Ok(())
        }
        Err(e) => Err(format!("{name}: {e}")),
    })
}

/// A generated plan, the assumptions behind it, and what the admin should know about it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Generated {
    pub plan: Plan,
    pub assumptions: Vec<Assumption>,
    pub warnings: Vec<String>,
}

/// What the users call for, before fitting to the hosts.
#[derive(Debug, Clone, PartialEq)]
struct Demand {
    puma_workers: u32,
    streaming: u32,
    groups: Vec<Group>,
    cache_mb: u32,
}

/// Sidekiq processes serving the same queues with the same threads.
#[derive(Debug, Clone, PartialEq)]
struct Group {
    stem: String,
    queues: Vec<Queue>,
    instances: u32,
    threads: u32,
    /// Exactly one in the cluster: never scaled.
    fixed: bool,
}

impl Demand {
    fn from_users(users: u32, version: MastodonVersion, s: &Sizing, a: &Assumptions) -> Demand {
        let per = |n: u32| users.div_ceil(n.max(1)).max(1);
        let puma_workers = per(s.users_per_puma_worker).max(s.min_puma_workers);
        let connections = (f64::from(users) * a.streaming_connections_per_user).ceil();
        let streaming = ((connections / f64::from(a.streaming_connections_per_process.max(1))).ceil() as u32).max(1);
        let queues: Vec<Queue> = Queue::ALL.into_iter().filter(|q| version.has_queue(*q)).collect();
        let groups = if users < s.queue_per_unit_from_users {
            vec![Group {
                stem: "sidekiq".into(),
                queues,
                instances: 1,
                threads: s.all_queues_threads,
                fixed: true,
            }]
        } else {
            queues
                .into_iter()
                .map(|q| {
                    let (instances, threads, fixed) = match q {
                        Queue::Default | Queue::Push | Queue::Pull => (per(s.users_per_sidekiq_process), s.busy_queue_threads, false),
                        Queue::Ingress => (per(s.users_per_ingress_process), s.ingress_threads, false),
                        Queue::Mailers => (per(s.users_per_mailers_process), s.mailers_threads, false),
                        Queue::Scheduler => (1, s.scheduler_threads, true),
                        Queue::Fasp => (1, s.fasp_threads, true),
                    };
                    Group { stem: format!("sidekiq-{}", q.name()), queues: vec![q], instances, threads, fixed }
                })
                .collect()
        };
        let cache_mb = round_up(u64::from(users) * u64::from(s.cache_kb_per_user) / 1024, 64).max(u64::from(s.cache_min_mb)) as u32;
        Demand { puma_workers, streaming, groups, cache_mb }
    }

    /// Every scalable count times its group's factor, none below one; the cache not below its
    /// minimum.
    fn scaled(&self, f: &Factors, s: &Sizing) -> Demand {
        let sc = |n: u32, f: f64| ((f64::from(n) * f).round() as u32).max(1);
        Demand {
            puma_workers: sc(self.puma_workers, f.web),
            streaming: sc(self.streaming, f.web),
            groups: self
                .groups
                .iter()
                .map(|g| Group { instances: if g.fixed { g.instances } else { sc(g.instances, f.workers) }, ..g.clone() })
                .collect(),
            cache_mb: (round_up((f64::from(self.cache_mb) * f.cache) as u64, 64) as u32).max(s.cache_min_mb),
        }
    }

    fn sidekiq_processes(&self) -> u32 {
        self.groups.iter().map(|g| g.instances).sum()
    }

    fn web_at_minimum(&self) -> bool {
        self.puma_workers <= 1 && self.streaming <= 1
    }

    fn workers_at_minimum(&self) -> bool {
        self.groups.iter().all(|g| g.fixed || g.instances <= 1)
    }
}

/// How far each side has been scaled down to fit its hosts.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Factors {
    web: f64,
    workers: f64,
    cache: f64,
}

fn round_up(v: u64, step: u64) -> u64 {
    v.div_ceil(step) * step
}

/// Which host does what.
#[derive(Debug, Clone)]
struct Layout {
    hosts: Vec<Host>,
    db: String,
    redis: String,
    web: Vec<String>,
    workers: Vec<String>,
    spare: Vec<String>,
}

impl Layout {
    fn address(&self, host: &str) -> String {
        self.hosts.iter().find(|h| h.name == host).and_then(|h| h.address.clone()).unwrap_or_default()
    }

    fn describe(&self) -> String {
        let mut roles: Vec<(String, Vec<&str>)> = self.hosts.iter().map(|h| (h.name.clone(), Vec::new())).collect();
        let mut give = |host: &str, role: &'static str| {
            if let Some((_, r)) = roles.iter_mut().find(|(n, _)| n == host) {
                if !r.contains(&role) {
                    r.push(role);
                }
            }
        };
        give(&self.db, "postgres");
        give(&self.redis, "redis");
        for h in &self.web {
            give(h, "web");
            give(h, "streaming");
        }
        give(&self.web[0], "nginx");
        for h in &self.workers {
            give(h, "sidekiq");
        }
        roles
            .into_iter()
            .map(|(n, r)| if r.is_empty() { format!("{n}: spare") } else { format!("{n}: {}", r.join(", ")) })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

fn layout(req: &Request, demand: &Demand, opts: &Options) -> Layout {
    let host = |name: String, i: u32| Host {
        name,
        cores: req.cores,
        ram_gb: req.ram_gb,
        address: Some(if req.hosts == 1 { "127.0.0.1".to_string() } else { format!("10.0.{}.{}", i / 200, 10 + i % 200) }),
    };
    let h = req.hosts;
    if h == 1 {
        let n = "mastodon".to_string();
        return Layout {
            hosts: vec![host(n.clone(), 0)],
            db: n.clone(),
            redis: n.clone(),
            web: vec![n.clone()],
            workers: vec![n],
            spare: vec![],
        };
    }
    if h == 2 {
        return Layout {
            hosts: vec![host("db".into(), 0), host("app".into(), 1)],
            db: "db".into(),
            redis: "db".into(),
            web: vec!["app".into()],
            workers: vec!["app".into()],
            spare: vec![],
        };
    }
    let own_redis = h >= opts.sizing.redis_host_from_hosts;
    let app = h - 1 - u32::from(own_redis);
    if app < 2 {
        // Three hosts with Redis on its own: one app host for web and sidekiq together.
        let mut hosts = vec![host("db".into(), 0), host("redis".into(), 1)];
        hosts.push(host("app".into(), 2));
        return Layout {
            hosts,
            db: "db".into(),
            redis: "redis".into(),
            web: vec!["app".into()],
            workers: vec!["app".into()],
            spare: vec![],
        };
    }
    // Split the app hosts by what each side needs, as a share of one host's RAM or cores,
    // whichever is tighter.
    let e = &opts.estimates;
    let ram = f64::from(req.ram_gb) * 1024.0 - f64::from(e.os_reserve_mb);
    let need = |mb: f64, cores: f64| (mb / ram.max(1.0)).max(cores / f64::from(req.cores));
    let w = demand.puma_workers;
    let s = demand.streaming;
    let web_need = need(
        f64::from(w * e.puma_worker_mb + s * e.streaming_process_mb),
        f64::from(w) * e.puma_worker_cores + f64::from(s) * e.streaming_process_cores,
    );
    let (mut mb, mut cores) = (0.0, 0.0);
    for g in &demand.groups {
        mb += f64::from(g.instances * e.sidekiq_process_mb);
        let per = if g.queues.contains(&Queue::Ingress) { e.sidekiq_ingress_cores } else { e.sidekiq_process_cores };
        cores += f64::from(g.instances) * per;
    }
    let worker_need = need(mb, cores);
    let share = web_need / (web_need + worker_need).max(f64::MIN_POSITIVE);
    let mut n_web = ((f64::from(app) * share).round() as u32).clamp(1, app - 1);
    let mut n_workers = app - n_web;
    // No more hosts for a side than it has processes to spread.
    n_web = n_web.min(w);
    n_workers = n_workers.min(demand.sidekiq_processes());
    let spare_n = app - n_web - n_workers;

    let mut hosts = vec![host("db".into(), 0)];
    let redis = if own_redis {
        hosts.push(host("redis".into(), 1));
        "redis".to_string()
    } else {
        "db".to_string()
    };
    let mut i = hosts.len() as u32;
    let mut named = |prefix: &str, n: u32, hosts: &mut Vec<Host>| -> Vec<String> {
        (1..=n)
            .map(|k| {
                let name = format!("{prefix}-{k}");
                hosts.push(host(name.clone(), i));
                i += 1;
                name
            })
            .collect()
    };
    let web = named("web", n_web, &mut hosts);
    let workers = named("worker", n_workers, &mut hosts);
    let spare = named("spare", spare_n, &mut hosts);
    Layout { hosts, db: "db".into(), redis, web, workers, spare }
}

/// `n` split over `k` as evenly as possible: the first `n % k` get one more.
fn share(n: u32, k: usize, i: usize) -> u32 {
    let k = k as u32;
    n / k + u32::from((i as u32) < n % k)
}

fn build(req: &Request, opts: &Options, lay: &Layout, d: &Demand) -> Plan {
    let s = &opts.sizing;
    let nginx_host = lay.web[0].clone();
    let proxy = lay.address(&nginx_host);
    let suffix = |stem: &str, list: &[String], i: usize| if list.len() == 1 { stem.to_string() } else { format!("{stem}-{}", i + 1) };

    let mut web = Vec::new();
    let mut streaming = Vec::new();
    for (i, h) in lay.web.iter().enumerate() {
        let n = share(d.puma_workers, lay.web.len(), i);
        if n > 0 {
            web.push(WebUnit {
                name: suffix("web", &lay.web, i),
                host: h.clone(),
                web_concurrency: n,
                max_threads: s.puma_threads,
                db_pool: Some(s.puma_threads),
                pgbouncer: None,
                trusted_proxy_ip: (*h != nginx_host).then(|| proxy.clone()),
                jemalloc: true,
            });
        }
        let n = share(d.streaming, lay.web.len(), i);
        if n > 0 {
            streaming.push(StreamingUnit {
                name: suffix("streaming", &lay.web, i),
                host: h.clone(),
                instances: n,
                db_pool: Some(10),
                pgbouncer: None,
            });
        }
    }

    // Sidekiq: each process to the least loaded worker host, the CPU-hungry groups first.
    let e = &opts.estimates;
    let cores_of = |g: &Group| if g.queues.contains(&Queue::Ingress) { e.sidekiq_ingress_cores } else { e.sidekiq_process_cores };
    let mut order: Vec<&Group> = d.groups.iter().collect();
    order.sort_by(|a, b| cores_of(b).total_cmp(&cores_of(a)));
    let mut load = vec![0.0_f64; lay.workers.len()];
    let mut placed: Vec<(usize, Vec<u32>)> = Vec::new(); // (group index, instances per host)
    for g in order {
        let gi = d.groups.iter().position(|x| std::ptr::eq(x, g)).expect("from the list");
        let mut per_host = vec![0u32; lay.workers.len()];
        for _ in 0..g.instances {
            let (h, _) = load.iter().enumerate().min_by(|a, b| a.1.total_cmp(b.1)).expect("a worker host");
            per_host[h] += 1;
            load[h] += cores_of(g);
        }
        placed.push((gi, per_host));
    }
    placed.sort_by_key(|(gi, _)| *gi);
    let mut sidekiq = Vec::new();
    for (gi, per_host) in placed {
        let g = &d.groups[gi];
        let spread = per_host.iter().filter(|n| **n > 0).count();
        for (h, n) in per_host.into_iter().enumerate() {
            if n == 0 {
                continue;
            }
            sidekiq.push(SidekiqUnit {
                name: if spread == 1 { g.stem.clone() } else { format!("{}-{}", g.stem, h + 1) },
                host: lay.workers[h].clone(),
                queues: g.queues.clone(),
                instances: n,
                concurrency: g.threads,
                db_pool: Some(g.threads),
                pgbouncer: None,
                jemalloc: true,
            });
        }
    }

    let mut plan = Plan {
        name: req.name.clone(),
        mastodon_version: req.mastodon_version,
        expected_active_users: req.users,
        hosts: lay.hosts.clone(),
        web,
        streaming,
        sidekiq,
        pgbouncers: Vec::new(),
        postgres: Postgres {
            host: lay.db.clone(),
            version: s.postgres_version,
            max_connections: 100,
            superuser_reserved_connections: 3,
            reserved_connections: 0,
            disk: req.disk,
            settings: PostgresSettings::default(),
            synchronous_commit_off: false,
        },
        replica: None,
        redis: redis_instances(req, lay, d, s),
        media: if req.users > s.object_storage_from_users || lay.workers.iter().chain(&lay.web).any(|h| *h != lay.web[0]) {
            MediaStorage::S3Compatible
        } else {
            MediaStorage::LocalDisk
        },
        nginx: Some(Nginx { host: nginx_host }),
        prepared_statements: true,
        assumptions: opts.assumptions.clone(),
        estimates: opts.estimates.clone(),
    };
    add_bouncers(&mut plan, lay, s);
    plan.postgres.max_connections = max_connections_for(&mut plan, s);
    plan
}

fn redis_instances(req: &Request, lay: &Layout, d: &Demand, s: &Sizing) -> Vec<RedisInstance> {
    let mut redis = vec![
        RedisInstance {
            name: "redis".into(),
            host: lay.redis.clone(),
            role: RedisRole::Persistent,
            port: 6379,
            persistence: RedisPersistence::Aof,
            maxmemory_mb: 0,
            eviction_policy: EvictionPolicy::Noeviction,
        },
        RedisInstance {
            name: "redis-cache".into(),
            host: lay.redis.clone(),
            role: RedisRole::Cache,
            port: 6380,
            persistence: RedisPersistence::None,
            maxmemory_mb: d.cache_mb,
            eviction_policy: EvictionPolicy::AllkeysLru,
        },
    ];
    if req.users >= s.sidekiq_redis_from_users {
        redis.push(RedisInstance {
            name: "redis-sidekiq".into(),
            host: lay.redis.clone(),
            role: RedisRole::SidekiqOnly,
            port: 6381,
            persistence: RedisPersistence::Aof,
            maxmemory_mb: 0,
            eviction_policy: EvictionPolicy::Noeviction,
        });
    }
    redis
}

/// The app connections each host opens.
fn clients_by_host(plan: &Plan) -> Vec<(String, u32)> {
    let budget = ConnectionBudget::compute(plan);
    let mut out: Vec<(String, u32)> = Vec::new();
    for l in &budget.lines {
        match out.iter_mut().find(|(h, _)| *h == l.host) {
            Some((_, n)) => *n += l.connections,
            None => out.push((l.host.clone(), l.connections)),
        }
    }
    out
}

/// One PgBouncer per host with app units once the pools pass `bouncer_from_connections`, never
/// on the database host unless it is the only one.
fn add_bouncers(plan: &mut Plan, lay: &Layout, s: &Sizing) {
    let clients = clients_by_host(plan);
    let total: u32 = clients.iter().map(|(_, n)| n).sum();
    if total <= s.bouncer_from_connections {
        return;
    }
    let single = clients.len() == 1;
    for (host, n) in clients {
        if host == lay.db && plan.hosts.len() > 1 {
            continue;
        }
        let name = if single { "pgbouncer".to_string() } else { format!("pgbouncer-{host}") };
        let pool = n.div_ceil(s.bouncer_clients_per_server_connection.max(1)).max(s.bouncer_min_pool).min(n);
        let max_client_conn = (round_up(u64::from(n) * 5 / 4, 50) as u32).max(100);
        let limit_nofile = (round_up(2 * u64::from(max_client_conn + pool), 1024) as u32).max(4096);
        plan.pgbouncers.push(PgBouncer {
            name: name.clone(),
            host: host.clone(),
            pool_mode: PoolMode::Transaction,
            max_client_conn,
            default_pool_size: pool,
            reserve_pool_size: 0,
            max_db_connections: 0,
            databases: 1,
            limit_nofile,
            listen_port: 6432,
        });
        for w in plan.web.iter_mut().filter(|u| u.host == host) {
            w.pgbouncer = Some(name.clone());
        }
        for u in plan.streaming.iter_mut().filter(|u| u.host == host) {
            u.pgbouncer = Some(name.clone());
        }
        for u in plan.sidekiq.iter_mut().filter(|u| u.host == host) {
            u.pgbouncer = Some(name.clone());
        }
    }
    if !plan.pgbouncers.is_empty() {
        plan.prepared_statements = false;
    }
}

/// What Postgres sees at most (direct pools plus every bouncer's server pool), over the target
/// utilisation and with the loose connections, plus the reserved slots. When that passes the
/// ceiling or 512, bouncers' pools shrink first.
fn max_connections_for(plan: &mut Plan, s: &Sizing) -> u32 {
    let reserved = plan.postgres.superuser_reserved_connections;
    let need = |plan: &Plan| {
        let budget = ConnectionBudget::compute(plan);
        let server: u32 = budget.direct + budget.bouncers.iter().map(|b| b.server_pool).sum::<u32>();
        let by_share = (u64::from(server) * 100).div_ceil(u64::from(s.target_utilisation_percent.clamp(1, 100))) as u32;
        by_share.max(server + s.loose_connections) + reserved
    };
    let cores = plan.host(&plan.postgres.host).map_or(1, |h| h.cores);
    let e = &plan.estimates;
    let ceiling = max_connections_ceiling(cores, e.parallel_io_limit, e.session_busy_ratio, e.avg_parallelism);
    // Strictly below the ceiling, and the compendium's "above 512, don't".
    let cap = ((ceiling * (1.0 - 1e-12)).ceil() as u32).saturating_sub(1).min(512);
    let mut m = need(plan);
    while m > cap {
        let Some(b) = plan.pgbouncers.iter_mut().filter(|b| b.default_pool_size > 5).max_by_key(|b| b.default_pool_size) else {
            break;
        };
        b.default_pool_size -= 1;
        m = need(plan);
    }
    m
}

/// Fit the demand to the hosts; see the module comment.
pub fn generate(req: &Request, opts: &Options) -> Result<Generated, String> {
    if req.users == 0 {
        return Err("expected active users must be at least 1".into());
    }
    if !(1..=1000).contains(&req.hosts) {
        return Err("hosts must be from 1 to 1000".into());
    }
    if !(1..=65_536).contains(&req.ram_gb) {
        return Err("RAM must be from 1 to 65536 GB".into());
    }
    if !(1..=1024).contains(&req.cores) {
        return Err("cores must be from 1 to 1024".into());
    }
    crate::validate::check_name("/name", &req.name).map_err(|e| e.message)?;
    opts.sizing.check()?;
    let s = &opts.sizing;
    let ideal = Demand::from_users(req.users, req.mastodon_version, s, &opts.assumptions);
    let lay = layout(req, &ideal, opts);

    // Scale down only what sits on a host that does not fit: web and streaming, sidekiq, the
    // cache's maxmemory, or (on Postgres's host, whose connections come from all of them) web
    // and sidekiq both.
    let mut f = Factors { web: 1.0, workers: 1.0, cache: 1.0 };
    let mut demand = ideal.clone();
    let mut plan = build(req, opts, &lay, &demand);
    let mut ok;
    loop {
        let over = hosts_over(&plan);
        ok = over.is_empty();
        if ok {
            break;
        }
        let before = demand.clone();
        let on = |host: &String| over.contains(host);
        let mut web = plan.web.iter().map(|u| &u.host).chain(plan.streaming.iter().map(|u| &u.host)).any(on);
        let mut workers = plan.sidekiq.iter().map(|u| &u.host).any(on);
        let cache = plan.redis.iter().any(|r| r.role == RedisRole::Cache && on(&r.host));
        if on(&plan.postgres.host) {
            web = true;
            workers = true;
        }
        let mut changed = false;
        if web && !demand.web_at_minimum() {
            f.web *= 0.9;
            changed = true;
        }
        if workers && !demand.workers_at_minimum() {
            f.workers *= 0.9;
            changed = true;
        }
        if cache && demand.cache_mb > s.cache_min_mb {
            f.cache *= 0.9;
            changed = true;
        }
        if !changed {
            // What is over cannot shrink further (the feeds' Redis, the system, Postgres's
            // shared_buffers): the warnings below say so.
            break;
        }
        demand = ideal.scaled(&f, s);
        if demand != before {
            plan = build(req, opts, &lay, &demand);
        }
    }
    plan.validate().map_err(|e| format!("the generated plan is invalid, please report it: {e}"))?;

    let mut warnings = Vec::new();
    if demand != ideal {
        let mut cut = Vec::new();
        if demand.puma_workers != ideal.puma_workers || demand.streaming != ideal.streaming {
            cut.push(format!(
                "Puma workers {} of {}, streaming processes {} of {}",
                demand.puma_workers, ideal.puma_workers, demand.streaming, ideal.streaming
            ));
        }
        if demand.sidekiq_processes() != ideal.sidekiq_processes() {
            cut.push(format!("sidekiq processes {} of {}", demand.sidekiq_processes(), ideal.sidekiq_processes()));
        }
        if demand.cache_mb != ideal.cache_mb {
            cut.push(format!("cache maxmemory {} of {} MB", demand.cache_mb, ideal.cache_mb));
        }
        warnings.push(format!(
            "{} {} of {} cores and {} GB cannot carry the estimated load of {} users: scaled down ({}); add hosts or larger ones",
            req.hosts,
            if req.hosts == 1 { "host" } else { "hosts" },
            req.cores,
            req.ram_gb,
            req.users,
            cut.join("; ")
        ));
    }
    if !ok {
        warnings.push(
            "even at its smallest the plan does not fit the hosts: see the report's host ledger (mastoplan check)".to_string(),
        );
    }
    if !lay.spare.is_empty() {
        warnings.push(format!("{} not needed at this size and left free: {}", lay.spare.len(), lay.spare.join(", ")));
    }
    let t = Resources::compute(&plan, &ConnectionBudget::compute(&plan)).postgres;
    if !t.ceiling.within {
        warnings.push(format!(
            "max_connections {} is not below the ceiling for the database host's {} cores ({}); a larger database host or pooling would help",
            plan.postgres.max_connections,
            t.cores,
            t.ceiling.derivation()
        ));
    }
    if req.users > 128_000 {
        warnings.push(format!(
            "{} users is past the compendium's data point (read replicas unneeded at 128k actives): watch the database host's load and consider a replica",
            req.users
        ));
    }

    let assumptions = describe(req, opts, &lay, &ideal, &plan);
    Ok(Generated { plan, assumptions, warnings })
}

/// Hosts whose RAM or cores the plan overcommits.
fn hosts_over(plan: &Plan) -> Vec<String> {
    let r = Resources::compute(plan, &ConnectionBudget::compute(plan));
    r.hosts.into_iter().filter(|h| h.ram_overcommitted() || h.cores_oversubscribed()).map(|h| h.host).collect()
}

fn describe(req: &Request, opts: &Options, lay: &Layout, ideal: &Demand, plan: &Plan) -> Vec<Assumption> {
    let s = &opts.sizing;
    let a = &opts.assumptions;
    let budget = ConnectionBudget::compute(plan);
    let connections = (f64::from(req.users) * a.streaming_connections_per_user).ceil();
    let mut out = vec![
        Assumption::new("layout", lay.describe(), "Postgres alone from 2 hosts, Redis alone from redis_host_from_hosts, the rest split between web and sidekiq by need"),
        Assumption::new(
            "streaming_connections_per_user",
            a.streaming_connections_per_user,
            "Mastodon docs: ~800-1,200 concurrent streaming connections for 10-20k monthly actives (1,200 / 15,000)",
        ),
        Assumption::new("streaming_connections_per_process", a.streaming_connections_per_process, "assumption: what one Node streaming process serves"),
        Assumption::new(
            "streaming_processes",
            ideal.streaming,
            format!("{} users x {} = {connections} concurrent connections / {} per process", req.users, a.streaming_connections_per_user, a.streaming_connections_per_process),
        ),
        Assumption::new(
            "sidekiq_layout",
            if ideal.groups.len() == 1 { "one process serving every queue" } else { "one queue per template unit" },
            format!("one queue per unit from {} users (the compendium); exactly one scheduler process", s.queue_per_unit_from_users),
        ),
        Assumption::new(
            "pgbouncer",
            if plan.pgbouncers.is_empty() { "none".to_string() } else { format!("{} in transaction mode, PREPARED_STATEMENTS=false", plan.pgbouncers.len()) },
            format!(
                "the app's pools open {} connections; PgBouncer past {} (the compendium), one per app host, not on the database host",
                budget.clients, s.bouncer_from_connections
            ),
        ),
        Assumption::new(
            "max_connections",
            plan.postgres.max_connections,
            format!(
                "Postgres sees {} at most, kept under {}% with at least {} loose, plus {} reserved; below CYBERTEC's ceiling and 512",
                budget.direct + budget.bouncers.iter().map(|b| b.server_pool).sum::<u32>(),
                s.target_utilisation_percent,
                s.loose_connections,
                plan.postgres.superuser_reserved_connections
            ),
        ),
        Assumption::new(
            "redis",
            plan.redis.iter().map(|r| r.name.as_str()).collect::<Vec<_>>().join(", "),
            "the compendium: cache and persistent data in separate instances, the persistent one with AOF and noeviction, the cache with maxmemory, allkeys-lru and no persistence",
        ),
        Assumption::new(
            "media",
            match plan.media {
                MediaStorage::S3Compatible => "s3-compatible",
                MediaStorage::LocalDisk => "local-disk",
                MediaStorage::Nfs => "nfs",
            },
            format!("object storage beyond ~{} users or when app units span hosts (the compendium; never NFS)", s.object_storage_from_users),
        ),
        Assumption::new("read_replica", "none", "the compendium: read replicas unneeded even at 128k active users"),
        Assumption::new("postgres_settings", "recommended", "PGTune for a web application on the database host (see the report's postgres_settings)"),
    ];
    out.extend(s.describe());
    out.extend(opts.estimates.describe().into_iter().map(|mut x| {
        x.name = format!("estimates.{}", x.name);
        x
    }));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Severity;
    use crate::report::evaluate;

    fn generated(users: u32, hosts: u32, ram_gb: u32, cores: u32) -> Generated {
        generate(&Request::new(users, hosts, ram_gb, cores), &Options::default()).unwrap()
    }

    #[track_caller]
    fn assert_no_errors(g: &Generated) {
        let report = evaluate(&g.plan);
        let errors: Vec<String> = report
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .map(|f| format!("{} {}: {}", f.id, f.name, f.message))
            .collect();
        assert!(errors.is_empty(), "{}:\n{}\n{}", g.plan.name, errors.join("\n"), g.plan.to_json());
        // What a plan file would carry survives the trip through JSON.
        assert_eq!(Plan::from_json(&g.plan.to_json()).unwrap(), g.plan);
    }

    #[track_caller]
    fn warnings(g: &Generated) -> Vec<String> {
        evaluate(&g.plan)
            .findings
            .into_iter()
            .filter(|f| f.severity == Severity::Warning)
            .map(|f| format!("{} {}: {}", f.id, f.name, f.message))
            .collect()
    }

    #[test]
    fn plan_for_500_users_on_one_host() {
        let g = generated(500, 1, 8, 4);
        assert_no_errors(&g);
        assert!(warnings(&g).is_empty(), "{:?}", warnings(&g));
        assert!(g.warnings.is_empty(), "{:?}", g.warnings);
        let p = &g.plan;
        assert_eq!(p.sidekiq.len(), 1, "one process serves every queue on a small server");
        assert_eq!(p.sidekiq[0].queues.len(), 7);
        assert!(p.pgbouncers.is_empty());
        assert_eq!(p.media, MediaStorage::LocalDisk);
        assert_eq!(p.redis.len(), 2);
        // 10 web + 10 streaming + 10 sidekiq = 30; 30 + 15 loose + 3 reserved.
        assert_eq!(p.postgres.max_connections, 48);
    }

    #[test]
    fn plan_for_5k_users_on_two_hosts() {
        let g = generated(5_000, 2, 16, 8);
        assert_no_errors(&g);
        assert!(warnings(&g).is_empty(), "{:?}", warnings(&g));
        let p = &g.plan;
        assert_eq!(p.postgres.host, "db");
        assert!(p.web.iter().all(|u| u.host == "app"));
        assert!(p.sidekiq.iter().all(|u| u.host == "app"));
        assert!(p.redis.iter().all(|r| r.host == "db"));
        // One queue per unit, exactly one scheduler.
        assert!(p.sidekiq.iter().all(|s| s.queues.len() == 1));
        let scheduler: u32 = p.sidekiq.iter().filter(|s| s.queues.contains(&Queue::Scheduler)).map(|s| s.instances).sum();
        assert_eq!(scheduler, 1);
    }

    #[test]
    fn plan_for_50k_users_on_six_hosts() {
        let g = generated(50_000, 6, 32, 8);
        assert_no_errors(&g);
        assert!(warnings(&g).is_empty(), "{:?}", warnings(&g));
        let p = &g.plan;
        assert_eq!(p.media, MediaStorage::S3Compatible);
        assert_eq!(p.redis.len(), 3, "sidekiq gets its own Redis at 50k");
        assert!(p.redis.iter().all(|r| r.host == "redis"));
        assert!(!p.pgbouncers.is_empty());
        assert!(!p.prepared_statements);
        assert!(p.pgbouncers.iter().all(|b| b.host != "db" && b.pool_mode == PoolMode::Transaction));
        // Every web unit off the nginx host trusts the proxy.
        let nginx = &p.nginx.as_ref().unwrap().host;
        assert!(p.web.iter().all(|w| w.host == *nginx || w.trusted_proxy_ip.is_some()));
    }

    #[test]
    fn plan_for_250k_users_on_twelve_hosts() {
        let g = generated(250_000, 12, 64, 16);
        assert_no_errors(&g);
        assert!(warnings(&g).is_empty(), "{:?}", warnings(&g));
        let p = &g.plan;
        assert!(p.postgres.max_connections <= 512);
        assert!(p.sidekiq.iter().all(|s| s.concurrency <= 25));
        let streaming: u32 = p.streaming.iter().map(|s| s.instances).sum();
        assert_eq!(streaming, 20, "250k x 0.08 = 20,000 connections at 1,000 a process");
        // Past the compendium's 128k data point: said so.
        assert!(g.warnings.iter().any(|w| w.contains("128k")), "{:?}", g.warnings);
    }

    #[test]
    fn too_few_hosts_still_give_a_valid_plan_that_says_why() {
        let g = generated(250_000, 2, 64, 16);
        assert_no_errors(&g);
        assert!(g.warnings.iter().any(|w| w.contains("cannot carry the estimated load")), "{:?}", g.warnings);
        let r = evaluate(&g.plan);
        assert!(r.hosts.iter().all(|h| !h.ram_overcommitted() && !h.cores_oversubscribed()));
        // The streaming shortfall shows up as a finding too, where the rules check it.
        let _ = warnings(&g);
    }

    #[test]
    fn a_tiny_host_gets_the_smallest_plan_and_a_warning() {
        let g = generated(500, 1, 2, 1);
        assert!(g.warnings.iter().any(|w| w.contains("does not fit")), "{:?}", g.warnings);
        g.plan.validate().unwrap();
    }

    #[test]
    fn spare_hosts_are_left_free_and_named() {
        let g = generated(500, 8, 16, 8);
        assert_no_errors(&g);
        assert!(g.warnings.iter().any(|w| w.contains("left free")), "{:?}", g.warnings);
    }

    #[test]
    fn every_assumption_is_listed_with_a_source() {
        let g = generated(50_000, 6, 32, 8);
        for a in &g.assumptions {
            assert!(!a.value.is_empty() && !a.source.is_empty(), "{a:?}");
        }
        for name in ["layout", "max_connections", "busy_queue_threads", "estimates.sidekiq_process_mb", "streaming_connections_per_user"] {
            assert!(g.assumptions.iter().any(|a| a.name == name), "{name} missing");
        }
    }

    #[test]
    fn assumptions_can_be_changed_by_name() {
        let mut opts = Options::default();
        opts.set("busy_queue_threads", "20").unwrap();
        opts.set("estimates.sidekiq_process_mb", "600").unwrap();
        opts.set("streaming_connections_per_process", "500").unwrap();
        assert!(opts.set("nonsense", "1").unwrap_err().contains("known:"));
        assert!(opts.set("busy_queue_threads", "many").is_err());
        assert!(opts.set("puma_threads", "0").is_err(), "a plan needs a thread per worker");
        assert_eq!(opts.sizing.puma_threads, 5, "a refused value changes nothing");
        let g = generate(&Request::new(50_000, 6, 32, 8), &opts).unwrap();
        let default = g.plan.sidekiq.iter().find(|s| s.queues == vec![Queue::Default]).unwrap();
        assert_eq!(default.concurrency, 20);
        assert_eq!(g.plan.estimates.sidekiq_process_mb, 600);
        let streaming: u32 = g.plan.streaming.iter().map(|s| s.instances).sum();
        assert_eq!(streaming, 8, "4,000 connections at 500 a process");
    }

    #[test]
    fn mastodon_4_3_gets_no_fasp_queue() {
        let mut req = Request::new(5_000, 2, 16, 8);
        req.mastodon_version = MastodonVersion::V4_3;
        let g = generate(&req, &Options::default()).unwrap();
        assert!(g.plan.sidekiq.iter().all(|s| !s.queues.contains(&Queue::Fasp)));
        assert_no_errors(&g);
    }

    #[test]
    fn nonsense_requests_are_refused() {
        assert!(generate(&Request::new(0, 1, 8, 4), &Options::default()).is_err());
        assert!(generate(&Request::new(500, 0, 8, 4), &Options::default()).is_err());
        let mut req = Request::new(500, 1, 8, 4);
        req.name = "a b".into();
        assert!(generate(&req, &Options::default()).is_err());
    }
}

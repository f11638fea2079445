//! Link format v1. FROZEN once published: links in the wild decode with these types forever.
//! A change to what links carry is a new module (`v2.rs`) and a new version tag; this one
//! then only decodes. Golden links in `tests/links/v1/` fail when this file drifts.
//!
//! Layout: postcard (varints, length-prefixed strings and sequences) of `PlanV1`. Enums are
//! written as explicit small numbers rather than serde enum indices, so reordering a Rust enum
//! can never change a link. Hosts and bouncers are referred to by position. A name that equals
//! the one mastoplan would give the unit anyway is written as an empty string.

use serde::{Deserialize, Serialize};

use super::LinkError;
use crate::plan::*;

#[derive(Serialize, Deserialize)]
struct PlanV1 {
    name: String,
    mastodon_version: u8,
    users: u32,
    hosts: Vec<HostV1>,
    web: Vec<WebV1>,
    streaming: Vec<StreamingV1>,
    sidekiq: Vec<SidekiqV1>,
    bouncers: Vec<BouncerV1>,
    postgres: PostgresV1,
    replica: Option<ReplicaV1>,
    redis: Vec<RedisV1>,
    media: u8,
    nginx: Option<u32>,
    /// bit 0: PREPARED_STATEMENTS.
    flags: u8,
    /// None when both are at their defaults.
    assumptions: Option<(f64, u32)>,
    /// Sections added after v1 was published, each under its own tag, so that adding an
    /// optional part of the plan needs no new version: links without a tag give that part
    /// its defaults. A tag this build does not know means a newer planner made the link.
    extensions: Vec<(u32, Vec<u8>)>,
}

#[derive(Serialize, Deserialize)]
struct HostV1 {
    name: String,
    cores: u32,
    ram_gb: u32,
    address: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct WebV1 {
    name: String,
    host: u32,
    web_concurrency: u32,
    max_threads: u32,
    db_pool: Option<u32>,
    bouncer: Option<u32>,
    trusted_proxy_ip: Option<String>,
    /// bit 0: jemalloc.
    flags: u8,
}

#[derive(Serialize, Deserialize)]
struct StreamingV1 {
    name: String,
    host: u32,
    instances: u32,
    db_pool: Option<u32>,
    bouncer: Option<u32>,
}

#[derive(Serialize, Deserialize)]
struct SidekiqV1 {
    name: String,
    host: u32,
    /// Queues in order, three bits each from the lowest, queue code + 1; 0 ends the list.
    queues: u32,
    instances: u32,
    concurrency: u32,
    db_pool: Option<u32>,
    bouncer: Option<u32>,
    /// bit 0: jemalloc.
    flags: u8,
}

#[derive(Serialize, Deserialize)]
struct BouncerV1 {
    name: String,
    host: u32,
    pool_mode: u8,
    max_client_conn: u32,
    default_pool_size: u32,
    reserve_pool_size: u32,
    max_db_connections: u32,
    databases: u32,
    limit_nofile: u32,
    listen_port: u16,
}

#[derive(Serialize, Deserialize)]
struct PostgresV1 {
    host: u32,
    version: u32,
    max_connections: u32,
    superuser_reserved_connections: u32,
    reserved_connections: u32,
    disk: u8,
    shared_buffers_mb: Option<u32>,
    work_mem_mb: Option<u32>,
    effective_cache_size_mb: Option<u32>,
    maintenance_work_mem_mb: Option<u32>,
    /// bit 0: synchronous_commit off.
    flags: u8,
}

#[derive(Serialize, Deserialize)]
struct ReplicaV1 {
    host: u32,
    max_connections: u32,
    superuser_reserved_connections: u32,
}

#[derive(Serialize, Deserialize)]
struct RedisV1 {
    name: String,
    host: u32,
    role: u8,
    port: u16,
    persistence: u8,
    maxmemory_mb: u32,
    eviction_policy: u8,
}

// Codes for enums. Append only; never renumber.
const VERSIONS: [MastodonVersion; 3] = [MastodonVersion::V4_2, MastodonVersion::V4_3, MastodonVersion::V4_4];
const QUEUES: [Queue; 7] = [
    Queue::Default,
    Queue::Push,
    Queue::Ingress,
    Queue::Mailers,
    Queue::Pull,
    Queue::Scheduler,
    Queue::Fasp,
];
const POOL_MODES: [PoolMode; 3] = [PoolMode::Session, PoolMode::Transaction, PoolMode::Statement];
const DISKS: [DiskKind; 4] = [DiskKind::Ssd, DiskKind::Hdd, DiskKind::Network, DiskKind::Nvme];
const REDIS_ROLES: [RedisRole; 3] = [RedisRole::Persistent, RedisRole::Cache, RedisRole::SidekiqOnly];
const PERSISTENCES: [RedisPersistence; 4] =
    [RedisPersistence::None, RedisPersistence::Rdb, RedisPersistence::Aof, RedisPersistence::AofRdb];
const EVICTIONS: [EvictionPolicy; 8] = [
    EvictionPolicy::Noeviction,
    EvictionPolicy::AllkeysLru,
    EvictionPolicy::AllkeysLfu,
    EvictionPolicy::AllkeysRandom,
    EvictionPolicy::VolatileLru,
    EvictionPolicy::VolatileLfu,
    EvictionPolicy::VolatileRandom,
    EvictionPolicy::VolatileTtl,
];
const MEDIA: [MediaStorage; 3] = [MediaStorage::LocalDisk, MediaStorage::Nfs, MediaStorage::S3Compatible];

fn code<T: PartialEq>(table: &[T], value: &T) -> u8 {
    table.iter().position(|v| v == value).expect("every variant has a code") as u8
}

fn from_code<T: Copy>(table: &[T], code: u8, what: &str) -> Result<T, LinkError> {
    table.get(code as usize).copied().ok_or_else(|| LinkError::Corrupt(format!("unknown {what} {code}")))
}

// Names mastoplan gives units by default; a name equal to these travels as "".
fn default_web_name(_: &WebUnit) -> String {
    "web".into()
}
fn default_streaming_name(_: &StreamingUnit) -> String {
    "streaming".into()
}
fn default_sidekiq_name(queues: &[Queue]) -> String {
    let mut name = String::from("sidekiq");
    for q in queues {
        name.push('-');
        name.push_str(q.name());
    }
    name
}
fn default_bouncer_name(host: &str) -> String {
    format!("pgbouncer-{host}")
}
fn default_redis_name(role: RedisRole) -> String {
    match role {
        RedisRole::Persistent => "redis".into(),
        RedisRole::Cache => "redis-cache".into(),
        RedisRole::SidekiqOnly => "redis-sidekiq".into(),
    }
}

fn elide(name: &str, default: String) -> String {
    if name == default { String::new() } else { name.to_string() }
}

fn restore(name: String, default: impl FnOnce() -> String) -> String {
    if name.is_empty() { default() } else { name }
}

fn pack_queues(queues: &[Queue]) -> u32 {
    queues.iter().rev().fold(0, |acc, q| (acc << 3) | (code(&QUEUES, q) as u32 + 1))
}

fn unpack_queues(mut packed: u32) -> Result<Vec<Queue>, LinkError> {
    let mut queues = Vec::new();
    while packed != 0 {
        let digit = (packed & 7) as u8;
        if digit == 0 || queues.len() == QUEUES.len() {
            return Err(LinkError::Corrupt("bad queue list".into()));
        }
        queues.push(from_code(&QUEUES, digit - 1, "queue")?);
        packed >>= 3;
    }
    Ok(queues)
}

/// Extension tags. Append only; never reuse a number.
///
/// Both sections are rarely touched and have many optional fields, so they travel as JSON
/// holding only what differs from the defaults: self-describing, and a field added later
/// simply takes its default when an older link lacks it.
const EXT_POSTGRES_SETTINGS: u32 = 1;
const EXT_ESTIMATES: u32 = 2;

fn extensions(plan: &Plan) -> Vec<(u32, Vec<u8>)> {
    let mut out = Vec::new();
    // The four settings v1 carries itself are left out of the section.
    let settings = PostgresSettings {
        shared_buffers_mb: None,
        work_mem_mb: None,
        effective_cache_size_mb: None,
        maintenance_work_mem_mb: None,
        ..plan.postgres.settings.clone()
    };
    if settings != PostgresSettings::default() {
        out.push((EXT_POSTGRES_SETTINGS, serde_json::to_vec(&settings).expect("settings serialise")));
    }
    if let Some(diff) = differing_fields(&plan.estimates, &crate::estimates::Estimates::default()) {
        out.push((EXT_ESTIMATES, diff));
    }
    out
}

/// JSON of the fields of `value` that differ from `default`, or none when all are equal.
fn differing_fields<T: Serialize>(value: &T, default: &T) -> Option<Vec<u8>> {
    let (serde_json::Value::Object(mut value), serde_json::Value::Object(default)) =
        (serde_json::to_value(value).ok()?, serde_json::to_value(default).ok()?)
    else {
        return None;
    };
    value.retain(|k, v| default.get(k) != Some(v));
    (!value.is_empty()).then(|| serde_json::to_vec(&value).expect("a JSON map serialises"))
}

pub(super) fn to_bytes(plan: &Plan) -> Vec<u8> {
    let host_index = |name: &str| plan.hosts.iter().position(|h| h.name == name).unwrap_or(0) as u32;
    let bouncer_index = |name: &Option<String>| {
        name.as_ref().map(|n| plan.pgbouncers.iter().position(|b| &b.name == n).unwrap_or(0) as u32)
    };
    let assumptions = if plan.assumptions == Assumptions::default() {
        None
    } else {
        Some((plan.assumptions.streaming_connections_per_user, plan.assumptions.streaming_connections_per_process))
    };
    let pg = &plan.postgres;
    let wire = PlanV1 {
        name: plan.name.clone(),
        mastodon_version: code(&VERSIONS, &plan.mastodon_version),
        users: plan.expected_active_users,
        hosts: plan
            .hosts
            .iter()
            .map(|h| HostV1 { name: h.name.clone(), cores: h.cores, ram_gb: h.ram_gb, address: h.address.clone() })
            .collect(),
        web: plan
            .web
            .iter()
            .map(|w| WebV1 {
                name: elide(&w.name, default_web_name(w)),
                host: host_index(&w.host),
                web_concurrency: w.web_concurrency,
                max_threads: w.max_threads,
                db_pool: w.db_pool,
                bouncer: bouncer_index(&w.pgbouncer),
                trusted_proxy_ip: w.trusted_proxy_ip.clone(),
                flags: w.jemalloc as u8,
            })
            .collect(),
        streaming: plan
            .streaming
            .iter()
            .map(|s| StreamingV1 {
                name: elide(&s.name, default_streaming_name(s)),
                host: host_index(&s.host),
                instances: s.instances,
                db_pool: s.db_pool,
                bouncer: bouncer_index(&s.pgbouncer),
            })
            .collect(),
        sidekiq: plan
            .sidekiq
            .iter()
            .map(|s| SidekiqV1 {
                name: elide(&s.name, default_sidekiq_name(&s.queues)),
                host: host_index(&s.host),
                queues: pack_queues(&s.queues),
                instances: s.instances,
                concurrency: s.concurrency,
                db_pool: s.db_pool,
                bouncer: bouncer_index(&s.pgbouncer),
                flags: s.jemalloc as u8,
            })
            .collect(),
        bouncers: plan
            .pgbouncers
            .iter()
            .map(|b| BouncerV1 {
                name: elide(&b.name, default_bouncer_name(&b.host)),
                host: host_index(&b.host),
                pool_mode: code(&POOL_MODES, &b.pool_mode),
                max_client_conn: b.max_client_conn,
                default_pool_size: b.default_pool_size,
                reserve_pool_size: b.reserve_pool_size,
                max_db_connections: b.max_db_connections,
                databases: b.databases,
                limit_nofile: b.limit_nofile,
                listen_port: b.listen_port,
            })
            .collect(),
        postgres: PostgresV1 {
            host: host_index(&pg.host),
            version: pg.version,
            max_connections: pg.max_connections,
            superuser_reserved_connections: pg.superuser_reserved_connections,
            reserved_connections: pg.reserved_connections,
            disk: code(&DISKS, &pg.disk),
            shared_buffers_mb: pg.settings.shared_buffers_mb,
            work_mem_mb: pg.settings.work_mem_mb,
            effective_cache_size_mb: pg.settings.effective_cache_size_mb,
            maintenance_work_mem_mb: pg.settings.maintenance_work_mem_mb,
            flags: pg.synchronous_commit_off as u8,
        },
        replica: plan.replica.as_ref().map(|r| ReplicaV1 {
            host: host_index(&r.host),
            max_connections: r.max_connections,
            superuser_reserved_connections: r.superuser_reserved_connections,
        }),
        redis: plan
            .redis
            .iter()
            .map(|r| RedisV1 {
                name: elide(&r.name, default_redis_name(r.role)),
                host: host_index(&r.host),
                role: code(&REDIS_ROLES, &r.role),
                port: r.port,
                persistence: code(&PERSISTENCES, &r.persistence),
                maxmemory_mb: r.maxmemory_mb,
                eviction_policy: code(&EVICTIONS, &r.eviction_policy),
            })
            .collect(),
        media: code(&MEDIA, &plan.media),
        nginx: plan.nginx.as_ref().map(|n| host_index(&n.host)),
        flags: plan.prepared_statements as u8,
        assumptions,
        extensions: extensions(plan),
    };
    postcard::to_allocvec(&wire).expect("postcard writes any value to a Vec")
}

pub(super) fn from_bytes(bytes: &[u8]) -> Result<Plan, LinkError> {
    let (wire, rest): (PlanV1, &[u8]) =
        postcard::take_from_bytes(bytes).map_err(|e| LinkError::Corrupt(format!("{e}")))?;
    if !rest.is_empty() {
        return Err(LinkError::Corrupt("trailing data".into()));
    }
    let mut settings = PostgresSettings::default();
    let mut estimates = crate::estimates::Estimates::default();
    for (tag, data) in &wire.extensions {
        let bad = |what: &str| LinkError::Corrupt(format!("unreadable {what}"));
        match *tag {
            EXT_POSTGRES_SETTINGS => settings = serde_json::from_slice(data).map_err(|_| bad("Postgres settings"))?,
            EXT_ESTIMATES => estimates = serde_json::from_slice(data).map_err(|_| bad("estimates"))?,
            other => return Err(LinkError::UnknownVersion(format!("v1 with section {other}"))),
        }
    }
    let host_names: Vec<String> = wire.hosts.iter().map(|h| h.name.clone()).collect();
    let host = |i: u32| -> Result<String, LinkError> {
        host_names.get(i as usize).cloned().ok_or_else(|| LinkError::Corrupt(format!("no host number {i}")))
    };
    let mut bouncers = Vec::with_capacity(wire.bouncers.len());
    for b in wire.bouncers {
        let host = host(b.host)?;
        bouncers.push(PgBouncer {
            name: restore(b.name, || default_bouncer_name(&host)),
            host,
            pool_mode: from_code(&POOL_MODES, b.pool_mode, "pool mode")?,
            max_client_conn: b.max_client_conn,
            default_pool_size: b.default_pool_size,
            reserve_pool_size: b.reserve_pool_size,
            max_db_connections: b.max_db_connections,
            databases: b.databases,
            limit_nofile: b.limit_nofile,
            listen_port: b.listen_port,
        });
    }
    let bouncer = |i: Option<u32>| -> Result<Option<String>, LinkError> {
        i.map(|i| {
            bouncers.get(i as usize).map(|b| b.name.clone()).ok_or_else(|| LinkError::Corrupt(format!("no PgBouncer number {i}")))
        })
        .transpose()
    };

    let mut web = Vec::with_capacity(wire.web.len());
    for w in wire.web {
        let mut unit = WebUnit {
            name: w.name,
            host: host(w.host)?,
            web_concurrency: w.web_concurrency,
            max_threads: w.max_threads,
            db_pool: w.db_pool,
            pgbouncer: bouncer(w.bouncer)?,
            trusted_proxy_ip: w.trusted_proxy_ip,
            jemalloc: w.flags & 1 != 0,
        };
        unit.name = restore(std::mem::take(&mut unit.name), || default_web_name(&unit));
        web.push(unit);
    }
    let mut streaming = Vec::with_capacity(wire.streaming.len());
    for s in wire.streaming {
        let mut unit = StreamingUnit {
            name: s.name,
            host: host(s.host)?,
            instances: s.instances,
            db_pool: s.db_pool,
            pgbouncer: bouncer(s.bouncer)?,
        };
        unit.name = restore(std::mem::take(&mut unit.name), || default_streaming_name(&unit));
        streaming.push(unit);
    }
    let mut sidekiq = Vec::with_capacity(wire.sidekiq.len());
    for s in wire.sidekiq {
        let queues = unpack_queues(s.queues)?;
        sidekiq.push(SidekiqUnit {
            name: restore(s.name, || default_sidekiq_name(&queues)),
            host: host(s.host)?,
            queues,
            instances: s.instances,
            concurrency: s.concurrency,
            db_pool: s.db_pool,
            pgbouncer: bouncer(s.bouncer)?,
            jemalloc: s.flags & 1 != 0,
        });
    }
    let p = wire.postgres;
    let postgres = Postgres {
        host: host(p.host)?,
        version: p.version,
        max_connections: p.max_connections,
        superuser_reserved_connections: p.superuser_reserved_connections,
        reserved_connections: p.reserved_connections,
        disk: from_code(&DISKS, p.disk, "disk kind")?,
        settings: PostgresSettings {
            shared_buffers_mb: p.shared_buffers_mb,
            work_mem_mb: p.work_mem_mb,
            effective_cache_size_mb: p.effective_cache_size_mb,
            maintenance_work_mem_mb: p.maintenance_work_mem_mb,
            ..settings
        },
        synchronous_commit_off: p.flags & 1 != 0,
    };
    let replica = match wire.replica {
        Some(r) => Some(Replica {
            host: host(r.host)?,
            max_connections: r.max_connections,
            superuser_reserved_connections: r.superuser_reserved_connections,
        }),
        None => None,
    };
    let mut redis = Vec::with_capacity(wire.redis.len());
    for r in wire.redis {
        let role = from_code(&REDIS_ROLES, r.role, "Redis role")?;
        redis.push(RedisInstance {
            name: restore(r.name, || default_redis_name(role)),
            host: host(r.host)?,
            role,
            port: r.port,
            persistence: from_code(&PERSISTENCES, r.persistence, "Redis persistence")?,
            maxmemory_mb: r.maxmemory_mb,
            eviction_policy: from_code(&EVICTIONS, r.eviction_policy, "eviction policy")?,
        });
    }
    let nginx = match wire.nginx {
        Some(i) => Some(Nginx { host: host(i)? }),
        None => None,
    };
    let assumptions = match wire.assumptions {
        Some((per_user, per_process)) => Assumptions {
            streaming_connections_per_user: per_user,
            streaming_connections_per_process: per_process,
        },
        None => Assumptions::default(),
    };
    Ok(Plan {
        name: wire.name,
        mastodon_version: from_code(&VERSIONS, wire.mastodon_version, "Mastodon version")?,
        expected_active_users: wire.users,
        hosts: wire
            .hosts
            .into_iter()
            .map(|h| Host { name: h.name, cores: h.cores, ram_gb: h.ram_gb, address: h.address })
            .collect(),
        web,
        streaming,
        sidekiq,
        pgbouncers: bouncers,
        postgres,
        replica,
        redis,
        media: from_code(&MEDIA, wire.media, "media storage")?,
        nginx,
        prepared_statements: wire.flags & 1 != 0,
        assumptions,
        estimates,
    })
}

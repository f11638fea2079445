//! The cluster an admin describes: hosts, the Mastodon units placed on them, PgBouncer,
//! Postgres, Redis and media storage.
//!
//! Units point at hosts and bouncers by name, so a plan reads well as JSON and travels in a
//! link. Every field a later format version adds must have a serde default, so that plans
//! saved before it still load.

use serde::{Deserialize, Serialize};

/// Mastodon releases whose connection behaviour differs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum MastodonVersion {
    /// 4.2: every process pools `DB_POOL || MAX_THREADS || 5`; STREAMING_CLUSTER_NUM is gone.
    #[serde(rename = "4.2")]
    V4_2,
    /// 4.3: sidekiq pools default to its concurrency (mastodon PR #26488).
    #[serde(rename = "4.3")]
    V4_3,
    /// 4.4 and later: adds the `fasp` queue; REDIS_NAMESPACE aborts startup.
    #[default]
    #[serde(rename = "4.4")]
    V4_4,
}

impl MastodonVersion {
    pub const ALL: [MastodonVersion; 3] = [Self::V4_2, Self::V4_3, Self::V4_4];

    pub fn label(self) -> &'static str {
        match self {
            Self::V4_2 => "4.2",
            Self::V4_3 => "4.3",
            Self::V4_4 => "4.4+",
        }
    }

    /// Sidekiq's pool size when DB_POOL is unset.
    ///
    /// Up to 4.2 `config/database.yml` read `DB_POOL || MAX_THREADS || 5` for every process,
    /// so a sidekiq at `-c 25` got 5 connections. 4.3 made sidekiq default to its concurrency.
    pub fn sidekiq_default_pool(self, concurrency: u32) -> (u32, &'static str) {
        match self {
            Self::V4_2 => (5, "4.2: sidekiq without DB_POOL gets 5 (DB_POOL || MAX_THREADS || 5)"),
            Self::V4_3 | Self::V4_4 => (
                concurrency,
                "4.3+: sidekiq without DB_POOL gets its concurrency (-c)",
            ),
        }
    }

    pub fn has_queue(self, queue: Queue) -> bool {
        queue != Queue::Fasp || self >= Self::V4_4
    }
}

/// Sidekiq queues of Mastodon, in the order of their weights in `config/sidekiq.yml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Queue {
    Default,
    Push,
    Ingress,
    Mailers,
    Pull,
    Scheduler,
    Fasp,
}

impl Queue {
    pub const ALL: [Queue; 7] = [
        Queue::Default,
        Queue::Push,
        Queue::Ingress,
        Queue::Mailers,
        Queue::Pull,
        Queue::Scheduler,
        Queue::Fasp,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Queue::Default => "default",
            Queue::Push => "push",
            Queue::Ingress => "ingress",
            Queue::Mailers => "mailers",
            Queue::Pull => "pull",
            Queue::Scheduler => "scheduler",
            Queue::Fasp => "fasp",
        }
    }
}

/// A machine. Units are placed on it by its name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Host {
    pub name: String,
    pub cores: u32,
    pub ram_gb: u32,
    /// The address other hosts reach it at, used for TRUSTED_PROXY_IP and DB_HOST.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

/// `mastodon-web.service`: WEB_CONCURRENCY Puma workers with MAX_THREADS threads each.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebUnit {
    pub name: String,
    pub host: String,
    /// Puma's default is 2 (`config/puma.rb`).
    #[serde(default = "defaults::web_concurrency")]
    pub web_concurrency: u32,
    /// Puma's default is 5.
    #[serde(default = "defaults::max_threads")]
    pub max_threads: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub db_pool: Option<u32>,
    /// The PgBouncer this unit's pools go through; none means straight to Postgres.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pgbouncer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trusted_proxy_ip: Option<String>,
    #[serde(default = "defaults::yes")]
    pub jemalloc: bool,
}

/// `mastodon-streaming@PORT.service` instances of the Node streaming server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamingUnit {
    pub name: String,
    pub host: String,
    /// How many `mastodon-streaming@PORT` units run (one process each since 4.2).
    #[serde(default = "defaults::one")]
    pub instances: u32,
    /// The streaming server's pg pool defaults to 10 (`streaming/database.js`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub db_pool: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pgbouncer: Option<String>,
}

/// `mastodon-sidekiq-QUEUE@N.service` instances: one process each, `-c concurrency` threads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SidekiqUnit {
    pub name: String,
    pub host: String,
    pub queues: Vec<Queue>,
    #[serde(default = "defaults::one")]
    pub instances: u32,
    /// `-c`; the stock systemd unit starts sidekiq with 25.
    #[serde(default = "defaults::sidekiq_concurrency")]
    pub concurrency: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub db_pool: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pgbouncer: Option<String>,
    #[serde(default = "defaults::yes")]
    pub jemalloc: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PoolMode {
    Session,
    Transaction,
    Statement,
}

impl PoolMode {
    pub fn name(self) -> &'static str {
        match self {
            PoolMode::Session => "session",
            PoolMode::Transaction => "transaction",
            PoolMode::Statement => "statement",
        }
    }
}

/// A PgBouncer instance. Units name it in their `pgbouncer` field to connect through it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PgBouncer {
    pub name: String,
    pub host: String,
    /// PgBouncer's own default is session; Mastodon needs transaction.
    #[serde(default = "defaults::pool_mode")]
    pub pool_mode: PoolMode,
    #[serde(default = "defaults::max_client_conn")]
    pub max_client_conn: u32,
    #[serde(default = "defaults::default_pool_size")]
    pub default_pool_size: u32,
    #[serde(default)]
    pub reserve_pool_size: u32,
    /// 0 means unlimited, PgBouncer's default.
    #[serde(default)]
    pub max_db_connections: u32,
    /// Database/user pairs it pools: one for a Mastodon database used by one role.
    #[serde(default = "defaults::one")]
    pub databases: u32,
    /// The open-file limit of its service; Debian's unit leaves the usual 1024.
    #[serde(default = "defaults::limit_nofile")]
    pub limit_nofile: u32,
    #[serde(default = "defaults::pgbouncer_port")]
    pub listen_port: u16,
}

/// The storage under Postgres's data directory; PGTune sets the planner's I/O costs from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DiskKind {
    Ssd,
    Hdd,
    /// Network storage (a SAN, a cloud block volume): PGTune's "san".
    Network,
    Nvme,
}

impl DiskKind {
    pub fn name(self) -> &'static str {
        match self {
            DiskKind::Ssd => "ssd",
            DiskKind::Hdd => "hdd",
            DiskKind::Network => "network",
            DiskKind::Nvme => "nvme",
        }
    }
}

/// `huge_pages`: whether Postgres maps shared_buffers with huge pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HugePages {
    Try,
    On,
    Off,
}

/// `wal_compression`: `on` means pglz; lz4 and zstd arrived in Postgres 15.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WalCompression {
    Off,
    On,
    Pglz,
    Lz4,
    Zstd,
}

/// `io_method` (Postgres 18+): how asynchronous I/O is issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IoMethod {
    Sync,
    Worker,
    IoUring,
}

/// Postgres settings the admin fixed; unset ones are derived from the host (see
/// `pgtune`): every field is an override of one recommended setting.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PostgresSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_buffers_mb: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work_mem_mb: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_cache_size_mb: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maintenance_work_mem_mb: Option<u32>,
    /// The RAM the recommendations are computed for ("how much memory can PostgreSQL use" in
    /// PGTune). Unset: the host's RAM less what the other units on the host claim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ram_mb: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wal_buffers_kb: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_wal_size_mb: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_wal_size_mb: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint_completion_target: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_statistics_target: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub random_page_cost: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_io_concurrency: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub huge_pages: Option<HugePages>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_worker_processes: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_parallel_workers_per_gather: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_parallel_workers: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_parallel_maintenance_workers: Option<u32>,
    /// `jit`: true is on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jit: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wal_compression: Option<WalCompression>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autovacuum_max_workers: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autovacuum_work_mem_mb: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub io_method: Option<IoMethod>,
}

/// The Postgres primary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Postgres {
    pub host: String,
    /// Postgres major version; `reserved_connections` exists from 16.
    #[serde(default = "defaults::postgres_version")]
    pub version: u32,
    #[serde(default = "defaults::max_connections")]
    pub max_connections: u32,
    #[serde(default = "defaults::superuser_reserved_connections")]
    pub superuser_reserved_connections: u32,
    #[serde(default)]
    pub reserved_connections: u32,
    #[serde(default = "defaults::disk")]
    pub disk: DiskKind,
    #[serde(default)]
    pub settings: PostgresSettings,
    #[serde(default)]
    pub synchronous_commit_off: bool,
}

/// A read replica: every process opens a second pool of the same size against it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Replica {
    pub host: String,
    #[serde(default = "defaults::max_connections")]
    pub max_connections: u32,
    #[serde(default = "defaults::superuser_reserved_connections")]
    pub superuser_reserved_connections: u32,
}

/// What Mastodon keeps in a Redis instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RedisRole {
    /// REDIS_URL: home and list feeds, streaming, and sidekiq unless it has its own.
    Persistent,
    /// CACHE_REDIS_URL: the Rails cache.
    Cache,
    /// SIDEKIQ_REDIS_URL: the job queues only.
    SidekiqOnly,
}

impl RedisRole {
    pub fn holds_persistent_data(self) -> bool {
        !matches!(self, RedisRole::Cache)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RedisPersistence {
    None,
    Rdb,
    Aof,
    AofRdb,
}

impl RedisPersistence {
    pub fn has_aof(self) -> bool {
        matches!(self, RedisPersistence::Aof | RedisPersistence::AofRdb)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EvictionPolicy {
    Noeviction,
    AllkeysLru,
    AllkeysLfu,
    AllkeysRandom,
    VolatileLru,
    VolatileLfu,
    VolatileRandom,
    VolatileTtl,
}

impl EvictionPolicy {
    pub const ALL: [EvictionPolicy; 8] = [
        EvictionPolicy::Noeviction,
        EvictionPolicy::AllkeysLru,
        EvictionPolicy::AllkeysLfu,
        EvictionPolicy::AllkeysRandom,
        EvictionPolicy::VolatileLru,
        EvictionPolicy::VolatileLfu,
        EvictionPolicy::VolatileRandom,
        EvictionPolicy::VolatileTtl,
    ];

    pub fn name(self) -> &'static str {
        match self {
            EvictionPolicy::Noeviction => "noeviction",
            EvictionPolicy::AllkeysLru => "allkeys-lru",
            EvictionPolicy::AllkeysLfu => "allkeys-lfu",
            EvictionPolicy::AllkeysRandom => "allkeys-random",
            EvictionPolicy::VolatileLru => "volatile-lru",
            EvictionPolicy::VolatileLfu => "volatile-lfu",
            EvictionPolicy::VolatileRandom => "volatile-random",
            EvictionPolicy::VolatileTtl => "volatile-ttl",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RedisInstance {
    pub name: String,
    pub host: String,
    pub role: RedisRole,
    #[serde(default = "defaults::redis_port")]
    pub port: u16,
    pub persistence: RedisPersistence,
    /// 0 means no limit, Redis's default.
    #[serde(default)]
    pub maxmemory_mb: u32,
    #[serde(default = "defaults::eviction_policy")]
    pub eviction_policy: EvictionPolicy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MediaStorage {
    LocalDisk,
    Nfs,
    S3Compatible,
}

/// Where nginx terminates TLS and proxies to web and streaming.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Nginx {
    pub host: String,
}

/// Numbers the planner assumes where no source gives an exact one; the admin may change them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assumptions {
    /// Concurrent streaming connections per active user. The docs put ~800-1,200 concurrent
    /// connections at 10-20k monthly actives; 0.08 is 1,200 / 15,000.
    #[serde(default = "defaults::streaming_connections_per_user")]
    pub streaming_connections_per_user: f64,
    /// What one streaming process is assumed to serve.
    #[serde(default = "defaults::streaming_connections_per_process")]
    pub streaming_connections_per_process: u32,
}

impl Default for Assumptions {
    fn default() -> Self {
        Self {
            streaming_connections_per_user: defaults::streaming_connections_per_user(),
            streaming_connections_per_process: defaults::streaming_connections_per_process(),
        }
    }
}

/// A whole deployment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub name: String,
    #[serde(default)]
    pub mastodon_version: MastodonVersion,
    /// Monthly active users expected.
    #[serde(default)]
    pub expected_active_users: u32,
    pub hosts: Vec<Host>,
    #[serde(default)]
    pub web: Vec<WebUnit>,
    #[serde(default)]
    pub streaming: Vec<StreamingUnit>,
    #[serde(default)]
    pub sidekiq: Vec<SidekiqUnit>,
    #[serde(default)]
    pub pgbouncers: Vec<PgBouncer>,
    pub postgres: Postgres,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replica: Option<Replica>,
    #[serde(default)]
    pub redis: Vec<RedisInstance>,
    #[serde(default = "defaults::media")]
    pub media: MediaStorage,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nginx: Option<Nginx>,
    /// PREPARED_STATEMENTS in the app's env; Mastodon's default is true.
    #[serde(default = "defaults::yes")]
    pub prepared_statements: bool,
    #[serde(default)]
    pub assumptions: Assumptions,
    /// Per-process RAM and CPU estimates and the max_connections ceiling's inputs.
    #[serde(default)]
    pub estimates: crate::estimates::Estimates,
}

impl Plan {
    pub fn host(&self, name: &str) -> Option<&Host> {
        self.hosts.iter().find(|h| h.name == name)
    }

    pub fn pgbouncer(&self, name: &str) -> Option<&PgBouncer> {
        self.pgbouncers.iter().find(|b| b.name == name)
    }

    /// The Redis instance each kind of data lands in, following Mastodon's fallbacks:
    /// SIDEKIQ_REDIS_* and CACHE_REDIS_* fall back to the base REDIS_*.
    pub fn redis_for(&self, role: RedisRole) -> Option<&RedisInstance> {
        let base = self.redis.iter().find(|r| r.role == RedisRole::Persistent);
        match role {
            RedisRole::Persistent => base,
            _ => self.redis.iter().find(|r| r.role == role).or(base),
        }
    }

    pub fn from_json(text: &str) -> Result<Plan, crate::PlanError> {
        crate::validate::parse_plan(text)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a plan always serialises")
    }
}

pub(crate) mod defaults {
    use super::*;

    pub fn yes() -> bool {
        true
    }
    pub fn one() -> u32 {
        1
    }
    pub fn web_concurrency() -> u32 {
        2
    }
    pub fn max_threads() -> u32 {
        5
    }
    pub fn sidekiq_concurrency() -> u32 {
        25
    }
    pub fn pool_mode() -> PoolMode {
        PoolMode::Transaction
    }
    pub fn max_client_conn() -> u32 {
        100
    }
    pub fn default_pool_size() -> u32 {
        20
    }
    pub fn limit_nofile() -> u32 {
        1024
    }
    pub fn pgbouncer_port() -> u16 {
        6432
    }
    pub fn postgres_version() -> u32 {
        15
    }
    pub fn max_connections() -> u32 {
        100
    }
    pub fn superuser_reserved_connections() -> u32 {
        3
    }
    pub fn disk() -> DiskKind {
        DiskKind::Ssd
    }
    pub fn redis_port() -> u16 {
        6379
    }
    pub fn eviction_policy() -> EvictionPolicy {
        EvictionPolicy::Noeviction
    }
    pub fn media() -> MediaStorage {
        MediaStorage::LocalDisk
    }
    pub fn streaming_connections_per_user() -> f64 {
        0.08
    }
    pub fn streaming_connections_per_process() -> u32 {
        1000
    }
}

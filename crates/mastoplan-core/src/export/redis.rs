//! A `redis.conf` per Redis instance, for Debian's `redis-server@NAME.service`, which reads
//! `/etc/redis/redis-NAME.conf`.
//!
//! Persistence, memory limit and eviction are the plan's; the role decides the comments and
//! a warning where the plan departs from what the role needs (the compendium: persistent data
//! wants AOF and noeviction, the cache a memory limit, an LRU policy and no persistence).

use super::{header, Ctx, ExportFile, Target};
use crate::plan::{EvictionPolicy, RedisInstance, RedisPersistence, RedisRole};

/// Redis 7's default snapshot schedule, written out where the plan keeps RDB snapshots.
pub const RDB_SCHEDULE: &str = "3600 1 300 100 60 10000";

pub fn path(instance: &str) -> String {
    format!("etc/redis/redis-{instance}.conf")
}

pub fn files(cx: &Ctx) -> Vec<ExportFile> {
    cx.plan.redis.iter().map(|r| file(cx, r)).collect()
}

fn file(cx: &Ctx, r: &RedisInstance) -> ExportFile {
    let plan = cx.plan;
    let vars: Vec<&str> = [crate::budget::UnitKind::Web, crate::budget::UnitKind::Sidekiq, crate::budget::UnitKind::Streaming]
        .into_iter()
        .flat_map(|k| cx.redis_env(k))
        .filter(|(_, i)| i.name == r.name)
        .map(|(v, _)| v)
        .fold(Vec::new(), |mut acc, v| {
            if !acc.contains(&v) {
                acc.push(v);
            }
            acc
        });
    let mut t = header("#", plan, &format!("Redis instance {} ({}) on host {}.", r.name, role_text(r.role), r.host));
    t.push_str(&format!(
        "# Install as /etc/redis/redis-{0}.conf; run with: systemctl enable --now redis-server@{0}\n",
        r.name
    ));
    if vars.is_empty() {
        t.push_str("# No unit points at this instance: Mastodon uses the first instance of each role.\n");
    } else {
        t.push_str(&format!("# Mastodon reaches it through {}.\n", vars.join(", ")));
    }
    t.push('\n');
    let remote = cx.remote_clients(Target::Redis(&r.name));
    if remote.is_empty() {
        t.push_str("# Only this host connects: loopback only.\nbind 127.0.0.1\n");
    } else {
        t.push_str(&format!(
            "# Hosts {} connect: listen on this host's address as well.\nbind {}\n",
            remote.join(", "),
            cx.listen_addresses(&r.host).join(" ")
        ));
    }
    t.push_str(&format!("port {}\n", r.port));
    t.push_str("# Nothing but Mastodon should reach it; on a shared network set a password here and in the URLs.\n");
    t.push_str("# requirepass REPLACE_WITH_A_PASSWORD\n");
    t.push_str("\n# Files where Debian's redis-server@ unit expects them, named after the instance.\n");
    t.push_str(&format!("pidfile /run/redis-{}/redis-server.pid\n", r.name));
    t.push_str(&format!("logfile /var/log/redis/redis-server-{}.log\n", r.name));
    t.push_str("dir /var/lib/redis\n");
    t.push_str(&format!("dbfilename {}.rdb\n", r.name));
    t.push_str(&format!("appenddirname appendonlydir-{}\n", r.name));

    let (save, aof, why) = match r.persistence {
        RedisPersistence::None => ("\"\"".to_string(), "no", "no persistence: a restart empties it"),
        RedisPersistence::Rdb => (RDB_SCHEDULE.to_string(), "no", "RDB snapshots only: a crash loses the writes since the last one"),
        RedisPersistence::Aof => ("\"\"".to_string(), "yes", "append-only file: every write is logged, fsync every second"),
        RedisPersistence::AofRdb => (RDB_SCHEDULE.to_string(), "yes", "append-only file and RDB snapshots"),
    };
    let mut t2 = String::new();
    let mut warn = |w: String| t2.push_str(&format!("# WARNING: {w}\n"));
    if r.role.holds_persistent_data() && !r.persistence.has_aof() {
        warn(format!(
            "the {} role holds data Mastodon cannot rebuild quickly (feeds, jobs); the compendium wants AOF.",
            role_text(r.role)
        ));
    }
    if r.role == RedisRole::Cache && r.persistence != RedisPersistence::None {
        warn("a cache needs no persistence; it only costs writes.".into());
    }
    if r.role.holds_persistent_data() && r.eviction_policy != EvictionPolicy::Noeviction {
        warn("evicting keys from a persistent instance loses jobs and feeds; Sidekiq warns about any policy but noeviction.".into());
    }
    if r.role == RedisRole::Cache && (r.maxmemory_mb == 0 || r.eviction_policy == EvictionPolicy::Noeviction) {
        warn("a cache needs a memory limit and an evicting (LRU) policy, or it fails writes once full.".into());
    }
    t.push('\n');
    t.push_str(&t2);
    t.push_str(&format!("# Persistence ({} role): {why}.\n", role_text(r.role)));
    t.push_str(&format!("save {save}\n"));
    t.push_str(&format!("appendonly {aof}\n"));
    if r.persistence.has_aof() {
        t.push_str("appendfsync everysec\n");
    }
    t.push('\n');
    if r.maxmemory_mb == 0 {
        t.push_str("# No memory limit (0): the instance grows with its data.\n");
        t.push_str("maxmemory 0\n");
    } else {
        t.push_str(&format!("# Memory limit from the plan: {} MB.\n", r.maxmemory_mb));
        t.push_str(&format!("maxmemory {}mb\n", r.maxmemory_mb));
    }
    t.push_str(&format!("maxmemory-policy {}\n", r.eviction_policy.name()));

    ExportFile { host: Some(r.host.clone()), path: path(&r.name), content: t }
}

pub(crate) fn role_text(role: RedisRole) -> &'static str {
    match role {
        RedisRole::Persistent => "persistent",
        RedisRole::Cache => "cache",
        RedisRole::SidekiqOnly => "sidekiq-only",
    }
}

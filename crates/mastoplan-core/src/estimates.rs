//! What each process is assumed to cost in RAM and CPU, and the inputs of the max_connections
//! ceiling. Where a source gives a number it is cited; where none does, the value is an
//! assumption, said so, with why that value. Every one is a field of the plan's `estimates`
//! section with a serde default, so plans saved before the section existed still load and an
//! admin who has measured their own processes can put their numbers in.

use serde::{Deserialize, Serialize};

use crate::validate::{check_range, PlanError};

/// A named number the planner works from, shown to the admin with where it comes from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assumption {
    pub name: String,
    pub value: String,
    /// The source, or why the value was chosen when no source gives one.
    pub source: String,
}

impl Assumption {
    pub fn new(name: &str, value: impl ToString, source: impl Into<String>) -> Self {
        Assumption { name: name.to_string(), value: value.to_string(), source: source.into() }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Estimates {
    /// RAM kept for the kernel, systemd, journald, sshd, nginx where it runs, and monitoring
    /// agents on every host. Assumption: 1 GB, a round figure above what a minimal Debian or
    /// Ubuntu server with those daemons uses, so the estimate errs on the safe side.
    #[serde(default = "d::os_reserve_mb")]
    pub os_reserve_mb: u32,
    /// One Puma worker (a WEB_CONCURRENCY process) with jemalloc. Assumption: 384 MB. No
    /// Mastodon document gives a figure; it sits between the 256 MB a fresh sidekiq starts at
    /// (the compendium) and a worker that has served requests for a day.
    #[serde(default = "d::puma_worker_mb")]
    pub puma_worker_mb: u32,
    /// One Puma worker on glibc malloc: twice `puma_worker_mb`, after Nate Berkopec's
    /// measurement that glibc's per-thread arenas can double a threaded Ruby process's memory
    /// ("Malloc Can Double Multi-threaded Ruby Program Memory Usage").
    #[serde(default = "d::puma_worker_mb_without_jemalloc")]
    pub puma_worker_mb_without_jemalloc: u32,
    /// One sidekiq process with jemalloc: 512 MB. The compendium: a sidekiq on glibc "can slowly
    /// grow from 256MB of memory usage to 1GB in less than 24 hours"; Sidekiq's author reports
    /// jemalloc cuts that 2-4x (mastodon/mastodon#7257). 1 GB / 2, the cautious end.
    #[serde(default = "d::sidekiq_process_mb")]
    pub sidekiq_process_mb: u32,
    /// One sidekiq process on glibc malloc: 1 GB, where the compendium's process ends its day.
    #[serde(default = "d::sidekiq_process_mb_without_jemalloc")]
    pub sidekiq_process_mb_without_jemalloc: u32,
    /// One `mastodon-streaming@PORT` Node process. Assumption: 128 MB, a Node process's
    /// baseline heap plus buffers for the ~1,000 websockets one process is assumed to serve.
    #[serde(default = "d::streaming_process_mb")]
    pub streaming_process_mb: u32,
    /// A PgBouncer's own footprint before its connections. Assumption: 16 MB.
    #[serde(default = "d::pgbouncer_base_mb")]
    pub pgbouncer_base_mb: u32,
    /// PgBouncer's memory per client or server connection: "2 kB per connection by default"
    /// (pgbouncer.org).
    #[serde(default = "d::pgbouncer_kb_per_connection")]
    pub pgbouncer_kb_per_connection: u32,
    /// A Postgres backend's private memory before work_mem: "a newly created connection
    /// consumes only up to 10 MB of physical memory" (Josef Machytka, PGConf.DE 2025).
    #[serde(default = "d::postgres_backend_mb")]
    pub postgres_backend_mb: u32,
    /// Redis's RAM above its dataset (allocator fragmentation, buffers), in percent of
    /// maxmemory. Assumption: 25%. Raise it for write-heavy instances with AOF: a rewrite forks,
    /// and Redis's admin guide warns the copy-on-write can reach twice the memory in use.
    #[serde(default = "d::redis_overhead_percent")]
    pub redis_overhead_percent: u32,
    /// A Redis without maxmemory is assumed to hold this much before any per-user data.
    /// Assumption: 256 MB (sidekiq's queues, locks, counters and Rails cache keys).
    #[serde(default = "d::redis_base_mb")]
    pub redis_base_mb: u32,
    /// Per expected active user, what a Redis without maxmemory holds for feeds (persistent) or
    /// cache. 50 kB: a home feed keeps up to 400 entries (FeedManager::MAX_ITEMS in
    /// app/lib/feed_manager.rb), at ~128 bytes per sorted-set entry.
    #[serde(default = "d::redis_kb_per_user")]
    pub redis_kb_per_user: u32,

    /// Cores one Puma worker keeps busy. Assumption: 0.5. Ruby's global lock caps a process at
    /// one core; a web request spends much of its time waiting on Postgres and Redis.
    #[serde(default = "d::puma_worker_cores")]
    pub puma_worker_cores: f64,
    /// Cores one sidekiq process keeps busy, ingress aside. Assumption: 0.5, as for Puma: jobs
    /// wait on other servers, Postgres and Redis most of the time.
    #[serde(default = "d::sidekiq_process_cores")]
    pub sidekiq_process_cores: f64,
    /// Cores a sidekiq process serving ingress keeps busy: 1. The compendium: "Ingress is very
    /// very CPU bound and will suck up a whole CPU core with very little threads".
    #[serde(default = "d::sidekiq_ingress_cores")]
    pub sidekiq_ingress_cores: f64,
    /// Cores one streaming process keeps busy. Assumption: 0.25; it relays Redis pub/sub to
    /// websockets on one Node event loop.
    #[serde(default = "d::streaming_process_cores")]
    pub streaming_process_cores: f64,
    /// Cores per PgBouncer: 1. It is single-threaded (PgBouncer docs; the compendium quoting
    /// Crunchy Data), so under load it takes exactly one.
    #[serde(default = "d::pgbouncer_cores")]
    pub pgbouncer_cores: f64,
    /// Cores per Redis instance. Assumption: 0.25; Redis runs commands on one thread and
    /// Mastodon's commands are small.
    #[serde(default = "d::redis_cores")]
    pub redis_cores: f64,

    /// CYBERTEC's session_busy_ratio: the share of time a connection runs a statement. CYBERTEC:
    /// up to 1 for big analytical queries, "close to 0" for many short statements. Assumption:
    /// 0.025 (one connection in forty busy), which puts the ceiling at 40 connections per core,
    /// so the compendium's "above 512, don't" is also over the ceiling below 13 cores. Measure
    /// yours: the compendium's `select state, count(*) from pg_stat_activity` gives active over
    /// all (its own sample shows 12 of 151 active, 8%, which would lower the ceiling threefold).
    /// Postgres's CPU claim on its host is also computed from it.
    #[serde(default = "d::session_busy_ratio")]
    pub session_busy_ratio: f64,
    /// CYBERTEC's avg_parallelism: backend processes per running query. 1: Mastodon's queries
    /// are short index lookups that rarely get a parallel plan (CYBERTEC: 1 when
    /// max_parallel_workers_per_gather is 0).
    #[serde(default = "d::avg_parallelism")]
    pub avg_parallelism: f64,
    /// CYBERTEC's parallel_io_limit: concurrent I/O requests the storage can serve. 0 means not
    /// measured, and the ceiling uses the cores alone, the cautious reading.
    #[serde(default)]
    pub parallel_io_limit: u32,
}

impl Default for Estimates {
    fn default() -> Self {
        Estimates {
            os_reserve_mb: d::os_reserve_mb(),
            puma_worker_mb: d::puma_worker_mb(),
            puma_worker_mb_without_jemalloc: d::puma_worker_mb_without_jemalloc(),
            sidekiq_process_mb: d::sidekiq_process_mb(),
            sidekiq_process_mb_without_jemalloc: d::sidekiq_process_mb_without_jemalloc(),
            streaming_process_mb: d::streaming_process_mb(),
            pgbouncer_base_mb: d::pgbouncer_base_mb(),
            pgbouncer_kb_per_connection: d::pgbouncer_kb_per_connection(),
            postgres_backend_mb: d::postgres_backend_mb(),
            redis_overhead_percent: d::redis_overhead_percent(),
            redis_base_mb: d::redis_base_mb(),
            redis_kb_per_user: d::redis_kb_per_user(),
            puma_worker_cores: d::puma_worker_cores(),
            sidekiq_process_cores: d::sidekiq_process_cores(),
            sidekiq_ingress_cores: d::sidekiq_ingress_cores(),
            streaming_process_cores: d::streaming_process_cores(),
            pgbouncer_cores: d::pgbouncer_cores(),
            redis_cores: d::redis_cores(),
            session_busy_ratio: d::session_busy_ratio(),
            avg_parallelism: d::avg_parallelism(),
            parallel_io_limit: 0,
        }
    }
}

impl Estimates {
    /// Every estimate with its value and where it comes from, for the admin to read and edit.
    pub fn describe(&self) -> Vec<Assumption> {
        const ASSUMED: &str = "assumption (no source gives a figure)";
        vec![
            Assumption::new("os_reserve_mb", self.os_reserve_mb, format!("{ASSUMED}: kernel, systemd, sshd, nginx, agents; rounded up")),
            Assumption::new("puma_worker_mb", self.puma_worker_mb, format!("{ASSUMED}: between a fresh 256 MB Ruby process (the compendium) and a day-old worker")),
            Assumption::new("puma_worker_mb_without_jemalloc", self.puma_worker_mb_without_jemalloc, "2x with jemalloc: glibc arenas can double a threaded Ruby process (speedshop.co, 2017)"),
            Assumption::new("sidekiq_process_mb", self.sidekiq_process_mb, "1 GB halved: jemalloc cuts sidekiq's memory 2-4x (Mike Perham, mastodon/mastodon#7257)"),
            Assumption::new("sidekiq_process_mb_without_jemalloc", self.sidekiq_process_mb_without_jemalloc, "the compendium: 256 MB to 1 GB in under 24 hours on glibc"),
            Assumption::new("streaming_process_mb", self.streaming_process_mb, format!("{ASSUMED}: Node baseline plus ~1,000 websockets")),
            Assumption::new("pgbouncer_base_mb", self.pgbouncer_base_mb, ASSUMED),
            Assumption::new("pgbouncer_kb_per_connection", self.pgbouncer_kb_per_connection, "pgbouncer.org: 2 kB per connection by default"),
            Assumption::new("postgres_backend_mb", self.postgres_backend_mb, "a new connection uses up to 10 MB (J. Machytka, PGConf.DE 2025)"),
            Assumption::new("redis_overhead_percent", self.redis_overhead_percent, format!("{ASSUMED}: fragmentation and buffers above maxmemory")),
            Assumption::new("redis_base_mb", self.redis_base_mb, format!("{ASSUMED}: a Redis without maxmemory before per-user data")),
            Assumption::new("redis_kb_per_user", self.redis_kb_per_user, "400 home-feed entries per user (FeedManager::MAX_ITEMS) at ~128 bytes"),
            Assumption::new("puma_worker_cores", self.puma_worker_cores, format!("{ASSUMED}: one core at most under Ruby's lock, half of it waiting on I/O")),
            Assumption::new("sidekiq_process_cores", self.sidekiq_process_cores, format!("{ASSUMED}: as for Puma")),
            Assumption::new("sidekiq_ingress_cores", self.sidekiq_ingress_cores, "the compendium: ingress eats a whole core"),
            Assumption::new("streaming_process_cores", self.streaming_process_cores, format!("{ASSUMED}: one Node event loop relaying pub/sub")),
            Assumption::new("pgbouncer_cores", self.pgbouncer_cores, "PgBouncer is single-threaded: one core (the compendium, Crunchy Data)"),
            Assumption::new("redis_cores", self.redis_cores, format!("{ASSUMED}: one command thread, small commands")),
            Assumption::new("session_busy_ratio", self.session_busy_ratio, "CYBERTEC: close to 0 for short statements; assumed 1 in 40, measure with pg_stat_activity"),
            Assumption::new("avg_parallelism", self.avg_parallelism, "CYBERTEC: 1 without parallel plans; Mastodon's queries are short lookups"),
            Assumption::new("parallel_io_limit", self.parallel_io_limit, "CYBERTEC; 0 = not measured, the ceiling uses cores alone"),
        ]
    }

    /// Set one estimate by name from text, for `--assume name=value`. None: no such estimate.
    pub fn set(&mut self, name: &str, value: &str) -> Option<Result<(), String>> {
        let mut v = serde_json::to_value(&*self).expect("estimates serialise");
        let obj = v.as_object_mut().expect("a struct is an object");
        let slot = obj.get_mut(name)?;
        let parsed: serde_json::Value = match serde_json::from_str(value) {
            Ok(n @ serde_json::Value::Number(_)) => n,
            _ => return Some(Err(format!("{name} takes a number, not {value:?}"))),
        };
        *slot = parsed;
        Some(match serde_json::from_value::<Estimates>(v) {
            Ok(e) => match e.check() {
                Ok(()) => {
                    *self = e;
                    Ok(())
                }
                Err(err) => Err(err.message),
            },
            Err(e) => Err(format!("{name}: {e}")),
        })
    }

    /// Ranges an estimate may take; plans are untrusted input.
    pub(crate) fn check(&self) -> Result<(), PlanError> {
        const MB: u64 = 1024 * 1024; // a terabyte, in MB: far above any process
        for (field, v, min, max) in [
            ("os_reserve_mb", self.os_reserve_mb, 0, MB),
            ("puma_worker_mb", self.puma_worker_mb, 0, MB),
            ("puma_worker_mb_without_jemalloc", self.puma_worker_mb_without_jemalloc, 0, MB),
            ("sidekiq_process_mb", self.sidekiq_process_mb, 0, MB),
            ("sidekiq_process_mb_without_jemalloc", self.sidekiq_process_mb_without_jemalloc, 0, MB),
            ("streaming_process_mb", self.streaming_process_mb, 0, MB),
            ("pgbouncer_base_mb", self.pgbouncer_base_mb, 0, MB),
            ("pgbouncer_kb_per_connection", self.pgbouncer_kb_per_connection, 0, MB),
            ("postgres_backend_mb", self.postgres_backend_mb, 0, MB),
            ("redis_overhead_percent", self.redis_overhead_percent, 0, 1000),
            ("redis_base_mb", self.redis_base_mb, 0, MB),
            ("redis_kb_per_user", self.redis_kb_per_user, 0, MB),
            ("parallel_io_limit", self.parallel_io_limit, 0, 1_000_000),
        ] {
            check_range(&format!("/estimates/{field}"), v as u64, min, max)?;
        }
        for (field, v, min, max) in [
            ("puma_worker_cores", self.puma_worker_cores, 0.0, 64.0),
            ("sidekiq_process_cores", self.sidekiq_process_cores, 0.0, 64.0),
            ("sidekiq_ingress_cores", self.sidekiq_ingress_cores, 0.0, 64.0),
            ("streaming_process_cores", self.streaming_process_cores, 0.0, 64.0),
            ("pgbouncer_cores", self.pgbouncer_cores, 0.0, 64.0),
            ("redis_cores", self.redis_cores, 0.0, 64.0),
            ("avg_parallelism", self.avg_parallelism, 1.0, 1024.0),
        ] {
            check_float(&format!("/estimates/{field}"), v, min, max)?;
        }
        let r = self.session_busy_ratio;
        if !(r.is_finite() && r > 0.0 && r <= 1.0) {
            return Err(PlanError::at("/estimates/session_busy_ratio", "expected a share above 0 and at most 1"));
        }
        Ok(())
    }
}

pub(crate) fn check_float(path: &str, v: f64, min: f64, max: f64) -> Result<(), PlanError> {
    if v.is_finite() && (min..=max).contains(&v) {
        Ok(())
    } else {
        Err(PlanError::at(path, format!("expected a number from {min} to {max}")))
    }
}

mod d {
    pub fn os_reserve_mb() -> u32 {
        1024
    }
    pub fn puma_worker_mb() -> u32 {
        384
    }
    pub fn puma_worker_mb_without_jemalloc() -> u32 {
        768
    }
    pub fn sidekiq_process_mb() -> u32 {
        512
    }
    pub fn sidekiq_process_mb_without_jemalloc() -> u32 {
        1024
    }
    pub fn streaming_process_mb() -> u32 {
        128
    }
    pub fn pgbouncer_base_mb() -> u32 {
        16
    }
    pub fn pgbouncer_kb_per_connection() -> u32 {
        2
    }
    pub fn postgres_backend_mb() -> u32 {
        10
    }
    pub fn redis_overhead_percent() -> u32 {
        25
    }
    pub fn redis_base_mb() -> u32 {
        256
    }
    pub fn redis_kb_per_user() -> u32 {
        50
    }
    pub fn puma_worker_cores() -> f64 {
        0.5
    }
    pub fn sidekiq_process_cores() -> f64 {
        0.5
    }
    pub fn sidekiq_ingress_cores() -> f64 {
        1.0
    }
    pub fn streaming_process_cores() -> f64 {
        0.25
    }
    pub fn pgbouncer_cores() -> f64 {
        1.0
    }
    pub fn redis_cores() -> f64 {
        0.25
    }
    pub fn session_busy_ratio() -> f64 {
        0.025
    }
    pub fn avg_parallelism() -> f64 {
        1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_without_the_section_gets_the_defaults() {
        let e: Estimates = serde_json::from_str("{}").unwrap();
        assert_eq!(e, Estimates::default());
    }

    #[test]
    fn one_estimate_can_be_set_by_name() {
        let mut e = Estimates::default();
        assert_eq!(e.set("puma_worker_mb", "500"), Some(Ok(())));
        assert_eq!(e.puma_worker_mb, 500);
        assert_eq!(e.set("session_busy_ratio", "0.08"), Some(Ok(())));
        assert_eq!(e.session_busy_ratio, 0.08);
        assert!(e.set("nope", "1").is_none());
        assert!(matches!(e.set("puma_worker_mb", "lots"), Some(Err(_))));
        assert!(matches!(e.set("session_busy_ratio", "2"), Some(Err(_))));
        assert_eq!(e.puma_worker_mb, 500, "a refused value leaves the estimate alone");
    }

    #[test]
    fn every_estimate_is_described() {
        let e = Estimates::default();
        let names: Vec<String> = e.describe().into_iter().map(|a| a.name).collect();
        let v = serde_json::to_value(&e).unwrap();
        for key in v.as_object().unwrap().keys() {
            assert!(names.contains(key), "{key} is not described");
        }
        assert_eq!(names.len(), v.as_object().unwrap().len());
    }
}

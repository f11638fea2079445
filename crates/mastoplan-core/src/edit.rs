//! Edits an admin makes to a plan's shape: hosts added, copied, renamed and removed, units
//! placed and moved. Each keeps every reference valid (units name hosts and bouncers), so the
//! page never has to patch a plan after the fact.

use crate::plan::*;
use crate::validate::{check_name, PlanError};

/// The kinds of things placed on a host that can be added, moved and removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Part {
    Web,
    Streaming,
    Sidekiq,
    PgBouncer,
    Redis,
}

impl Part {
    pub const ALL: [Part; 5] = [Part::Web, Part::Streaming, Part::Sidekiq, Part::PgBouncer, Part::Redis];

    pub fn label(self) -> &'static str {
        match self {
            Part::Web => "web (Puma)",
            Part::Streaming => "streaming",
            Part::Sidekiq => "sidekiq",
            Part::PgBouncer => "PgBouncer",
            Part::Redis => "Redis",
        }
    }

    /// The plan's array, for JSON pointers.
    pub fn plan_field(self) -> &'static str {
        match self {
            Part::Web => "web",
            Part::Streaming => "streaming",
            Part::Sidekiq => "sidekiq",
            Part::PgBouncer => "pgbouncers",
            Part::Redis => "redis",
        }
    }
}

/// `base`, or `base-2`, `base-3`… whichever is not taken.
pub fn unique_name(base: &str, taken: impl Fn(&str) -> bool) -> String {
    if !taken(base) {
        return base.to_string();
    }
    (2..).map(|n| format!("{base}-{n}")).find(|n| !taken(n)).expect("some suffix is free")
}

impl Plan {
    fn unit_name_taken(&self, name: &str) -> bool {
        self.web.iter().any(|u| u.name == name)
            || self.streaming.iter().any(|u| u.name == name)
            || self.sidekiq.iter().any(|u| u.name == name)
    }

    fn part_name_taken(&self, part: Part, name: &str) -> bool {
        match part {
            Part::Web | Part::Streaming | Part::Sidekiq => self.unit_name_taken(name),
            Part::PgBouncer => self.pgbouncers.iter().any(|b| b.name == name),
            Part::Redis => self.redis.iter().any(|r| r.name == name),
        }
    }

    /// How many of a part the plan has.
    pub fn count(&self, part: Part) -> usize {
        match part {
            Part::Web => self.web.len(),
            Part::Streaming => self.streaming.len(),
            Part::Sidekiq => self.sidekiq.len(),
            Part::PgBouncer => self.pgbouncers.len(),
            Part::Redis => self.redis.len(),
        }
    }

    pub fn part_name(&self, part: Part, index: usize) -> Option<&str> {
        Some(match part {
            Part::Web => &self.web.get(index)?.name,
            Part::Streaming => &self.streaming.get(index)?.name,
            Part::Sidekiq => &self.sidekiq.get(index)?.name,
            Part::PgBouncer => &self.pgbouncers.get(index)?.name,
            Part::Redis => &self.redis.get(index)?.name,
        })
    }

    pub fn part_host(&self, part: Part, index: usize) -> Option<&str> {
        Some(match part {
            Part::Web => &self.web.get(index)?.host,
            Part::Streaming => &self.streaming.get(index)?.host,
            Part::Sidekiq => &self.sidekiq.get(index)?.host,
            Part::PgBouncer => &self.pgbouncers.get(index)?.host,
            Part::Redis => &self.redis.get(index)?.host,
        })
    }

    /// A new host with a free name, sized like the last one.
    pub fn add_host(&mut self) -> String {
        let name = unique_name("host", |n| self.host(n).is_some());
        let (cores, ram_gb) = self.hosts.last().map(|h| (h.cores, h.ram_gb)).unwrap_or((4, 8));
        self.hosts.push(Host { name: name.clone(), cores, ram_gb, address: None });
        name
    }

    /// Copy a host with everything placed on it but Postgres and the replica, which stay
    /// single. Units of the copy connect through the copy's bouncers where the originals used
    /// a bouncer on the original host.
    pub fn duplicate_host(&mut self, name: &str) -> Option<String> {
        let original = self.host(name)?.clone();
        let copy = unique_name(&original.name, |n| self.host(n).is_some());
        self.hosts.push(Host { name: copy.clone(), address: None, ..original });

        let mut bouncer_names = Vec::new();
        for b in self.pgbouncers.clone().into_iter().filter(|b| b.host == name) {
            let new = unique_name(&b.name, |n| self.part_name_taken(Part::PgBouncer, n));
            bouncer_names.push((b.name.clone(), new.clone()));
            self.pgbouncers.push(PgBouncer { name: new, host: copy.clone(), ..b });
        }
        let route = |via: &Option<String>| -> Option<String> {
            via.as_ref().map(|v| bouncer_names.iter().find(|(o, _)| o == v).map(|(_, n)| n.clone()).unwrap_or(v.clone()))
        };
        for w in self.web.clone().into_iter().filter(|u| u.host == name) {
            let n = unique_name(&w.name, |n| self.unit_name_taken(n));
            let pgbouncer = route(&w.pgbouncer);
            self.web.push(WebUnit { name: n, host: copy.clone(), pgbouncer, ..w });
        }
        for s in self.streaming.clone().into_iter().filter(|u| u.host == name) {
            let n = unique_name(&s.name, |n| self.unit_name_taken(n));
            let pgbouncer = route(&s.pgbouncer);
            self.streaming.push(StreamingUnit { name: n, host: copy.clone(), pgbouncer, ..s });
        }
        for s in self.sidekiq.clone().into_iter().filter(|u| u.host == name) {
            // Exactly one scheduler runs in a cluster: the copy does not serve it.
            let queues: Vec<Queue> = s.queues.iter().copied().filter(|q| *q != Queue::Scheduler).collect();
            if queues.is_empty() {
                continue;
            }
            let n = unique_name(&s.name, |n| self.unit_name_taken(n));
            let pgbouncer = route(&s.pgbouncer);
            self.sidekiq.push(SidekiqUnit { name: n, host: copy.clone(), pgbouncer, queues, ..s });
        }
        Some(copy)
    }

    /// Rename a host and every reference to it.
    pub fn rename_host(&mut self, old: &str, new: &str) -> Result<(), PlanError> {
        check_name("/hosts", new)?;
        if old == new {
            return Ok(());
        }
        if self.host(new).is_some() {
            return Err(PlanError { path: "/hosts".into(), line: None, column: None, message: format!("a host is already named {new:?}") });
        }
        let rename = |h: &mut String| {
            if h == old {
                *h = new.to_string();
            }
        };
        self.hosts.iter_mut().for_each(|h| rename(&mut h.name));
        self.web.iter_mut().for_each(|u| rename(&mut u.host));
        self.streaming.iter_mut().for_each(|u| rename(&mut u.host));
        self.sidekiq.iter_mut().for_each(|u| rename(&mut u.host));
        self.pgbouncers.iter_mut().for_each(|u| rename(&mut u.host));
        self.redis.iter_mut().for_each(|u| rename(&mut u.host));
        rename(&mut self.postgres.host);
        if let Some(r) = &mut self.replica {
            rename(&mut r.host);
        }
        if let Some(n) = &mut self.nginx {
            rename(&mut n.host);
        }
        Ok(())
    }

    /// Remove a host and what runs on it. Postgres must be moved first, and a plan keeps at
    /// least one host; units that used a removed bouncer then go straight to Postgres.
    pub fn remove_host(&mut self, name: &str) -> Result<(), String> {
        if self.hosts.len() <= 1 {
            return Err("a plan keeps at least one host".into());
        }
        if self.postgres.host == name {
            return Err(format!("Postgres runs on {name}: move it to another host first"));
        }
        let gone: Vec<String> = self.pgbouncers.iter().filter(|b| b.host == name).map(|b| b.name.clone()).collect();
        self.hosts.retain(|h| h.name != name);
        self.web.retain(|u| u.host != name);
        self.streaming.retain(|u| u.host != name);
        self.sidekiq.retain(|u| u.host != name);
        self.pgbouncers.retain(|u| u.host != name);
        self.redis.retain(|u| u.host != name);
        self.unroute(&gone);
        if self.replica.as_ref().is_some_and(|r| r.host == name) {
            self.replica = None;
        }
        if self.nginx.as_ref().is_some_and(|n| n.host == name) {
            self.nginx = None;
        }
        Ok(())
    }

    fn unroute(&mut self, bouncers: &[String]) {
        let clear = |via: &mut Option<String>| {
            if via.as_ref().is_some_and(|v| bouncers.contains(v)) {
                *via = None;
            }
        };
        self.web.iter_mut().for_each(|u| clear(&mut u.pgbouncer));
        self.streaming.iter_mut().for_each(|u| clear(&mut u.pgbouncer));
        self.sidekiq.iter_mut().for_each(|u| clear(&mut u.pgbouncer));
    }

    /// Add a part on a host with Mastodon's usual settings; returns its index.
    pub fn add_part(&mut self, part: Part, host: &str) -> usize {
        let host = host.to_string();
        match part {
            Part::Web => {
                let name = unique_name("web", |n| self.unit_name_taken(n));
                self.web.push(WebUnit {
                    name,
                    host,
                    web_concurrency: 2,
                    max_threads: 5,
                    db_pool: None,
                    pgbouncer: None,
                    trusted_proxy_ip: None,
                    jemalloc: true,
                });
                self.web.len() - 1
            }
            Part::Streaming => {
                let name = unique_name("streaming", |n| self.unit_name_taken(n));
                self.streaming.push(StreamingUnit { name, host, instances: 1, db_pool: None, pgbouncer: None });
                self.streaming.len() - 1
            }
            Part::Sidekiq => {
                let name = unique_name("sidekiq-default", |n| self.unit_name_taken(n));
                self.sidekiq.push(SidekiqUnit {
                    name,
                    host,
                    queues: vec![Queue::Default],
                    instances: 1,
                    concurrency: 10,
                    db_pool: Some(10),
                    pgbouncer: None,
                    jemalloc: true,
                });
                self.sidekiq.len() - 1
            }
            Part::PgBouncer => {
                let name = unique_name(&format!("pgbouncer-{host}"), |n| self.part_name_taken(Part::PgBouncer, n));
                self.pgbouncers.push(PgBouncer {
                    name,
                    host,
                    pool_mode: PoolMode::Transaction,
                    max_client_conn: 100,
                    default_pool_size: 20,
                    reserve_pool_size: 0,
                    max_db_connections: 0,
                    databases: 1,
                    limit_nofile: 1024,
                    listen_port: 6432,
                });
                self.pgbouncers.len() - 1
            }
            Part::Redis => {
                let role = if self.redis.iter().any(|r| r.role == RedisRole::Persistent) {
                    RedisRole::Cache
                } else {
                    RedisRole::Persistent
                };
                let base = if role == RedisRole::Cache { "redis-cache" } else { "redis" };
                let name = unique_name(base, |n| self.part_name_taken(Part::Redis, n));
                let port = (6379..).find(|p| !self.redis.iter().any(|r| r.host == host && r.port == *p)).unwrap_or(6379);
                let cache = role == RedisRole::Cache;
                self.redis.push(RedisInstance {
                    name,
                    host,
                    role,
                    port,
                    persistence: if cache { RedisPersistence::None } else { RedisPersistence::Aof },
                    maxmemory_mb: if cache { 512 } else { 0 },
                    eviction_policy: if cache { EvictionPolicy::AllkeysLru } else { EvictionPolicy::Noeviction },
                });
                self.redis.len() - 1
            }
        }
    }

    /// Remove a part; units that went through a removed bouncer go straight to Postgres.
    pub fn remove_part(&mut self, part: Part, index: usize) {
        if index >= self.count(part) {
            return;
        }
        match part {
            Part::Web => {
                self.web.remove(index);
            }
            Part::Streaming => {
                self.streaming.remove(index);
            }
            Part::Sidekiq => {
                self.sidekiq.remove(index);
            }
            Part::PgBouncer => {
                let gone = self.pgbouncers.remove(index).name;
                self.unroute(&[gone]);
            }
            Part::Redis => {
                self.redis.remove(index);
            }
        }
    }

    /// Place a part on another host.
    pub fn move_part(&mut self, part: Part, index: usize, host: &str) {
        if self.host(host).is_none() {
            return;
        }
        let slot = match part {
            Part::Web => self.web.get_mut(index).map(|u| &mut u.host),
            Part::Streaming => self.streaming.get_mut(index).map(|u| &mut u.host),
            Part::Sidekiq => self.sidekiq.get_mut(index).map(|u| &mut u.host),
            Part::PgBouncer => self.pgbouncers.get_mut(index).map(|u| &mut u.host),
            Part::Redis => self.redis.get_mut(index).map(|u| &mut u.host),
        };
        if let Some(h) = slot {
            *h = host.to_string();
        }
    }

    /// Rename a part, keeping the bouncer references of units in step.
    pub fn rename_part(&mut self, part: Part, index: usize, new: &str) -> Result<(), PlanError> {
        check_name(&format!("/{}/{index}/name", part.plan_field()), new)?;
        let Some(old) = self.part_name(part, index).map(str::to_string) else { return Ok(()) };
        if old == new {
            return Ok(());
        }
        if self.part_name_taken(part, new) {
            return Err(PlanError {
                path: format!("/{}/{index}/name", part.plan_field()),
                line: None,
                column: None,
                message: format!("the name {new:?} is taken"),
            });
        }
        match part {
            Part::Web => self.web[index].name = new.into(),
            Part::Streaming => self.streaming[index].name = new.into(),
            Part::Sidekiq => self.sidekiq[index].name = new.into(),
            Part::Redis => self.redis[index].name = new.into(),
            Part::PgBouncer => {
                self.pgbouncers[index].name = new.into();
                let follow = |via: &mut Option<String>| {
                    if via.as_deref() == Some(old.as_str()) {
                        *via = Some(new.to_string());
                    }
                };
                self.web.iter_mut().for_each(|u| follow(&mut u.pgbouncer));
                self.streaming.iter_mut().for_each(|u| follow(&mut u.pgbouncer));
                self.sidekiq.iter_mut().for_each(|u| follow(&mut u.pgbouncer));
            }
        }
        Ok(())
    }

    /// Sidekiq's `-c`; a DB_POOL that equalled the old value follows it, the "same as
    /// threads" the compendium recommends.
    pub fn set_sidekiq_concurrency(&mut self, index: usize, concurrency: u32) {
        if let Some(s) = self.sidekiq.get_mut(index) {
            if s.db_pool == Some(s.concurrency) {
                s.db_pool = Some(concurrency);
            }
            s.concurrency = concurrency;
        }
    }

    /// Web's MAX_THREADS; an explicit DB_POOL that equalled it follows it.
    pub fn set_web_threads(&mut self, index: usize, threads: u32) {
        if let Some(w) = self.web.get_mut(index) {
            if w.db_pool == Some(w.max_threads) {
                w.db_pool = Some(threads);
            }
            w.max_threads = threads;
        }
    }

    /// The pgbouncer a unit connects through, by part and index (web, streaming, sidekiq).
    pub fn route_through(&mut self, part: Part, index: usize, bouncer: Option<&str>) {
        if bouncer.is_some_and(|b| self.pgbouncer(b).is_none()) {
            return;
        }
        let via = bouncer.map(str::to_string);
        match part {
            Part::Web => self.web.get_mut(index).map(|u| u.pgbouncer = via),
            Part::Streaming => self.streaming.get_mut(index).map(|u| u.pgbouncer = via),
            Part::Sidekiq => self.sidekiq.get_mut(index).map(|u| u.pgbouncer = via),
            Part::PgBouncer | Part::Redis => None,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{evaluate, presets};

    #[test]
    fn duplicating_a_bouncer_host_routes_the_copies_through_the_copied_bouncer() {
        let mut plan = presets::get("large-split").unwrap();
        let copy = plan.duplicate_host("worker-1").unwrap();
        assert_eq!(copy, "worker-1-2");
        plan.validate().unwrap();
        let copied: Vec<_> = plan.sidekiq.iter().filter(|s| s.host == copy).collect();
        assert_eq!(copied.len(), 2, "default and push; the scheduler stays single");
        assert!(copied.iter().all(|s| s.pgbouncer.as_deref() == Some("bouncer-worker-1-2")));
        assert!(!evaluate(&plan).findings.iter().any(|f| f.name == "scheduler-count"));
    }

    #[test]
    fn renaming_a_host_follows_every_reference() {
        let mut plan = presets::get("single-server").unwrap();
        plan.rename_host("mastodon", "box").unwrap();
        plan.validate().unwrap();
        assert_eq!(plan.postgres.host, "box");
        assert!(plan.redis.iter().all(|r| r.host == "box"));
        assert!(plan.rename_host("box", "bad name").is_err());
    }

    #[test]
    fn removing_a_host_with_postgres_is_refused() {
        let mut plan = presets::get("large-split").unwrap();
        assert!(plan.remove_host("db").is_err());
        plan.remove_host("web-1").unwrap();
        plan.validate().unwrap();
        assert!(plan.pgbouncer("bouncer-web-1").is_none());
    }

    #[test]
    fn removing_a_bouncer_sends_its_units_straight_to_postgres() {
        let mut plan = presets::get("large-split").unwrap();
        plan.remove_part(Part::PgBouncer, 0);
        plan.validate().unwrap();
        assert_eq!(plan.web[0].pgbouncer, None);
    }

    #[test]
    fn added_parts_keep_the_plan_valid() {
        let mut plan = presets::get("single-server").unwrap();
        let host = plan.add_host();
        for part in Part::ALL {
            plan.add_part(part, &host);
            plan.add_part(part, &host);
        }
        plan.validate().unwrap();
        let i = plan.add_part(Part::Sidekiq, &host);
        plan.route_through(Part::Sidekiq, i, Some("pgbouncer-host"));
        assert_eq!(plan.sidekiq[i].pgbouncer.as_deref(), Some("pgbouncer-host"));
        plan.validate().unwrap();
    }

    #[test]
    fn renaming_a_bouncer_keeps_its_clients() {
        let mut plan = presets::get("large-split").unwrap();
        plan.rename_part(Part::PgBouncer, 0, "pgb-a").unwrap();
        plan.validate().unwrap();
        assert_eq!(plan.web[0].pgbouncer.as_deref(), Some("pgb-a"));
        assert!(plan.rename_part(Part::Web, 0, "web-2").is_err(), "taken");
        assert!(plan.rename_part(Part::Web, 0, "we b").is_err(), "invalid");
    }

    #[test]
    fn sidekiq_pool_follows_threads_when_it_was_the_same() {
        let mut plan = presets::get("single-server").unwrap();
        plan.set_sidekiq_concurrency(0, 10);
        assert_eq!(plan.sidekiq[0].db_pool, Some(10));
        plan.sidekiq[0].db_pool = Some(12);
        plan.set_sidekiq_concurrency(0, 8);
        assert_eq!(plan.sidekiq[0].db_pool, Some(12), "a pool set apart stays");
    }

    #[test]
    fn moving_a_part_to_an_unknown_host_does_nothing() {
        let mut plan = presets::get("large-split").unwrap();
        plan.move_part(Part::Web, 0, "nowhere");
        assert_eq!(plan.web[0].host, "web-1");
        plan.move_part(Part::Web, 0, "web-2");
        assert_eq!(plan.web[0].host, "web-2");
    }
}

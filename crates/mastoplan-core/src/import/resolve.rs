//! Turning what the readers collected into plan fields, against the base plan.
//!
//! Precedence follows how the processes see their settings: a unit's own `Environment=`
//! wins over `.env.production` (dotenv never overrides a variable the process already has);
//! of several inputs the later wins; within a file the later line wins. What no input sets
//! stays as in the base plan.

use std::collections::{BTreeMap, BTreeSet};

use super::text::{parse_bool, parse_u32, quoted, shown_value, strip_userinfo};
use super::{At, BouncerFacts, Collector, HelmFacts, ImportNote, NoteAction, PgFacts, RedisConf, UnitDef, UnitKind, Val};
use crate::plan::{
    MastodonVersion, MediaStorage, PgBouncer, Plan, Queue, RedisInstance, RedisPersistence, RedisRole, Replica,
    SidekiqUnit, StreamingUnit, WebUnit,
};
use crate::validate::check_address;

type Env = BTreeMap<String, Val<String>>;

/// Where a Redis role's variables point: host (or socket path), port, database number.
type Endpoint = (String, Option<u32>, Option<u32>);

/// Variables of `.env.production` the plan has no place for, with why, when the reason is
/// worth more than "not part of a capacity plan".
fn ignored_reason(key: &str) -> Option<&'static str> {
    Some(match key {
        "STREAMING_CLUSTER_NUM" => "removed in Mastodon 4.2: each mastodon-streaming@PORT unit is one process now; scale with more units",
        "REDIS_NAMESPACE" => "Mastodon 4.4 refuses to start with REDIS_NAMESPACE set; use separate Redis instances instead",
        "REDIS_SENTINELS" | "REDIS_SENTINEL_MASTER" | "SIDEKIQ_REDIS_SENTINELS" | "CACHE_REDIS_SENTINELS" => {
            "Sentinel failover is not modelled; the plan counts instances, not their replicas"
        }
        "LD_PRELOAD" => "LD_PRELOAD must be set before the process starts (a unit's Environment=), not in .env.production, which Rails reads after",
        "MALLOC_ARENA_MAX" => "glibc arena tuning is not modelled; the plan records jemalloc only",
        "DB_HOST" => "Postgres's host stays as in the plan (DB_HOST only places a PgBouncer the import adds)",
        "REDIS_PASSWORD" | "DB_PASS" | "DB_USER" | "DB_NAME" | "REDIS_USER" | "REDIS_DB" | "CACHE_REDIS_DB"
        | "SIDEKIQ_REDIS_DB" => "connection details the plan does not hold",
        "MIN_THREADS" => "Puma's minimum threads do not change the peak connection count",
        "SIDEKIQ_CONCURRENCY" => "no sidekiq unit in the input takes its concurrency from it",
        _ => return None,
    })
}

/// Variables the resolver reads; an unused one gets a specific note.
const APP_KEYS: &[&str] = &[
    "WEB_CONCURRENCY", "MAX_THREADS", "DB_POOL", "DB_PORT", "DB_HOST", "DATABASE_URL", "PREPARED_STATEMENTS",
    "S3_ENABLED", "TRUSTED_PROXY_IP", "REPLICA_DB_HOST", "REPLICA_DATABASE_URL", "REDIS_URL", "REDIS_HOST",
    "REDIS_PORT", "CACHE_REDIS_URL", "CACHE_REDIS_HOST", "CACHE_REDIS_PORT", "SIDEKIQ_REDIS_URL",
    "SIDEKIQ_REDIS_HOST", "SIDEKIQ_REDIS_PORT", "SIDEKIQ_CONCURRENCY",
];

/// Variables a unit's own environment may set that the plan reads.
const UNIT_KEYS: &[&str] = &[
    "WEB_CONCURRENCY", "MAX_THREADS", "DB_POOL", "DB_PORT", "TRUSTED_PROXY_IP", "LD_PRELOAD", "SIDEKIQ_CONCURRENCY",
    "STREAMING_CLUSTER_NUM",
];

struct Taken {
    at: At,
    fields: Vec<(String, String)>,
    message: Option<String>,
}

struct Resolver<'b> {
    base: &'b Plan,
    plan: Plan,
    notes: Vec<ImportNote>,
    taken: Vec<Taken>,
    /// Global variables some field took (by key).
    used: BTreeSet<String>,
    /// Where each unit came from: index into the collected units, by unit name.
    origin: BTreeMap<String, usize>,
}

pub(crate) fn resolve(base: &Plan, mut c: Collector) -> (Plan, Vec<ImportNote>) {
    let sources = c.sources.clone();
    if let Err(e) = base.validate() {
        c.notes.push(ImportNote {
            source: "base plan".into(),
            line: None,
            key: String::new(),
            action: NoteAction::Ignored,
            message: format!("the base plan is not valid ({e}): nothing was applied"),
            fields: Vec::new(),
        });
        return (base.clone(), c.notes);
    }
    let mut r = Resolver {
        base,
        plan: base.clone(),
        notes: std::mem::take(&mut c.notes),
        taken: Vec::new(),
        used: BTreeSet::new(),
        origin: BTreeMap::new(),
    };
    let mut env = std::mem::take(&mut c.env);
    database_url(&mut env);

    r.postgres(&c.pg);
    r.helm_version(&c.helm);
    r.units(&c.units, &c.instances_seen, &env);
    r.bouncers(&c.bouncer, &env);
    r.unit_env(&c.units, &env);
    r.routing(&c.units, &env);
    r.app_env(&env);
    r.redis_env(&env, &c.helm);
    r.redis_confs(&c.redis);
    r.unused_env(&env);
    r.finish(&sources)
}

/// DATABASE_URL stands for DB_HOST and DB_PORT where those are not set.
fn database_url(env: &mut Env) {
    let Some(url) = env.get("DATABASE_URL").cloned() else { return };
    let Some((host, port)) = url_host_port(&url.v) else { return };
    if !env.contains_key("DB_HOST") && !host.is_empty() {
        env.insert("DB_HOST".into(), Val { v: host, at: url.at.clone() });
    }
    if let Some(p) = port {
        if !env.contains_key("DB_PORT") {
            env.insert("DB_PORT".into(), Val { v: p.to_string(), at: url.at.clone() });
        }
    }
}

/// Host and port of `scheme://[user[:pass]@]host[:port][/path]`.
fn url_host_port(url: &str) -> Option<(String, Option<u32>)> {
    let rest = strip_userinfo(url);
    let (_, after) = rest.split_once("://")?;
    let authority = after.split(['/', '?']).next().unwrap_or("");
    if let Some(v6) = authority.strip_prefix('[') {
        let (host, port) = v6.split_once(']')?;
        return Some((host.to_string(), port.strip_prefix(':').and_then(parse_u32)));
    }
    match authority.rsplit_once(':') {
        Some((h, p)) => Some((h.to_string(), parse_u32(p))),
        None => Some((authority.to_string(), None)),
    }
}

fn is_local(host: &str) -> bool {
    matches!(host, "" | "localhost" | "127.0.0.1" | "::1") || host.starts_with('/')
}

impl Resolver<'_> {
    fn take(&mut self, at: &At, pointer: String, value: impl ToString) {
        match self.taken.iter_mut().find(|t| &t.at == at) {
            Some(t) => t.fields.push((pointer, value.to_string())),
            None => self.taken.push(Taken { at: at.clone(), fields: vec![(pointer, value.to_string())], message: None }),
        }
    }

    fn take_with(&mut self, at: &At, pointer: String, value: impl ToString, message: String) {
        self.take(at, pointer, value);
        if let Some(t) = self.taken.iter_mut().find(|t| &t.at == at) {
            t.message.get_or_insert(message);
        }
    }

    fn note(&mut self, at: &At, action: NoteAction, message: impl Into<String>) {
        self.notes.push(ImportNote {
            source: at.source.clone(),
            line: at.line,
            key: at.key.clone(),
            action,
            message: message.into(),
            fields: Vec::new(),
        });
    }

    /// A number in range, or a note saying why not.
    fn number(&mut self, val: &Val<String>, min: u32, max: u32) -> Option<u32> {
        match parse_u32(&val.v) {
            Some(v) if (min..=max).contains(&v) => Some(v),
            Some(v) => {
                self.note(&val.at, NoteAction::Ignored, format!("{v} is out of range: expected {min} to {max}"));
                None
            }
            None => {
                self.note(&val.at, NoteAction::Malformed, format!("{} is not a number", shown_value(&val.at.key, &val.v)));
                None
            }
        }
    }

    fn in_range(&mut self, val: &Val<u32>, min: u32, max: u32) -> Option<u32> {
        if (min..=max).contains(&val.v) {
            Some(val.v)
        } else {
            self.note(&val.at, NoteAction::Ignored, format!("{} is out of range: expected {min} to {max}", val.v));
            None
        }
    }

    /// Where a unit of `kind` goes when nothing says: beside the base plan's units.
    fn default_host(&self, kind: UnitKind) -> String {
        let p = self.base;
        let of_kind = match kind {
            UnitKind::Web => p.web.first().map(|u| &u.host),
            UnitKind::Streaming => p.streaming.first().map(|u| &u.host),
            UnitKind::Sidekiq => p.sidekiq.first().map(|u| &u.host),
        };
        of_kind
            .or(p.web.first().map(|u| &u.host))
            .or(p.sidekiq.first().map(|u| &u.host))
            .unwrap_or(&p.hosts[0].name)
            .clone()
    }

    /// The plan host a host name or address from the input names, if any.
    fn host_named(&self, name_or_address: &str) -> Option<String> {
        self.plan
            .hosts
            .iter()
            .find(|h| h.name == name_or_address || h.address.as_deref() == Some(name_or_address))
            .map(|h| h.name.clone())
    }

    // -- Postgres -------------------------------------------------------------------------

    fn postgres(&mut self, pg: &PgFacts) {
        if let Some(v) = &pg.version {
            if let Some(v) = self.in_range(v, 12, 30) {
                self.plan.postgres.version = v;
                self.take(&pg.version.as_ref().expect("some").at, "/postgres/version".into(), v);
            }
        }
        let counts = [
            (&pg.max_connections, "max_connections", 1, 262_143),
            (&pg.superuser_reserved_connections, "superuser_reserved_connections", 0, 262_143),
            (&pg.reserved_connections, "reserved_connections", 0, 262_143),
        ];
        for (slot, field, min, max) in counts {
            let Some(val) = slot else { continue };
            let Some(v) = self.in_range(val, min, max) else { continue };
            match field {
                "max_connections" => self.plan.postgres.max_connections = v,
                "superuser_reserved_connections" => self.plan.postgres.superuser_reserved_connections = v,
                _ => {
                    self.plan.postgres.reserved_connections = v;
                    if self.plan.postgres.version < 16 {
                        self.plan.postgres.version = 16;
                        self.take_with(
                            &val.at,
                            "/postgres/version".into(),
                            16,
                            "reserved_connections exists from Postgres 16, so the server is 16 or later".into(),
                        );
                    }
                }
            }
            self.take(&val.at, format!("/postgres/{field}"), v);
        }
        let memory = [
            (&pg.shared_buffers_mb, "shared_buffers_mb"),
            (&pg.work_mem_mb, "work_mem_mb"),
            (&pg.effective_cache_size_mb, "effective_cache_size_mb"),
            (&pg.maintenance_work_mem_mb, "maintenance_work_mem_mb"),
        ];
        for (slot, field) in memory {
            let Some(val) = slot else { continue };
            let Some(v) = self.in_range(val, 1, 64 * 1024 * 1024) else { continue };
            let s = &mut self.plan.postgres.settings;
            match field {
                "shared_buffers_mb" => s.shared_buffers_mb = Some(v),
                "work_mem_mb" => s.work_mem_mb = Some(v),
                "effective_cache_size_mb" => s.effective_cache_size_mb = Some(v),
                _ => s.maintenance_work_mem_mb = Some(v),
            }
            self.take(&val.at, format!("/postgres/settings/{field}"), v);
        }
        if let Some(val) = &pg.synchronous_commit_off {
            self.plan.postgres.synchronous_commit_off = val.v;
            self.take(&val.at, "/postgres/synchronous_commit_off".into(), val.v);
        }
    }

    fn helm_version(&mut self, h: &HelmFacts) {
        let Some(tag) = &h.version else { return };
        let t = tag.v.trim().trim_start_matches('v');
        let mut parts = t.split('.');
        let (major, minor) = (parts.next().and_then(parse_u32), parts.next().and_then(|m| parse_u32(m.split('-').next().unwrap_or(m))));
        let version = match (major, minor) {
            (Some(4), Some(2)) => Some(MastodonVersion::V4_2),
            (Some(4), Some(3)) => Some(MastodonVersion::V4_3),
            (Some(4), Some(m)) if m >= 4 => Some(MastodonVersion::V4_4),
            (Some(m), Some(_)) if m >= 5 => Some(MastodonVersion::V4_4),
            (Some(_), Some(_)) => {
                self.note(&tag.at, NoteAction::Ignored, format!("{}: the planner models Mastodon 4.2 and later", quoted(&tag.v)));
                return;
            }
            _ => None,
        };
        match version {
            Some(v) => {
                self.plan.mastodon_version = v;
                self.take(&tag.at, "/mastodon_version".into(), v.label());
            }
            None => self.note(
                &tag.at,
                NoteAction::Ignored,
                format!("{} is not a release number; the Mastodon version stays {}", quoted(&tag.v), self.plan.mastodon_version.label()),
            ),
        }
    }

    // -- Units ------------------------------------------------------------------------------

    fn instances(&mut self, def: &UnitDef, seen: &BTreeMap<String, (BTreeSet<String>, At)>, base_instances: Option<u32>, max: u32) -> u32 {
        if let Some(v) = &def.instances {
            if let Some(n) = self.in_range(v, 0, max) {
                return n;
            }
        }
        if let Some((names, at)) = seen.get(&def.name) {
            let n = u32::try_from(names.len()).unwrap_or(u32::MAX).min(max);
            self.take_with(
                at,
                String::new(),
                n,
                format!("{n} running instance(s) of {} counted", def.name),
            );
            return n;
        }
        match base_instances {
            Some(n) => {
                self.note(
                    &def.at,
                    NoteAction::Ignored,
                    format!("a template unit does not say how many instances run: kept the plan's {n} (paste `systemctl list-units '{}@*'` to count them)", def.name),
                );
                n
            }
            None => {
                if def.template {
                    self.note(
                        &def.at,
                        NoteAction::Ignored,
                        format!("a template unit does not say how many instances run: assumed 1 (paste `systemctl list-units '{}@*'` to count them)", def.name),
                    );
                }
                1
            }
        }
    }

    fn units(&mut self, defs: &[UnitDef], seen: &BTreeMap<String, (BTreeSet<String>, At)>, env: &Env) {
        for (i, d) in defs.iter().enumerate() {
            self.origin.insert(d.name.clone(), i);
        }
        let of = |k: UnitKind| defs.iter().filter(move |d| d.kind == k).collect::<Vec<_>>();

        let web = of(UnitKind::Web);
        if !web.is_empty() {
            let mut out = Vec::new();
            for d in web {
                let same = self.base.web.iter().find(|u| u.name == d.name);
                let t = same.or(self.base.web.first());
                let instances = self.instances(d, seen, None, 1);
                if instances == 0 {
                    continue;
                }
                out.push(WebUnit {
                    name: d.name.clone(),
                    host: t.map(|u| u.host.clone()).unwrap_or_else(|| self.default_host(UnitKind::Web)),
                    web_concurrency: t.map_or(crate::plan::defaults::web_concurrency(), |u| u.web_concurrency),
                    max_threads: t.map_or(crate::plan::defaults::max_threads(), |u| u.max_threads),
                    db_pool: same.and_then(|u| u.db_pool),
                    pgbouncer: t.and_then(|u| u.pgbouncer.clone()),
                    trusted_proxy_ip: t.and_then(|u| u.trusted_proxy_ip.clone()),
                    jemalloc: t.is_none_or(|u| u.jemalloc),
                });
                let i = out.len() - 1;
                self.take(&d.at, format!("/web/{i}"), &d.name);
            }
            self.dropped("web", self.base.web.iter().map(|u| u.name.as_str()).collect(), &out.iter().map(|u| u.name.clone()).collect::<Vec<_>>());
            self.plan.web = out;
        }

        let streaming = of(UnitKind::Streaming);
        if !streaming.is_empty() {
            let mut out = Vec::new();
            for d in streaming {
                let same = self.base.streaming.iter().find(|u| u.name == d.name);
                let t = same.or(self.base.streaming.first());
                let instances = self.instances(d, seen, same.map(|u| u.instances), 1024);
                out.push(StreamingUnit {
                    name: d.name.clone(),
                    host: t.map(|u| u.host.clone()).unwrap_or_else(|| self.default_host(UnitKind::Streaming)),
                    instances,
                    db_pool: same.and_then(|u| u.db_pool),
                    pgbouncer: t.and_then(|u| u.pgbouncer.clone()),
                });
                let i = out.len() - 1;
                self.take_with(
                    &d.at,
                    format!("/streaming/{i}/instances"),
                    instances,
                    format!("streaming unit {}: {instances} process(es)", d.name),
                );
            }
            self.dropped("streaming", self.base.streaming.iter().map(|u| u.name.as_str()).collect(), &out.iter().map(|u| u.name.clone()).collect::<Vec<_>>());
            self.plan.streaming = out;
        }

        let sidekiq = of(UnitKind::Sidekiq);
        if !sidekiq.is_empty() {
            let mut out = Vec::new();
            for d in sidekiq {
                let same = self.base.sidekiq.iter().find(|u| u.name == d.name);
                let t = same.or(self.base.sidekiq.first());
                let Some(queues) = self.queues(d, env) else { continue };
                let concurrency = self.concurrency(d, env);
                let instances = self.instances(d, seen, same.map(|u| u.instances), 10_000);
                out.push(SidekiqUnit {
                    name: d.name.clone(),
                    host: t.map(|u| u.host.clone()).unwrap_or_else(|| self.default_host(UnitKind::Sidekiq)),
                    queues: queues.clone(),
                    instances,
                    concurrency,
                    db_pool: same.and_then(|u| u.db_pool),
                    pgbouncer: t.and_then(|u| u.pgbouncer.clone()),
                    jemalloc: t.is_none_or(|u| u.jemalloc),
                });
                let i = out.len() - 1;
                let names: Vec<&str> = queues.iter().map(|q| q.name()).collect();
                self.take_with(
                    &d.at,
                    format!("/sidekiq/{i}"),
                    &d.name,
                    format!("sidekiq unit {}: {instances} x -c {concurrency}, queues {}", d.name, names.join(", ")),
                );
            }
            self.dropped("sidekiq", self.base.sidekiq.iter().map(|u| u.name.as_str()).collect(), &out.iter().map(|u| u.name.clone()).collect::<Vec<_>>());
            self.plan.sidekiq = out;
        }

        // Instances counted for units no input described: the base plan's units of that name.
        for (name, (names, at)) in seen {
            if defs.iter().any(|d| &d.name == name) {
                continue;
            }
            let n = u32::try_from(names.len()).unwrap_or(u32::MAX);
            if let Some(i) = self.plan.sidekiq.iter().position(|u| &u.name == name) {
                if n <= 10_000 {
                    self.plan.sidekiq[i].instances = n;
                    self.take(at, format!("/sidekiq/{i}/instances"), n);
                    continue;
                }
            } else if let Some(i) = self.plan.streaming.iter().position(|u| &u.name == name) {
                if n <= 1024 {
                    self.plan.streaming[i].instances = n;
                    self.take(at, format!("/streaming/{i}/instances"), n);
                    continue;
                }
            }
            self.note(at, NoteAction::Ignored, format!("{n} instance(s) counted, but the plan has no template unit named {name}: add its unit file"));
        }

        // Unit names are unique across kinds.
        let mut names = BTreeSet::new();
        let mut dup = Vec::new();
        for n in self.plan.web.iter().map(|u| &u.name).chain(self.plan.streaming.iter().map(|u| &u.name)).chain(self.plan.sidekiq.iter().map(|u| &u.name)) {
            if !names.insert(n.clone()) {
                dup.push(n.clone());
            }
        }
        for name in dup {
            let at = self.origin.get(&name).map(|&i| defs[i].at.clone());
            if let Some(at) = at {
                self.note(&at, NoteAction::Ignored, format!("another unit is already named {name}: this one is left out"));
            }
            let kind = self.origin.get(&name).map(|&i| defs[i].kind);
            match kind {
                Some(UnitKind::Sidekiq) => self.plan.sidekiq.retain(|u| u.name != name),
                Some(UnitKind::Streaming) => self.plan.streaming.retain(|u| u.name != name),
                _ => {
                    // The clash is between base units and an imported web unit.
                    if let Some(i) = self.plan.web.iter().rposition(|u| u.name == name) {
                        self.plan.web.remove(i);
                    }
                }
            }
        }
    }

    /// Note the base plan's units an import replaced.
    fn dropped(&mut self, kind: &str, before: Vec<&str>, after: &[String]) {
        let gone: Vec<&str> = before.into_iter().filter(|n| !after.iter().any(|a| a == n)).collect();
        if !gone.is_empty() {
            self.notes.push(ImportNote {
                source: "base plan".into(),
                line: None,
                key: kind.into(),
                action: NoteAction::Overridden,
                message: format!(
                    "the imported {kind} units replace the plan's: {} no longer in it",
                    super::text::list(&gone, 8)
                ),
                fields: Vec::new(),
            });
        }
    }

    /// `$VAR` and `${VAR}` from the unit's environment, then the app's.
    fn expand(&mut self, raw: &Val<String>, d: &UnitDef, env: &Env) -> Option<String> {
        let v = raw.v.trim();
        let Some(name) = v.strip_prefix("${").and_then(|s| s.strip_suffix('}')).or_else(|| v.strip_prefix('$')) else {
            return Some(v.to_string());
        };
        if let Some(val) = d.env.get(name) {
            return Some(val.v.clone());
        }
        if let Some(val) = env.get(name) {
            self.used.insert(name.to_string());
            return Some(val.v.clone());
        }
        self.note(&raw.at, NoteAction::Malformed, format!("{} is set neither in the unit nor in .env.production", quoted(v)));
        None
    }

    fn concurrency(&mut self, d: &UnitDef, env: &Env) -> u32 {
        if let Some(raw) = &d.concurrency {
            if let Some(v) = self.expand(raw, d, env) {
                let val = Val { v, at: raw.at.clone() };
                if let Some(n) = self.number(&val, 1, 1000) {
                    return n;
                }
            }
        }
        let from_env = d.env.get("SIDEKIQ_CONCURRENCY").cloned().or_else(|| {
            let v = env.get("SIDEKIQ_CONCURRENCY").cloned();
            if v.is_some() {
                self.used.insert("SIDEKIQ_CONCURRENCY".into());
            }
            v
        });
        if let Some(val) = from_env {
            if let Some(n) = self.number(&val, 1, 1000) {
                return n;
            }
        }
        if d.concurrency.is_none() {
            self.note(&d.at, NoteAction::Ignored, "no -c and no SIDEKIQ_CONCURRENCY: sidekiq's default of 5 threads assumed");
        }
        5
    }

    fn queues(&mut self, d: &UnitDef, env: &Env) -> Option<Vec<Queue>> {
        let version = self.plan.mastodon_version;
        let Some(raw) = &d.queues else {
            return Some(Queue::ALL.into_iter().filter(|q| version.has_queue(*q)).collect());
        };
        let mut out: Vec<Queue> = Vec::new();
        let mut weighted = false;
        for arg in raw.v.clone() {
            if arg.contains("%i") || arg.contains("%I") {
                self.note(&raw.at, NoteAction::Ignored, "the queue comes from the instance name (%i), which the unit file does not hold");
                continue;
            }
            let arg_val = Val { v: arg, at: raw.at.clone() };
            let Some(arg) = self.expand(&arg_val, d, env) else { continue };
            match super::parse_queue(&arg) {
                Ok((q, weight)) => {
                    weighted |= weight.is_some();
                    if !out.contains(&q) {
                        out.push(q);
                    }
                }
                Err(e) => self.note(&raw.at, NoteAction::Malformed, e),
            }
        }
        if weighted {
            self.note(
                &raw.at,
                NoteAction::Ignored,
                "queue weights are not kept: the plan lists the queues a unit serves, in order",
            );
        }
        if out.is_empty() {
            self.note(&d.at, NoteAction::Ignored, format!("{} serves no Mastodon queue that could be read: left out", d.name));
            return None;
        }
        Some(out)
    }

    // -- Environment on units ------------------------------------------------------------

    /// A variable as one unit sees it: its own Environment= first, then the app's.
    fn unit_var(&mut self, units: &[UnitDef], unit: &str, var: &str, env: &Env) -> Option<(Val<String>, bool)> {
        if let Some(&i) = self.origin.get(unit) {
            if let Some(v) = units[i].env.get(var) {
                return Some((v.clone(), true));
            }
        }
        let v = env.get(var)?.clone();
        self.used.insert(var.to_string());
        Some((v, false))
    }

    fn unit_env(&mut self, units: &[UnitDef], env: &Env) {
        for i in 0..self.plan.web.len() {
            let name = self.plan.web[i].name.clone();
            if let Some((v, _)) = self.unit_var(units, &name, "WEB_CONCURRENCY", env) {
                if let Some(n) = self.number(&v, 0, 1024) {
                    self.plan.web[i].web_concurrency = n;
                    self.take(&v.at, format!("/web/{i}/web_concurrency"), n);
                }
            }
            if let Some((v, _)) = self.unit_var(units, &name, "MAX_THREADS", env) {
                if let Some(n) = self.number(&v, 1, 1024) {
                    self.plan.web[i].max_threads = n;
                    self.take(&v.at, format!("/web/{i}/max_threads"), n);
                }
            }
            if let Some((v, _)) = self.unit_var(units, &name, "DB_POOL", env) {
                if let Some(n) = self.number(&v, 1, 10_000) {
                    self.plan.web[i].db_pool = Some(n);
                    self.take(&v.at, format!("/web/{i}/db_pool"), n);
                }
            }
            if let Some((v, _)) = self.unit_var(units, &name, "TRUSTED_PROXY_IP", env) {
                match check_address("", v.v.trim()) {
                    Ok(()) => {
                        self.plan.web[i].trusted_proxy_ip = Some(v.v.trim().to_string());
                        self.take(&v.at, format!("/web/{i}/trusted_proxy_ip"), v.v.trim());
                    }
                    Err(_) => self.note(
                        &v.at,
                        NoteAction::Ignored,
                        format!("{} is not one address: the plan holds a single TRUSTED_PROXY_IP", quoted(&v.v)),
                    ),
                }
            }
            self.jemalloc(units, &name, format!("/web/{i}/jemalloc"));
        }
        for i in 0..self.plan.streaming.len() {
            let name = self.plan.streaming[i].name.clone();
            if let Some((v, _)) = self.unit_var(units, &name, "DB_POOL", env) {
                if let Some(n) = self.number(&v, 1, 10_000) {
                    self.plan.streaming[i].db_pool = Some(n);
                    self.take(&v.at, format!("/streaming/{i}/db_pool"), n);
                }
            }
        }
        for i in 0..self.plan.sidekiq.len() {
            let name = self.plan.sidekiq[i].name.clone();
            let imported = self.origin.contains_key(&name);
            if let Some((v, own)) = self.unit_var(units, &name, "DB_POOL", env) {
                if !own && !imported && self.plan.sidekiq[i].db_pool.is_some() && parse_u32(&v.v).is_some() {
                    let kept = self.plan.sidekiq[i].db_pool.unwrap_or_default();
                    self.note(
                        &v.at,
                        NoteAction::Ignored,
                        format!(
                            "not applied to sidekiq unit {name}: it keeps its DB_POOL {kept}, which is usually set in its unit file and wins over .env.production (import the unit file to be sure)"
                        ),
                    );
                } else if let Some(n) = self.number(&v, 1, 10_000) {
                    self.plan.sidekiq[i].db_pool = Some(n);
                    self.take(&v.at, format!("/sidekiq/{i}/db_pool"), n);
                }
            }
            self.jemalloc(units, &name, format!("/sidekiq/{i}/jemalloc"));
        }
        for d in units {
            // STREAMING_CLUSTER_NUM on a unit: say why it does nothing.
            if let Some(v) = d.env.get("STREAMING_CLUSTER_NUM") {
                self.note(&v.at, NoteAction::Ignored, ignored_reason("STREAMING_CLUSTER_NUM").unwrap_or_default());
            }
            let other: Vec<&str> = d.env.keys().map(String::as_str).filter(|k| !UNIT_KEYS.contains(k)).collect();
            if !other.is_empty() {
                let at = d.env[other[0]].at.clone();
                self.note(&at, NoteAction::Ignored, format!("{}: not part of the plan", super::text::list(&other, 8)));
            }
        }
    }

    /// jemalloc preloaded in a unit's own environment.
    fn jemalloc(&mut self, units: &[UnitDef], name: &str, pointer: String) {
        let Some(&i) = self.origin.get(name) else { return };
        let Some(v) = units[i].env.get("LD_PRELOAD") else { return };
        if v.v.contains("jemalloc") {
            if pointer.starts_with("/web/") {
                if let Some(u) = self.plan.web.iter_mut().find(|u| u.name == name) {
                    u.jemalloc = true;
                }
            } else if let Some(u) = self.plan.sidekiq.iter_mut().find(|u| u.name == name) {
                u.jemalloc = true;
            }
            self.take(&v.at, pointer, true);
        }
    }

    // -- PgBouncer and routing ---------------------------------------------------------------

    /// Where a bouncer goes when the plan has none: the DB_HOST the app names, if it is a plan
    /// host; beside the app for a local address.
    fn bouncer_host(&mut self, env: &Env) -> String {
        if let Some(h) = env.get("DB_HOST") {
            self.used.insert("DB_HOST".into());
            let host = h.v.trim();
            if !is_local(host) {
                if let Some(name) = self.host_named(host) {
                    return name;
                }
                self.note(
                    &h.at,
                    NoteAction::Ignored,
                    format!("{} is no host of the plan: PgBouncer placed beside the app instead", quoted(host)),
                );
            }
        }
        self.default_host(UnitKind::Web)
    }

    fn add_bouncer(&mut self, at: &At, env: &Env) -> usize {
        let host = self.bouncer_host(env);
        let mut name = "pgbouncer".to_string();
        let mut k = 2;
        while self.plan.pgbouncers.iter().any(|b| b.name == name) {
            name = format!("pgbouncer-{k}");
            k += 1;
        }
        self.plan.pgbouncers.push(PgBouncer {
            name: name.clone(),
            host: host.clone(),
            pool_mode: crate::plan::PoolMode::Session,
            max_client_conn: crate::plan::defaults::max_client_conn(),
            default_pool_size: crate::plan::defaults::default_pool_size(),
            reserve_pool_size: 0,
            max_db_connections: 0,
            databases: 1,
            limit_nofile: crate::plan::defaults::limit_nofile(),
            listen_port: crate::plan::defaults::pgbouncer_port(),
        });
        let i = self.plan.pgbouncers.len() - 1;
        self.take_with(
            at,
            format!("/pgbouncers/{i}"),
            &name,
            format!("PgBouncer {name} added on {host}, with PgBouncer's own defaults where the input says nothing"),
        );
        i
    }

    fn bouncers(&mut self, b: &BouncerFacts, env: &Env) {
        let first_at = b
            .seen
            .clone()
            .or_else(|| b.pool_mode.as_ref().map(|v| v.at.clone()))
            .or_else(|| b.max_client_conn.as_ref().map(|v| v.at.clone()))
            .or_else(|| b.default_pool_size.as_ref().map(|v| v.at.clone()))
            .or_else(|| b.listen_port.as_ref().map(|v| v.at.clone()))
            .or_else(|| b.limit_nofile.as_ref().map(|v| v.at.clone()));
        let Some(first_at) = first_at else { return };
        if self.plan.pgbouncers.is_empty() {
            self.add_bouncer(&first_at, env);
        }
        let n = self.plan.pgbouncers.len();
        let all = |field: &str| -> Vec<String> { (0..n).map(|i| format!("/pgbouncers/{i}/{field}")).collect() };
        if n > 1 {
            self.note(&first_at, NoteAction::Ignored, format!("the plan has {n} PgBouncers: these settings are applied to every one"));
        }
        if let Some(v) = &b.pool_mode {
            for (i, p) in all("pool_mode").into_iter().enumerate() {
                self.plan.pgbouncers[i].pool_mode = v.v;
                self.take(&v.at, p, v.v.name());
            }
        }
        let numbers: [(&Option<Val<u32>>, &str, u32, u32); 7] = [
            (&b.max_client_conn, "max_client_conn", 1, 1_000_000),
            (&b.default_pool_size, "default_pool_size", 1, 100_000),
            (&b.reserve_pool_size, "reserve_pool_size", 0, 100_000),
            (&b.max_db_connections, "max_db_connections", 0, 100_000),
            (&b.listen_port, "listen_port", 1, 65_535),
            (&b.databases, "databases", 1, 1000),
            (&b.limit_nofile, "limit_nofile", 16, 1 << 30),
        ];
        for (slot, field, min, max) in numbers {
            let Some(val) = slot else { continue };
            let Some(v) = self.in_range(val, min, max) else { continue };
            for (i, p) in all(field).into_iter().enumerate() {
                let bn = &mut self.plan.pgbouncers[i];
                match field {
                    "max_client_conn" => bn.max_client_conn = v,
                    "default_pool_size" => bn.default_pool_size = v,
                    "reserve_pool_size" => bn.reserve_pool_size = v,
                    "max_db_connections" => bn.max_db_connections = v,
                    "listen_port" => bn.listen_port = v as u16,
                    "databases" => bn.databases = v,
                    _ => bn.limit_nofile = v,
                }
                self.take(&val.at, p, v);
            }
        }
    }

    /// DB_PORT decides whether a unit's pools go through PgBouncer.
    fn routing(&mut self, units: &[UnitDef], env: &Env) {
        let mut targets: Vec<(UnitKind, usize, String, String)> = Vec::new();
        for (i, u) in self.plan.web.iter().enumerate() {
            targets.push((UnitKind::Web, i, u.name.clone(), u.host.clone()));
        }
        for (i, u) in self.plan.streaming.iter().enumerate() {
            targets.push((UnitKind::Streaming, i, u.name.clone(), u.host.clone()));
        }
        for (i, u) in self.plan.sidekiq.iter().enumerate() {
            targets.push((UnitKind::Sidekiq, i, u.name.clone(), u.host.clone()));
        }
        let mut bad_ports: BTreeSet<(String, Option<usize>)> = BTreeSet::new();
        for (kind, i, name, host) in targets {
            let Some((v, _)) = self.unit_var(units, &name, "DB_PORT", env) else { continue };
            let Some(port) = parse_u32(&v.v).filter(|p| (1..=65_535).contains(p)) else {
                if bad_ports.insert((v.at.source.clone(), v.at.line)) {
                    self.note(&v.at, NoteAction::Malformed, format!("{} is not a port", quoted(&v.v)));
                }
                continue;
            };
            let bouncer_port = self.plan.pgbouncers.iter().any(|b| u32::from(b.listen_port) == port);
            let via = if bouncer_port || port == 6432 {
                if self.plan.pgbouncers.is_empty() {
                    let b = self.add_bouncer(&v.at, env);
                    self.plan.pgbouncers[b].listen_port = port as u16;
                }
                let bs = &self.plan.pgbouncers;
                let pick = bs
                    .iter()
                    .find(|b| b.host == host && u32::from(b.listen_port) == port)
                    .or_else(|| bs.iter().find(|b| u32::from(b.listen_port) == port))
                    .or_else(|| bs.first())
                    .map(|b| b.name.clone());
                pick
            } else {
                None
            };
            let pointer = format!("/{}/{i}/pgbouncer", kind.name());
            let shown = via.clone().unwrap_or_else(|| "none (straight to Postgres)".into());
            match kind {
                UnitKind::Web => self.plan.web[i].pgbouncer = via,
                UnitKind::Streaming => self.plan.streaming[i].pgbouncer = via,
                UnitKind::Sidekiq => self.plan.sidekiq[i].pgbouncer = via,
            }
            self.take(&v.at, pointer, shown);
        }
    }

    // -- The rest of the app's environment -------------------------------------------------

    fn app_env(&mut self, env: &Env) {
        if let Some(v) = env.get("PREPARED_STATEMENTS") {
            self.used.insert("PREPARED_STATEMENTS".into());
            match parse_bool(&v.v) {
                Some(b) => {
                    self.plan.prepared_statements = b;
                    self.take(&v.at, "/prepared_statements".into(), b);
                }
                None => self.note(&v.at, NoteAction::Malformed, format!("{} is not true or false", quoted(&v.v))),
            }
        }
        if let Some(v) = env.get("S3_ENABLED") {
            self.used.insert("S3_ENABLED".into());
            match parse_bool(&v.v) {
                Some(true) => {
                    self.plan.media = MediaStorage::S3Compatible;
                    self.take(&v.at, "/media".into(), "s3-compatible");
                }
                Some(false) if self.plan.media == MediaStorage::S3Compatible => {
                    self.plan.media = MediaStorage::LocalDisk;
                    self.take_with(
                        &v.at,
                        "/media".into(),
                        "local-disk",
                        "media on the local filesystem (an NFS mount looks the same from here: set it if that is what it is)".into(),
                    );
                }
                Some(false) => {
                    self.take_with(&v.at, "/media".into(), "unchanged", "media not on object storage: the plan's filesystem storage stays".into());
                }
                None => self.note(&v.at, NoteAction::Malformed, format!("{} is not true or false", quoted(&v.v))),
            }
        }
        for key in ["REPLICA_DB_HOST", "REPLICA_DATABASE_URL"] {
            let Some(v) = env.get(key) else { continue };
            self.used.insert(key.into());
            let host = if key == "REPLICA_DATABASE_URL" {
                url_host_port(&v.v).map(|(h, _)| h).unwrap_or_default()
            } else {
                v.v.trim().to_string()
            };
            match self.host_named(&host) {
                Some(name) => {
                    let replica = self.plan.replica.get_or_insert_with(|| Replica {
                        host: name.clone(),
                        max_connections: crate::plan::defaults::max_connections(),
                        superuser_reserved_connections: crate::plan::defaults::superuser_reserved_connections(),
                    });
                    replica.host = name.clone();
                    self.take(&v.at, "/replica/host".into(), name);
                }
                None => self.note(
                    &v.at,
                    NoteAction::Ignored,
                    format!("a read replica at {} is no host of the plan: add the host, then the replica", shown_value(key, &host)),
                ),
            }
        }
    }

    // -- Redis --------------------------------------------------------------------------------

    /// (host, port, db) a role's variables point at, and where that was read.
    fn redis_endpoint(&mut self, env: &Env, prefix: &str, base: Option<&Endpoint>) -> Option<(Endpoint, At)> {
        let url_key = format!("{prefix}REDIS_URL");
        let host_key = format!("{prefix}REDIS_HOST");
        let port_key = format!("{prefix}REDIS_PORT");
        let db_key = format!("{prefix}REDIS_DB");
        if let Some(u) = env.get(&url_key) {
            self.used.insert(url_key.clone());
            if u.v.trim().starts_with("unix:") || u.v.trim().starts_with('/') {
                return Some(((u.v.trim().to_string(), None, None), u.at.clone()));
            }
            let (host, port) = url_host_port(&u.v).unwrap_or_default();
            let db = strip_userinfo(&u.v)
                .split_once("://")
                .and_then(|(_, rest)| rest.split_once('/'))
                .and_then(|(_, db)| parse_u32(db.split('?').next().unwrap_or(db)));
            return Some(((host, Some(port.unwrap_or(6379)), Some(db.unwrap_or(0))), u.at.clone()));
        }
        let host = env.get(&host_key);
        let port = env.get(&port_key);
        if host.is_none() && port.is_none() {
            return None;
        }
        let at = host.or(port).map(|v| v.at.clone()).expect("one is set");
        self.used.insert(host_key.clone());
        self.used.insert(port_key.clone());
        let h = host.map(|v| v.v.trim().to_string()).or_else(|| base.map(|b| b.0.clone())).unwrap_or_else(|| "localhost".into());
        let p = match port {
            Some(v) => match parse_u32(&v.v) {
                Some(p) => Some(p),
                None => {
                    self.note(&v.at, NoteAction::Malformed, format!("{} is not a port", quoted(&v.v)));
                    base.and_then(|b| b.1)
                }
            },
            None => base.and_then(|b| b.1).or(Some(6379)),
        };
        let db = env.get(&db_key).and_then(|v| parse_u32(&v.v)).or(base.and_then(|b| b.2)).or(Some(0));
        Some(((h, p, db), at))
    }

    fn redis_env(&mut self, env: &Env, helm: &HelmFacts) {
        let base = self.redis_endpoint(env, "", None);
        let base_ep = base.as_ref().map(|(e, _)| e.clone());
        let cache = self.redis_endpoint(env, "CACHE_", base_ep.as_ref());
        let sidekiq = self.redis_endpoint(env, "SIDEKIQ_", base_ep.as_ref());

        if let Some((ep, at)) = &base {
            self.redis_role(RedisRole::Persistent, ep, at);
        }
        let same_instance = |a: &Endpoint, b: Option<&Endpoint>| {
            let b_host = b.map(|b| b.0.as_str()).unwrap_or("localhost");
            let b_port = b.and_then(|b| b.1).unwrap_or(6379);
            (a.0 == b_host || is_local(&a.0) && is_local(b_host)) && a.1.unwrap_or(6379) == b_port
        };
        for (role, found, helm_flag, label) in [
            (RedisRole::Cache, cache, &helm.redis_cache_separate, "CACHE_REDIS_*"),
            (RedisRole::SidekiqOnly, sidekiq, &helm.redis_sidekiq_separate, "SIDEKIQ_REDIS_*"),
        ] {
            match found {
                Some((ep, at)) if !same_instance(&ep, base_ep.as_ref()) => self.redis_role(role, &ep, &at),
                Some((ep, at)) => {
                    let db_note = if ep.2 != base_ep.as_ref().and_then(|b| b.2) {
                        " (only another database number: the same Redis process, CPU and persistence)"
                    } else {
                        ""
                    };
                    self.remove_role(role, &at, &format!("{label} points at the same instance as REDIS_*{db_note}"), true);
                }
                None => match (helm_flag, &base) {
                    (Some(flag), _) if flag.v => self.redis_role(role, &(String::new(), None, None), &flag.at),
                    (Some(flag), _) => {
                        self.remove_role(role, &flag.at, "the chart's separate instance is disabled: this data lives in the main Redis", true)
                    }
                    (None, Some((_, at))) => {
                        self.remove_role(role, at, &format!("{label} is not set, so this data lives in the REDIS_* instance"), false)
                    }
                    (None, None) => {}
                },
            }
        }
    }

    fn remove_role(&mut self, role: RedisRole, at: &At, why: &str, say_if_none: bool) {
        let gone: Vec<String> = self.plan.redis.iter().filter(|r| r.role == role).map(|r| r.name.clone()).collect();
        if gone.is_empty() {
            if say_if_none {
                self.note(at, NoteAction::Ignored, format!("{why}: the plan already has no separate instance for it"));
            }
            return;
        }
        self.plan.redis.retain(|r| r.role != role);
        let names = super::text::list(&gone, 4);
        self.take_with(at, "/redis".into(), format!("without {names}"), format!("{why}: {names} removed from the plan"));
    }

    fn redis_role(&mut self, role: RedisRole, ep: &Endpoint, at: &At) {
        let idx = match self.plan.redis.iter().position(|r| r.role == role) {
            Some(i) => i,
            None => {
                let base_name = match role {
                    RedisRole::Persistent => "redis",
                    RedisRole::Cache => "redis-cache",
                    RedisRole::SidekiqOnly => "redis-sidekiq",
                };
                let mut name = base_name.to_string();
                let mut k = 2;
                while self.plan.redis.iter().any(|r| r.name == name) {
                    name = format!("{base_name}-{k}");
                    k += 1;
                }
                let host = self
                    .plan
                    .redis
                    .first()
                    .map(|r| r.host.clone())
                    .unwrap_or_else(|| self.default_host(UnitKind::Web));
                self.plan.redis.push(RedisInstance {
                    name: name.clone(),
                    host,
                    role,
                    port: crate::plan::defaults::redis_port(),
                    // Redis's own defaults until its redis.conf says otherwise.
                    persistence: RedisPersistence::Rdb,
                    maxmemory_mb: 0,
                    eviction_policy: crate::plan::EvictionPolicy::Noeviction,
                });
                let i = self.plan.redis.len() - 1;
                self.take_with(
                    at,
                    format!("/redis/{i}"),
                    &name,
                    format!("Redis instance {name} added with Redis's defaults (RDB snapshots, noeviction, no maxmemory): import its redis.conf for the real ones"),
                );
                i
            }
        };
        let role_name = match role {
            RedisRole::Persistent => "persistent",
            RedisRole::Cache => "cache",
            RedisRole::SidekiqOnly => "sidekiq-only",
        };
        let name = self.plan.redis[idx].name.clone();
        self.take(at, format!("/redis/{idx}/role"), format!("{role_name} ({name})"));
        if let Some(port) = ep.1 {
            if (1..=65_535).contains(&port) {
                self.plan.redis[idx].port = port as u16;
                self.take(at, format!("/redis/{idx}/port"), port);
            }
        }
        if !is_local(&ep.0) {
            if let Some(h) = self.host_named(&ep.0) {
                self.plan.redis[idx].host = h.clone();
                self.take(at, format!("/redis/{idx}/host"), h);
            }
        }
    }

    fn redis_confs(&mut self, confs: &[RedisConf]) {
        for conf in confs {
            let port = conf.port.as_ref().map_or(6379, |p| p.v);
            let idx = match self.plan.redis.iter().position(|r| u32::from(r.port) == port) {
                Some(i) => i,
                None if self.plan.redis.is_empty() => {
                    self.redis_role(RedisRole::Persistent, &(String::new(), Some(port), None), &conf.at);
                    self.plan.redis.len() - 1
                }
                None => {
                    let ports: Vec<String> = self.plan.redis.iter().map(|r| format!("{} on {}", r.name, r.port)).collect();
                    self.note(
                        &conf.at,
                        NoteAction::Ignored,
                        format!("no Redis instance of the plan listens on port {port} ({}): set the port first", super::text::list(&ports, 4)),
                    );
                    continue;
                }
            };
            let name = self.plan.redis[idx].name.clone();
            if let Some(p) = &conf.port {
                self.take_with(&p.at, format!("/redis/{idx}/port"), p.v, format!("matched to {name} by its port {}", p.v));
            }
            if let Some(v) = &conf.maxmemory_mb {
                if let Some(mb) = self.in_range(v, 0, 64 * 1024 * 1024) {
                    self.plan.redis[idx].maxmemory_mb = mb;
                    self.take(&v.at, format!("/redis/{idx}/maxmemory_mb"), mb);
                }
            }
            if let Some(v) = &conf.policy {
                self.plan.redis[idx].eviction_policy = v.v;
                self.take(&v.at, format!("/redis/{idx}/eviction_policy"), v.v.name());
            }
            if conf.appendonly.is_some() || conf.save.is_some() {
                // Redis's defaults: appendonly no, snapshots on.
                let aof = conf.appendonly.as_ref().is_some_and(|v| v.v);
                let rdb = conf.save.as_ref().is_none_or(|v| v.v);
                let p = match (aof, rdb) {
                    (true, true) => RedisPersistence::AofRdb,
                    (true, false) => RedisPersistence::Aof,
                    (false, true) => RedisPersistence::Rdb,
                    (false, false) => RedisPersistence::None,
                };
                self.plan.redis[idx].persistence = p;
                let label = format!("{p:?}").to_lowercase();
                for v in [conf.appendonly.as_ref().map(|v| &v.at), conf.save.as_ref().map(|v| &v.at)].into_iter().flatten() {
                    self.take(v, format!("/redis/{idx}/persistence"), &label);
                }
            }
        }
    }

    fn unused_env(&mut self, env: &Env) {
        for (key, v) in env {
            if self.used.contains(key) || self.taken.iter().any(|t| t.at == v.at) {
                continue;
            }
            let why = match ignored_reason(key) {
                Some(r) => r.to_string(),
                None if APP_KEYS.contains(&key.as_str()) => match key.as_str() {
                    "WEB_CONCURRENCY" | "MAX_THREADS" | "TRUSTED_PROXY_IP" => "the plan has no web unit to apply it to".into(),
                    "DB_POOL" => "the plan has no unit to apply it to".into(),
                    _ => "already set where it applies".into(),
                },
                None => "not part of a capacity plan".into(),
            };
            self.note(&v.at, NoteAction::Ignored, why);
        }
    }

    fn finish(mut self, sources: &[String]) -> (Plan, Vec<ImportNote>) {
        for t in std::mem::take(&mut self.taken) {
            let fields: Vec<String> = t.fields.iter().map(|(p, _)| p.clone()).filter(|p| !p.is_empty()).collect();
            let listed: Vec<String> = t
                .fields
                .iter()
                .filter(|(p, _)| !p.is_empty())
                .take(6)
                .map(|(p, v)| format!("{p} = {v}"))
                .collect();
            let more = fields.len().saturating_sub(6);
            let mut message = t.message.clone().unwrap_or_default();
            if !listed.is_empty() {
                if !message.is_empty() {
                    message.push_str(": ");
                }
                message.push_str(&listed.join(", "));
                if more > 0 {
                    message.push_str(&format!(" and {more} more"));
                }
            }
            self.notes.push(ImportNote {
                source: t.at.source.clone(),
                line: t.at.line,
                key: t.at.key.clone(),
                action: NoteAction::Taken,
                message,
                fields,
            });
        }
        // The same problem met once per unit is said once.
        let mut seen = BTreeSet::new();
        self.notes.retain(|n| seen.insert((n.source.clone(), n.line, n.key.clone(), n.action, n.message.clone())));
        let order = |s: &str| sources.iter().position(|x| x == s).unwrap_or(usize::MAX);
        self.notes.sort_by_key(|n| (order(&n.source), n.line.unwrap_or(0)));

        if let Err(e) = self.plan.validate() {
            // Every value is range-checked on the way in, so this is a bug; the plan stays
            // valid all the same.
            self.notes.push(ImportNote {
                source: "import".into(),
                line: None,
                key: e.path.clone(),
                action: NoteAction::Ignored,
                message: format!("the imported plan would not be valid ({e}): nothing was applied"),
                fields: Vec::new(),
            });
            return (self.base.clone(), self.notes);
        }
        (self.plan, self.notes)
    }
}

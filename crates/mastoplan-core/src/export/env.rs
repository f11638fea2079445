//! Environment files: one per host and unit kind, one per sidekiq template.
//!
//! The systemd units load them with `EnvironmentFile=`. Mastodon reads `.env.production` with
//! dotenv afterwards, and dotenv never overrides a variable that is already set, so these
//! values win over the same keys in `.env.production`, which keeps the secrets. The format
//! (`KEY=VALUE`, `#` comments) is read alike by systemd and dotenv.

use super::{header, host_port, Ctx, ExportFile, POSTGRES_PORT};
use crate::budget::{ConnectionLine, UnitKind};

/// Paths of the env files of web and streaming; sidekiq's are per template
/// ([`super::SidekiqLayout::env_file`]).
pub const WEB_ENV: &str = "/etc/mastodon/web.env";
pub const STREAMING_ENV: &str = "/etc/mastodon/streaming.env";

pub fn files(cx: &Ctx) -> Vec<ExportFile> {
    let plan = cx.plan;
    let mut out = Vec::new();
    for (i, w) in plan.web.iter().enumerate() {
        let line = cx.line(UnitKind::Web, i);
        let mut e = EnvFile::new(cx, &format!("Environment of mastodon-web.service (web unit {}) on host {}.", w.name, w.host));
        database(&mut e, cx, line);
        e.comment(&format!(
            "Puma: {} worker processes x {} threads; each process pools DB_POOL connections.",
            w.web_concurrency, w.max_threads
        ));
        e.var("WEB_CONCURRENCY", w.web_concurrency);
        e.var("MAX_THREADS", w.max_threads);
        prepared_statements(&mut e, cx);
        replica(&mut e, cx, line);
        redis(&mut e, cx, line);
        // nginx on another host is a proxy Puma must trust to read client addresses.
        let proxy = match (&w.trusted_proxy_ip, &plan.nginx) {
            (Some(ip), _) => Some((ip.clone(), "from the plan".to_string())),
            (None, Some(n)) if n.host != w.host => {
                Some((cx.address(&n.host), format!("nginx runs on host {}, not on this one", n.host)))
            }
            _ => None,
        };
        if let Some((ip, why)) = proxy {
            e.blank();
            e.comment(&format!("The proxy in front of Puma, trusted for client addresses: {why}."));
            e.var("TRUSTED_PROXY_IP", ip);
        }
        out.push(e.finish(&w.host, super::env::WEB_ENV));
    }
    for (i, s) in plan.streaming.iter().enumerate() {
        let line = cx.line(UnitKind::Streaming, i);
        let mut e = EnvFile::new(
            cx,
            &format!("Environment of mastodon-streaming@PORT.service (streaming unit {}) on host {}.", s.name, s.host),
        );
        database(&mut e, cx, line);
        if plan.replica.is_some() {
            e.comment("The streaming server reads no REPLICA_* variable: it uses the primary only.");
        }
        redis(&mut e, cx, line);
        out.push(e.finish(&s.host, STREAMING_ENV));
    }
    for (i, s) in plan.sidekiq.iter().enumerate() {
        let line = cx.line(UnitKind::Sidekiq, i);
        let layout = &cx.sidekiq[i];
        let mut e = EnvFile::new(
            cx,
            &format!(
                "Environment of {}@.service (sidekiq unit {}, queues {}) on host {}.",
                layout.template,
                s.name,
                s.queues.iter().map(|q| q.name()).collect::<Vec<_>>().join(", "),
                s.host
            ),
        );
        database(&mut e, cx, line);
        if line.pool == s.concurrency {
            e.comment(&format!("The unit starts sidekiq with -c $DB_POOL: {} threads, one connection each.", s.concurrency));
        } else {
            e.comment(&format!(
                "The plan gives this unit -c {} threads but a pool of {}: the unit passes -c {} as written.",
                s.concurrency, line.pool, s.concurrency
            ));
        }
        prepared_statements(&mut e, cx);
        replica(&mut e, cx, line);
        redis(&mut e, cx, line);
        out.push(e.finish(&s.host, &layout.env_file));
    }
    out
}

fn database(e: &mut EnvFile, cx: &Ctx, line: &ConnectionLine) {
    let (host, port, why) = cx.db_endpoint(line);
    e.blank();
    e.comment(&format!("Database: {why}."));
    e.var("DB_HOST", host);
    e.var("DB_PORT", port);
    let mut how = format!("Pool per process; this unit opens {}.", line.derivation);
    if let Some(d) = &line.default_applied {
        how.push_str(&format!(" The plan leaves DB_POOL unset ({d}); written out so it cannot drift."));
    }
    e.comment(&how);
    e.var("DB_POOL", line.pool);
}

fn prepared_statements(e: &mut EnvFile, cx: &Ctx) {
    e.comment("Prepared statements: PgBouncer in transaction mode cannot keep them (Mastodon's default is true).");
    e.var("PREPARED_STATEMENTS", cx.plan.prepared_statements);
}

fn replica(e: &mut EnvFile, cx: &Ctx, line: &ConnectionLine) {
    if let Some(r) = &cx.plan.replica {
        e.blank();
        e.comment(&format!(
            "Read replica on host {}: every process opens a second pool of DB_POOL there, straight to Postgres.",
            r.host
        ));
        e.var("REPLICA_DB_HOST", cx.reach(&line.host, &r.host));
        e.var("REPLICA_DB_PORT", POSTGRES_PORT);
    }
}

fn redis(e: &mut EnvFile, cx: &Ctx, line: &ConnectionLine) {
    e.blank();
    let vars = cx.redis_env(line.kind);
    if cx.plan.redis_for(crate::plan::RedisRole::Persistent).is_none() {
        e.comment("The plan has no persistent Redis: REDIS_URL is left to Mastodon's default, localhost:6379.");
    }
    for (var, r) in vars {
        e.comment(&format!("Redis {} ({} role) on host {}.", r.name, super::redis::role_text(r.role), r.host));
        e.var(var, format!("redis://{}", host_port(&cx.reach(&line.host, &r.host), r.port)));
    }
}

struct EnvFile {
    text: String,
}

impl EnvFile {
    fn new(cx: &Ctx, what: &str) -> Self {
        let mut text = header("#", cx.plan, what);
        text.push_str("# Loaded by systemd before Mastodon reads .env.production; dotenv never overrides a set\n");
        text.push_str("# variable, so these values win. Keep secrets in .env.production.\n");
        EnvFile { text }
    }

    fn comment(&mut self, c: &str) {
        self.text.push_str("# ");
        self.text.push_str(c);
        self.text.push('\n');
    }

    fn blank(&mut self) {
        self.text.push('\n');
    }

    fn var(&mut self, key: &str, value: impl ToString) {
        self.text.push_str(key);
        self.text.push('=');
        self.text.push_str(&value.to_string());
        self.text.push('\n');
    }

    fn finish(self, host: &str, path: &str) -> ExportFile {
        ExportFile {
            host: Some(host.to_string()),
            path: path.trim_start_matches('/').to_string(),
            content: self.text,
        }
    }
}

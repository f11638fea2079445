//! A `values.yaml` fragment for the official Helm chart (mastodon/chart), where the plan maps
//! onto it: sidekiq workers (name, concurrency, replicas, queues), web and streaming replicas,
//! Puma's workers and threads, prepared statements, external Postgres (with the direct address
//! migrations need behind a pooler) and the three Redis roles. What does
//! not map is said in a comment at the place it would go.
//!
//! Strings are always double-quoted: names hold only `[A-Za-z0-9._-]`, which needs no escape,
//! and quoting keeps a name like `true` or `1e3` a string.

use super::{header, queue_weight, Ctx, ExportFile, POSTGRES_PORT};
use crate::budget::UnitKind;
use crate::plan::RedisRole;

pub const PATH: &str = "helm/values.yaml";

pub fn file(cx: &Ctx) -> ExportFile {
    let plan = cx.plan;
    let mut y = header("#", plan, "Values for the official Helm chart (mastodon/chart): merge into your values.yaml.");
    y.push_str("# Hosts have no meaning in Kubernetes: units become replicas, and the plan's placement is dropped.\n");
    y.push_str("mastodon:\n");

    // Web: one Deployment, the same Puma settings in every pod.
    y.push_str("  web:\n");
    let webs = &plan.web;
    if let Some(first) = webs.first() {
        let same = webs.iter().all(|w| w.web_concurrency == first.web_concurrency && w.max_threads == first.max_threads);
        y.push_str(&format!("    # {} web unit(s), one pod each.\n", webs.len()));
        y.push_str(&format!("    replicas: {}\n", webs.len()));
        if !same {
            y.push_str(&format!(
                "    # Does not map: the web units differ in processes or threads, the chart has one setting; these are {}'s.\n",
                first.name
            ));
        }
        y.push_str(&format!("    workers: \"{}\"\n", first.web_concurrency));
        y.push_str(&format!("    minThreads: \"{}\"\n", first.max_threads));
        y.push_str(&format!("    maxThreads: \"{}\"\n", first.max_threads));
        if webs.iter().any(|w| w.db_pool.is_some_and(|p| p != w.max_threads)) {
            y.push_str("    # Does not map: a web DB_POOL other than MAX_THREADS; the chart sets none, so pools follow maxThreads.\n");
        }
    } else {
        y.push_str("    # The plan has no web unit.\n    replicas: 0\n");
    }

    y.push_str("  streaming:\n");
    let replicas: u32 = plan.streaming.iter().map(|s| s.instances).sum();
    y.push_str(&format!("    # One pod per mastodon-streaming@PORT instance of the plan: {replicas}.\n"));
    y.push_str(&format!("    replicas: {replicas}\n"));
    if plan.streaming.iter().any(|s| s.db_pool.is_some_and(|p| p != 10)) {
        y.push_str("    # Does not map: the plan's streaming DB_POOL; the chart sets none, so each pod pools 10.\n");
    }

    y.push_str("  sidekiq:\n    workers:\n");
    if plan.sidekiq.is_empty() {
        y.push_str("      []\n");
    }
    let mut used_names: Vec<String> = Vec::new();
    for (i, s) in plan.sidekiq.iter().enumerate() {
        let line = cx.line(UnitKind::Sidekiq, i);
        // Deployment names are lowercase letters, digits and '-'.
        let mut name: String = s
            .name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
            .collect();
        if used_names.contains(&name) {
            name = format!("{name}-{i}");
        }
        used_names.push(name.clone());
        y.push_str(&format!("      - name: \"{name}\"\n"));
        y.push_str(&format!("        concurrency: {}\n", s.concurrency));
        y.push_str(&format!("        replicas: {}\n", s.instances));
        let chart_pool = plan.mastodon_version.sidekiq_default_pool(s.concurrency).0;
        if line.pool != chart_pool {
            y.push_str(&format!(
                "        # Does not map: the plan's DB_POOL {}; the chart sets none, so Mastodon {} pools {}.\n",
                line.pool,
                plan.mastodon_version.label(),
                chart_pool
            ));
        }
        if s.queues.contains(&crate::plan::Queue::Scheduler) && s.instances > 1 {
            y.push_str("        # Does not map: the chart refuses a scheduler worker with more than one replica.\n");
        }
        y.push_str("        queues:\n");
        if let [only] = s.queues.as_slice() {
            y.push_str(&format!("          - \"{}\"\n", only.name()));
        } else {
            for q in &s.queues {
                y.push_str(&format!("          - \"{},{}\"\n", q.name(), queue_weight(*q)));
            }
        }
    }
    y.push_str(&format!("  preparedStatements: {}\n", plan.prepared_statements));

    let pg_address = cx.address(&plan.postgres.host);
    y.push_str("postgresql:\n  enabled: false\n");
    if !plan.pgbouncers.is_empty() {
        y.push_str("  # Does not map: the plan's PgBouncers sit on its hosts. To pool, run PgBouncer as a Service and\n");
        y.push_str("  # point postgresqlHostname and postgresqlPort at it; as written, pods connect to Postgres itself.\n");
    }
    y.push_str(&format!("  postgresqlHostname: \"{pg_address}\"\n"));
    y.push_str(&format!("  postgresqlPort: {POSTGRES_PORT}\n"));
    if !plan.pgbouncers.is_empty() {
        y.push_str("  # Migrations cannot run through PgBouncer: the chart's hooks use this direct address.\n");
        y.push_str(&format!("  direct:\n    hostname: \"{pg_address}\"\n    port: {POSTGRES_PORT}\n"));
    }
    if let Some(r) = &plan.replica {
        y.push_str(&format!("  readReplica:\n    hostname: \"{}\"\n    port: {POSTGRES_PORT}\n", cx.address(&r.host)));
    }

    y.push_str("redis:\n  enabled: false\n");
    match plan.redis_for(RedisRole::Persistent) {
        Some(r) => y.push_str(&format!("  hostname: \"{}\"\n  port: {}\n", cx.address(&r.host), r.port)),
        None => y.push_str("  # Does not map: the plan has no persistent Redis, and the chart requires one.\n"),
    }
    for (key, role) in [("sidekiq", RedisRole::SidekiqOnly), ("cache", RedisRole::Cache)] {
        if let Some(r) = plan.redis.iter().find(|r| r.role == role) {
            y.push_str(&format!(
                "  {key}:\n    enabled: true\n    hostname: \"{}\"\n    port: {}\n",
                cx.address(&r.host),
                r.port
            ));
        }
    }
    ExportFile { host: None, path: PATH.into(), content: y }
}

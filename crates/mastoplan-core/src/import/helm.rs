//! The official Helm chart's `values.yaml` (mastodon/chart), read the way the chart's
//! templates turn it into pods: each `mastodon.sidekiq.workers[]` entry is a Deployment of
//! `replicas` pods running `sidekiq -c concurrency -q …`; web and streaming are Deployments
//! of `replicas` pods; the ConfigMap gives every pod `DB_POOL` = the largest worker
//! concurrency (at least 5), `PREPARED_STATEMENTS`, `DB_HOST`/`DB_PORT` and
//! `mastodon.extraEnvVars`.

use std::collections::BTreeMap;

use super::text::{clean, parse_bool, parse_u32, quoted};
use super::yaml::{self, Node};
use super::{Collector, NoteAction, UnitDef, UnitKind, Val};

/// More web pods than this are not turned into units one by one.
const MAX_WEB_REPLICAS: u32 = 200;

pub(crate) fn read(c: &mut Collector, input: &str) {
    let (root, notes) = yaml::parse(input);
    for (line, message) in notes {
        c.note_line(line, "", NoteAction::Malformed, message);
    }
    let Some(root) = root else { return };
    if !matches!(root, Node::Map { .. }) {
        c.note_input(NoteAction::Ignored, "not a YAML mapping: nothing to read".into());
        return;
    }
    note_duplicate_keys(c, &root);

    if let Some(tag) = root.path(&["image", "tag"]).filter(|n| !n.is_null()) {
        if let Some(v) = tag.scalar() {
            c.recognised += 1;
            let at = c.at(Some(tag.line()), "image.tag");
            Collector::set(&mut c.notes, &mut c.helm.version, Val { v: v.to_string(), at });
        }
    }

    let Some(m) = root.get("mastodon") else {
        c.note_input(NoteAction::Ignored, "no `mastodon:` section: not the official chart's values".into());
        return;
    };

    // Sidekiq workers, and the DB_POOL the ConfigMap derives from them.
    let mut max_pool = 5u32;
    let mut pool_line = None;
    if let Some(workers) = m.path(&["sidekiq", "workers"]) {
        pool_line = Some(workers.line());
        match workers {
            Node::Seq { items, .. } => {
                for w in items {
                    if let Some(conc) = sidekiq_worker(c, w) {
                        max_pool = max_pool.max(conc);
                    }
                }
            }
            n if n.is_null() => {}
            n => c.note_line(n.line(), "mastodon.sidekiq.workers", NoteAction::Malformed, "expected a list of workers"),
        }
    }
    if let Some(line) = pool_line {
        c.set_env_as("DB_POOL", max_pool.to_string(), Some(line), "DB_POOL (chart: largest worker -c, at least 5)");
    }

    if let Some(web) = m.get("web").filter(|n| matches!(n, Node::Map { .. })) {
        web_units(c, web);
    }
    if let Some(streaming) = m.get("streaming").filter(|n| matches!(n, Node::Map { .. })) {
        let replicas = number(c, streaming.get("replicas"), "mastodon.streaming.replicas").unwrap_or(1);
        c.add_unit(UnitDef {
            name: "streaming".into(),
            kind: UnitKind::Streaming,
            at: c.at(Some(streaming.line()), "mastodon.streaming"),
            env: BTreeMap::new(),
            concurrency: None,
            queues: None,
            instances: Some(Val { v: replicas, at: c.at(Some(streaming.get("replicas").map_or(streaming.line(), Node::line)), "mastodon.streaming.replicas") }),
            template: false,
        });
        if let Some(w) = streaming.get("workers").filter(|n| !n.is_null()) {
            if let Some(v) = w.scalar() {
                c.set_env("STREAMING_CLUSTER_NUM", v.to_string(), Some(w.line()));
            }
        }
    }
    env_value(c, m.get("preparedStatements"), "PREPARED_STATEMENTS");
    env_value(c, m.path(&["s3", "enabled"]), "S3_ENABLED");

    if let Some(pg) = root.get("postgresql") {
        let enabled = pg.get("enabled").and_then(Node::scalar).and_then(parse_bool);
        if enabled == Some(true) {
            // The chart's own Postgres, reached straight on 5432.
            let line = pg.get("enabled").map(Node::line);
            c.set_env("DB_PORT", "5432".into(), line);
        } else {
            env_value(c, pg.get("postgresqlHostname"), "DB_HOST");
            env_value(c, pg.get("postgresqlPort"), "DB_PORT");
        }
        env_value(c, pg.path(&["readReplica", "hostname"]), "REPLICA_DB_HOST");
    }
    if let Some(redis) = root.get("redis") {
        env_value(c, redis.get("port"), "REDIS_PORT");
        for (key, slot_is_cache) in [("sidekiq", false), ("cache", true)] {
            if let Some(e) = redis.path(&[key, "enabled"]) {
                match e.scalar().and_then(parse_bool) {
                    Some(v) => {
                        c.recognised += 1;
                        let at = c.at(Some(e.line()), &format!("redis.{key}.enabled"));
                        let slot = if slot_is_cache { &mut c.helm.redis_cache_separate } else { &mut c.helm.redis_sidekiq_separate };
                        Collector::set(&mut c.notes, slot, Val { v, at });
                    }
                    None if e.is_null() => {}
                    None => c.note_line(e.line(), &format!("redis.{key}.enabled"), NoteAction::Malformed, "expected true or false"),
                }
            }
        }
    }
    if let Some(Node::Map { entries, .. }) = m.get("extraEnvVars") {
        for (k, line, v) in entries {
            if !super::env::is_env_key(k) {
                c.note_line(*line, &clean(k, 40), NoteAction::Malformed, "not a variable name");
                continue;
            }
            match v.scalar() {
                Some(s) => c.set_env(k, s.to_string(), Some(*line)),
                None => c.note_line(*line, k, NoteAction::Ignored, "not a plain value"),
            }
        }
    }
}

/// A scalar of the chart that becomes an environment variable of every pod.
fn env_value(c: &mut Collector, node: Option<&Node>, var: &str) {
    if let Some(n) = node.filter(|n| !n.is_null()) {
        match n.scalar() {
            Some(v) => c.set_env(var, v.to_string(), Some(n.line())),
            None => c.note_line(n.line(), var, NoteAction::Malformed, "expected a plain value"),
        }
    }
}

fn number(c: &mut Collector, node: Option<&Node>, key: &str) -> Option<u32> {
    let n = node.filter(|n| !n.is_null())?;
    match n.scalar().and_then(parse_u32) {
        Some(v) => Some(v),
        None => {
            let shown = n.scalar().map(quoted).unwrap_or_else(|| "this".into());
            c.note_line(n.line(), key, NoteAction::Malformed, format!("{shown} is not a number"));
            None
        }
    }
}

fn sidekiq_worker(c: &mut Collector, w: &Node) -> Option<u32> {
    let line = w.line();
    let Some(raw_name) = w.get("name").and_then(Node::scalar) else {
        c.note_line(line, "mastodon.sidekiq.workers", NoteAction::Malformed, "a worker without a name");
        return None;
    };
    let name = format!("sidekiq-{raw_name}");
    if let Err(e) = crate::validate::check_name("", &name) {
        c.note_line(line, &clean(raw_name, 40), NoteAction::Ignored, format!("the worker cannot become a unit: {}", e.message));
        return None;
    }
    let conc_node = w.get("concurrency");
    let concurrency = number(c, conc_node, "concurrency");
    let replicas = number(c, w.get("replicas"), "replicas").unwrap_or(1);
    let queues = match w.get("queues") {
        Some(Node::Seq { items, line }) => {
            let qs: Vec<String> = items.iter().filter_map(|q| q.scalar().map(str::to_string)).collect();
            Some(Val { v: qs, at: c.at(Some(*line), "queues") })
        }
        Some(n) if !n.is_null() => {
            c.note_line(n.line(), "queues", NoteAction::Malformed, "expected a list of queues");
            None
        }
        _ => None,
    };
    c.add_unit(UnitDef {
        name: name.clone(),
        kind: UnitKind::Sidekiq,
        at: c.at(Some(line), &name),
        env: BTreeMap::new(),
        concurrency: concurrency.map(|v| Val { v: v.to_string(), at: c.at(conc_node.map(Node::line), "concurrency") }),
        queues,
        instances: Some(Val { v: replicas, at: c.at(Some(w.get("replicas").map_or(line, Node::line)), "replicas") }),
        template: false,
    });
    concurrency
}

fn web_units(c: &mut Collector, web: &Node) {
    let replicas = number(c, web.get("replicas"), "mastodon.web.replicas").unwrap_or(1);
    if replicas > MAX_WEB_REPLICAS {
        c.note_line(
            web.get("replicas").map_or(web.line(), Node::line),
            "mastodon.web.replicas",
            NoteAction::Ignored,
            format!("{replicas} web pods are more than the {MAX_WEB_REPLICAS} the planner lists one by one"),
        );
        return;
    }
    let mut env = BTreeMap::new();
    for (key, var) in [("workers", "WEB_CONCURRENCY"), ("maxThreads", "MAX_THREADS")] {
        if let Some(n) = web.get(key).filter(|n| !n.is_null()) {
            if let Some(v) = n.scalar() {
                c.recognised += 1;
                env.insert(var.to_string(), Val { v: v.to_string(), at: c.at(Some(n.line()), &format!("mastodon.web.{key}")) });
            }
        }
    }
    // The plan has no replica count for web: each pod becomes a web unit.
    for i in 1..=replicas {
        let name = if replicas == 1 { "web".to_string() } else { format!("web-{i}") };
        c.add_unit(UnitDef {
            name,
            kind: UnitKind::Web,
            at: c.at(Some(web.line()), "mastodon.web"),
            env: env.clone(),
            concurrency: None,
            queues: None,
            instances: None,
            template: false,
        });
    }
}

/// Duplicated keys in any mapping: YAML forbids them, Helm takes the last.
fn note_duplicate_keys(c: &mut Collector, root: &Node) {
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        match node {
            Node::Map { entries, .. } => {
                let mut last: BTreeMap<&str, usize> = BTreeMap::new();
                for (k, line, v) in entries {
                    if let Some(old_line) = last.insert(k.as_str(), *line) {
                        let old = c.at(Some(old_line), k);
                        let new = c.at(Some(*line), k);
                        c.notes.push(super::overridden(&old, &new));
                    }
                    stack.push(v);
                }
            }
            Node::Seq { items, .. } => stack.extend(items.iter()),
            _ => {}
        }
    }
}

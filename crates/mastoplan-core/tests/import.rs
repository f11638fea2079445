//! Import fixtures: real-looking configuration files in, exact plan fields out.

use mastoplan_core::import::{apply, detect, Format, ImportInput, ImportNote, ImportOutcome, NoteAction};
use mastoplan_core::{presets, EvictionPolicy, MastodonVersion, MediaStorage, PgBouncer, Plan, PoolMode, Queue, RedisPersistence, RedisRole};
use mastoplan_core::{SidekiqUnit, StreamingUnit, WebUnit};
use pretty_assertions::assert_eq;

fn fixture(path: &str) -> ImportInput {
    let full = format!("{}/tests/fixtures/import/{path}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"));
    ImportInput::new(path.rsplit('/').next().unwrap(), text)
}

fn base(name: &str) -> Plan {
    presets::get(name).unwrap()
}

fn import(base_name: &str, paths: &[&str]) -> ImportOutcome {
    let inputs: Vec<ImportInput> = paths.iter().map(|p| fixture(p)).collect();
    let out = apply(&base(base_name), &inputs);
    out.plan.validate().expect("imported plans are valid");
    out
}

fn notes<'a>(out: &'a ImportOutcome, source: &str, action: NoteAction) -> Vec<&'a ImportNote> {
    out.summary.iter().filter(|n| n.source == source && n.action == action).collect()
}

fn has_note(out: &ImportOutcome, source: &str, line: usize, action: NoteAction, fragment: &str) -> bool {
    out.summary
        .iter()
        .any(|n| n.source == source && n.line == Some(line) && n.action == action && n.message.contains(fragment))
}

#[track_caller]
fn assert_note(out: &ImportOutcome, source: &str, line: usize, action: NoteAction, fragment: &str) {
    assert!(
        has_note(out, source, line, action, fragment),
        "no {action:?} note at {source}:{line} containing {fragment:?}; notes:\n{}",
        out.summary.iter().map(|n| format!("{} {:?} {:?} {} {}", n.source, n.line, n.action, n.key, n.message)).collect::<Vec<_>>().join("\n")
    );
}

fn sidekiq(name: &str, queues: &[Queue], instances: u32, concurrency: u32, db_pool: Option<u32>) -> SidekiqUnit {
    SidekiqUnit {
        name: name.into(),
        host: "mastodon".into(),
        queues: queues.to_vec(),
        instances,
        concurrency,
        db_pool,
        pgbouncer: None,
        jemalloc: true,
    }
}

#[test]
fn stock_files_as_shipped() {
    let out = import(
        "single-server",
        &[
            "stock/env.production",
            "stock/mastodon-web.service",
            "stock/mastodon-sidekiq.service",
            "stock/mastodon-streaming.service",
            "stock/mastodon-streaming@.service",
        ],
    );
    let mut want = base("single-server");
    want.web = vec![WebUnit {
        name: "mastodon-web".into(),
        host: "mastodon".into(),
        web_concurrency: 2,
        max_threads: 5,
        db_pool: None,
        pgbouncer: None,
        trusted_proxy_ip: None,
        jemalloc: true,
    }];
    want.streaming =
        vec![StreamingUnit { name: "mastodon-streaming".into(), host: "mastodon".into(), instances: 1, db_pool: None, pgbouncer: None }];
    want.sidekiq = vec![sidekiq("mastodon-sidekiq", &Queue::ALL, 1, 25, Some(25))];
    // One Redis: REDIS_HOST/PORT and no CACHE_REDIS_*, so the preset's cache instance goes.
    want.redis.retain(|r| r.role == RedisRole::Persistent);
    assert_eq!(out.plan, want);

    for i in &out.inputs {
        assert!(i.recognised > 0, "{} read nothing", i.name);
    }
    assert_eq!(out.inputs[0].format, Some(Format::Env));
    assert!(out.inputs[1..].iter().all(|i| i.format == Some(Format::Systemd)));
    assert_note(&out, "mastodon-sidekiq.service", 10, NoteAction::Taken, "/sidekiq/0/db_pool = 25");
    assert_note(&out, "mastodon-streaming.service", 1, NoteAction::Ignored, "only starts the mastodon-streaming@ instances");
    assert_note(&out, "env.production", 16, NoteAction::Taken, "none (straight to Postgres)");
    assert_note(&out, "env.production", 20, NoteAction::Taken, "redis-cache removed");
    assert_note(&out, "env.production", 6, NoteAction::Ignored, "not part of a capacity plan");
    assert!(out.count(NoteAction::Malformed) == 0, "{:?}", out.summary);
}

#[test]
fn summary_never_quotes_secrets() {
    let out = import("single-server", &["stock/env.production", "hachyderm/env.production"]);
    let all = serde_json::to_string(&out.summary).unwrap();
    for secret in ["3f1c0a6b4e5d", "0123456789abcdef", "correct-horse", "feedsecret", "cachesecret", "jobsecret", "Lk9Jh8"] {
        assert!(!all.contains(secret), "{secret} leaked into the summary");
    }
}

#[test]
fn hachyderm_style_split_with_one_queue_per_template() {
    let out = import(
        "single-server",
        &[
            "hachyderm/env.production",
            "hachyderm/systemctl-cat.txt",
            "hachyderm/list-units.txt",
            "hachyderm/pgbouncer.ini",
            "hachyderm/postgresql.conf",
            "hachyderm/redis-cache-config-get.txt",
            "hachyderm/redis-sidekiq.conf",
        ],
    );
    let mut want = base("single-server");
    let via = Some("pgbouncer".to_string());
    want.web = vec![WebUnit {
        name: "mastodon-web".into(),
        host: "mastodon".into(),
        web_concurrency: 4,
        max_threads: 8,
        db_pool: None,
        pgbouncer: via.clone(),
        trusted_proxy_ip: Some("10.0.0.10".into()),
        jemalloc: true,
    }];
    want.streaming = vec![StreamingUnit {
        name: "mastodon-streaming".into(),
        host: "mastodon".into(),
        instances: 3,
        db_pool: Some(15),
        pgbouncer: via.clone(),
    }];
    want.sidekiq = [
        ("mastodon-sidekiq-default", Queue::Default, 4, 10),
        ("mastodon-sidekiq-push", Queue::Push, 2, 10),
        ("mastodon-sidekiq-pull", Queue::Pull, 2, 10),
        ("mastodon-sidekiq-ingress", Queue::Ingress, 3, 5),
        ("mastodon-sidekiq-scheduler", Queue::Scheduler, 1, 5),
        ("mastodon-sidekiq-mailers", Queue::Mailers, 1, 1),
    ]
    .into_iter()
    .map(|(name, q, n, c)| SidekiqUnit { pgbouncer: via.clone(), ..sidekiq(name, &[q], n, c, Some(c)) })
    .collect();
    want.pgbouncers = vec![PgBouncer {
        name: "pgbouncer".into(),
        host: "mastodon".into(),
        pool_mode: PoolMode::Transaction,
        max_client_conn: 500,
        default_pool_size: 60,
        reserve_pool_size: 10,
        max_db_connections: 80,
        databases: 1,
        limit_nofile: 1024,
        listen_port: 6432,
    }];
    want.prepared_statements = false;
    want.media = MediaStorage::S3Compatible;
    want.postgres.version = 16;
    want.postgres.max_connections = 250;
    want.postgres.superuser_reserved_connections = 3;
    want.postgres.reserved_connections = 2;
    want.postgres.settings.shared_buffers_mb = Some(16 * 1024);
    want.postgres.settings.work_mem_mb = Some(16);
    want.postgres.settings.maintenance_work_mem_mb = Some(2048);
    want.postgres.settings.effective_cache_size_mb = Some(48 * 1024);
    want.postgres.synchronous_commit_off = false;
    // The preset's persistent and cache instances stay (ports 6379, 6380); the cache takes its
    // CONFIG GET; a sidekiq instance is added on 6381 and takes its redis.conf.
    want.redis[1].maxmemory_mb = 4096;
    want.redis[1].eviction_policy = EvictionPolicy::AllkeysLru;
    want.redis[1].persistence = RedisPersistence::None;
    want.redis.push(mastodon_core_redis("redis-sidekiq", RedisRole::SidekiqOnly, 6381, RedisPersistence::AofRdb, 0, EvictionPolicy::Noeviction));
    assert_eq!(out.plan, want);

    assert_note(&out, "list-units.txt", 3, NoteAction::Taken, "4 running instance(s) of mastodon-sidekiq-default");
    assert_note(&out, "systemctl-cat.txt", 43, NoteAction::Taken, "4 x -c 10, queues default");
    assert_note(&out, "postgresql.conf", 10, NoteAction::Taken, "from Postgres 16");
    assert_note(&out, "postgresql.conf", 21, NoteAction::Ignored, "included files are not followed");
    assert_note(&out, "pgbouncer.ini", 6, NoteAction::Ignored, "max_prepared_statements");
    assert_eq!(out.count(NoteAction::Malformed), 0, "{:?}", notes(&out, "list-units.txt", NoteAction::Malformed));
    // The connection budget of the imported plan is the one the files describe.
    let report = mastoplan_core::evaluate(&out.plan);
    assert_eq!(report.connections.clients, 4 * 8 + 3 * 15 + 4 * 10 + 2 * 10 + 2 * 10 + 3 * 5 + 5 + 1);
}

fn mastodon_core_redis(
    name: &str,
    role: RedisRole,
    port: u16,
    persistence: RedisPersistence,
    maxmemory_mb: u32,
    eviction_policy: EvictionPolicy,
) -> mastoplan_core::RedisInstance {
    mastoplan_core::RedisInstance { name: name.into(), host: "mastodon".into(), role, port, persistence, maxmemory_mb, eviction_policy }
}

#[test]
fn helm_values_of_the_official_chart() {
    let out = import("single-server", &["helm/values.yaml"]);
    assert_eq!(out.inputs[0].format, Some(Format::Helm));
    let mut want = base("single-server");
    want.mastodon_version = MastodonVersion::V4_3;
    let via = Some("pgbouncer".to_string());
    // The chart's ConfigMap gives every pod DB_POOL = the largest worker concurrency.
    want.web = (1..=2)
        .map(|i| WebUnit {
            name: format!("web-{i}"),
            host: "mastodon".into(),
            web_concurrency: 3,
            max_threads: 5,
            db_pool: Some(25),
            pgbouncer: via.clone(),
            trusted_proxy_ip: None,
            jemalloc: true,
        })
        .collect();
    want.streaming = vec![StreamingUnit { name: "streaming".into(), host: "mastodon".into(), instances: 2, db_pool: Some(25), pgbouncer: via.clone() }];
    want.sidekiq = vec![
        SidekiqUnit { pgbouncer: via.clone(), ..sidekiq("sidekiq-default", &[Queue::Default, Queue::Push, Queue::Ingress], 2, 25, Some(25)) },
        SidekiqUnit { pgbouncer: via.clone(), ..sidekiq("sidekiq-pull-mailers", &[Queue::Pull, Queue::Mailers], 1, 10, Some(25)) },
        SidekiqUnit { pgbouncer: via.clone(), ..sidekiq("sidekiq-scheduler", &[Queue::Scheduler], 1, 5, Some(25)) },
    ];
    want.pgbouncers = vec![PgBouncer {
        name: "pgbouncer".into(),
        host: "mastodon".into(),
        pool_mode: PoolMode::Session,
        max_client_conn: 100,
        default_pool_size: 20,
        reserve_pool_size: 0,
        max_db_connections: 0,
        databases: 1,
        limit_nofile: 1024,
        listen_port: 6432,
    }];
    want.prepared_statements = false;
    want.media = MediaStorage::S3Compatible;
    assert_eq!(out.plan, want);
    assert_note(&out, "values.yaml", 25, NoteAction::Ignored, "queue weights are not kept");
    assert_note(&out, "values.yaml", 41, NoteAction::Ignored, "removed in Mastodon 4.2");
    assert_note(&out, "values.yaml", 65, NoteAction::Ignored, "no host of the plan");
}

#[test]
fn broken_files_are_read_around_their_garbage() {
    let out = import("single-server", &["broken/env.production", "broken/mastodon-sidekiq-broken.service", "broken/pgbouncer.ini"]);
    let env = "env.production";
    // BOM, CRLF, `export`, spaces around '=', tabs, quotes and inline comments are all read.
    assert_note(&out, env, 4, NoteAction::Taken, "none (straight to Postgres)");
    assert_note(&out, env, 10, NoteAction::Taken, "/web/0/web_concurrency = 4");
    assert_note(&out, env, 5, NoteAction::Overridden, "line 10");
    assert_note(&out, env, 6, NoteAction::Overridden, "line 15");
    assert_note(&out, env, 7, NoteAction::Malformed, "not a KEY=value line");
    assert_note(&out, env, 8, NoteAction::Malformed, "\"abc\" is not a number");
    assert_note(&out, env, 9, NoteAction::Malformed, "not a variable name");
    assert_note(&out, env, 12, NoteAction::Malformed, "never closed");
    assert_note(&out, env, 13, NoteAction::Ignored, "removed in Mastodon 4.2");
    assert_note(&out, env, 14, NoteAction::Ignored, "only another database number");
    assert_note(&out, env, 15, NoteAction::Ignored, "out of range");
    assert_note(&out, env, 16, NoteAction::Malformed, "not a variable name");
    assert_note(&out, env, 17, NoteAction::Malformed, "not true or false");
    let unit = "mastodon-sidekiq-broken.service";
    assert_note(&out, unit, 3, NoteAction::Malformed, "read as [Service]");
    assert_note(&out, unit, 4, NoteAction::Malformed, "unbalanced quotes");
    assert_note(&out, unit, 6, NoteAction::Malformed, "\"pushy\" is not a Mastodon queue");
    assert_note(&out, unit, 7, NoteAction::Malformed, "not a Key=Value line");
    assert_note(&out, "pgbouncer.ini", 4, NoteAction::Malformed, "not session, transaction or statement");
    assert_note(&out, "pgbouncer.ini", 6, NoteAction::Overridden, "line 7");
    assert_note(&out, "pgbouncer.ini", 8, NoteAction::Malformed, "not a key = value line");

    let mut want = base("single-server");
    want.web[0].web_concurrency = 4;
    want.sidekiq = vec![sidekiq("mastodon-sidekiq-broken", &[Queue::Default, Queue::Mailers], 1, 20, Some(20))];
    want.redis.retain(|r| r.role == RedisRole::Persistent);
    want.pgbouncers = vec![PgBouncer {
        name: "pgbouncer".into(),
        host: "mastodon".into(),
        pool_mode: PoolMode::Session,
        max_client_conn: 100,
        default_pool_size: 30,
        reserve_pool_size: 0,
        max_db_connections: 0,
        databases: 1,
        limit_nofile: 1024,
        listen_port: 6432,
    }];
    assert_eq!(out.plan, want);
}

#[test]
fn postgres_settings_in_three_shapes() {
    let conf = import("single-server", &["hachyderm/postgresql.conf"]);
    let show = import("single-server", &["tuning/show-all.txt"]);
    let csv = import("single-server", &["tuning/pg-settings.csv"]);
    for out in [&show, &csv] {
        let pg = &out.plan.postgres;
        assert_eq!((pg.version, pg.max_connections, pg.superuser_reserved_connections), (16, 200, 3));
        assert_eq!(pg.settings.shared_buffers_mb, Some(4096), "8 kB pages and GB agree");
        assert_eq!(pg.settings.effective_cache_size_mb, Some(12 * 1024));
        assert_eq!(pg.settings.maintenance_work_mem_mb, Some(1024));
        assert_eq!(pg.settings.work_mem_mb, Some(20));
        assert!(pg.synchronous_commit_off);
    }
    assert_eq!(conf.plan.postgres.settings.work_mem_mb, Some(16));
    assert_eq!(show.inputs[0].format, Some(Format::Postgres));
    assert_eq!(csv.inputs[0].format, Some(Format::Postgres));
    assert_note(&show, "show-all.txt", 11, NoteAction::Taken, "/postgres/version = 16");
}

#[test]
fn redis_conf_and_both_config_get_shapes() {
    let out = import("single-server", &["tuning/redis.conf", "tuning/redis-config-get-raw.txt"]);
    let r = &out.plan.redis;
    assert_eq!((r[0].port, r[0].persistence, r[0].maxmemory_mb, r[0].eviction_policy), (6379, RedisPersistence::Aof, 2048, EvictionPolicy::Noeviction));
    assert_eq!((r[1].port, r[1].persistence, r[1].maxmemory_mb, r[1].eviction_policy), (6380, RedisPersistence::Rdb, 512, EvictionPolicy::VolatileLru));
    assert_note(&out, "redis.conf", 2, NoteAction::Ignored, "included files");
    let numbered = import("single-server", &["hachyderm/redis-cache-config-get.txt"]);
    assert_eq!(numbered.plan.redis[1].maxmemory_mb, 4096);
    assert_eq!(numbered.plan.redis[1].persistence, RedisPersistence::None);
}

#[test]
fn redis_conf_for_a_port_no_instance_has_is_refused() {
    let conf = "port 7000\nmaxmemory 1gb\n";
    let out = apply(&base("single-server"), &[ImportInput::new("redis.conf", conf)]);
    assert_eq!(out.plan, base("single-server"));
    assert!(out.summary.iter().any(|n| n.action == NoteAction::Ignored && n.message.contains("port 7000")));
}

#[test]
fn a_unit_environment_wins_over_env_production_whatever_the_order() {
    let env = ImportInput::new(".env.production", "DB_POOL=5\nWEB_CONCURRENCY=3\n");
    let unit = ImportInput::new(
        "mastodon-sidekiq-push@.service",
        "[Service]\nEnvironment=\"DB_POOL=12\"\nExecStart=/usr/bin/bundle exec sidekiq -c 12 -q push\n",
    );
    for inputs in [vec![env.clone(), unit.clone()], vec![unit, env]] {
        let out = apply(&base("single-server"), &inputs);
        assert_eq!(out.plan.sidekiq[0].db_pool, Some(12));
        assert_eq!(out.plan.web[0].db_pool, Some(5));
        assert_eq!(out.plan.streaming[0].db_pool, Some(5));
        assert_eq!(out.plan.web[0].web_concurrency, 3);
    }
}

#[test]
fn env_db_pool_leaves_a_base_sidekiq_with_its_own_pool() {
    let out = apply(&base("single-server"), &[ImportInput::new(".env.production", "DB_POOL=5\n")]);
    assert_eq!(out.plan.sidekiq[0].db_pool, Some(25));
    assert_note(&out, ".env.production", 1, NoteAction::Ignored, "keeps its DB_POOL 25");
}

#[test]
fn later_inputs_override_earlier_ones_and_say_so() {
    let a = ImportInput::new("old.env", "MAX_THREADS=4\n");
    let b = ImportInput::new("new.env", "MAX_THREADS=9\n");
    let out = apply(&base("single-server"), &[a, b]);
    assert_eq!(out.plan.web[0].max_threads, 9);
    assert_note(&out, "old.env", 1, NoteAction::Overridden, "new.env line 1");
}

#[test]
fn template_instances_come_from_the_base_when_nothing_counts_them() {
    let mut plan = base("large-split");
    plan.sidekiq[0].name = "mastodon-sidekiq-default".into();
    plan.sidekiq[0].instances = 7;
    let unit = ImportInput::new(
        "mastodon-sidekiq-default@.service",
        "[Service]\nEnvironment=\"DB_POOL=10\"\nExecStart=/usr/bin/bundle exec sidekiq -c $DB_POOL -q default\n",
    );
    let out = apply(&plan, &[unit]);
    let u = &out.plan.sidekiq[0];
    assert_eq!((u.name.as_str(), u.instances, u.concurrency, u.host.as_str(), u.pgbouncer.as_deref()), ("mastodon-sidekiq-default", 7, 10, "worker-1", Some("bouncer-worker-1")));
    assert!(out.summary.iter().any(|n| n.message.contains("kept the plan's 7")));
}

#[test]
fn names_that_cannot_be_plan_names_are_skipped() {
    let unit = ImportInput::new("mastodon sidekiq\n[evil].service", "[Service]\nExecStart=/usr/bin/bundle exec sidekiq -c 5\n");
    let out = apply(&base("single-server"), &[unit]);
    assert_eq!(out.plan, base("single-server"));
    assert!(out.summary.iter().any(|n| n.action == NoteAction::Ignored && n.message.contains("cannot be named")));
    assert!(out.summary.iter().all(|n| !n.source.contains('\n') && !n.message.contains('\n')));
    let helm = ImportInput::new("values.yaml", "mastodon:\n  sidekiq:\n    workers:\n      - name: \"a b\"\n        concurrency: 5\n");
    let out = apply(&base("single-server"), &[helm]);
    assert_eq!(out.plan.sidekiq, base("single-server").sidekiq);
}

#[test]
fn nothing_readable_is_reported_as_such() {
    for text in ["", "   \n\n", "\u{0}\u{1}\u{2}", "hello world\nthis is not config"] {
        let out = apply(&base("single-server"), &[ImportInput::new("", text)]);
        assert!(out.nothing_read(), "{text:?}: {:?}", out.inputs);
        assert_eq!(out.plan, base("single-server"));
    }
}

#[test]
fn detection_from_content_and_name() {
    let cases: [(&str, &str, Option<Format>); 9] = [
        ("", "LOCAL_DOMAIN=x\nDB_POOL=5\n", Some(Format::Env)),
        ("", "[Unit]\nDescription=x\n[Service]\nExecStart=/bin/true\n", Some(Format::Systemd)),
        ("", "[pgbouncer]\npool_mode = transaction\n", Some(Format::Pgbouncer)),
        ("", "max_connections = 100\nshared_buffers = 1GB\n", Some(Format::Postgres)),
        ("", "maxmemory 1gb\nappendonly yes\n", Some(Format::Redis)),
        ("", "mastodon:\n  web:\n    replicas: 2\n", Some(Format::Helm)),
        ("redis.conf", "port 6380\n", Some(Format::Redis)),
        ("x.service", "ExecStart=/bin/true\n", Some(Format::Systemd)),
        ("notes.txt", "just some words\n", None),
    ];
    for (name, text, want) in cases {
        assert_eq!(detect(name, text), want, "{name:?} {text:?}");
    }
}

#[test]
fn an_explicit_format_wins_over_detection() {
    let input = ImportInput::new("", "max_connections = 150\n").with_format(Format::Postgres);
    assert_eq!(apply(&base("single-server"), &[input]).plan.postgres.max_connections, 150);
}

#[test]
fn an_invalid_base_is_left_alone() {
    let mut plan = base("single-server");
    plan.hosts.clear();
    let out = apply(&plan, &[fixture("stock/env.production")]);
    assert_eq!(out.plan, plan);
    assert!(out.summary.iter().any(|n| n.source == "base plan" && n.message.contains("not valid")));
}

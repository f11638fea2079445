use std::collections::HashMap;

use super::*;
use crate::plan::{Host, PgBouncer, Plan, PoolMode, RedisRole, Replica, WebUnit};
use crate::presets;

fn preset(name: &str) -> Plan {
    presets::get(name).unwrap()
}

fn files(plan: &Plan) -> Export {
    export(plan).unwrap_or_else(|e| panic!("{}: {e}", plan.name))
}

fn content<'a>(e: &'a Export, path: &str) -> &'a str {
    &e.file(path).unwrap_or_else(|| panic!("no {path} among {:?}", paths(e))).content
}

fn paths(e: &Export) -> Vec<String> {
    e.files.iter().map(|f| f.relative_path()).collect()
}

/// `KEY=VALUE` lines of an env file.
fn env(text: &str) -> HashMap<String, String> {
    text.lines()
        .filter(|l| !l.starts_with('#') && l.contains('='))
        .map(|l| {
            let (k, v) = l.split_once('=').unwrap();
            (k.to_string(), v.to_string())
        })
        .collect()
}

/// The value of `key = value` (ini, postgresql.conf) or `key value` (redis, nginx) lines.
fn setting<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines().find_map(|l| {
        let rest = l.strip_prefix(key)?;
        let rest = rest.strip_prefix(" = ").or_else(|| rest.strip_prefix(' '))?;
        Some(rest.split("\t#").next().unwrap())
    })
}

#[test]
fn every_preset_exports_and_every_file_names_the_plan_in_its_comment_syntax() {
    for plan in presets::all() {
        let e = files(&plan);
        assert!(!e.files.is_empty());
        for f in &e.files {
            let comment = if f.path.ends_with(".ini") || f.path.ends_with("userlist.txt.template") { ";" } else { "#" };
            let head: Vec<&str> = f.content.lines().take(3).collect();
            assert!(head.iter().all(|l| l.starts_with(comment)), "{}: {head:?}", f.relative_path());
            assert!(head[1].contains(&format!("plan \"{}\"", plan.name)), "{}", f.relative_path());
            assert!(head[2].ends_with(REGENERATE), "{}", f.relative_path());
        }
    }
}

#[test]
fn servers_do_not_listen_twice_on_loopback() {
    let mut plan = preset("compendium-example");
    for h in &mut plan.hosts {
        h.address = Some("127.0.0.1".into());
    }
    let e = files(&plan);
    let conf = content(&e, "db/etc/postgresql/15/main/conf.d/mastoplan.conf");
    assert_eq!(setting(conf, "listen_addresses"), Some("localhost"));
    assert_eq!(setting(content(&e, "db/etc/redis/redis-redis.conf"), "bind"), Some("127.0.0.1"));
}

#[test]
fn files_land_in_a_folder_per_host_and_cluster_files_at_the_top() {
    let e = files(&preset("large-split"));
    assert!(e.file("db/etc/postgresql/16/main/conf.d/mastoplan.conf").is_some());
    assert!(e.file("worker-2/etc/systemd/system/mastodon-sidekiq-ingress@.service").is_some());
    assert!(e.file("ROLLOUT.txt").is_some());
    assert!(e.file("helm/values.yaml").is_some());
    for f in &e.files {
        if let Some(h) = &f.host {
            assert!(preset("large-split").host(h).is_some());
            assert!(!f.path.starts_with('/'));
        }
    }
}

#[test]
fn a_unit_reaches_its_local_bouncer_on_loopback() {
    let e = files(&preset("large-split"));
    let web = env(content(&e, "web-1/etc/mastodon/web.env"));
    assert_eq!(web["DB_HOST"], "127.0.0.1");
    assert_eq!(web["DB_PORT"], "6432");
    assert_eq!(web["PREPARED_STATEMENTS"], "false");
    let ini = content(&e, "web-1/etc/pgbouncer/pgbouncer.ini");
    assert_eq!(setting(ini, "listen_addr"), Some("127.0.0.1"));
    assert_eq!(
        setting(ini, "mastodon_production"),
        Some("host=10.0.1.40 port=5432 dbname=mastodon_production")
    );
}

#[test]
fn a_unit_reaches_a_bouncer_elsewhere_at_its_host_address_and_port() {
    let mut plan = preset("large-split");
    plan.web[0].pgbouncer = Some("bouncer-worker-1".into());
    plan.pgbouncers[2].listen_port = 6543;
    let e = files(&plan);
    let web = env(content(&e, "web-1/etc/mastodon/web.env"));
    assert_eq!(web["DB_HOST"], "10.0.1.31");
    assert_eq!(web["DB_PORT"], "6543");
    let ini = content(&e, "worker-1/etc/pgbouncer/pgbouncer.ini");
    assert_eq!(setting(ini, "listen_addr"), Some("127.0.0.1,10.0.1.31"));
    assert_eq!(setting(ini, "listen_port"), Some("6543"));
}

#[test]
fn a_unit_without_bouncer_goes_to_postgres_on_5432() {
    let e = files(&preset("compendium-example"));
    let web = env(content(&e, "app/etc/mastodon/web.env"));
    assert_eq!((web["DB_HOST"].as_str(), web["DB_PORT"].as_str()), ("10.0.0.3", "5432"));
    let conf = content(&e, "db/etc/postgresql/15/main/conf.d/mastoplan.conf");
    assert_eq!(setting(conf, "listen_addresses"), Some("'localhost,10.0.0.3'"));

    let e = files(&preset("single-server"));
    let web = env(content(&e, "mastodon/etc/mastodon/web.env"));
    assert_eq!((web["DB_HOST"].as_str(), web["DB_PORT"].as_str()), ("127.0.0.1", "5432"));
    let conf = content(&e, "mastodon/etc/postgresql/15/main/conf.d/mastoplan.conf");
    assert_eq!(setting(conf, "listen_addresses"), None, "nobody connects from elsewhere");
}

#[test]
fn pools_and_threads_are_the_budgets() {
    let plan = preset("large-split");
    let budget = crate::ConnectionBudget::compute(&plan);
    let e = files(&plan);
    let web = env(content(&e, "web-1/etc/mastodon/web.env"));
    assert_eq!(web["WEB_CONCURRENCY"], "4");
    assert_eq!(web["MAX_THREADS"], "5");
    assert_eq!(web["DB_POOL"], budget.lines[0].pool.to_string());
    let ingress = env(content(&e, "worker-2/etc/mastodon/sidekiq-ingress.env"));
    assert_eq!(ingress["DB_POOL"], "5");
    let streaming = env(content(&e, "web-1/etc/mastodon/streaming.env"));
    assert_eq!(streaming["DB_POOL"], "10");
}

#[test]
fn redis_variables_follow_mastodons_fallbacks() {
    let e = files(&preset("large-split"));
    let web = env(content(&e, "web-1/etc/mastodon/web.env"));
    assert_eq!(web["REDIS_URL"], "redis://10.0.1.50:6379");
    assert_eq!(web["SIDEKIQ_REDIS_URL"], "redis://10.0.1.50:6381");
    assert_eq!(web["CACHE_REDIS_URL"], "redis://10.0.1.50:6380");
    let streaming = env(content(&e, "web-1/etc/mastodon/streaming.env"));
    assert_eq!(streaming.get("REDIS_URL").map(String::as_str), Some("redis://10.0.1.50:6379"));
    assert!(!streaming.contains_key("CACHE_REDIS_URL"), "streaming reads only the base REDIS_*");

    let e = files(&preset("single-server"));
    let sidekiq = env(content(&e, "mastodon/etc/mastodon/sidekiq.env"));
    assert_eq!(sidekiq["REDIS_URL"], "redis://127.0.0.1:6379");
    assert_eq!(sidekiq["CACHE_REDIS_URL"], "redis://127.0.0.1:6380");
    assert!(!sidekiq.contains_key("SIDEKIQ_REDIS_URL"), "no sidekiq-only instance: falls back by itself");
}

#[test]
fn trusted_proxy_ip_comes_from_the_plan_or_from_where_nginx_runs() {
    let e = files(&preset("large-split"));
    assert_eq!(env(content(&e, "web-1/etc/mastodon/web.env"))["TRUSTED_PROXY_IP"], "10.0.1.10");

    let mut plan = preset("large-split");
    plan.web[0].trusted_proxy_ip = None;
    let e = files(&plan);
    assert_eq!(env(content(&e, "web-1/etc/mastodon/web.env"))["TRUSTED_PROXY_IP"], "10.0.1.10");

    let e = files(&preset("single-server"));
    assert!(!env(content(&e, "mastodon/etc/mastodon/web.env")).contains_key("TRUSTED_PROXY_IP"));
}

#[test]
fn a_replica_is_reached_by_web_and_sidekiq_not_streaming() {
    let mut plan = preset("large-split");
    plan.hosts.push(Host { name: "db-2".into(), cores: 16, ram_gb: 64, address: Some("10.0.1.41".into()) });
    plan.replica = Some(Replica { host: "db-2".into(), max_connections: 150, superuser_reserved_connections: 3 });
    let e = files(&plan);
    let web = env(content(&e, "web-1/etc/mastodon/web.env"));
    assert_eq!((web["REPLICA_DB_HOST"].as_str(), web["REPLICA_DB_PORT"].as_str()), ("10.0.1.41", "5432"));
    assert!(!env(content(&e, "web-1/etc/mastodon/streaming.env")).contains_key("REPLICA_DB_HOST"));
    let conf = content(&e, "db-2/etc/postgresql/16/main/conf.d/mastoplan.conf");
    assert_eq!(setting(conf, "max_connections"), Some("150"));
    assert!(conf.contains("WARNING: below the primary's 200"), "{conf}");
    assert_eq!(setting(conf, "listen_addresses"), Some("'localhost,10.0.1.41'"));
}

#[test]
fn sidekiq_templates_are_named_after_their_queue_or_their_unit() {
    let unit = |name: &str, queues: &[Queue]| {
        let mut u = preset("single-server").sidekiq[0].clone();
        u.name = name.into();
        u.queues = queues.to_vec();
        SidekiqLayout::for_unit(&u)
    };
    let pull = unit("whatever", &[Queue::Pull]);
    assert_eq!(pull.template, "mastodon-sidekiq-pull");
    assert_eq!(pull.env_file, "/etc/mastodon/sidekiq-pull.env");
    assert_eq!(pull.queue_args, "-q pull");
    let two = &[Queue::Default, Queue::Pull];
    assert_eq!(unit("sidekiq", two).template, "mastodon-sidekiq");
    assert_eq!(unit("mastodon-sidekiq", two).template, "mastodon-sidekiq");
    assert_eq!(unit("sidekiq-default-pull", two).template, "mastodon-sidekiq-default-pull");
    assert_eq!(unit("mastodon-sidekiq-bulk", two).template, "mastodon-sidekiq-bulk");
    assert_eq!(unit("workers", two).template, "mastodon-sidekiq-workers");
    assert_eq!(unit("sidekiqs", two).template, "mastodon-sidekiq-sidekiqs");
    assert_eq!(unit("x", two).queue_args, "-q default,8 -q pull,1");
}

#[test]
fn sidekiq_units_start_with_c_db_pool_jemalloc_and_two_arenas() {
    let e = files(&preset("large-split"));
    let unit = content(&e, "worker-2/etc/systemd/system/mastodon-sidekiq-pull@.service");
    assert!(unit.contains("EnvironmentFile=/etc/mastodon/sidekiq-pull.env\n"));
    assert!(unit.contains("ExecStart=/home/mastodon/.rbenv/shims/bundle exec sidekiq -c $DB_POOL -q pull\n"));
    assert!(unit.contains("Environment=\"LD_PRELOAD=libjemalloc.so.2\"\n"));
    assert!(unit.contains("Environment=\"MALLOC_ARENA_MAX=2\"\n"));
    assert!(unit.contains("LimitNOFILE=65536\n"));
}

#[test]
fn a_pool_other_than_the_threads_is_written_as_planned() {
    let mut plan = preset("large-split");
    plan.sidekiq[3].db_pool = Some(12);
    plan.sidekiq[3].jemalloc = false;
    let e = files(&plan);
    let unit = content(&e, "worker-2/etc/systemd/system/mastodon-sidekiq-pull@.service");
    assert!(unit.contains("sidekiq -c 10 -q pull\n"), "{unit}");
    assert!(!unit.contains("LD_PRELOAD"));
    assert!(unit.contains("MALLOC_ARENA_MAX=2"));
    assert_eq!(env(content(&e, "worker-2/etc/mastodon/sidekiq-pull.env"))["DB_POOL"], "12");
}

#[test]
fn streaming_instances_count_ports_up_from_4000() {
    let plan = preset("large-split");
    let e = files(&plan);
    let group = content(&e, "web-1/etc/systemd/system/mastodon-streaming.service");
    let ports: Vec<String> = (0..plan.streaming[0].instances).map(|i| format!("mastodon-streaming@{}.service", 4000 + i)).collect();
    assert!(group.contains(&format!("Wants={}\n", ports.join(" "))), "{group}");
    let template = content(&e, "web-1/etc/systemd/system/mastodon-streaming@.service");
    assert!(template.contains("Environment=\"PORT=%i\"\n"));
    assert!(template.contains("EnvironmentFile=/etc/mastodon/streaming.env\n"));
}

#[test]
fn instances_to_enable_use_braces_past_four() {
    let mut plan = preset("large-split");
    plan.sidekiq[4].instances = 6;
    let e = files(&plan);
    let rollout = content(&e, "ROLLOUT.txt");
    assert!(rollout.contains("systemctl enable mastodon-sidekiq-ingress@{1..6}.service\n"), "{rollout}");
    assert!(rollout.contains("systemctl enable mastodon-sidekiq-pull@1.service mastodon-sidekiq-pull@2.service\n"));
}

#[test]
fn pgbouncer_files_carry_the_plans_numbers() {
    let plan = preset("large-split");
    let e = files(&plan);
    let b = &plan.pgbouncers[0];
    let ini = content(&e, "web-1/etc/pgbouncer/pgbouncer.ini");
    assert_eq!(setting(ini, "pool_mode"), Some("transaction"));
    assert_eq!(setting(ini, "max_client_conn"), Some(b.max_client_conn.to_string().as_str()));
    assert_eq!(setting(ini, "default_pool_size"), Some(b.default_pool_size.to_string().as_str()));
    assert_eq!(setting(ini, "reserve_pool_size"), Some(b.reserve_pool_size.to_string().as_str()));
    assert_eq!(setting(ini, "auth_file"), Some("/etc/pgbouncer/userlist.txt"));
    let drop_in = content(&e, "web-1/etc/systemd/system/pgbouncer.service.d/mastoplan.conf");
    assert!(drop_in.ends_with(&format!("[Service]\nLimitNOFILE={}\n", b.limit_nofile)));
    assert!(!drop_in.contains("WARNING"));
    let userlist = content(&e, "web-1/etc/pgbouncer/userlist.txt.template");
    let entries: Vec<&str> = userlist.lines().filter(|l| !l.starts_with(';')).collect();
    assert_eq!(entries, ["\"mastodon\" \"REPLACE_WITH_SECRET_OF_mastodon\""]);
}

#[test]
fn a_file_limit_below_pgbouncers_needs_is_flagged_in_the_drop_in() {
    let mut plan = preset("large-split");
    plan.pgbouncers[0].limit_nofile = 100;
    let e = files(&plan);
    let drop_in = content(&e, "web-1/etc/systemd/system/pgbouncer.service.d/mastoplan.conf");
    assert!(drop_in.contains("WARNING"));
    assert!(drop_in.ends_with("LimitNOFILE=100\n"));
}

#[test]
fn postgres_settings_follow_the_version_and_the_opt_ins() {
    let mut plan = preset("large-split");
    let names = |p: &Plan| postgres_settings_for(p).into_iter().map(|s| s.name).collect::<Vec<_>>();
    assert_eq!(names(&plan)[..3], ["max_connections", "superuser_reserved_connections", "reserved_connections"]);
    let pg16 = postgres_settings_for(&plan);
    assert!(pg16[2].reason.contains("16+"));

    plan.postgres.version = 15;
    assert!(!names(&plan).contains(&"reserved_connections".to_string()));
    let conf = content(&files(&plan), "db/etc/postgresql/15/main/conf.d/mastoplan.conf").to_string();
    assert!(conf.contains("reserved_connections (2 in the plan) is not written"), "{conf}");
    assert_eq!(setting(&conf, "reserved_connections"), None);
    assert_eq!(setting(&conf, "synchronous_commit"), None, "only when opted in");

    plan.postgres.synchronous_commit_off = true;
    plan.postgres.settings.shared_buffers_mb = Some(4096);
    plan.postgres.settings.work_mem_mb = Some(16);
    let conf = content(&files(&plan), "db/etc/postgresql/15/main/conf.d/mastoplan.conf").to_string();
    assert_eq!(setting(&conf, "synchronous_commit"), Some("off"));
    assert!(conf.lines().any(|l| l.starts_with("synchronous_commit = off\t# ") && l.contains("WARNING") && l.contains("lose")));
    assert_eq!(setting(&conf, "shared_buffers"), Some("4GB"));
    assert_eq!(setting(&conf, "work_mem"), Some("16MB"));
    let line = conf.lines().find(|l| l.starts_with("shared_buffers = ")).unwrap();
    assert!(line.contains("fixed in the plan (postgres.settings); recommended 16GB"), "{line}");
}

#[test]
fn postgres_gets_the_recommended_settings_for_its_ram() {
    let plan = preset("large-split");
    let conf = content(&files(&plan), "db/etc/postgresql/16/main/conf.d/mastoplan.conf").to_string();
    let budget = crate::ConnectionBudget::compute(&plan);
    let tuning = crate::resources::Resources::compute(&plan, &budget).postgres;
    for s in tuning.settings.iter().filter(|s| s.name != "synchronous_commit") {
        assert_eq!(setting(&conf, s.name), Some(s.value.as_str()), "{}", s.name);
    }
    let line = conf.lines().find(|l| l.starts_with("shared_buffers = ")).unwrap();
    assert!(line.contains("PGTune") && line.contains("RAM: "), "{line}");
}

#[test]
fn a_replica_never_has_fewer_workers_than_the_primary() {
    let mut plan = preset("large-split");
    plan.hosts.push(Host { name: "db-2".into(), cores: 2, ram_gb: 8, address: Some("10.0.1.41".into()) });
    plan.replica = Some(Replica { host: "db-2".into(), max_connections: 200, superuser_reserved_connections: 3 });
    let e = files(&plan);
    let conf = content(&e, "db-2/etc/postgresql/16/main/conf.d/mastoplan.conf");
    assert_eq!(setting(conf, "max_worker_processes"), Some("16"), "{conf}");
    assert!(!conf.contains("WARNING"), "{conf}");
}

#[test]
fn the_include_writes_every_setting_of_the_hook_with_its_reason() {
    for plan in presets::all() {
        let e = files(&plan);
        let conf = content(&e, &format!("{}/{}", plan.postgres.host, postgres::conf_path(plan.postgres.version)));
        for s in postgres_settings_for(&plan) {
            let line = s.render().unwrap();
            assert!(conf.lines().any(|l| l == line), "{}: {line} missing", plan.name);
            let (_, reason) = line.split_once("\t# ").unwrap();
            assert!(reason.len() > 10, "{line}");
        }
    }
}

#[test]
fn pg_settings_render_as_one_token_and_one_line() {
    let s = |v: &str, r: &str| PgSetting::new("x", v, r).render().unwrap();
    assert_eq!(s("200", "why"), "x = 200\t# why");
    assert_eq!(s("4096MB", "why"), "x = 4096MB\t# why");
    assert_eq!(s("0.9", "why"), "x = 0.9\t# why");
    assert_eq!(s("off", "why"), "x = off\t# why");
    assert_eq!(s("localhost,10.0.0.1", "why"), "x = 'localhost,10.0.0.1'\t# why");
    assert_eq!(s("it's\nx = 1", "a\nb"), "x = 'it''sx = 1'\t# a b");
    assert_eq!(PgSetting::new("bad name", "1", "r").render(), None);
    assert_eq!(PgSetting::new("x\ny", "1", "r").render(), None);
}

#[test]
fn redis_conf_follows_the_plan_and_warns_where_it_departs_from_the_role() {
    let e = files(&preset("large-split"));
    let cache = content(&e, "redis/etc/redis/redis-redis-cache.conf");
    assert_eq!(setting(cache, "save"), Some("\"\""));
    assert_eq!(setting(cache, "appendonly"), Some("no"));
    assert_eq!(setting(cache, "maxmemory"), Some("4096mb"));
    assert_eq!(setting(cache, "maxmemory-policy"), Some("allkeys-lru"));
    assert_eq!(setting(cache, "port"), Some("6380"));
    assert_eq!(setting(cache, "bind"), Some("127.0.0.1 10.0.1.50"));
    assert!(!cache.contains("WARNING"));
    let feeds = content(&e, "redis/etc/redis/redis-redis-feeds.conf");
    assert_eq!(setting(feeds, "appendonly"), Some("yes"));
    assert_eq!(setting(feeds, "maxmemory-policy"), Some("noeviction"));

    let e = files(&preset("stock-systemd"));
    let rdb = content(&e, "mastodon/etc/redis/redis-redis.conf");
    assert_eq!(setting(rdb, "save"), Some(redis::RDB_SCHEDULE));
    assert_eq!(setting(rdb, "appendonly"), Some("no"));
    assert!(rdb.contains("WARNING"), "persistent data without AOF is flagged");
    assert_eq!(setting(rdb, "bind"), Some("127.0.0.1"));

    let mut plan = preset("single-server");
    plan.redis[1].eviction_policy = crate::plan::EvictionPolicy::Noeviction;
    let e = files(&plan);
    assert!(content(&e, "mastodon/etc/redis/redis-redis-cache.conf").contains("WARNING: a cache needs"));
}

#[test]
fn nginx_lists_every_puma_and_streaming_instance() {
    let plan = preset("large-split");
    let e = files(&plan);
    let up = content(&e, "edge/etc/nginx/conf.d/mastodon-upstreams.conf");
    assert!(up.contains("upstream backend {\n    server 10.0.1.21:3000 fail_timeout=0;\n    server 10.0.1.22:3000 fail_timeout=0;\n}"));
    assert!(up.contains("upstream streaming {\n    least_conn;\n"));
    let streams = up.lines().filter(|l| l.contains(":40")).count() as u32;
    assert_eq!(streams, plan.streaming.iter().map(|s| s.instances).sum::<u32>());
    let main = content(&e, "edge/etc/nginx/mastoplan-main.conf");
    assert!(main.contains("worker_rlimit_nofile "));
    assert!(main.contains("events {\n    worker_connections "));

    let mut plan = preset("single-server");
    plan.nginx = None;
    assert!(files(&plan).files.iter().all(|f| !f.path.contains("nginx")));
}

#[test]
fn ipv6_addresses_are_bracketed_where_a_port_follows() {
    let mut plan = preset("compendium-example");
    plan.hosts[1].address = Some("fd00::3".into());
    let e = files(&plan);
    let web = env(content(&e, "app/etc/mastodon/web.env"));
    assert_eq!(web["DB_HOST"], "fd00::3");
    assert_eq!(web["REDIS_URL"], "redis://[fd00::3]:6379");
}

#[test]
fn helm_values_map_workers_and_replicas() {
    let plan = preset("large-split");
    let e = files(&plan);
    let y = content(&e, "helm/values.yaml");
    assert!(y.contains("  web:\n    # 2 web unit(s), one pod each.\n    replicas: 2\n    workers: \"4\"\n"));
    let streaming: u32 = plan.streaming.iter().map(|s| s.instances).sum();
    assert!(y.contains(&format!("    replicas: {streaming}\n")));
    assert!(y.contains("      - name: \"sidekiq-ingress\"\n        concurrency: 5\n        replicas: 3\n        queues:\n          - \"ingress\"\n"));
    assert!(y.contains("  direct:\n    hostname: \"10.0.1.40\"\n"));
    assert!(y.contains("  cache:\n    enabled: true\n    hostname: \"10.0.1.50\"\n    port: 6380\n"));
    assert!(y.contains("Does not map: the plan's PgBouncers"));
}

#[test]
fn the_rollout_note_places_every_file_and_migrates_around_the_bouncer() {
    let plan = preset("large-split");
    let e = files(&plan);
    let note = content(&e, "ROLLOUT.txt");
    for f in e.files.iter().filter(|f| f.host.is_some()) {
        assert!(note.contains(&format!("    /{}\n", f.path)), "{} missing", f.path);
    }
    assert!(note.contains("RAILS_ENV=production DB_HOST=10.0.1.40 DB_PORT=5432 bundle exec rails db:migrate"));
    let order: Vec<usize> = ["1. Redis", "2. Postgres", "3. PgBouncer", "4. Migrations", "5. Mastodon units", "6. nginx"]
        .iter()
        .map(|s| note.find(s).unwrap_or_else(|| panic!("{s} missing")))
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]));
    let sidekiq = note.find("   sidekiq on worker-1:").unwrap();
    let web = note.find("   web on web-1:").unwrap();
    let streaming = note.find("   streaming on web-1:").unwrap();
    assert!(sidekiq < web && web < streaming);
}

#[test]
fn an_invalid_plan_is_refused_before_any_file() {
    let mut plan = preset("single-server");
    plan.hosts[0].name = "a\nb".into();
    assert!(matches!(export(&plan), Err(ExportError::Invalid(_))));
}

fn conflict(plan: &Plan) -> String {
    match export(plan) {
        Err(ExportError::Conflict(m)) => m,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

#[test]
fn units_that_would_share_a_file_or_port_are_refused_with_both_names() {
    let mut plan = preset("large-split");
    let mut second = plan.web[0].clone();
    second.name = "web-1b".into();
    plan.web.push(second);
    let m = conflict(&plan);
    assert!(m.contains("web-1") && m.contains("web-1b") && m.contains("host web-1"), "{m}");

    let mut plan = preset("large-split");
    let mut second = plan.sidekiq[3].clone();
    second.name = "sidekiq-pull-b".into();
    plan.sidekiq.push(second);
    let m = conflict(&plan);
    assert!(m.contains("mastodon-sidekiq-pull@.service"), "{m}");

    let mut plan = preset("large-split");
    plan.pgbouncers.push(PgBouncer {
        name: "second".into(),
        host: "web-1".into(),
        pool_mode: PoolMode::Transaction,
        max_client_conn: 100,
        default_pool_size: 20,
        reserve_pool_size: 0,
        max_db_connections: 0,
        databases: 1,
        limit_nofile: 1024,
        listen_port: 6433,
    });
    assert!(conflict(&plan).contains("PgBouncers bouncer-web-1 and second"));

    let mut plan = preset("large-split");
    plan.redis[1].port = 6379;
    assert!(conflict(&plan).contains("both listen on redis:6379"));

    let mut plan = preset("large-split");
    plan.replica = Some(Replica { host: "db".into(), max_connections: 200, superuser_reserved_connections: 3 });
    assert!(conflict(&plan).contains("replica and the primary"));
}

#[test]
fn a_host_others_connect_to_needs_an_address() {
    let mut plan = preset("compendium-example");
    plan.hosts[1].address = None;
    let m = conflict(&plan);
    assert!(m.contains("host db has no address"), "{m}");

    // On one host nothing needs an address.
    let mut plan = preset("single-server");
    plan.hosts[0].address = None;
    files(&plan);
}

#[test]
fn the_redis_roles_drive_the_env_even_when_one_instance_serves_all() {
    let mut plan = preset("stock-systemd");
    assert_eq!(plan.redis.len(), 1);
    plan.redis[0].role = RedisRole::Persistent;
    let e = files(&plan);
    let web = env(content(&e, "mastodon/etc/mastodon/web.env"));
    assert_eq!(web["REDIS_URL"], "redis://127.0.0.1:6379");
    assert!(!web.contains_key("CACHE_REDIS_URL") && !web.contains_key("SIDEKIQ_REDIS_URL"));
}

#[test]
fn web_units_keep_their_names_out_of_file_names() {
    // Two presets with differently named web units write the same paths.
    let mut plan = preset("single-server");
    plan.web = vec![WebUnit { name: "puma".into(), ..plan.web[0].clone() }];
    assert!(files(&plan).file("mastodon/etc/systemd/system/mastodon-web.service").is_some());
}

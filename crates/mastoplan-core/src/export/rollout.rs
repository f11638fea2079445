//! The rollout note: which file goes on which host, the migration command that bypasses
//! PgBouncer, and the order to restart things in.

use super::{header, pgbouncer, systemd, Ctx, ExportFile, MASTODON_HOME, POSTGRES_PORT};

pub const PATH: &str = "ROLLOUT.txt";

pub fn file(cx: &Ctx, files: &[ExportFile]) -> ExportFile {
    let plan = cx.plan;
    let mut t = header("#", plan, "Rollout note: where each file goes and in which order to apply them.");
    let mut say = |l: &str| {
        t.push_str(l);
        t.push('\n');
    };
    say("");
    say("Each host's folder mirrors that host's filesystem: HOST/etc/x goes to /etc/x on HOST (for example");
    say("`rsync -a HOST/ root@HOST:/`). helm/values.yaml is only for the Helm chart, instead of all of this.");
    say("");
    say("FILES PER HOST");
    for h in &plan.hosts {
        let mine: Vec<&ExportFile> = files.iter().filter(|f| f.host.as_deref() == Some(h.name.as_str())).collect();
        if mine.is_empty() {
            continue;
        }
        say("");
        match &h.address {
            Some(a) => say(&format!("  {} ({a})", h.name)),
            None => say(&format!("  {}", h.name)),
        }
        for f in mine {
            say(&format!("    /{}", f.path));
            say(&format!("        {}", describe(&f.path)));
        }
    }

    say("");
    say("ORDER");
    let mut step = 0;
    let mut next = |title: &str, t: &mut dyn FnMut(&str)| {
        step += 1;
        t("");
        t(&format!("{step}. {title}"));
    };

    if !plan.redis.is_empty() {
        next("Redis, before anything that uses it.", &mut say);
        for h in &plan.hosts {
            let names: Vec<String> =
                plan.redis.iter().filter(|r| r.host == h.name).map(|r| format!("redis-server@{}", r.name)).collect();
            if names.is_empty() {
                continue;
            }
            say(&format!("   on {}:", h.name));
            say("     systemctl disable --now redis-server     # the packaged instance, if it also wants these ports");
            say(&format!("     systemctl enable {}", names.join(" ")));
            say(&format!("     systemctl restart {}", names.join(" ")));
        }
        say("   Moving data from the packaged instance: stop it first and copy /var/lib/redis/dump.rdb (or its");
        say("   appendonlydir) to the new instance's dbfilename (or appenddirname) before starting it: a new");
        say("   instance starts empty, and an empty sidekiq Redis has lost its queued jobs.");
    }

    let pg = &plan.postgres;
    next(
        "Postgres: max_connections takes effect at a restart. Raise it before any pool grows; if this plan lowers it or the pools, restart the Mastodon units (below) first.",
        &mut say,
    );
    let pg_unit = format!("postgresql@{}-main", pg.version);
    let mut pg_hosts = vec![(pg.host.as_str(), super::Target::Postgres)];
    if let Some(r) = &plan.replica {
        pg_hosts.push((r.host.as_str(), super::Target::Replica));
    }
    for (host, target) in pg_hosts {
        say(&format!("   on {host}:"));
        let remote = cx.remote_clients(target);
        if !remote.is_empty() {
            let addrs: Vec<String> = remote.iter().map(|h| format!("{} ({})", h, cx.address(h))).collect();
            say(&format!("     allow in pg_hba.conf: {}", addrs.join(", ")));
        }
        say(&format!("     systemctl restart {pg_unit}"));
    }

    if !plan.pgbouncers.is_empty() {
        next("PgBouncer: fill in the secrets, then restart so the new limits and pools apply.", &mut say);
        for b in &plan.pgbouncers {
            say(&format!("   on {}:", b.host));
            say(&format!(
                "     edit /{} into {} (replace {})",
                pgbouncer::USERLIST_TEMPLATE,
                pgbouncer::USERLIST,
                pgbouncer::secret_placeholder(super::DATABASE_USER)
            ));
            say("     systemctl daemon-reload && systemctl restart pgbouncer");
        }
    }

    next(
        "Migrations, straight at Postgres on its own port: they take advisory locks, which do not survive PgBouncer's transaction pooling.",
        &mut say,
    );
    let app_host = plan
        .web
        .first()
        .map(|w| w.host.as_str())
        .or_else(|| plan.sidekiq.first().map(|s| s.host.as_str()))
        .unwrap_or(pg.host.as_str());
    say(&format!("   on {app_host}, as the mastodon user in {MASTODON_HOME}:"));
    say(&format!(
        "     RAILS_ENV=production DB_HOST={} DB_PORT={POSTGRES_PORT} bundle exec rails db:migrate",
        cx.reach(app_host, &pg.host)
    ));
    say("   The variables on the command line win over .env.production; tootctl and the rails console read");
    say("   .env.production only, so keep its DB_* and REDIS_* in line with the env files.");

    next(
        "Mastodon units: sidekiq first, then web, then streaming. `restart` starts them if stopped and makes running ones read the new env files.",
        &mut say,
    );
    for (kind, label) in ["sidekiq", "web", "streaming"].into_iter().enumerate() {
        for h in &plan.hosts {
            let units = &systemd::units_to_start(cx, &h.name)[kind];
            if units.is_empty() {
                continue;
            }
            say(&format!("   {label} on {}:", h.name));
            say("     systemctl daemon-reload");
            if kind == 0 {
                say("     systemctl disable --now mastodon-sidekiq.service     # the stock single unit, if installed");
            }
            for u in units {
                say(&format!("     systemctl enable {u}"));
                say(&format!("     systemctl restart {u}"));
            }
        }
    }
    say("   Instances an older plan started beyond these (say @3 where the plan now has 2) keep running:");
    say("   stop them with `systemctl disable --now UNIT@N.service`.");

    if let Some(n) = &plan.nginx {
        next("nginx, last, once the upstreams it lists are up.", &mut say);
        say(&format!("   on {}:", n.host));
        say("     remove the `upstream backend` and `upstream streaming` blocks from the Mastodon site file");
        say("     replace the `events { ... }` block of /etc/nginx/nginx.conf by: include /etc/nginx/mastoplan-main.conf;");
        say("     nginx -t && systemctl restart nginx     # worker_rlimit_nofile needs a restart, not a reload");
    }
    ExportFile { host: None, path: PATH.into(), content: t }
}

/// What a file is, from where it goes.
fn describe(path: &str) -> &'static str {
    if path.starts_with("etc/mastodon/") {
        "environment of a Mastodon unit (EnvironmentFile=)"
    } else if path.ends_with("mastodon-streaming.service") {
        "groups this host's streaming instances"
    } else if path.contains(".service.d/") {
        "systemd drop-in: PgBouncer's open-file limit"
    } else if path.starts_with("etc/systemd/system/") {
        "systemd unit"
    } else if path.ends_with("pgbouncer.ini") {
        "PgBouncer settings"
    } else if path.ends_with("userlist.txt.template") {
        "template of PgBouncer's auth_file: fill in the secret, save as userlist.txt"
    } else if path.starts_with("etc/postgresql/") {
        "Postgres settings (conf.d include)"
    } else if path.starts_with("etc/redis/") {
        "Redis instance settings (redis-server@NAME)"
    } else if path.ends_with("mastodon-upstreams.conf") {
        "nginx upstreams (http context)"
    } else if path.ends_with("mastoplan-main.conf") {
        "nginx limits (main context)"
    } else {
        "generated file"
    }
}

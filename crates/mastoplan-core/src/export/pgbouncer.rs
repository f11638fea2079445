//! `pgbouncer.ini` per bouncer, a `userlist.txt` template with placeholders, and a systemd
//! drop-in raising the open-file limit of Debian's `pgbouncer.service`.
//!
//! Settings follow the Mastodon docs (admin/scaling): transaction pooling, `auth_type = md5`
//! with an auth_file. The numbers are the plan's; each carries the budget it was checked
//! against.

use super::{header, Ctx, ExportFile, DATABASE, DATABASE_USER, POSTGRES_PORT};

pub const INI: &str = "etc/pgbouncer/pgbouncer.ini";
pub const USERLIST_TEMPLATE: &str = "etc/pgbouncer/userlist.txt.template";
pub const USERLIST: &str = "/etc/pgbouncer/userlist.txt";
pub const DROP_IN: &str = "etc/systemd/system/pgbouncer.service.d/mastoplan.conf";

/// The placeholder the admin replaces with a role's secret.
pub fn secret_placeholder(role: &str) -> String {
    format!("REPLACE_WITH_SECRET_OF_{role}")
}

pub fn files(cx: &Ctx) -> Vec<ExportFile> {
    let plan = cx.plan;
    let mut out = Vec::new();
    for (b, load) in plan.pgbouncers.iter().zip(&cx.budget.bouncers) {
        let host = Some(b.host.clone());
        let mut t = header(";", plan, &format!("PgBouncer {} on host {}.", b.name, b.host));
        let mut line = |l: &str| {
            t.push_str(l);
            t.push('\n');
        };
        line("");
        line("[databases]");
        line(&format!(
            "; Mastodon's database on the Postgres primary (host {}), straight to its port.",
            plan.postgres.host
        ));
        if b.databases > 1 {
            line(&format!(
                "; The plan counts {} database/user pairs; add the others below this one.",
                b.databases
            ));
        }
        line(&format!(
            "{DATABASE} = host={} port={POSTGRES_PORT} dbname={DATABASE}",
            cx.reach(&b.host, &plan.postgres.host)
        ));
        line("");
        line("[pgbouncer]");
        let remote = cx.remote_clients(super::Target::Bouncer(&b.name));
        if remote.is_empty() {
            line("; Only units on this host connect: loopback only.");
            line("listen_addr = 127.0.0.1");
        } else {
            line(&format!("; Units on hosts {} connect too: listen on this host's address.", remote.join(", ")));
            line(&format!("listen_addr = {}", cx.listen_addresses(&b.host).join(",")));
        }
        line(&format!("listen_port = {}", b.listen_port));
        line("unix_socket_dir = /var/run/postgresql");
        line("; md5 accepts md5 hashes and plain passwords in auth_file, and SCRAM secrets (then it uses SCRAM).");
        line("auth_type = md5");
        line(&format!("auth_file = {USERLIST}"));
        line("logfile = /var/log/postgresql/pgbouncer.log");
        line("pidfile = /var/run/postgresql/pgbouncer.pid");
        line(&format!(
            "; Mastodon needs transaction pooling with PREPARED_STATEMENTS=false; the plan says {}.",
            b.pool_mode.name()
        ));
        line(&format!("pool_mode = {}", b.pool_mode.name()));
        let through: Vec<String> = cx
            .budget
            .lines_through(&b.name)
            .map(|l| format!("{} {}", l.unit, l.connections))
            .collect();
        line(&format!(
            "; Clients: the app pools pointed here open {} ({}).",
            load.clients,
            if through.is_empty() { "none".to_string() } else { through.join(", ") }
        ));
        line(&format!("max_client_conn = {}", b.max_client_conn));
        line(&format!(
            "; Server side: at most {} connections to Postgres (pool + reserve, x {} database/user pair(s)).",
            load.server_pool, b.databases
        ));
        line(&format!("default_pool_size = {}", b.default_pool_size));
        line(&format!("reserve_pool_size = {}", b.reserve_pool_size));
        line("; 0 is no cap per database beyond the pools.");
        line(&format!("max_db_connections = {}", b.max_db_connections));
        out.push(ExportFile { host: host.clone(), path: INI.into(), content: t });

        let mut u = header(";", plan, &format!("Template of PgBouncer {}'s auth_file on host {}.", b.name, b.host));
        u.push_str(&format!(
            "; Fill in, then save as {USERLIST} (owner postgres, mode 0640). One line per role:\n"
        ));
        u.push_str("; \"ROLE\" \"SECRET\", where SECRET is the role's SCRAM secret from the primary, printed by\n");
        u.push_str(&format!(
            ";   sudo -u postgres psql -Atc \"SELECT rolpassword FROM pg_authid WHERE rolname = '{DATABASE_USER}'\"\n"
        ));
        u.push_str("; (an md5 hash or the plain password also work). No secret is ever written by mastoplan.\n");
        u.push_str(&format!("\"{DATABASE_USER}\" \"{}\"\n", secret_placeholder(DATABASE_USER)));
        out.push(ExportFile { host: host.clone(), path: USERLIST_TEMPLATE.into(), content: u });

        let mut d = header("#", plan, &format!("Open-file limit of PgBouncer {} (Debian's pgbouncer.service).", b.name));
        d.push_str(&format!(
            "# PgBouncer needs max_client_conn + server pool = {} + {} = {} descriptors (PgBouncer docs);\n",
            b.max_client_conn, load.server_pool, load.file_descriptors_needed
        ));
        if b.limit_nofile < load.file_descriptors_needed {
            d.push_str(&format!(
                "# WARNING: the plan's limit {} is below that: accept() fails with \"Too many open files\".\n",
                b.limit_nofile
            ));
        } else {
            d.push_str("# the packaged unit leaves the usual 1024.\n");
        }
        d.push_str("[Service]\n");
        d.push_str(&format!("LimitNOFILE={}\n", b.limit_nofile));
        out.push(ExportFile { host, path: DROP_IN.into(), content: d });
    }
    out
}

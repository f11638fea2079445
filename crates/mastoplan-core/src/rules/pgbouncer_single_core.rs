use super::sources::{COMPENDIUM, CRUNCHY_PGBOUNCER, PGBOUNCER_CONFIG};
use crate::finding::{Context, Findings, Rule, Severity};

/// Crunchy Data, quoted by the compendium: "a single PgBouncer can process up to 10,000
/// connections. 1,000 or so can be active at one time."
const MAX_CLIENTS: u32 = 10_000;
const MAX_ACTIVE: u32 = 1_000;

pub static RULE: Rule = Rule {
    id: "MP016",
    name: "pgbouncer-single-core",
    severity: Severity::Warning,
    summary: "A PgBouncer takes past ~10,000 clients or ~1,000 active server connections: more than one single-threaded process handles.",
    problem: "PgBouncer is a single-threaded process: one instance uses one CPU core, whatever the \
        machine has. The compendium, quoting Crunchy Data: \"a single PgBouncer can process up to \
        10,000 connections. 1,000 or so can be active at one time.\" Past that it is the \
        bottleneck: its CPU sits at 100% and queries wait in it while Postgres is idle. Here a \
        bouncer's active connections are the server connections it opens at peak.",
    fix: "Run several PgBouncer processes on the machine sharing the port with so_reuseport = 1 \
        (each with its own unix_socket_dir, pidfile and logfile, and peer_id for cancel \
        requests), or spread the units over more bouncers.",
    sources: &[COMPENDIUM, CRUNCHY_PGBOUNCER, PGBOUNCER_CONFIG],
    check,
};

fn check(cx: &Context, out: &mut Findings) {
    for b in &cx.budget.bouncers {
        let mut over = Vec::new();
        if b.clients > MAX_CLIENTS {
            over.push(format!("{} clients (one handles ~10,000)", b.clients));
        }
        if b.server_connections > MAX_ACTIVE {
            over.push(format!("{} active server connections (~1,000)", b.server_connections));
        }
        if !over.is_empty() {
            out.add(format!(
                "{}: {}: PgBouncer is single-threaded, one core; split it with so_reuseport",
                b.name,
                over.join(" and ")
            ))
            .at(format!("/pgbouncers/{}", b.index));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    /// One bouncer in front of 400 sidekiq processes of 25: 10,000 clients.
    fn with_sidekiq_processes(instances: u32, pool_size: u32) -> crate::plan::Plan {
        let mut plan = preset("large-split");
        plan.sidekiq[0].instances = instances;
        plan.sidekiq[0].concurrency = 25;
        plan.sidekiq[0].db_pool = Some(25);
        plan.sidekiq[0].pgbouncer = Some("bouncer-web-1".into());
        plan.pgbouncers[0].default_pool_size = pool_size;
        plan.pgbouncers[0].reserve_pool_size = 0;
        plan
    }

    #[test]
    fn silent_at_10000_clients_and_1000_active() {
        // 400 x 25 = 10,000 plus web-1 and streaming-1.
        let mut plan = with_sidekiq_processes(400, 1000);
        plan.web[0].pgbouncer = None;
        plan.streaming[0].pgbouncer = None;
        assert_silent(&RULE, &plan);
    }

    #[test]
    fn fires_past_10000_clients() {
        let plan = with_sidekiq_processes(400, 20); // + web-1 and streaming-1
        let found = assert_fires(&RULE, &plan);
        assert!(found[0].message.starts_with("bouncer-web-1: 10"), "{}", found[0].message);
        assert!(found[0].message.contains("clients (one handles ~10,000)"), "{}", found[0].message);
        assert!(!found[0].message.contains("active"), "{}", found[0].message);
    }

    #[test]
    fn fires_past_1000_active() {
        let plan = with_sidekiq_processes(80, 1001); // 2,000 + 40 clients, 1,001 server
        let found = assert_fires(&RULE, &plan);
        assert!(found[0].message.contains("1001 active server connections"), "{}", found[0].message);
    }
}

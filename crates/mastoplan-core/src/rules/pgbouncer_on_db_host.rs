use super::sources::COMPENDIUM;
use crate::finding::{Context, Findings, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "MP017",
    name: "pgbouncer-on-db-host",
    severity: Severity::Advice,
    summary: "A PgBouncer runs on the Postgres machine while units on other machines connect through it.",
    problem: "The compendium: \"When you reach the point where it makes sense to move Postgres to \
        its own physical machine, I recommend maintaining pgBouncer on each machine that wants to \
        connect to it, rather than putting pgBouncer on the same machine as Postgres.\" A bouncer \
        beside Postgres takes CPU from it, and every app connection still crosses the network to \
        reach it, so the app's many connections are not gathered before the network. On a \
        single machine, where everything is local, a bouncer beside Postgres is fine and this \
        rule stays silent.",
    fix: "Run a PgBouncer on each app machine, listening locally, and point that machine's units \
        at it; each bouncer then opens a small server pool to Postgres.",
    sources: &[COMPENDIUM],
    check,
};

fn check(cx: &Context, out: &mut Findings) {
    let db_host = &cx.plan.postgres.host;
    for b in &cx.budget.bouncers {
        if &b.host != db_host {
            continue;
        }
        let remote: Vec<String> = cx
            .budget
            .lines_through(&b.name)
            .filter(|l| &l.host != db_host)
            .map(|l| format!("{} on {}", l.unit, l.host))
            .collect();
        if !remote.is_empty() {
            out.add(format!(
                "{} runs on {db_host}, the Postgres machine, while {} connect to it from other machines: keep a bouncer on each machine that connects to Postgres",
                b.name,
                remote.join(", ")
            ))
            .at(format!("/pgbouncers/{}/host", b.index));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    #[test]
    fn silent_with_a_bouncer_on_each_app_host() {
        assert_silent(&RULE, &preset("large-split"));
    }

    #[test]
    fn fires_with_a_bouncer_on_the_postgres_host_serving_other_hosts() {
        let mut plan = preset("large-split");
        plan.pgbouncers[0].host = "db".into();
        let found = assert_fires(&RULE, &plan);
        assert!(found[0].message.contains("web-1 on web-1, streaming-1 on web-1"), "{}", found[0].message);
        assert_eq!(found[0].at, ["/pgbouncers/0/host"]);
    }

    #[test]
    fn silent_on_a_single_machine() {
        let mut plan = preset("single-server");
        plan.pgbouncers.push(crate::plan::PgBouncer {
            name: "bouncer".into(),
            host: "mastodon".into(),
            pool_mode: crate::plan::PoolMode::Transaction,
            max_client_conn: 100,
            default_pool_size: 20,
            reserve_pool_size: 0,
            max_db_connections: 0,
            databases: 1,
            limit_nofile: 1024,
            listen_port: 6432,
        });
        plan.web[0].pgbouncer = Some("bouncer".into());
        assert_silent(&RULE, &plan);
    }
}

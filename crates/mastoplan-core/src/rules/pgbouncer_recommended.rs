use super::sources::{COMPENDIUM, MASTODON_SCALING};
use crate::finding::{Context, Findings, Rule, Severity};

/// Postgres's default max_connections, which the compendium takes as the line: "If you start
/// running out of available Postgres connections (the default is 100) then you may find
/// PgBouncer to be a good solution."
const DIRECT_LIMIT: u32 = 100;

pub static RULE: Rule = Rule {
    id: "MP011",
    name: "pgbouncer-recommended",
    severity: Severity::Warning,
    summary: "More than ~100 app connections, or more than Postgres allows, go straight to Postgres without PgBouncer.",
    problem: "Without a pooler every thread of every process keeps its own Postgres connection, \
        busy or idle, so max_connections must grow with the app. The compendium: \"If you start \
        running out of available Postgres connections (the default is 100) then you may find \
        PgBouncer to be a good solution\", noting that \"nobody actually tries to run past 100 \
        connections without pgbouncer\"; the Rails app holds connections idle inside \
        transactions, which a transaction-mode bouncer shares out. Past that point, or past \
        what Postgres allows at all, direct connections are the wrong tool.",
    fix: "Run PgBouncer with pool_mode = transaction (the Mastodon docs start with \
        max_client_conn = 100, default_pool_size = 20, listen_port = 6432), point the app's \
        DB_PORT at it, set PREPARED_STATEMENTS=false, and run migrations straight against \
        Postgres on 5432.",
    sources: &[COMPENDIUM, MASTODON_SCALING],
    check,
};

fn check(cx: &Context, out: &mut Findings) {
    let b = cx.budget;
    if b.direct <= DIRECT_LIMIT && b.direct <= b.available {
        return;
    }
    let past = if b.direct > b.available {
        format!("more than the {} Postgres allows", b.available)
    } else {
        format!("past the ~{DIRECT_LIMIT} at which the compendium reaches for PgBouncer")
    };
    let message = if b.direct == b.clients {
        format!("All {} app connections go straight to Postgres, {past}", b.direct)
    } else {
        format!(
            "{} of the {} app connections go straight to Postgres, {past}: route those units through PgBouncer too",
            b.direct, b.clients
        )
    };
    let plan = cx.plan;
    let finding = out.add(message);
    finding.at("/pgbouncers");
    for l in &b.lines {
        let through_bouncer = l.pgbouncer.as_deref().and_then(|n| plan.pgbouncer(n)).is_some();
        if !through_bouncer && l.connections > 0 {
            finding.at(format!("{}/pgbouncer", l.pointer()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    #[test]
    fn fires_on_the_worked_example_at_185_direct() {
        let found = assert_fires(&RULE, &preset("compendium-example"));
        assert!(found[0].message.contains("All 185 app connections"), "{}", found[0].message);
        assert!(found[0].at.contains(&"/sidekiq/3/pgbouncer".to_string()));
    }

    #[test]
    fn silent_at_100_direct() {
        let mut plan = preset("single-server"); // 10 + 10 + 25 = 45
        plan.postgres.max_connections = 200;
        plan.sidekiq[0].concurrency = 80;
        plan.sidekiq[0].db_pool = Some(80); // 10 + 10 + 80 = 100
        assert_silent(&RULE, &plan);
    }

    #[test]
    fn fires_at_101_direct() {
        let mut plan = preset("single-server");
        plan.postgres.max_connections = 200;
        plan.sidekiq[0].concurrency = 81;
        plan.sidekiq[0].db_pool = Some(81);
        let found = assert_fires(&RULE, &plan);
        assert!(found[0].message.contains("All 101 app connections"), "{}", found[0].message);
        assert!(found[0].message.contains("past the ~100"), "{}", found[0].message);
    }

    #[test]
    fn fires_below_100_when_over_the_direct_budget() {
        let mut plan = preset("single-server"); // 45 direct
        plan.postgres.max_connections = 40; // 37 available
        let found = assert_fires(&RULE, &plan);
        assert!(found[0].message.contains("more than the 37 Postgres allows"), "{}", found[0].message);
    }

    #[test]
    fn silent_when_everything_goes_through_bouncers() {
        assert_silent(&RULE, &preset("large-split"));
    }

    #[test]
    fn fires_on_the_direct_part_of_a_mixed_plan() {
        let mut plan = preset("large-split");
        for s in &mut plan.sidekiq {
            s.pgbouncer = None; // 20+20+5+20+15+1+5 = 86 direct
        }
        plan.web[0].pgbouncer = None; // + 20 = 106 direct
        let found = assert_fires(&RULE, &plan);
        assert!(found[0].message.starts_with("106 of the "), "{}", found[0].message);
    }
}

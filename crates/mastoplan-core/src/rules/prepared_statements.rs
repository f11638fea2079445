use super::sources::{MASTODON_CONFIG, MASTODON_SCALING, PGBOUNCER_FAQ};
use crate::finding::{Context, Findings, Rule, Severity};
use crate::plan::PoolMode;

pub static RULE: Rule = Rule {
    id: "MP013",
    name: "prepared-statements",
    severity: Severity::Error,
    summary: "PREPARED_STATEMENTS is not false while units connect through a transaction-pooling PgBouncer.",
    problem: "Rails prepares its queries once per connection and reuses them by name. Behind a \
        PgBouncer in transaction mode the next transaction may run on another server connection, \
        where that name was never prepared, and the query fails. Mastodon's scaling docs \
        therefore pair pool_mode = transaction with PREPARED_STATEMENTS=false in \
        .env.production. Recent PgBouncer releases can track protocol-level prepared statements \
        themselves (max_prepared_statements, see the PgBouncer FAQ), but Mastodon's docs still \
        ask for the variable, and so does this planner.",
    fix: "Set PREPARED_STATEMENTS=false in the environment of every web, sidekiq and streaming \
        unit that goes through PgBouncer.",
    sources: &[MASTODON_SCALING, MASTODON_CONFIG, PGBOUNCER_FAQ],
    check,
};

fn check(cx: &Context, out: &mut Findings) {
    let plan = cx.plan;
    if !plan.prepared_statements {
        return;
    }
    let mut units = Vec::new();
    let mut bouncers: Vec<&str> = Vec::new();
    for l in &cx.budget.lines {
        let Some(b) = l.pgbouncer.as_deref().and_then(|n| plan.pgbouncer(n)) else { continue };
        // Session mode keeps one server connection per client: prepared statements survive.
        if b.pool_mode == PoolMode::Session {
            continue;
        }
        units.push(l.pointer());
        if !bouncers.contains(&b.name.as_str()) {
            bouncers.push(&b.name);
        }
    }
    if units.is_empty() {
        return;
    }
    let finding = out.add(format!(
        "PREPARED_STATEMENTS is not false while {} go through transaction pooling ({}): queries fail when a prepared statement is missing on the next server connection",
        super::count(units.len() as u32, "unit", "units"),
        bouncers.join(", ")
    ));
    finding.at("/prepared_statements");
    for u in units {
        finding.at(format!("{u}/pgbouncer"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    #[test]
    fn silent_with_prepared_statements_false() {
        assert_silent(&RULE, &preset("large-split"));
    }

    #[test]
    fn fires_with_prepared_statements_behind_transaction_pooling() {
        let mut plan = preset("large-split");
        plan.prepared_statements = true;
        let found = assert_fires(&RULE, &plan);
        assert!(found[0].message.contains("while 11 units go through"), "{}", found[0].message);
        assert!(found[0].message.contains("bouncer-web-1, bouncer-web-2, bouncer-worker-1, bouncer-worker-2"), "{}", found[0].message);
        assert_eq!(found[0].at[0], "/prepared_statements");
    }

    #[test]
    fn silent_without_a_bouncer() {
        assert_silent(&RULE, &preset("single-server")); // prepared statements on, direct
    }

    #[test]
    fn silent_behind_a_session_mode_bouncer() {
        let mut plan = preset("large-split");
        plan.prepared_statements = true;
        for b in &mut plan.pgbouncers {
            b.pool_mode = PoolMode::Session;
        }
        assert_silent(&RULE, &plan);
    }
}

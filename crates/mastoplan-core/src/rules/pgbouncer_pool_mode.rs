use super::sources::{MASTODON_SCALING, PGBOUNCER_CONFIG, PGBOUNCER_FEATURES};
use crate::finding::{Context, Findings, Rule, Severity};
use crate::plan::PoolMode;

pub static RULE: Rule = Rule {
    id: "MP012",
    name: "pgbouncer-pool-mode",
    severity: Severity::Warning,
    summary: "A PgBouncer's pool_mode is not transaction (session pools nothing; statement breaks Rails, an error).",
    problem: "Mastodon's docs configure PgBouncer with pool_mode = transaction: a server connection \
        is lent to a client for one transaction, so many mostly idle app connections share a few \
        server connections. PgBouncer's own default is session, where a client keeps its server \
        connection for as long as it stays connected; Rails processes stay connected for their \
        whole life, so session mode shares nothing, and clients past the server pool wait for a \
        connection that is never given back. Statement mode is worse: PgBouncer disallows \
        multi-statement transactions in it, and Rails wraps every save in one, so writes fail.",
    fix: "Set pool_mode = transaction in pgbouncer.ini, with PREPARED_STATEMENTS=false in the \
        app's environment and migrations run straight against Postgres.",
    sources: &[MASTODON_SCALING, PGBOUNCER_CONFIG, PGBOUNCER_FEATURES],
    check,
};

fn check(cx: &Context, out: &mut Findings) {
    for (b, load) in cx.plan.pgbouncers.iter().zip(&cx.budget.bouncers) {
        let at = format!("/pgbouncers/{}/pool_mode", load.index);
        match b.pool_mode {
            PoolMode::Transaction => {}
            PoolMode::Session => {
                let starved = load.clients.saturating_sub(load.server_pool);
                let consequence = if starved > 0 {
                    format!(
                        "its {} clients each keep one of its {} server connections for life, so {starved} wait forever",
                        load.clients, load.server_pool
                    )
                } else {
                    format!("its {} clients each keep a server connection for life: it pools nothing", load.clients)
                };
                out.add(format!("{} runs pool_mode session: {consequence}; use transaction", b.name)).at(at);
            }
            PoolMode::Statement => {
                out.add(format!(
                    "{} runs pool_mode statement, which disallows multi-statement transactions: every Rails save opens one and fails; use transaction",
                    b.name
                ))
                .at(at)
                .severity(Severity::Error);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    #[test]
    fn silent_in_transaction_mode() {
        assert_silent(&RULE, &preset("large-split"));
    }

    #[test]
    fn warns_in_session_mode_naming_the_starved_clients() {
        let mut plan = preset("large-split");
        plan.pgbouncers[0].pool_mode = PoolMode::Session; // web-1 + streaming-1: 50 clients, 25 server
        let found = assert_fires(&RULE, &plan);
        assert_eq!(found[0].severity, Severity::Warning);
        assert!(found[0].message.contains("50 clients each keep one of its 25 server connections for life, so 25 wait"), "{}", found[0].message);
        assert_eq!(found[0].at, ["/pgbouncers/0/pool_mode"]);
    }

    #[test]
    fn error_in_statement_mode() {
        let mut plan = preset("large-split");
        plan.pgbouncers[2].pool_mode = PoolMode::Statement;
        let found = assert_fires(&RULE, &plan);
        assert_eq!(found[0].severity, Severity::Error);
        assert_eq!(found[0].at, ["/pgbouncers/2/pool_mode"]);
    }
}

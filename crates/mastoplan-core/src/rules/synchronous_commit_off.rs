use super::sources::{COMPENDIUM, POSTGRES_ASYNC_COMMIT};
use crate::finding::{Context, Findings, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "MP032",
    name: "synchronous-commit-off",
    severity: Severity::Advice,
    summary: "synchronous_commit is off: faster commits, but a crash can lose the last transactions.",
    problem: "With synchronous_commit = off Postgres reports a commit before its WAL reaches disk, \
        which relieves a server whose queries wait on WALWrite. The price: if Postgres or its \
        machine crashes, the transactions of the last moments (up to three times \
        wal_writer_delay) are lost, though the database stays consistent, never corrupt. The \
        compendium offers it for write-latency-bound servers with exactly that warning, from \
        Andres Freund: transactions are not immediately guaranteed to be durable.",
    fix: "Keep it off only if losing the last moment of posts, follows and jobs after a crash is \
        acceptable; otherwise turn it back on and address write latency with faster storage.",
    sources: &[COMPENDIUM, POSTGRES_ASYNC_COMMIT],
    check,
};

fn check(cx: &Context, out: &mut Findings) {
    let pg = &cx.plan.postgres;
    if pg.synchronous_commit_off {
        out.add(format!(
            "synchronous_commit is off on {}: a crash loses the last transactions (not corrupts them)",
            pg.host
        ))
        .at("/postgres/synchronous_commit_off");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    #[test]
    fn silent_with_synchronous_commit_on() {
        assert_silent(&RULE, &preset("large-split"));
    }

    #[test]
    fn fires_with_synchronous_commit_off() {
        let mut plan = preset("large-split");
        plan.postgres.synchronous_commit_off = true;
        let found = assert_fires(&RULE, &plan);
        assert_eq!(found[0].message, "synchronous_commit is off on db: a crash loses the last transactions (not corrupts them)");
    }
}

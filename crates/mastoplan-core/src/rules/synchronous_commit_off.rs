use super::sources::{COMPENDIUM, POSTGRES_ASYNC_COMMIT};
use crate::finding::{Context, Findings, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "MP045",
    name: "synchronous-commit-off",
    severity: Severity::Warning,
    summary: "The plan opts into synchronous_commit = off: a crash can lose the last commits.",
    problem: "With synchronous_commit off, Postgres reports a commit before its WAL reaches the \
        disk. That relieves servers that are bound by WAL write latency (many WALWrite waits in \
        pg_stat_activity, the compendium), but a crash of Postgres or the machine loses the \
        transactions committed in the last moments: up to three times wal_writer_delay, 600 ms \
        at the default 200 ms (Postgres documentation). The database stays consistent, unlike \
        with fsync off: nothing is corrupted, the newest commits are just gone, after Mastodon \
        told users their post was saved and may have federated it. The compendium passes on \
        Andres Freund's warning that transactions \"aren't immediately guaranteed to be durable\".",
    fix: "Keep it only if WALWrite waits are your bottleneck and you accept losing the last \
        fraction of a second of posts, follows and likes on a crash; otherwise set \
        postgres.synchronous_commit_off to false. Faster WAL storage is the durable fix.",
    sources: &[COMPENDIUM, POSTGRES_ASYNC_COMMIT],
    check,
};

fn check(cx: &Context, out: &mut Findings) {
    if cx.plan.postgres.synchronous_commit_off {
        out.add(
            "synchronous_commit = off: a crash loses the commits of up to 3 x wal_writer_delay (600 ms by default), never corrupts",
        )
        .at("/postgres/synchronous_commit_off");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    #[test]
    fn fires_only_when_opted_in() {
        let mut plan = preset("large-split");
        assert_silent(&RULE, &plan);
        plan.postgres.synchronous_commit_off = true;
        let found = assert_fires(&RULE, &plan);
        assert_eq!(found[0].at, vec!["/postgres/synchronous_commit_off".to_string()]);
    }

    #[test]
    fn the_setting_is_in_the_recommended_conf() {
        let mut plan = preset("large-split");
        plan.postgres.synchronous_commit_off = true;
        let report = crate::evaluate(&plan);
        let s = report.postgres_settings.settings.iter().find(|s| s.name == "synchronous_commit").unwrap();
        assert_eq!((s.value.as_str(), s.overridden), ("off", true));
        let plain = crate::evaluate(&preset("large-split"));
        assert!(plain.postgres_settings.settings.iter().all(|s| s.name != "synchronous_commit"));
    }
}

use super::sources::{COMPENDIUM, DATABASE_YML};
use super::threads_setting;
use crate::budget::UnitKind;
use crate::finding::{Context, Findings, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "MP005",
    name: "db-pool-above-threads",
    severity: Severity::Advice,
    summary: "A process's pool is larger than its threads: connections the budget must reserve but no thread can use.",
    problem: "Only a thread running a query holds a connection, so a pool larger than the \
        process's threads (web: MAX_THREADS, sidekiq: -c) can never be filled. The plan still has \
        to count the whole pool as what the process may open, so the spare slots eat into \
        max_connections or a bouncer's max_client_conn for nothing, and they hide what the unit \
        really needs. The compendium: DB_POOL should be at least -c, and nobody sets it to \
        anything but exactly -c.",
    fix: "Set DB_POOL to exactly the process's threads: MAX_THREADS for web, -c for sidekiq.",
    sources: &[COMPENDIUM, DATABASE_YML],
    check,
};

fn check(cx: &Context, out: &mut Findings) {
    for l in &cx.budget.lines {
        if l.kind == UnitKind::Streaming || l.pool <= l.threads || l.processes == 0 {
            continue;
        }
        let spare = l.pool - l.threads;
        let wasted = spare.saturating_mul(l.processes);
        out.add(format!(
            "{}: DB_POOL {} for {}: {spare} spare per process x {} = {wasted} connections counted that no thread can use; set DB_POOL={}",
            l.unit,
            l.pool,
            threads_setting(l),
            super::count(l.processes, "process", "processes"),
            l.threads
        ))
        .at(format!("{}/db_pool", l.pointer()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    #[test]
    fn fires_when_sidekiq_pool_is_26_at_25_threads_and_counts_every_instance() {
        let mut plan = preset("single-server");
        plan.sidekiq[0].db_pool = Some(26);
        plan.sidekiq[0].instances = 3;
        let found = assert_fires(&RULE, &plan);
        assert!(found[0].message.contains("1 spare per process x 3 processes = 3 connections"), "{}", found[0].message);
        assert_eq!(found[0].at, ["/sidekiq/0/db_pool"]);
    }

    #[test]
    fn silent_when_sidekiq_pool_equals_threads() {
        assert_silent(&RULE, &preset("single-server"));
    }

    #[test]
    fn fires_for_web_pool_above_max_threads() {
        let mut plan = preset("compendium-example");
        plan.web[0].db_pool = Some(15); // MAX_THREADS 10, 3 workers
        let found = assert_fires(&RULE, &plan);
        assert!(found[0].message.contains("= 15 connections"), "{}", found[0].message);
    }

    #[test]
    fn silent_for_streaming_pools() {
        // Streaming's pool of 15 has no thread count to compare with.
        assert_silent(&RULE, &preset("compendium-example"));
    }
}

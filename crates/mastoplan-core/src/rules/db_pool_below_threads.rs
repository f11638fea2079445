use super::sources::{COMPENDIUM, DATABASE_YML, SIDEKIQ_POOL_PR};
use super::threads_setting;
use crate::budget::UnitKind;
use crate::finding::{Context, Findings, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "MP004",
    name: "db-pool-below-threads",
    severity: Severity::Error,
    summary: "A process has more threads than database connections in its pool (web: DB_POOL < MAX_THREADS; sidekiq: pool < -c).",
    problem: "Every Puma or sidekiq thread that runs a query takes a connection from its process's \
        pool. With fewer connections than threads, the extra threads wait, then fail with \
        ActiveRecord::ConnectionTimeoutError (\"could not obtain a connection from the pool\"): \
        requests error out and jobs retry, and adding threads makes it worse. The classic trap is \
        Mastodon 4.2: config/database.yml read DB_POOL || MAX_THREADS || 5 for every process, so \
        a sidekiq started with -c 25 and no DB_POOL got a pool of 5. From 4.3 (mastodon PR \
        #26488) sidekiq's pool defaults to its concurrency. The compendium: DB_POOL must be at \
        least -c, and nobody sets it to anything but exactly -c.",
    fix: "Set DB_POOL to exactly the process's threads: MAX_THREADS for web, -c for sidekiq. On \
        4.2, set DB_POOL explicitly in every sidekiq unit (or upgrade to 4.3+, where it follows \
        -c by default).",
    sources: &[DATABASE_YML, SIDEKIQ_POOL_PR, COMPENDIUM],
    check,
};

fn check(cx: &Context, out: &mut Findings) {
    for l in &cx.budget.lines {
        // A streaming process is one Node event loop: its pool is its concurrency.
        if l.kind == UnitKind::Streaming || l.pool >= l.threads {
            continue;
        }
        let threads = threads_setting(l);
        let short = l.threads - l.pool;
        let message = match (&l.default_applied, l.kind) {
            (Some(why), UnitKind::Sidekiq) => format!(
                "{}: {threads} but a pool of {} because DB_POOL is unset ({why}): {short} threads per process wait and fail with ActiveRecord::ConnectionTimeoutError; set DB_POOL={}",
                l.unit, l.pool, l.threads
            ),
            _ => format!(
                "{}: DB_POOL {} is below {threads}: {short} threads per process wait and fail with ActiveRecord::ConnectionTimeoutError; set DB_POOL={}",
                l.unit, l.pool, l.threads
            ),
        };
        out.add(message).at(format!("{}/db_pool", l.pointer()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::MastodonVersion;
    use crate::rules::testing::*;

    #[test]
    fn fires_when_sidekiq_pool_is_24_at_25_threads() {
        let mut plan = preset("single-server");
        plan.sidekiq[0].db_pool = Some(24);
        let found = assert_fires(&RULE, &plan);
        assert!(found[0].message.contains("DB_POOL 24 is below -c 25"), "{}", found[0].message);
        assert_eq!(found[0].at, ["/sidekiq/0/db_pool"]);
    }

    #[test]
    fn silent_when_sidekiq_pool_equals_threads() {
        assert_silent(&RULE, &preset("single-server"));
    }

    #[test]
    fn fires_on_the_4_2_trap_of_sidekiq_without_db_pool() {
        let mut plan = preset("compendium-example"); // 4.2
        plan.sidekiq[0].db_pool = None;
        let found = assert_fires(&RULE, &plan);
        let m = &found[0].message;
        assert!(m.contains("-c 25 but a pool of 5 because DB_POOL is unset"), "{m}");
        assert!(m.contains("4.2: sidekiq without DB_POOL gets 5"), "{m}");
        assert!(m.contains("20 threads"), "{m}");
    }

    #[test]
    fn silent_on_4_3_for_sidekiq_without_db_pool() {
        let mut plan = preset("compendium-example");
        plan.mastodon_version = MastodonVersion::V4_3;
        plan.sidekiq[0].db_pool = None;
        assert_silent(&RULE, &plan);
    }

    #[test]
    fn fires_when_web_pool_is_below_max_threads() {
        let mut plan = preset("compendium-example");
        plan.web[0].db_pool = Some(9); // MAX_THREADS 10
        let found = assert_fires(&RULE, &plan);
        assert!(found[0].message.contains("DB_POOL 9 is below MAX_THREADS 10"), "{}", found[0].message);
        assert_eq!(found[0].at, ["/web/0/db_pool"]);
    }

    #[test]
    fn silent_when_web_pool_equals_max_threads() {
        let mut plan = preset("compendium-example");
        plan.web[0].db_pool = Some(10);
        assert_silent(&RULE, &plan);
    }
}

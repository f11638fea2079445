use super::sources::{COMPENDIUM, DIST_UNITS};
use crate::finding::{Context, Findings, Rule, Severity};

/// The compendium: "Keep the c number smaller (no more than 25) and make more as needed".
const MAX_THREADS: u32 = 25;

pub static RULE: Rule = Rule {
    id: "MP007",
    name: "sidekiq-threads-high",
    severity: Severity::Warning,
    summary: "A sidekiq process runs more than 25 threads (-c above 25).",
    problem: "Ruby's global interpreter lock lets only one thread of a process run Ruby code at a \
        time, so threads past a few dozen add waiting, not throughput, while each still holds a \
        database connection. The compendium: \"Keep the c number smaller (no more than 25) and make \
        more as needed\": more processes of a systemd template unit cost the same connections and \
        scale better. The stock unit in dist/ starts sidekiq with -c 25.",
    fix: "Lower -c to 25 or less (and DB_POOL with it) and add instances of the unit \
        (mastodon-sidekiq-QUEUE@2, @3...) to keep the same capacity.",
    sources: &[COMPENDIUM, DIST_UNITS],
    check,
};

fn check(cx: &Context, out: &mut Findings) {
    for (i, s) in cx.plan.sidekiq.iter().enumerate() {
        if s.concurrency > MAX_THREADS {
            let split = s.concurrency.div_ceil(MAX_THREADS);
            out.add(format!(
                "{}: -c {} is above {MAX_THREADS}: run more instances at -c {MAX_THREADS} or less instead, e.g. {split} at -c {} for each process now",
                s.name,
                s.concurrency,
                s.concurrency.div_ceil(split)
            ))
            .at(format!("/sidekiq/{i}/concurrency"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    #[test]
    fn silent_at_25_threads() {
        assert_silent(&RULE, &preset("single-server"));
    }

    #[test]
    fn fires_at_26_threads() {
        let mut plan = preset("single-server");
        plan.sidekiq[0].concurrency = 26;
        plan.sidekiq[0].db_pool = Some(26);
        let found = assert_fires(&RULE, &plan);
        assert!(found[0].message.contains("-c 26 is above 25"), "{}", found[0].message);
        assert!(found[0].message.contains("2 at -c 13 for each process"), "{}", found[0].message);
        assert_eq!(found[0].at, ["/sidekiq/0/concurrency"]);
    }
}

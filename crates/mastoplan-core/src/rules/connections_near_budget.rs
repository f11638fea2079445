use super::sources::{COMPENDIUM, POSTGRES_CONNECTIONS};
use crate::finding::{Context, Findings, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "MP002",
    name: "connections-near-budget",
    severity: Severity::Warning,
    summary: "The plan uses more than 90% of the connections Postgres allows, leaving little room for migrations, psql and growth.",
    problem: "The pools fit, but barely. Migrations, a psql session, a backup tool or one more \
        sidekiq instance each need a connection of their own, and a plan that leaves almost none \
        loose turns the next scaling step into an outage. The compendium: \"if this number is more \
        than 90% of max_connections, you're probably much closer to IMPENDING DOOM than you would \
        ever feel comfortable in public.\" Its own worked example leaves 15 of 200 loose, which is \
        92.5% used: past this line. Plans already over the budget are reported by \
        connections-over-budget instead.",
    fix: "Trim the pools (fewer or smaller sidekiq processes, fewer Puma threads) or put PgBouncer \
        in front of Postgres so the app's pools share a smaller server pool. Keep at least a tenth \
        of the available connections loose.",
    sources: &[COMPENDIUM, POSTGRES_CONNECTIONS],
    check,
};

fn check(cx: &Context, out: &mut Findings) {
    let b = cx.budget;
    // Over the budget is connections-over-budget's finding; this is the warning before it.
    let above_90 = u64::from(b.total) * 10 > u64::from(b.available) * 9;
    if above_90 && b.total <= b.available {
        out.add(format!(
            "Postgres sees {} connections at peak of {} available ({:.1}%, above 90%): {} left for migrations, psql and maintenance",
            b.total,
            b.available,
            b.utilisation * 100.0,
            b.headroom
        ))
        .at("/postgres/max_connections");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    /// The worked example with web cut from 3 x 10 to 5 x 5: 180 of 200, exactly 90%.
    fn at_90_percent() -> crate::plan::Plan {
        let mut plan = preset("compendium-example");
        plan.web[0].web_concurrency = 5;
        plan.web[0].max_threads = 5;
        plan
    }

    #[test]
    fn silent_at_90_percent() {
        assert_silent(&RULE, &at_90_percent());
    }

    #[test]
    fn fires_one_connection_past_90_percent() {
        let mut plan = at_90_percent();
        plan.sidekiq[5].db_pool = Some(6); // mailers 5 -> 6: 181 of 200
        plan.sidekiq[5].concurrency = 6;
        let found = assert_fires(&RULE, &plan);
        assert!(found[0].message.contains("181 connections at peak of 200"), "{}", found[0].message);
    }

    #[test]
    fn fires_on_the_worked_example_at_92_5_percent() {
        let found = assert_fires(&RULE, &preset("compendium-example"));
        assert!(found[0].message.contains("(92.5%"), "{}", found[0].message);
        assert!(found[0].message.contains("15 left"), "{}", found[0].message);
    }

    #[test]
    fn silent_over_the_budget() {
        let mut plan = preset("compendium-example");
        plan.web[0].max_threads = 16; // 203 of 200: connections-over-budget's finding
        assert_silent(&RULE, &plan);
    }
}

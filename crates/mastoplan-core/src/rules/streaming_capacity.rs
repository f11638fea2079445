use super::sources::{COMPENDIUM, MASTODON_SCALING};
use crate::finding::{Context, Findings, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "MP027",
    name: "streaming-capacity",
    severity: Severity::Warning,
    summary: "The expected concurrent streaming connections exceed what the streaming processes are assumed to serve.",
    problem: "Every open app or browser tab keeps a connection to the streaming API. Mastodon's \
        scaling docs put ~800-1,200 concurrent streaming connections at ~50,000 accounts with \
        10-20k monthly actives. The planner turns that into two assumptions, both editable in the \
        plan: streaming_connections_per_user (default 0.08, that is 1,200 / 15,000 monthly \
        actives) times expected_active_users gives the concurrent connections to expect, and \
        streaming_connections_per_process (default 1,000, an estimate no source pins down) is what \
        one Node process is assumed to serve. When the first exceeds the second times the \
        streaming processes, it is new connections that fail first: people already connected \
        keep working, which the compendium notes makes the shortage hard to detect.",
    fix: "Add mastodon-streaming@PORT units on more ports (or machines) behind an nginx upstream \
        with least_conn; each is one process since 4.2. If your own measurements differ, adjust \
        the two assumptions.",
    sources: &[MASTODON_SCALING, COMPENDIUM],
    check,
};

fn check(cx: &Context, out: &mut Findings) {
    let plan = cx.plan;
    let a = &plan.assumptions;
    let expected = (f64::from(plan.expected_active_users) * a.streaming_connections_per_user).ceil();
    let processes: u32 = plan.streaming.iter().map(|s| s.instances).sum();
    let capacity = u64::from(processes) * u64::from(a.streaming_connections_per_process);
    if expected > capacity as f64 {
        out.add(format!(
            "~{expected} concurrent streaming connections expected ({} users x {}) but {} x {} = {capacity}: new connections are refused first",
            plan.expected_active_users,
            a.streaming_connections_per_user,
            super::count(processes, "streaming process", "streaming processes"),
            a.streaming_connections_per_process
        ))
        .at("/streaming")
        .at("/assumptions");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    fn with_users(users: u32) -> crate::plan::Plan {
        let mut plan = preset("single-server"); // 1 streaming process, 1,000 assumed
        plan.expected_active_users = users;
        plan
    }

    #[test]
    fn silent_at_capacity() {
        assert_silent(&RULE, &with_users(12_500)); // 12,500 x 0.08 = 1,000
    }

    #[test]
    fn fires_past_capacity() {
        let found = assert_fires(&RULE, &with_users(12_513)); // 1,001.04 -> 1,002
        assert!(
            found[0].message.starts_with("~1002 concurrent streaming connections expected (12513 users x 0.08) but 1 streaming process x 1000 = 1000"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn fires_with_no_streaming_process() {
        let mut plan = with_users(100);
        plan.streaming.clear();
        assert!(assert_fires(&RULE, &plan)[0].message.contains("0 streaming processes"));
    }

    #[test]
    fn silent_on_the_large_split_with_headroom() {
        // 50,000 x 0.08 = 4,000 expected; 6 processes x 1,000 = 6,000.
        assert_silent(&RULE, &preset("large-split"));
    }

    #[test]
    fn follows_the_assumptions() {
        let mut plan = with_users(12_500);
        plan.assumptions.streaming_connections_per_process = 999;
        assert_fires(&RULE, &plan);
    }
}

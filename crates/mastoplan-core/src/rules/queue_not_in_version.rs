use super::sources::SIDEKIQ_YML;
use crate::finding::{Context, Findings, Rule, Severity};
use crate::plan::Queue;

pub static RULE: Rule = Rule {
    id: "MP010",
    name: "queue-not-in-version",
    severity: Severity::Warning,
    summary: "A sidekiq unit lists a queue the plan's Mastodon version does not have (fasp before 4.4).",
    problem: "The fasp queue arrived in Mastodon 4.4; 4.2 and 4.3 never enqueue into it. A process \
        listening to it on an older release only polls an empty queue, so the unit's threads and \
        connections are planned for work that does not exist. More often the plan's \
        mastodon_version is simply wrong, and that matters: the pool sizes the budget computes \
        depend on it (4.2 gives a sidekiq without DB_POOL 5 connections, 4.3+ its -c).",
    fix: "Set mastodon_version to the release the servers run, or remove the queue from the unit.",
    sources: &[SIDEKIQ_YML],
    check,
};

fn check(cx: &Context, out: &mut Findings) {
    let version = cx.plan.mastodon_version;
    for (i, s) in cx.plan.sidekiq.iter().enumerate() {
        for (q, queue) in s.queues.iter().enumerate() {
            if version.has_queue(*queue) {
                continue;
            }
            let since = if *queue == Queue::Fasp { " (it arrived in 4.4)" } else { "" };
            out.add(format!(
                "{} lists the {} queue, which Mastodon {} does not have{since}: is mastodon_version right?",
                s.name,
                queue.name(),
                version.label()
            ))
            .at(format!("/sidekiq/{i}/queues/{q}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::MastodonVersion;
    use crate::rules::testing::*;

    #[test]
    fn silent_with_fasp_on_4_4() {
        assert_silent(&RULE, &preset("single-server"));
    }

    #[test]
    fn fires_with_fasp_on_4_3() {
        let mut plan = preset("single-server");
        plan.mastodon_version = MastodonVersion::V4_3;
        let found = assert_fires(&RULE, &plan);
        assert!(found[0].message.contains("the fasp queue, which Mastodon 4.3 does not have"), "{}", found[0].message);
        assert_eq!(found[0].at, ["/sidekiq/0/queues/6"]);
    }
}

use super::sources::{COMPENDIUM, MASTODON_SCALING, SIDEKIQ_YML};
use crate::finding::{Context, Findings, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "MP008",
    name: "sidekiq-weighted-queues",
    severity: Severity::Advice,
    summary: "A sidekiq unit serves several queues; one queue per systemd template unit is easier to scale and debug.",
    problem: "A process that serves several queues picks among them (by weight in \
        config/sidekiq.yml, or in the order given with -q), so a flood in one queue takes the \
        threads another queue needed, and its logs mix every queue's errors. The compendium: the \
        connection count is the same either way, but one queue per mastodon-sidekiq-QUEUE@ \
        template unit lets you \"log out various sidekiq queues and quickly narrow down which one \
        is erroring\" and \"scale up an individual queue better on demand\": \"one queue per \
        systemd service, don't do weighted queues\". On a small single machine one unit serving \
        every queue is the documented default and this is only advice.",
    fix: "Split the unit into one template unit per queue (mastodon-sidekiq-default@, -push@, \
        -pull@, -ingress@, -mailers@, -scheduler@ with one instance), each started with a single \
        -q, and scale each by adding instances.",
    sources: &[COMPENDIUM, MASTODON_SCALING, SIDEKIQ_YML],
    check,
};

fn check(cx: &Context, out: &mut Findings) {
    for (i, s) in cx.plan.sidekiq.iter().enumerate() {
        if s.queues.len() > 1 && s.instances > 0 {
            let names: Vec<&str> = s.queues.iter().map(|q| q.name()).collect();
            out.add(format!(
                "{} serves {} queues in one unit ({}): one queue per systemd template unit scales and logs each alone",
                s.name,
                s.queues.len(),
                names.join(", ")
            ))
            .at(format!("/sidekiq/{i}/queues"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    #[test]
    fn silent_with_one_queue_per_unit() {
        assert_silent(&RULE, &preset("large-split"));
    }

    #[test]
    fn fires_at_two_queues_in_a_unit() {
        let found = assert_fires(&RULE, &preset("compendium-example"));
        assert_eq!(found.len(), 6);
        let last = &found[5].message;
        assert!(last.contains("sidekiq-push-mailers serves 2 queues in one unit (push, mailers)"), "{last}");
        assert_eq!(found[5].at, ["/sidekiq/5/queues"]);
    }
}

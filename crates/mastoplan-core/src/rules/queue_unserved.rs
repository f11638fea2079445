use super::sources::{MASTODON_SCALING, SIDEKIQ_YML};
use crate::finding::{Context, Findings, Rule, Severity};
use crate::plan::Queue;

pub static RULE: Rule = Rule {
    id: "MP009",
    name: "queue-unserved",
    severity: Severity::Error,
    summary: "A sidekiq queue of the plan's Mastodon version is served by no running process.",
    problem: "Mastodon enqueues its background work into fixed queues (config/sidekiq.yml): \
        default (local timelines, notifications), push (delivery to other servers), ingress \
        (activities received from them), mailers (e-mail), pull (fetching remote content), \
        scheduler (periodic jobs) and, from 4.4, fasp. A sidekiq process started with -q serves \
        only the queues it names. When no process with at least one instance names a queue, its \
        jobs pile up in Redis and never run: the symptom is silent, e.g. remote posts never \
        arriving (ingress) or confirmation e-mails never sent (mailers).",
    fix: "Add the queue to a sidekiq unit, preferably a unit of its own \
        (mastodon-sidekiq-QUEUE@1), with at least one instance.",
    sources: &[MASTODON_SCALING, SIDEKIQ_YML],
    check,
};

fn check(cx: &Context, out: &mut Findings) {
    let version = cx.plan.mastodon_version;
    for queue in Queue::ALL {
        if !version.has_queue(queue) {
            continue;
        }
        let served = cx.plan.sidekiq.iter().any(|s| s.instances > 0 && s.queues.contains(&queue));
        if !served {
            out.add(format!(
                "No running sidekiq process serves the {} queue of Mastodon {}: its jobs pile up in Redis and never run",
                queue.name(),
                version.label()
            ))
            .at("/sidekiq");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::MastodonVersion;
    use crate::rules::testing::*;

    #[test]
    fn silent_when_every_queue_is_served() {
        assert_silent(&RULE, &preset("large-split"));
        assert_silent(&RULE, &preset("single-server"));
    }

    #[test]
    fn fires_when_a_queue_is_missing() {
        let mut plan = preset("large-split");
        plan.sidekiq.retain(|s| s.name != "sidekiq-mailers");
        let found = assert_fires(&RULE, &plan);
        assert_eq!(found.len(), 1);
        assert!(found[0].message.contains("the mailers queue of Mastodon 4.4+"), "{}", found[0].message);
    }

    #[test]
    fn fires_when_the_only_unit_has_no_instances() {
        let mut plan = preset("large-split");
        let i = plan.sidekiq.iter().position(|s| s.name == "sidekiq-ingress").unwrap();
        plan.sidekiq[i].instances = 0;
        let found = assert_fires(&RULE, &plan);
        assert!(found[0].message.contains("ingress"), "{}", found[0].message);
    }

    #[test]
    fn fires_on_the_worked_example_which_leaves_out_ingress() {
        let found = assert_fires(&RULE, &preset("compendium-example"));
        assert_eq!(found.len(), 1);
        assert!(found[0].message.contains("the ingress queue of Mastodon 4.2"), "{}", found[0].message);
    }

    #[test]
    fn silent_about_fasp_before_4_4() {
        let mut plan = preset("large-split");
        plan.mastodon_version = MastodonVersion::V4_3;
        plan.sidekiq.retain(|s| s.name != "sidekiq-fasp");
        assert_silent(&RULE, &plan);
    }

    #[test]
    fn fires_about_fasp_on_4_4() {
        let mut plan = preset("large-split");
        plan.sidekiq.retain(|s| s.name != "sidekiq-fasp");
        let found = assert_fires(&RULE, &plan);
        assert!(found[0].message.contains("fasp"), "{}", found[0].message);
    }
}

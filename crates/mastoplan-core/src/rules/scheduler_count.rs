use super::sources::{COMPENDIUM, HELM_CHART, MASTODON_SCALING, SIDEKIQ_YML};
use crate::finding::{Context, Findings, Rule, Severity};
use crate::plan::Queue;

pub static RULE: Rule = Rule {
    id: "MP006",
    name: "scheduler-count",
    severity: Severity::Error,
    summary: "Not exactly one sidekiq process in the whole cluster serves the scheduler queue.",
    problem: "Mastodon's periodic jobs (scheduled posts, trends, cleanups) are enqueued by the \
        schedule in config/sidekiq.yml, which runs only in processes that listen to the scheduler \
        queue. With none, those jobs never run. With more than one, every one of them enqueues the \
        same periodic jobs, so the work is done several times over. The compendium: \"there should \
        only be one scheduler in your entire cluster, and it doesn't need many threads (5 is \
        fine)\"; the Helm chart refuses a scheduler worker with more than one replica. Each \
        instance of a systemd template unit is a process of its own, so a unit with instances 2 \
        counts twice.",
    fix: "Serve scheduler from exactly one process: a dedicated mastodon-sidekiq-scheduler@1 unit \
        with -c 5 and one instance, and remove scheduler from every other unit's queues.",
    sources: &[COMPENDIUM, MASTODON_SCALING, SIDEKIQ_YML, HELM_CHART],
    check,
};

fn check(cx: &Context, out: &mut Findings) {
    let serving: Vec<(usize, &crate::plan::SidekiqUnit)> = cx
        .plan
        .sidekiq
        .iter()
        .enumerate()
        .filter(|(_, s)| s.instances > 0 && s.queues.contains(&Queue::Scheduler))
        .collect();
    let processes: u32 = serving.iter().map(|(_, s)| s.instances).sum();
    if processes == 0 {
        out.add("No sidekiq process serves the scheduler queue: periodic jobs (scheduled posts, trends, cleanups) never run")
            .at("/sidekiq");
    } else if processes > 1 {
        let who: Vec<String> = serving.iter().map(|(_, s)| format!("{} x {}", s.name, s.instances)).collect();
        let finding = out.add(format!(
            "{processes} sidekiq processes serve the scheduler queue ({}): exactly one in the cluster may, or periodic jobs run {processes} times",
            who.join(", ")
        ));
        for (i, _) in &serving {
            finding.at(format!("/sidekiq/{i}/instances"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    #[test]
    fn silent_with_one_scheduler_process() {
        assert_silent(&RULE, &preset("large-split"));
        assert_silent(&RULE, &preset("compendium-example"));
    }

    #[test]
    fn fires_at_two_instances_of_one_unit() {
        let mut plan = preset("large-split");
        let i = plan.sidekiq.iter().position(|s| s.name == "sidekiq-scheduler").unwrap();
        plan.sidekiq[i].instances = 2;
        let found = assert_fires(&RULE, &plan);
        assert!(found[0].message.starts_with("2 sidekiq processes"), "{}", found[0].message);
        assert_eq!(found[0].at, [format!("/sidekiq/{i}/instances")]);
    }

    #[test]
    fn fires_at_two_units_of_one_instance() {
        let mut plan = preset("large-split");
        plan.sidekiq[0].queues.push(Queue::Scheduler);
        let found = assert_fires(&RULE, &plan);
        assert!(found[0].message.contains("sidekiq-default x 2, sidekiq-scheduler x 1"), "{}", found[0].message);
        assert!(found[0].message.starts_with("3 sidekiq processes"), "{}", found[0].message);
    }

    #[test]
    fn fires_with_no_scheduler() {
        let mut plan = preset("large-split");
        plan.sidekiq.retain(|s| !s.queues.contains(&Queue::Scheduler));
        let found = assert_fires(&RULE, &plan);
        assert!(found[0].message.starts_with("No sidekiq process"), "{}", found[0].message);
    }

    #[test]
    fn fires_when_the_scheduler_unit_has_no_instances() {
        let mut plan = preset("large-split");
        let i = plan.sidekiq.iter().position(|s| s.name == "sidekiq-scheduler").unwrap();
        plan.sidekiq[i].instances = 0;
        assert_fires(&RULE, &plan);
    }
}

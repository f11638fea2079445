use super::sources::{COMPENDIUM, CRUNCHY_PGBOUNCER, CYBERTEC_MAX_CONNECTIONS};
use crate::finding::{Context, Findings, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "MP041",
    name: "cores-oversubscribed",
    severity: Severity::Warning,
    summary: "The units placed on a host want more cores than it has, by the plan's per-process estimates.",
    problem: "Some processes want a core of their own: a PgBouncer is single-threaded and \
        takes one under load, and the compendium's ingress queue \"will suck up a whole CPU core \
        with very little threads\". Ruby processes (Puma workers, sidekiq) and Node streaming \
        processes each use at most one core, some of it. Postgres needs a core for every \
        backend running a statement at once. When their sum passes the host's cores, they queue \
        for the CPU: requests and jobs slow down, transactions stay open longer and hold their \
        connections longer, the start of the compendium's vicious circle. The figures are the \
        plan's `estimates`, each named and documented.",
    fix: "Move units to another host (ingress processes and bouncers first: they are the ones \
        that pin a core), run fewer processes, or give the host more cores. If you have measured \
        your processes' CPU, put your numbers in the plan's `estimates`.",
    sources: &[COMPENDIUM, CRUNCHY_PGBOUNCER, CYBERTEC_MAX_CONNECTIONS],
    check,
};

fn check(cx: &Context, out: &mut Findings) {
    for h in &cx.resources().hosts {
        if !h.cores_oversubscribed() {
            continue;
        }
        let finding = out.add(format!(
            "{}: the units on it want {} cores of its {}; the largest: {}",
            h.host,
            crate::ceiling::trim_float(h.claimed_cores),
            h.cores,
            h.top_cores(3)
        ));
        finding.at(format!("/hosts/{}/cores", h.index));
        for c in h.by_cores().into_iter().filter(|c| c.cores > 0.0).take(3) {
            finding.at(c.at.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    #[test]
    fn fires_past_the_hosts_cores() {
        // single-server claims 3.875 of 4 cores, 0.25 of them the streaming process.
        let mut plan = preset("single-server");
        assert_silent(&RULE, &plan);
        plan.estimates.streaming_process_cores = 0.375; // exactly 4
        assert_silent(&RULE, &plan);
        plan.estimates.streaming_process_cores = 0.5; // 4.125
        let found = assert_fires(&RULE, &plan);
        assert!(found[0].message.contains("4.12 cores of its 4"), "{}", found[0].message);
    }

    #[test]
    fn ingress_processes_take_a_core_each() {
        let mut plan = preset("large-split");
        assert_silent(&RULE, &plan);
        // worker-2 wants 6 of 8 cores; three more ingress processes make it 9.
        let ingress = plan.sidekiq.iter_mut().find(|s| s.name == "sidekiq-ingress").unwrap();
        ingress.instances = 6;
        let found = assert_fires(&RULE, &plan);
        assert!(found[0].message.starts_with("worker-2"), "{}", found[0].message);
        assert!(found[0].message.contains("sidekiq-ingress 6 cores"), "{}", found[0].message);
    }

    #[test]
    fn fires_on_the_stock_install_on_two_cores() {
        assert_fires(&RULE, &preset("stock-systemd"));
    }
}

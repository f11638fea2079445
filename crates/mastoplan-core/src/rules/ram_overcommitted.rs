use super::sources::{COMPENDIUM, PGCONF_CONNECTION_MEMORY, PGTUNE, REDIS_ADMIN, SIDEKIQ_MEMORY};
use crate::finding::{Context, Findings, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "MP040",
    name: "ram-overcommitted",
    severity: Severity::Error,
    summary: "The units placed on a host claim more RAM than it has, by the plan's per-process estimates.",
    problem: "Every process on a host takes RAM from the same pool: Puma workers, sidekiq \
        processes (which grow from 256 MB to 1 GB in a day without jemalloc, the compendium), \
        streaming, PgBouncer, Redis up to its maxmemory and beyond, and Postgres's \
        shared_buffers plus work_mem and a backend's own memory for every connection. When \
        their sum passes the host's RAM, Linux's OOM killer ends one of them, often the largest: \
        a Postgres backend (and with it every connection, while Postgres recovers) or a sidekiq \
        process mid-job. The figures are estimates from the plan's `estimates` section, each \
        named and documented; the report's host ledger shows what each unit was counted at.",
    fix: "Move units to another host, run fewer processes or threads, give Ruby jemalloc, lower \
        a cache Redis's maxmemory, or lower shared_buffers and work_mem where Postgres shares the \
        host. If you have measured your processes (RSS in `ps`), put your numbers in the plan's \
        `estimates` instead of the defaults.",
    sources: &[COMPENDIUM, SIDEKIQ_MEMORY, PGTUNE, PGCONF_CONNECTION_MEMORY, REDIS_ADMIN],
    check,
};

fn check(cx: &Context, out: &mut Findings) {
    for h in &cx.resources().hosts {
        if !h.ram_overcommitted() {
            continue;
        }
        let finding = out.add(format!(
            "{}: the units on it claim {} MB of its {} MB ({:.0}%), {} MB over; the largest: {}",
            h.host,
            h.claimed_ram_mb,
            h.ram_mb,
            h.claimed_ram_mb as f64 * 100.0 / h.ram_mb as f64,
            h.claimed_ram_mb - h.ram_mb,
            h.top_ram(3)
        ));
        finding.at(format!("/hosts/{}/ram_gb", h.index));
        for c in h.by_ram().into_iter().take(3) {
            finding.at(c.at.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::Resources;
    use crate::rules::testing::*;
    use crate::ConnectionBudget;

    fn claimed(plan: &crate::Plan) -> u64 {
        Resources::compute(plan, &ConnectionBudget::compute(plan)).hosts[0].claimed_ram_mb
    }

    #[test]
    fn fires_one_mb_past_the_hosts_ram() {
        let mut plan = preset("single-server");
        assert_silent(&RULE, &plan);
        // The system reserve is not part of what Postgres is tuned around, so raising it moves
        // the total and nothing else.
        let spare = 8192 - claimed(&plan) as u32;
        plan.estimates.os_reserve_mb += spare;
        assert_eq!(claimed(&plan), 8192);
        assert_silent(&RULE, &plan);
        plan.estimates.os_reserve_mb += 1;
        let found = assert_fires(&RULE, &plan);
        assert!(found[0].message.contains("8193 MB of its 8192 MB"), "{}", found[0].message);
        assert!(found[0].message.contains("postgres"), "names the largest: {}", found[0].message);
    }

    #[test]
    fn fires_when_sidekiq_loses_jemalloc_on_a_full_host() {
        let mut plan = preset("stock-systemd");
        assert_silent(&RULE, &plan);
        // 1 GB instead of 512 MB for the one sidekiq: the 4 GB machine no longer fits.
        plan.sidekiq[0].jemalloc = false;
        let found = assert_fires(&RULE, &plan);
        assert!(found[0].at.contains(&"/hosts/0/ram_gb".to_string()));
    }

    #[test]
    fn silent_on_the_sensible_presets() {
        for name in ["single-server", "large-split", "compendium-example"] {
            assert_silent(&RULE, &preset(name));
        }
    }
}

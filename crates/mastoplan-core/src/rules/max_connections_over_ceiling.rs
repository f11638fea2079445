use super::sources::{COMPENDIUM, CYBERTEC_MAX_CONNECTIONS};
use crate::finding::{Context, Findings, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "MP044",
    name: "max-connections-over-ceiling",
    severity: Severity::Warning,
    summary: "max_connections is not below CYBERTEC's ceiling: max(num_cores, parallel_io_limit) / (session_busy_ratio x avg_parallelism).",
    problem: "Postgres can only run as many statements at once as it has cores (or, when I/O \
        bound, as the storage serves requests in parallel); sessions beyond that wait for CPU or \
        disk while holding locks and snapshots, and everything slows down together. CYBERTEC \
        turns that into a ceiling: max_connections < max(num_cores, parallel_io_limit) / \
        (session_busy_ratio x avg_parallelism), where session_busy_ratio is the share of time a \
        connection runs a statement and avg_parallelism the backends per query. The compendium \
        quotes it, and its rule \"keep max_connections as low as possible\". num_cores is the \
        database host's; the other three come from the plan's `estimates` (defaults: 0.025, 1, \
        and no measured I/O limit, which is 40 connections per core). Measure your busy ratio \
        with pg_stat_activity and put it in the plan: the ceiling is only as good as it.",
    fix: "Lower max_connections to the ceiling or below, putting PgBouncer in front of Postgres \
        if the app's pools need more (the bouncers' server pools are what Postgres sees). Or, if \
        your measured busy ratio is lower or your storage serves more parallel I/O, set \
        estimates.session_busy_ratio or estimates.parallel_io_limit.",
    sources: &[CYBERTEC_MAX_CONNECTIONS, COMPENDIUM],
    check,
};

fn check(cx: &Context, out: &mut Findings) {
    let r = cx.resources();
    let servers = std::iter::once((&r.postgres, "Postgres", "/postgres/max_connections"))
        .chain(r.replica.as_ref().map(|t| (t, "The replica", "/replica/max_connections")));
    for (t, whose, at) in servers {
        let c = &t.ceiling;
        if !c.within {
            out.add(format!(
                "{whose} max_connections {} on {} is not below its ceiling: {}",
                t.max_connections,
                t.host,
                c.derivation()
            ))
            .at(at)
            .at("/estimates/session_busy_ratio");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    #[test]
    fn fires_at_the_ceiling() {
        // single-server: 4 cores / 0.025 = 160.
        let mut plan = preset("single-server");
        plan.postgres.max_connections = 159;
        assert_silent(&RULE, &plan);
        plan.postgres.max_connections = 160;
        let found = assert_fires(&RULE, &plan);
        assert!(found[0].message.ends_with("= 160"), "{}", found[0].message);
    }

    #[test]
    fn a_measured_busy_ratio_moves_the_ceiling() {
        // The compendium's own sample: 12 of 151 connections active, about 8%.
        let mut plan = preset("single-server");
        assert_silent(&RULE, &plan);
        plan.estimates.session_busy_ratio = 0.08; // 4 / 0.08 = 50 < 100
        assert_fires(&RULE, &plan);
        plan.estimates.parallel_io_limit = 8; // 8 / 0.08 = 100: still not below
        assert_fires(&RULE, &plan);
        plan.estimates.parallel_io_limit = 9; // 112.5
        assert_silent(&RULE, &plan);
    }

    #[test]
    fn fires_on_the_stock_install_on_two_cores() {
        // 2 cores / 0.025 = 80, and Postgres's default max_connections is 100.
        assert_fires(&RULE, &preset("stock-systemd"));
        for name in ["single-server", "large-split", "compendium-example"] {
            assert_silent(&RULE, &preset(name));
        }
    }
}

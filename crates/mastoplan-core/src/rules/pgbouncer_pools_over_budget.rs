use super::sources::{PGBOUNCER_CONFIG, POSTGRES_CONNECTIONS};
use crate::finding::{Context, Findings, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "MP015",
    name: "pgbouncer-pools-over-budget",
    severity: Severity::Error,
    summary: "The server connections every PgBouncer may open, plus the direct pools, exceed what Postgres allows.",
    problem: "Each PgBouncer opens up to default_pool_size (plus reserve_pool_size under load, \
        capped by max_db_connections) server connections per database/user pair. Today's clients \
        may not fill those pools, which is why connections-over-budget can stay quiet, but as \
        load rises the bouncers will open all of them, and with the units that connect directly \
        they must still fit in max_connections minus the reserved slots. When they do not, \
        Postgres refuses the bouncers at the worst moment, at peak.",
    fix: "Lower default_pool_size or reserve_pool_size, or cap each bouncer with \
        max_db_connections, so that the sum of the bouncers' pools plus the direct pools stays \
        within Postgres's available connections, with a margin for migrations and maintenance.",
    sources: &[PGBOUNCER_CONFIG, POSTGRES_CONNECTIONS],
    check,
};

fn check(cx: &Context, out: &mut Findings) {
    let b = cx.budget;
    if b.bouncers.is_empty() {
        return;
    }
    let pools: u32 = b.bouncers.iter().map(|x| x.server_pool).sum();
    let total = pools.saturating_add(b.direct);
    if total <= b.available {
        return;
    }
    let each: Vec<String> = b.bouncers.iter().map(|x| format!("{} {}", x.name, x.server_pool)).collect();
    let direct = if b.direct > 0 { format!(" + {} direct", b.direct) } else { String::new() };
    let finding = out.add(format!(
        "The bouncers may open {pools} server connections ({}){direct} = {total}, over the {} Postgres allows by {}",
        each.join(", "),
        b.available,
        total - b.available
    ));
    for x in &b.bouncers {
        finding.at(format!("/pgbouncers/{}/default_pool_size", x.index));
    }
    finding.at("/postgres/max_connections");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    #[test]
    fn silent_when_the_pools_fit() {
        assert_silent(&RULE, &preset("large-split")); // 4 x 25 = 100 of 195
    }

    #[test]
    fn silent_at_the_budget() {
        let mut plan = preset("large-split");
        plan.postgres.max_connections = 105; // 105 - 3 - 2 = 100 available
        assert_silent(&RULE, &plan);
    }

    #[test]
    fn fires_one_connection_over() {
        let mut plan = preset("large-split");
        plan.postgres.max_connections = 104; // 99 available
        let found = assert_fires(&RULE, &plan);
        let m = &found[0].message;
        assert!(m.contains("may open 100 server connections (bouncer-web-1 25, "), "{m}");
        assert!(m.contains("= 100, over the 99 Postgres allows by 1"), "{m}");
        assert_eq!(found[0].at.len(), 5);
    }

    #[test]
    fn counts_the_direct_pools() {
        let mut plan = preset("large-split");
        plan.web[0].pgbouncer = None; // 20 direct: 100 + 20 > 115
        plan.postgres.max_connections = 120;
        let found = assert_fires(&RULE, &plan);
        assert!(found[0].message.contains("+ 20 direct = 120"), "{}", found[0].message);
    }

    #[test]
    fn silent_without_bouncers() {
        let mut plan = preset("compendium-example");
        plan.postgres.max_connections = 50;
        assert_silent(&RULE, &plan); // connections-over-budget's case
    }
}

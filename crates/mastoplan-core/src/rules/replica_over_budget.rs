use super::sources::{DATABASE_YML, POSTGRES_CONNECTIONS};
use crate::finding::{Context, Findings, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "MP029",
    name: "replica-over-budget",
    severity: Severity::Error,
    summary: "The pools opened against the read replica exceed its max_connections minus the reserved slots.",
    problem: "Every process opens a replica pool as large as its primary pool, so the replica \
        sees the app's whole pool. When that is more than the replica allows ordinary users \
        (max_connections minus superuser_reserved_connections), the last processes to connect \
        get \"sorry, too many clients already\" and their reads fail.",
    fix: "Raise the replica's max_connections to match the primary's budget (a hot standby must \
        anyway have max_connections at least the primary's), shrink the pools, or put a \
        PgBouncer in front of the replica too.",
    sources: &[DATABASE_YML, POSTGRES_CONNECTIONS],
    check,
};

fn check(cx: &Context, out: &mut Findings) {
    if let Some(r) = &cx.budget.replica {
        if r.total > r.available {
            out.add(format!(
                "The replica on {} sees {} connections but allows {}: {} over",
                r.host,
                r.total,
                r.available,
                r.total - r.available
            ))
            .at("/replica/max_connections");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Replica;
    use crate::rules::testing::*;

    fn with_replica(max_connections: u32) -> crate::plan::Plan {
        let mut plan = preset("compendium-example"); // 185 connections
        plan.replica = Some(Replica { host: "db".into(), max_connections, superuser_reserved_connections: 3 });
        plan
    }

    #[test]
    fn silent_at_the_replica_budget() {
        assert_silent(&RULE, &with_replica(188));
    }

    #[test]
    fn fires_one_connection_over() {
        let found = assert_fires(&RULE, &with_replica(187));
        assert_eq!(found[0].message, "The replica on db sees 185 connections but allows 184: 1 over");
    }
}

use super::sources::{AWS_IDLE_CONNECTIONS, COMPENDIUM, CYBERTEC_MAX_CONNECTIONS};
use crate::finding::{Context, Findings, Rule, Severity};

/// The compendium: "If you have to set postgres max_connections to above 512, don't."
const DONT_ABOVE: u32 = 512;
/// The compendium: "any value of max_connections over 999" (the AWS measurements it cites).
const SEVERE_ABOVE: u32 = 999;

pub static RULE: Rule = Rule {
    id: "MP003",
    name: "max-connections-high",
    severity: Severity::Warning,
    summary: "max_connections is above 512 (warning) or over 999 (error): every connection costs Postgres even when idle.",
    problem: "Each Postgres connection is a backend process with its own memory, and idle ones \
        still cost: snapshots, locks and caches grow with their number. Raising max_connections to \
        make room for bigger pools feeds the compendium's vicious circle: more workers, more \
        contention, slower queries, bigger backlog, more workers. Its rule: \"If you have to set \
        postgres max_connections to above 512, don't.\" Over 999 it cites AWS's measurements of \
        idle connections: \"as much as a 46% drop in queries per second\". CYBERTEC gives the \
        ceiling as max_connections < max(num_cores, parallel_io_limit) / (session_busy_ratio x \
        avg_parallelism): on real hardware, far below these numbers. The primary and a read \
        replica are checked alike.",
    fix: "Put PgBouncer in front of Postgres (pool_mode transaction) and size max_connections \
        from the bouncers' server pools plus a margin for maintenance, not from the app's pools. \
        Shrink oversized pools: a process never needs more connections than threads.",
    sources: &[COMPENDIUM, AWS_IDLE_CONNECTIONS, CYBERTEC_MAX_CONNECTIONS],
    check,
};

fn check(cx: &Context, out: &mut Findings) {
    flag(out, "Postgres", cx.plan.postgres.max_connections, "/postgres/max_connections");
    if let Some(r) = &cx.plan.replica {
        flag(out, "The replica's", r.max_connections, "/replica/max_connections");
    }
}

fn flag(out: &mut Findings, whose: &str, max_connections: u32, at: &str) {
    if max_connections > SEVERE_ABOVE {
        out.add(format!(
            "{whose} max_connections {max_connections} is over {SEVERE_ABOVE}: idle connections alone can cost up to a 46% drop in queries per second (AWS, cited by the compendium)"
        ))
        .at(at)
        .severity(Severity::Error);
    } else if max_connections > DONT_ABOVE {
        out.add(format!(
            "{whose} max_connections {max_connections} is above {DONT_ABOVE}: the compendium's rule is \"don't\"; pool with PgBouncer instead"
        ))
        .at(at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Replica;
    use crate::rules::testing::*;

    fn with_max_connections(n: u32) -> crate::plan::Plan {
        let mut plan = preset("single-server");
        plan.postgres.max_connections = n;
        plan
    }

    #[test]
    fn silent_at_512() {
        assert_silent(&RULE, &with_max_connections(512));
    }

    #[test]
    fn warns_at_513() {
        let found = assert_fires(&RULE, &with_max_connections(513));
        assert_eq!(found[0].severity, Severity::Warning);
        assert!(found[0].message.contains("513 is above 512"), "{}", found[0].message);
    }

    #[test]
    fn warns_at_999() {
        let found = assert_fires(&RULE, &with_max_connections(999));
        assert_eq!(found[0].severity, Severity::Warning);
    }

    #[test]
    fn error_at_1000_with_the_46_percent_drop() {
        let found = assert_fires(&RULE, &with_max_connections(1000));
        assert_eq!(found[0].severity, Severity::Error);
        assert!(found[0].message.contains("46% drop"), "{}", found[0].message);
        assert_eq!(found[0].at, ["/postgres/max_connections"]);
    }

    #[test]
    fn checks_the_replica_too() {
        let mut plan = preset("single-server");
        plan.replica = Some(Replica { host: "mastodon".into(), max_connections: 600, superuser_reserved_connections: 3 });
        let found = assert_fires(&RULE, &plan);
        assert_eq!(found[0].at, ["/replica/max_connections"]);
    }
}

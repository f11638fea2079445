use super::sources::{COMPENDIUM, POSTGRES_CONNECTIONS};
use crate::finding::{Context, Findings, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "MP001",
    name: "connections-over-budget",
    severity: Severity::Error,
    summary: "Postgres would refuse connections: the plan opens more than max_connections minus the reserved slots.",
    problem: "Every thread that can run a query holds a connection from its process's pool. When \
        the pools together ask for more connections than Postgres allows ordinary users \
        (max_connections minus superuser_reserved_connections and reserved_connections), \
        the last processes to connect get \"sorry, too many clients already\" and their jobs \
        and requests fail until others disconnect. The compendium: \"if this number is over \
        max_connections in your postgres configuration, you lost.\"",
    fix: "Lower the pools (fewer sidekiq instances or threads, fewer Puma workers), or put \
        PgBouncer in front of Postgres so many client connections share a small server pool. \
        Raising max_connections is the last resort: see max-connections-high.",
    sources: &[COMPENDIUM, POSTGRES_CONNECTIONS],
    check,
};

fn check(cx: &Context, out: &mut Findings) {
    let b = cx.budget;
    if b.total > b.available {
        out.add(format!(
            "Postgres sees {} connections at peak but allows {} ({} max_connections - {} reserved): {} over",
            b.total,
            b.available,
            b.max_connections,
            b.reserved,
            b.total - b.available
        ))
        .at("/postgres/max_connections");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    #[test]
    fn fires_one_connection_past_the_budget() {
        let mut plan = preset("compendium-example");
        plan.web[0].max_threads = 15; // 3 x 15 = 45: 185 + 15 = 200, at the budget
        assert_silent(&RULE, &plan);
        plan.web[0].max_threads = 16; // 48: 203 > 200
        let found = assert_fires(&RULE, &plan);
        assert!(found[0].message.contains("203"), "{}", found[0].message);
    }

    #[test]
    fn silent_on_the_worked_example() {
        assert_silent(&RULE, &preset("compendium-example"));
    }
}

use super::sources::{COMPENDIUM, DATABASE_YML, MASTODON_CONFIG};
use crate::finding::{Context, Findings, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "MP028",
    name: "replica-doubles-pools",
    severity: Severity::Advice,
    summary: "With a read replica every process opens a second pool, of the same size, against it.",
    problem: "Since 4.2 Mastodon can send reads to a replica (REPLICA_DB_HOST or \
        REPLICA_DATABASE_URL): config/database.yml then gives every process a second connection \
        pool of the same size, against the replica. The replica needs its own connection budget \
        for the whole app, and a bouncer in front of it too at scale. It is also rarely needed: \
        the compendium notes that \"read replicas are suggested to be unneeded even at 128k \
        active users\".",
    fix: "Size the replica's max_connections for the app's whole pool, as for the primary, or \
        drop the replica until the primary's CPU, not its connections, is the limit.",
    sources: &[DATABASE_YML, MASTODON_CONFIG, COMPENDIUM],
    check,
};

fn check(cx: &Context, out: &mut Findings) {
    if let Some(r) = &cx.budget.replica {
        out.add(format!(
            "Every process opens a second pool against the replica on {}: {} connections of its {} available",
            r.host, r.total, r.available
        ))
        .at("/replica");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Replica;
    use crate::rules::testing::*;

    #[test]
    fn silent_without_a_replica() {
        assert_silent(&RULE, &preset("compendium-example"));
    }

    #[test]
    fn fires_with_a_replica_giving_its_total() {
        let mut plan = preset("compendium-example");
        plan.replica = Some(Replica { host: "db".into(), max_connections: 203, superuser_reserved_connections: 3 });
        let found = assert_fires(&RULE, &plan);
        assert!(found[0].message.ends_with("on db: 185 connections of its 200 available"), "{}", found[0].message);
    }
}

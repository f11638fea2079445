use super::sources::{CHART_MIGRATIONS, MASTODON_SCALING, MIGRATIONS_ISSUE, MIGRATIONS_ISSUE_2};
use crate::finding::{Context, Findings, Rule, Severity};

/// Postgres's own port; the plan gives bouncers a port but Postgres always this one.
const POSTGRES_PORT: u16 = 5432;

pub static RULE: Rule = Rule {
    id: "MP019",
    name: "migrations-bypass-bouncer",
    severity: Severity::Advice,
    summary: "Units connect through PgBouncer: database migrations must go straight to Postgres.",
    problem: "Rails takes a Postgres advisory lock for the length of a migration run, and a \
        session-level advisory lock does not survive transaction pooling: the lock and its unlock \
        land on different server connections, and migrations fail or hang (mastodon issues \
        #29526 and #34934; the Helm chart runs its migration job around the bouncer, chart issue \
        #168). Mastodon's scaling docs: run migrations with DB_PORT=5432, straight at Postgres, \
        whenever the app goes through PgBouncer. This is advice, raised whenever a unit uses a \
        bouncer, so the upgrade checklist has the command.",
    fix: "Run every db:migrate (and the pre- and post-deployment migrations of an upgrade) with \
        DB_HOST and DB_PORT pointing at Postgres itself, as in the finding's command.",
    sources: &[MASTODON_SCALING, MIGRATIONS_ISSUE, MIGRATIONS_ISSUE_2, CHART_MIGRATIONS],
    check,
};

fn check(cx: &Context, out: &mut Findings) {
    let plan = cx.plan;
    let through_bouncer = cx
        .budget
        .lines
        .iter()
        .any(|l| l.pgbouncer.as_deref().and_then(|n| plan.pgbouncer(n)).is_some());
    if !through_bouncer {
        return;
    }
    let pg_host = &plan.postgres.host;
    let db_host = plan.host(pg_host).and_then(|h| h.address.as_deref()).unwrap_or(pg_host);
    out.add(format!(
        "Units connect through PgBouncer, migrations must not: RAILS_ENV=production DB_HOST={db_host} DB_PORT={POSTGRES_PORT} bundle exec rails db:migrate"
    ))
    .at("/postgres/host");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    #[test]
    fn fires_with_the_postgres_address_when_units_use_a_bouncer() {
        let found = assert_fires(&RULE, &preset("large-split"));
        assert!(
            found[0].message.ends_with("RAILS_ENV=production DB_HOST=10.0.1.40 DB_PORT=5432 bundle exec rails db:migrate"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn falls_back_to_the_host_name_without_an_address() {
        let mut plan = preset("large-split");
        let db = plan.hosts.iter_mut().find(|h| h.name == "db").unwrap();
        db.address = None;
        let found = assert_fires(&RULE, &plan);
        assert!(found[0].message.contains("DB_HOST=db DB_PORT=5432"), "{}", found[0].message);
    }

    #[test]
    fn silent_without_a_bouncer() {
        assert_silent(&RULE, &preset("compendium-example"));
    }
}

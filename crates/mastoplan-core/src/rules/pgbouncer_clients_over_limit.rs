use super::sources::{MASTODON_SCALING, PGBOUNCER_CONFIG};
use crate::finding::{Context, Findings, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "MP014",
    name: "pgbouncer-clients-over-limit",
    severity: Severity::Error,
    summary: "The app pools pointed at a PgBouncer exceed its max_client_conn.",
    problem: "A PgBouncer accepts at most max_client_conn client connections (its default and the \
        Mastodon docs' starting value is 100). Every connection of every pool pointed at it is a \
        client, busy or not, so when the pools add up to more, the last processes to connect are \
        refused (\"no more connections allowed (max_client_conn)\") and their requests and jobs \
        fail, however idle Postgres is. With a bouncer the budget splits in two: the clients \
        must fit each bouncer, and the bouncers' server pools must fit Postgres.",
    fix: "Raise max_client_conn above the pools pointed at the bouncer, with room for psql and \
        monitoring clients (and raise LimitNOFILE with it: see pgbouncer-file-descriptors), or \
        move some units to another bouncer.",
    sources: &[PGBOUNCER_CONFIG, MASTODON_SCALING],
    check,
};

fn check(cx: &Context, out: &mut Findings) {
    for b in &cx.budget.bouncers {
        if b.clients > b.max_client_conn {
            let units: Vec<&str> = cx.budget.lines_through(&b.name).map(|l| l.unit.as_str()).collect();
            out.add(format!(
                "{}: {} app connections point at it ({}) but max_client_conn is {}: {} are refused",
                b.name,
                b.clients,
                units.join(", "),
                b.max_client_conn,
                b.clients - b.max_client_conn
            ))
            .at(format!("/pgbouncers/{}/max_client_conn", b.index));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    /// bouncer-web-1 takes web-1 (4 x 5 = 20) and streaming-1 (its instances x 10).
    fn clients_of_web_1(plan: &crate::plan::Plan) -> u32 {
        crate::budget::ConnectionBudget::compute(plan).bouncers[0].clients
    }

    #[test]
    fn silent_at_max_client_conn() {
        let mut plan = preset("large-split");
        plan.pgbouncers[0].max_client_conn = clients_of_web_1(&plan);
        assert_silent(&RULE, &plan);
    }

    #[test]
    fn fires_one_client_past_max_client_conn() {
        let mut plan = preset("large-split");
        let clients = clients_of_web_1(&plan);
        plan.pgbouncers[0].max_client_conn = clients - 1;
        let found = assert_fires(&RULE, &plan);
        assert!(found[0].message.contains(&format!("{clients} app connections point at it (web-1, streaming-1)")), "{}", found[0].message);
        assert!(found[0].message.ends_with("1 are refused"), "{}", found[0].message);
        assert_eq!(found[0].at, ["/pgbouncers/0/max_client_conn"]);
    }
}

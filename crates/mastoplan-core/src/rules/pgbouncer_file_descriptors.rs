use super::sources::{COMPENDIUM, PGBOUNCER_CONFIG};
use crate::finding::{Context, Findings, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "MP018",
    name: "pgbouncer-file-descriptors",
    severity: Severity::Error,
    summary: "A PgBouncer may need more file descriptors than its service's LimitNOFILE allows.",
    problem: "Every client and every server connection is an open socket. PgBouncer's docs give \
        the most it may need as max_client_conn + max_pool_size x databases x users; here the pool \
        counts default_pool_size plus reserve_pool_size (capped by max_db_connections) for each \
        database/user pair. Past the service's open-file limit, which a packaged unit leaves at \
        the usual 1024, new clients are dropped with \"accept() failed: Too many open files\". The \
        compendium warns that raising connection counts may require raising system limits; one \
        reported outage came from max_client_conn 2000 under a 1024-descriptor limit.",
    fix: "Set LimitNOFILE in the bouncer's systemd unit (a drop-in under \
        /etc/systemd/system/pgbouncer.service.d/) comfortably above the need, or lower \
        max_client_conn.",
    sources: &[PGBOUNCER_CONFIG, COMPENDIUM],
    check,
};

fn check(cx: &Context, out: &mut Findings) {
    for (b, load) in cx.plan.pgbouncers.iter().zip(&cx.budget.bouncers) {
        if load.file_descriptors_needed > b.limit_nofile {
            out.add(format!(
                "{} may need {} file descriptors (max_client_conn {} + {} server connections) but LimitNOFILE is {}: past it, \"accept() failed: Too many open files\"",
                b.name, load.file_descriptors_needed, b.max_client_conn, load.server_pool, b.limit_nofile
            ))
            .at(format!("/pgbouncers/{}/limit_nofile", load.index));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    #[test]
    fn silent_at_the_limit() {
        let mut plan = preset("large-split");
        plan.pgbouncers[0].limit_nofile = 225; // 200 clients + 25 server
        assert_silent(&RULE, &plan);
    }

    #[test]
    fn fires_one_descriptor_short() {
        let mut plan = preset("large-split");
        plan.pgbouncers[0].limit_nofile = 224;
        let found = assert_fires(&RULE, &plan);
        assert!(found[0].message.contains("225 file descriptors (max_client_conn 200 + 25 server connections) but LimitNOFILE is 224"), "{}", found[0].message);
        assert_eq!(found[0].at, ["/pgbouncers/0/limit_nofile"]);
    }

    #[test]
    fn fires_on_the_reported_outage() {
        let mut plan = preset("large-split");
        plan.pgbouncers[0].max_client_conn = 2000;
        plan.pgbouncers[0].limit_nofile = 1024;
        assert_fires(&RULE, &plan);
    }
}

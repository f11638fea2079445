use super::sources::{COMPENDIUM, PGTUNE, POSTGRES_RESOURCE_CONFIG};
use crate::finding::{Context, Findings, Rule, Severity};
use crate::pgtune::{format_kb, KB_PER_MB};

pub static RULE: Rule = Rule {
    id: "MP042",
    name: "work-mem-over-ram",
    severity: Severity::Warning,
    summary: "max_connections x work_mem is more than twice the database host's RAM.",
    problem: "work_mem is what one sort or hash in one query may use before spilling to disk, \
        and a query can run several at once, in every connection. The compendium: \"if you need \
        to increase max_connections on PostgreSQL, make sure to check what work_mem is set to. \
        If max_connections X work_mem is more than double the RAM you have on the server, maybe \
        lower work_mem.\" Past that, a burst of busy connections can take the server into swap or \
        the OOM killer. PGTune divides what shared_buffers leaves by (max_connections + \
        workers) x 3, but floors work_mem at 4 MB: with very many connections on a small server \
        even the floor is too much, and the answer is fewer connections.",
    fix: "Lower work_mem (the report recommends a value), or lower max_connections: put PgBouncer \
        in front of Postgres so fewer server connections serve the same app pools.",
    sources: &[COMPENDIUM, PGTUNE, POSTGRES_RESOURCE_CONFIG],
    check,
};

fn check(cx: &Context, out: &mut Findings) {
    let r = cx.resources();
    for t in std::iter::once(&r.postgres).chain(r.replica.as_ref()) {
        let product_kb = u64::from(t.max_connections) * t.memory.work_mem_kb;
        let limit_kb = 2 * t.host_ram_mb * KB_PER_MB;
        if product_kb > limit_kb {
            let (whose, at): (&str, &[&str]) = if std::ptr::eq(t, &r.postgres) {
                ("postgres", &["/postgres/settings/work_mem_mb", "/postgres/max_connections"])
            } else {
                ("the replica", &["/replica/max_connections"])
            };
            let finding = out.add(format!(
                "{whose} on {}: max_connections {} x work_mem {} = {} MB, more than twice the host's {} MB",
                t.host,
                t.max_connections,
                format_kb(t.memory.work_mem_kb),
                product_kb / KB_PER_MB,
                t.host_ram_mb
            ));
            for pointer in at {
                finding.at(*pointer);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    #[test]
    fn fires_past_twice_the_ram() {
        // single-server: 8 GB, so the line is 16384 MB.
        let mut plan = preset("single-server");
        assert_silent(&RULE, &plan);
        plan.postgres.max_connections = 128;
        plan.postgres.settings.work_mem_mb = Some(128); // 128 x 128 MB = 16384 MB: at the line
        assert_silent(&RULE, &plan);
        plan.postgres.max_connections = 129;
        let found = assert_fires(&RULE, &plan);
        assert!(found[0].message.contains("16512 MB"), "{}", found[0].message);
    }

    #[test]
    fn the_4mb_floor_fires_with_very_many_connections() {
        // A 2 GB database host with 1100 connections: PGTune floors work_mem at 4 MB, and
        // 1100 x 4 MB = 4400 MB is over 4096.
        let mut plan = preset("compendium-example");
        plan.hosts[1].ram_gb = 2;
        plan.postgres.max_connections = 1100;
        let found = assert_fires(&RULE, &plan);
        assert!(found[0].message.contains("work_mem 4MB"), "{}", found[0].message);
        plan.postgres.max_connections = 1000; // 4000 MB
        assert_silent(&RULE, &plan);
    }

    #[test]
    fn silent_with_the_recommended_work_mem() {
        for p in crate::presets::all() {
            assert_silent(&RULE, &p);
        }
    }
}

use super::sources::{COMPENDIUM, PGTUNE};
use crate::finding::{Context, Findings, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "MP030",
    name: "work-mem-over-ram",
    severity: Severity::Warning,
    summary: "max_connections x work_mem is more than twice the Postgres machine's RAM.",
    problem: "work_mem is what one sort or hash step of a query may use before spilling to disk, \
        and every connection can use it, several times in a complex query. Set generously while \
        max_connections is high, a busy moment can ask for more memory than the machine has, and \
        the kernel's out-of-memory killer takes Postgres down. The compendium: \"if you need to \
        increase max_connections on PostgreSQL, make sure to check what work_mem is set to. If \
        max_connections X work_mem is more than double the RAM you have on the server, maybe \
        lower work_mem.\" Only a work_mem the plan sets explicitly is checked; the derived one \
        follows PGTune and stays well within.",
    fix: "Lower work_mem (PGTune's web profile: (RAM - shared_buffers) / ((max_connections + \
        max_worker_processes) x 3), at least 4 MB), or lower max_connections with PgBouncer in \
        front.",
    sources: &[COMPENDIUM, PGTUNE],
    check,
};

fn check(cx: &Context, out: &mut Findings) {
    let pg = &cx.plan.postgres;
    let Some(work_mem_mb) = pg.settings.work_mem_mb else { return };
    let Some(host) = cx.plan.host(&pg.host) else { return };
    let product_mb = u64::from(pg.max_connections) * u64::from(work_mem_mb);
    let ram_mb = u64::from(host.ram_gb) * 1024;
    if product_mb > 2 * ram_mb {
        out.add(format!(
            "max_connections {} x work_mem {work_mem_mb} MB = {product_mb} MB, more than twice the {} GB of {}: lower work_mem",
            pg.max_connections, host.ram_gb, host.name
        ))
        .at("/postgres/settings/work_mem_mb");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    fn with_work_mem(mb: u32) -> crate::plan::Plan {
        let mut plan = preset("compendium-example"); // max_connections 203, db has 32 GB
        plan.postgres.settings.work_mem_mb = Some(mb);
        plan
    }

    #[test]
    fn silent_without_an_explicit_work_mem() {
        assert_silent(&RULE, &preset("compendium-example"));
    }

    #[test]
    fn silent_at_twice_the_ram() {
        let mut plan = with_work_mem(64);
        plan.postgres.max_connections = 1024; // 65,536 MB = 2 x 32 GB
        assert_silent(&RULE, &plan);
    }

    #[test]
    fn fires_past_twice_the_ram() {
        let found = assert_fires(&RULE, &with_work_mem(323)); // 203 x 323 = 65,569 MB > 65,536
        assert!(
            found[0].message.starts_with("max_connections 203 x work_mem 323 MB = 65569 MB, more than twice the 32 GB of db"),
            "{}",
            found[0].message
        );
    }
}

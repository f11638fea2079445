use super::sources::{PGTUNE, POSTGRES_QUERY_CONFIG};
use crate::finding::{Context, Findings, Rule, Severity};
use crate::pgtune::{format_kb, KB_PER_MB};

pub static RULE: Rule = Rule {
    id: "MP047",
    name: "effective-cache-size-over-ram",
    severity: Severity::Advice,
    summary: "effective_cache_size is set above the RAM Postgres has on its host.",
    problem: "effective_cache_size allocates nothing: it tells the query planner how much of the \
        data it may expect to find cached, in shared_buffers and the OS page cache together \
        (Postgres documentation). Set above the RAM Postgres actually has, it makes index scans \
        look cheaper than they are, and the planner picks them for queries that then read from \
        disk. PGTune sets it to three quarters of the RAM; where Postgres shares its host, the \
        RAM is what the other units leave.",
    fix: "Remove the override to take the recommendation (RAM x 3/4), or set it below the RAM \
        Postgres has.",
    sources: &[POSTGRES_QUERY_CONFIG, PGTUNE],
    check,
};

fn check(cx: &Context, out: &mut Findings) {
    let t = &cx.resources().postgres;
    let ram_kb = t.ram_mb * KB_PER_MB;
    if t.memory.effective_cache_size_kb > ram_kb {
        out.add(format!(
            "effective_cache_size {} is above the {} MB Postgres has on {}: PGTune recommends {}",
            format_kb(t.memory.effective_cache_size_kb),
            t.ram_mb,
            t.host,
            format_kb(t.pgtune.effective_cache_size_kb)
        ))
        .at("/postgres/settings/effective_cache_size_mb");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    #[test]
    fn fires_past_the_ram_postgres_has() {
        // large-split's database host: 64 GB, all of it Postgres's.
        let mut plan = preset("large-split");
        assert_silent(&RULE, &plan);
        plan.postgres.settings.effective_cache_size_mb = Some(65536);
        assert_silent(&RULE, &plan);
        plan.postgres.settings.effective_cache_size_mb = Some(65537);
        let found = assert_fires(&RULE, &plan);
        assert!(found[0].message.contains("PGTune recommends 48GB"), "{}", found[0].message);
    }

    #[test]
    fn a_shared_host_leaves_postgres_less() {
        // single-server's 8 GB are shared: Postgres has what the other units leave.
        let mut plan = preset("single-server");
        plan.postgres.settings.effective_cache_size_mb = Some(8192);
        assert_fires(&RULE, &plan);
    }
}

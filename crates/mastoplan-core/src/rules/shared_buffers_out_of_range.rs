use super::sources::{PGTUNE, POSTGRES_RESOURCE_CONFIG};
use crate::finding::{Context, Findings, Rule, Severity};
use crate::pgtune::{format_kb, KB_PER_MB};

/// The usual range is 15% to 40% of RAM: the Postgres docs start at 25% and find more than 40%
/// "unlikely" to work better; the 15% lower edge is this rule's assumption, a cautious start
/// below the docs' 25%. "Far outside" is a third below 15% or a quarter above 40%.
const FAR_BELOW: f64 = 0.10;
const FAR_ABOVE: f64 = 0.50;

pub static RULE: Rule = Rule {
    id: "MP043",
    name: "shared-buffers-out-of-range",
    severity: Severity::Warning,
    summary: "shared_buffers is far outside 15-40% of the RAM Postgres has (below 10% or above 50%).",
    problem: "shared_buffers is Postgres's own page cache; the rest of its reads come through \
        the OS page cache. The Postgres documentation: on a dedicated server \"a reasonable \
        starting value for shared_buffers is 25% of the memory in your system\", and \"it is \
        unlikely that an allocation of more than 40% of RAM to shared_buffers will work better \
        than a smaller amount\", because Postgres also relies on the OS cache and pages end up \
        cached twice. Far below, Postgres rereads hot pages through the kernel; far above, the OS \
        cache and the connections' work_mem are starved, and checkpoints have more dirty pages \
        to write. The RAM is what Postgres has on its host: all of it on a dedicated host, what \
        the other units leave on a shared one, or postgres.settings.ram_mb.",
    fix: "Set shared_buffers near a quarter of that RAM (the report's recommendation, PGTune's \
        RAM / 4), or remove the override to take the recommendation.",
    sources: &[POSTGRES_RESOURCE_CONFIG, PGTUNE],
    check,
};

fn check(cx: &Context, out: &mut Findings) {
    let t = &cx.resources().postgres;
    let ram_kb = t.ram_mb * KB_PER_MB;
    let share = t.memory.shared_buffers_kb as f64 / ram_kb as f64;
    let side = if share < FAR_BELOW {
        "far below 15%"
    } else if share > FAR_ABOVE {
        "far above 40%"
    } else {
        return;
    };
    out.add(format!(
        "shared_buffers {} is {:.1}% of the {} MB Postgres has on {}, {side}: PGTune recommends {}",
        format_kb(t.memory.shared_buffers_kb),
        share * 100.0,
        t.ram_mb,
        t.host,
        format_kb(t.pgtune.shared_buffers_kb)
    ))
    .at("/postgres/settings/shared_buffers_mb");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    #[test]
    fn fires_below_a_tenth_of_the_ram() {
        // large-split's database host has 64 GB to itself: a tenth is 6553.6 MB.
        let mut plan = preset("large-split");
        plan.postgres.settings.shared_buffers_mb = Some(6554);
        assert_silent(&RULE, &plan);
        plan.postgres.settings.shared_buffers_mb = Some(6553);
        let found = assert_fires(&RULE, &plan);
        assert!(found[0].message.contains("far below 15%"), "{}", found[0].message);
        assert!(found[0].message.contains("PGTune recommends 16GB"), "{}", found[0].message);
    }

    #[test]
    fn fires_above_half_the_ram() {
        let mut plan = preset("large-split");
        plan.postgres.settings.shared_buffers_mb = Some(32768);
        assert_silent(&RULE, &plan);
        plan.postgres.settings.shared_buffers_mb = Some(32769);
        let found = assert_fires(&RULE, &plan);
        assert!(found[0].message.contains("far above 40%"), "{}", found[0].message);
    }

    #[test]
    fn the_postgres_default_128mb_fires_on_a_big_host() {
        let mut plan = preset("large-split");
        plan.postgres.settings.shared_buffers_mb = Some(128);
        assert_fires(&RULE, &plan);
    }

    #[test]
    fn silent_with_the_recommendation() {
        for p in crate::presets::all() {
            assert_silent(&RULE, &p);
        }
    }
}

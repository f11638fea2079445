use super::sources::{COMPENDIUM, DIST_UNITS, SIDEKIQ_MEMORY};
use crate::finding::{Context, Findings, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "MP031",
    name: "jemalloc-missing",
    severity: Severity::Warning,
    summary: "A web or sidekiq unit runs Ruby on glibc's malloc, without jemalloc.",
    problem: "Multi-threaded Ruby on glibc's malloc fragments memory badly. The compendium, \
        quoting a Sidekiq mailing list: \"A single Sidekiq process can slowly grow from 256MB of \
        memory usage to 1GB in less than 24 hours\", which looks like a leak but is \
        fragmentation. Puma workers suffer the same. The machine then swaps or the \
        out-of-memory killer restarts processes mid-job. Mastodon's stock systemd units preload \
        jemalloc and set MALLOC_ARENA_MAX=2 for this reason.",
    fix: "Install jemalloc and add Environment=\"LD_PRELOAD=libjemalloc.so\" and \
        Environment=\"MALLOC_ARENA_MAX=2\" to the unit, as the units in dist/ do.",
    sources: &[SIDEKIQ_MEMORY, COMPENDIUM, DIST_UNITS],
    check,
};

fn check(cx: &Context, out: &mut Findings) {
    for (i, w) in cx.plan.web.iter().enumerate() {
        if !w.jemalloc {
            out.add(format!(
                "{} runs {} without jemalloc: glibc malloc fragments multi-threaded Ruby's memory",
                w.name,
                super::count(w.web_concurrency, "Puma worker", "Puma workers")
            ))
            .at(format!("/web/{i}/jemalloc"));
        }
    }
    for (i, s) in cx.plan.sidekiq.iter().enumerate() {
        if !s.jemalloc {
            out.add(format!(
                "{} runs {} at -c {} without jemalloc: each can grow from 256 MB to 1 GB within a day through fragmentation",
                s.name,
                super::count(s.instances, "sidekiq process", "sidekiq processes"),
                s.concurrency
            ))
            .at(format!("/sidekiq/{i}/jemalloc"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    #[test]
    fn silent_with_jemalloc() {
        assert_silent(&RULE, &preset("stock-systemd"));
    }

    #[test]
    fn fires_for_sidekiq_without_jemalloc() {
        let mut plan = preset("stock-systemd");
        plan.sidekiq[0].jemalloc = false;
        let found = assert_fires(&RULE, &plan);
        assert!(found[0].message.contains("1 sidekiq process at -c 25 without jemalloc"), "{}", found[0].message);
        assert_eq!(found[0].at, ["/sidekiq/0/jemalloc"]);
    }

    #[test]
    fn fires_for_web_without_jemalloc() {
        let mut plan = preset("stock-systemd");
        plan.web[0].jemalloc = false;
        let found = assert_fires(&RULE, &plan);
        assert!(found[0].message.contains("2 Puma workers without jemalloc"), "{}", found[0].message);
    }
}

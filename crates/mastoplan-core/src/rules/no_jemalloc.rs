use super::sources::{COMPENDIUM, DIST_UNITS, MASTODON_INSTALL, MASTODON_JEMALLOC_ISSUE, SIDEKIQ_MEMORY, SPEEDSHOP_MALLOC};
use crate::finding::{Context, Findings, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "MP046",
    name: "no-jemalloc",
    severity: Severity::Advice,
    summary: "A web or sidekiq unit runs Ruby without jemalloc (a warning for sidekiq, advice for web).",
    problem: "Ruby on glibc's malloc fragments memory in threaded processes: each thread's arena \
        keeps freed memory it cannot return. The compendium: a sidekiq process \"can slowly grow \
        from 256MB of memory usage to 1GB in less than 24 hours\", which is fragmentation, not a \
        leak; Sidekiq's author reports jemalloc cutting it 2-4x (mastodon/mastodon#7257), and \
        Nate Berkopec measured glibc doubling threaded Ruby programs. Puma workers suffer the \
        same with fewer threads. The host ledger counts a sidekiq process without jemalloc at \
        1 GB and a Puma worker at twice its jemalloc estimate.",
    fix: "Run Ruby with jemalloc: build it with RUBY_CONFIGURE_OPTS=--with-jemalloc, as \
        Mastodon's install guide does, or preload it in the unit \
        (Environment=\"LD_PRELOAD=libjemalloc.so.2\", from Debian's libjemalloc2). Failing \
        that, Environment=\"MALLOC_ARENA_MAX=2\", which the stock sidekiq unit sets, limits the \
        arenas and most of the growth.",
    sources: &[COMPENDIUM, SIDEKIQ_MEMORY, MASTODON_JEMALLOC_ISSUE, SPEEDSHOP_MALLOC, MASTODON_INSTALL, DIST_UNITS],
    check,
};

fn check(cx: &Context, out: &mut Findings) {
    let e = &cx.plan.estimates;
    for (i, s) in cx.plan.sidekiq.iter().enumerate() {
        if !s.jemalloc && s.instances > 0 {
            // Raised: sidekiq is the compendium's 256 MB to 1 GB case, and it runs many threads.
            out.add(format!(
                "{}: sidekiq without jemalloc, counted at {} MB a process instead of {} MB ({} x {}); set LD_PRELOAD=libjemalloc.so.2 and MALLOC_ARENA_MAX=2",
                s.name,
                e.sidekiq_process_mb_without_jemalloc,
                e.sidekiq_process_mb,
                s.instances,
                e.sidekiq_process_mb_without_jemalloc
            ))
            .at(format!("/sidekiq/{i}/jemalloc"))
            .severity(Severity::Warning);
        }
    }
    for (i, w) in cx.plan.web.iter().enumerate() {
        if !w.jemalloc && w.web_concurrency > 0 {
            out.add(format!(
                "{}: Puma without jemalloc, counted at {} MB a worker instead of {} MB; set LD_PRELOAD=libjemalloc.so.2 and MALLOC_ARENA_MAX=2",
                w.name, e.puma_worker_mb_without_jemalloc, e.puma_worker_mb
            ))
            .at(format!("/web/{i}/jemalloc"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    #[test]
    fn sidekiq_without_jemalloc_is_a_warning() {
        let mut plan = preset("large-split");
        assert_silent(&RULE, &plan);
        plan.sidekiq[1].jemalloc = false;
        let found = assert_fires(&RULE, &plan);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Warning);
        assert_eq!(found[0].at, vec!["/sidekiq/1/jemalloc".to_string()]);
        assert!(found[0].message.contains("1024 MB a process"), "{}", found[0].message);
    }

    #[test]
    fn web_without_jemalloc_is_advice() {
        let mut plan = preset("single-server");
        assert_silent(&RULE, &plan);
        plan.web[0].jemalloc = false;
        let found = assert_fires(&RULE, &plan);
        assert_eq!(found[0].severity, Severity::Advice);
        assert_eq!(found[0].at, vec!["/web/0/jemalloc".to_string()]);
    }

    #[test]
    fn a_unit_with_no_processes_is_left_alone() {
        let mut plan = preset("large-split");
        plan.sidekiq[1].jemalloc = false;
        plan.sidekiq[1].instances = 0;
        assert_silent(&RULE, &plan);
    }
}

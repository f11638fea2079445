use std::collections::BTreeSet;

use super::sources::COMPENDIUM;
use crate::finding::{Context, Findings, Rule, Severity};
use crate::plan::MediaStorage;

pub static RULE: Rule = Rule {
    id: "MP033",
    name: "media-local-across-hosts",
    severity: Severity::Error,
    summary: "Media is on local disk while web, sidekiq and nginx run on more than one machine.",
    problem: "With local-disk media every file lands on the disk of the machine whose process \
        handled it: an upload on one Puma machine, a remote avatar fetched by sidekiq on another, \
        while nginx serves files from its own. Each machine sees only its own share, and media \
        breaks. The compendium, quoting Mastodon's scaling notes: once you go beyond one machine \
        you need object storage \"or else manually figure out a shared filesystem between all of \
        the machines in your cluster\", and a shared filesystem only works when it is local.",
    fix: "Move media to S3-compatible object storage (self-hosted MinIO or SeaweedFS if need be) \
        before splitting web, sidekiq or nginx onto separate machines.",
    sources: &[COMPENDIUM],
    check,
};

fn check(cx: &Context, out: &mut Findings) {
    let plan = cx.plan;
    if plan.media != MediaStorage::LocalDisk {
        return;
    }
    // Streaming never touches media; nginx serves it.
    let hosts: BTreeSet<&str> = plan
        .web
        .iter()
        .filter(|w| w.web_concurrency > 0)
        .map(|w| w.host.as_str())
        .chain(plan.sidekiq.iter().filter(|s| s.instances > 0).map(|s| s.host.as_str()))
        .chain(plan.nginx.iter().map(|n| n.host.as_str()))
        .collect();
    if hosts.len() > 1 {
        out.add(format!(
            "Media on local disk while web, sidekiq and nginx run on {} machines ({}): each sees only the files it wrote",
            hosts.len(),
            hosts.into_iter().collect::<Vec<_>>().join(", ")
        ))
        .at("/media");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    #[test]
    fn silent_on_one_machine() {
        assert_silent(&RULE, &preset("single-server"));
    }

    #[test]
    fn fires_on_two_machines() {
        let mut plan = preset("large-split");
        plan.media = MediaStorage::LocalDisk;
        let found = assert_fires(&RULE, &plan);
        assert!(found[0].message.contains("5 machines (edge, web-1, web-2, worker-1, worker-2)"), "{}", found[0].message);
    }

    #[test]
    fn silent_with_object_storage_across_machines() {
        assert_silent(&RULE, &preset("large-split"));
    }

    #[test]
    fn ignores_streaming_and_postgres_machines() {
        let mut plan = preset("single-server");
        plan.hosts.push(crate::plan::Host { name: "other".into(), cores: 2, ram_gb: 4, address: None });
        plan.streaming[0].host = "other".into();
        plan.postgres.host = "other".into();
        assert_silent(&RULE, &plan);
    }
}

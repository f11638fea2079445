use super::sources::COMPENDIUM;
use crate::finding::{Context, Findings, Rule, Severity};
use crate::plan::MediaStorage;

pub static RULE: Rule = Rule {
    id: "MP024",
    name: "media-on-nfs",
    severity: Severity::Warning,
    summary: "Media files are stored on NFS.",
    problem: "Rails opens a database transaction, uploads the file, then writes the row and \
        commits: while the upload is slow the connection sits \"idle in transaction\". Sidekiq is \
        latency sensitive too, and on NFS its jobs get stuck, which looks like a backlog, invites \
        more workers and more database contention: the vicious circle the compendium lived \
        through. Its verdict: \"Don't use NFS for anything; the mastodon documentation claims you \
        can use it. You cannot.\"",
    fix: "Move media to S3-compatible object storage, self-hosted (MinIO, SeaweedFS) if need be, \
        preferably not on the disk Postgres uses.",
    sources: &[COMPENDIUM],
    check,
};

fn check(cx: &Context, out: &mut Findings) {
    if cx.plan.media == MediaStorage::Nfs {
        out.add("Media on NFS: slow uploads hold database transactions open and stick sidekiq jobs; use object storage")
            .at("/media");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    #[test]
    fn fires_on_nfs() {
        let mut plan = preset("single-server");
        plan.media = MediaStorage::Nfs;
        assert_eq!(assert_fires(&RULE, &plan)[0].at, ["/media"]);
    }

    #[test]
    fn silent_on_local_disk_and_object_storage() {
        assert_silent(&RULE, &preset("single-server"));
        assert_silent(&RULE, &preset("large-split"));
    }
}

use super::sources::COMPENDIUM;
use crate::finding::{Context, Findings, Rule, Severity};
use crate::plan::MediaStorage;

/// The compendium, quoting Mastodon's own scaling notes: "if you want to go further [beyond
/// ~20k users], you'll need to be using object storage".
const USERS: u32 = 20_000;

pub static RULE: Rule = Rule {
    id: "MP025",
    name: "object-storage-recommended",
    severity: Severity::Warning,
    summary: "More than ~20,000 expected active users without S3-compatible object storage for media.",
    problem: "The compendium, quoting Mastodon's scaling notes: beyond ~20k users \"you'll need to \
        be using object storage (S3 or similar) for user file uploads, or else manually figure out \
        a shared filesystem\", adding that \"Nobody running mastodon at scale has ever tried to do \
        it without an object database\" and that a shared filesystem only works if it is local. \
        Uploads happen inside database transactions, so slow storage also holds Postgres \
        connections open. Its lesson: use object storage from day one if you can.",
    fix: "Move media to S3-compatible object storage (a provider, or self-hosted MinIO or \
        SeaweedFS), ideally not on Postgres's disk, and serve it through the nginx cache.",
    sources: &[COMPENDIUM],
    check,
};

fn check(cx: &Context, out: &mut Findings) {
    let plan = cx.plan;
    if plan.expected_active_users > USERS && plan.media != MediaStorage::S3Compatible {
        let media = match plan.media {
            MediaStorage::LocalDisk => "local disk",
            MediaStorage::Nfs => "NFS",
            MediaStorage::S3Compatible => unreachable!("checked above"),
        };
        out.add(format!(
            "{} expected active users with media on {media}: past ~20,000 users the compendium moves uploads to object storage",
            plan.expected_active_users
        ))
        .at("/media");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    fn with_users(users: u32) -> crate::plan::Plan {
        let mut plan = preset("single-server");
        plan.expected_active_users = users;
        plan
    }

    #[test]
    fn silent_at_20000_users() {
        assert_silent(&RULE, &with_users(20_000));
    }

    #[test]
    fn fires_at_20001_users_on_local_disk() {
        let found = assert_fires(&RULE, &with_users(20_001));
        assert!(found[0].message.starts_with("20001 expected active users with media on local disk"), "{}", found[0].message);
    }

    #[test]
    fn silent_with_object_storage() {
        assert_silent(&RULE, &preset("large-split")); // 50,000 users on S3
    }
}

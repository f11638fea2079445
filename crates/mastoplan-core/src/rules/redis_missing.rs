use super::sources::{COMPENDIUM, MASTODON_CONFIG};
use crate::finding::{Context, Findings, Rule, Severity};
use crate::plan::RedisRole;

pub static RULE: Rule = Rule {
    id: "MP021",
    name: "redis-missing",
    severity: Severity::Error,
    summary: "No Redis instance has the persistent role (REDIS_URL), which Mastodon always needs.",
    problem: "The base REDIS_* variables name the instance that holds home and list feeds and \
        serves the streaming API, which reads only the base variables; sidekiq and the cache use \
        it too unless SIDEKIQ_REDIS_* or CACHE_REDIS_* point elsewhere. The compendium: sidekiq, \
        list feeds, home feeds and the streaming API all need a persistent Redis. A plan with only \
        a cache or a sidekiq-only instance leaves them nowhere to live.",
    fix: "Add a Redis instance with the persistent role (AOF on, maxmemory-policy noeviction) and \
        point REDIS_URL at it.",
    sources: &[MASTODON_CONFIG, COMPENDIUM],
    check,
};

fn check(cx: &Context, out: &mut Findings) {
    if cx.plan.redis_for(RedisRole::Persistent).is_none() {
        let homeless = if cx.plan.redis_for(RedisRole::SidekiqOnly).is_none() {
            "home and list feeds, streaming and sidekiq"
        } else {
            "home and list feeds and streaming"
        };
        out.add(format!("No Redis has the persistent role (REDIS_URL): {homeless} have nowhere to live"))
        .at("/redis");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    #[test]
    fn silent_with_a_persistent_instance() {
        assert_silent(&RULE, &preset("stock-systemd"));
    }

    #[test]
    fn fires_with_no_redis() {
        let mut plan = preset("single-server");
        plan.redis.clear();
        let found = assert_fires(&RULE, &plan);
        assert!(found[0].message.contains("streaming and sidekiq have"), "{}", found[0].message);
    }

    #[test]
    fn fires_with_only_cache_and_sidekiq_instances() {
        let mut plan = preset("large-split");
        plan.redis.retain(|r| r.role != RedisRole::Persistent);
        let found = assert_fires(&RULE, &plan);
        assert!(found[0].message.contains("feeds and streaming have"), "{}", found[0].message);
    }
}

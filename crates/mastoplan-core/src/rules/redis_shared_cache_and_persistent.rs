use super::sources::{COMPENDIUM, MASTODON_CONFIG, MASTODON_SCALING, PERHAM_REDIS, SIDEKIQ_USING_REDIS};
use crate::finding::{Context, Findings, Rule, Severity};
use crate::plan::RedisRole;

pub static RULE: Rule = Rule {
    id: "MP020",
    name: "redis-shared-cache-and-persistent",
    severity: Severity::Error,
    summary: "The Rails cache lands in a Redis that also holds persistent data (feeds, streaming or sidekiq).",
    problem: "Mastodon keeps two kinds of data in Redis: a cache it can rebuild, and data it cannot \
        lose (sidekiq's queues, home and list feeds, streaming). CACHE_REDIS_* falls back to the \
        base REDIS_* when unset, so without a cache instance of its own the cache moves in with the \
        persistent data. The two want opposite settings: the cache a memory limit, an eviction \
        policy and no persistence; the persistent data AOF and noeviction. One instance can have \
        only one persistence strategy and one single-threaded CPU, so a cache spike slows the job \
        queue to a crawl (Mike Perham), and the compendium is blunt: \"This is written as if using \
        a separate redis for cache and persistent data is optional. It is not.\" Sidekiq's wiki \
        asks for a Redis configured as a persistent store, not as a cache.",
    fix: "Run a second Redis for the cache (maxmemory set, maxmemory-policy allkeys-lru, no \
        persistence) on its own port and point CACHE_REDIS_URL (or CACHE_REDIS_HOST and \
        CACHE_REDIS_PORT) at it; keep REDIS_URL on the persistent instance.",
    sources: &[COMPENDIUM, PERHAM_REDIS, SIDEKIQ_USING_REDIS, MASTODON_SCALING, MASTODON_CONFIG],
    check,
};

fn check(cx: &Context, out: &mut Findings) {
    let plan = cx.plan;
    let Some(cache) = plan.redis_for(RedisRole::Cache) else { return };
    let index = |name: &str| plan.redis.iter().position(|r| r.name == name).expect("found in the plan");
    if cache.role.holds_persistent_data() {
        out.add(format!(
            "No cache Redis: CACHE_REDIS_* falls back to {} ({}:{}), so the Rails cache shares one instance with the feeds{}",
            cache.name,
            cache.host,
            cache.port,
            if plan.redis_for(RedisRole::SidekiqOnly).map(|r| r.name.as_str()) == Some(cache.name.as_str()) {
                " and sidekiq's queues"
            } else {
                ""
            }
        ))
        .at(format!("/redis/{}", index(&cache.name)));
        return;
    }
    // A cache instance described twice: the same server under two roles.
    for (i, other) in plan.redis.iter().enumerate() {
        if other.role.holds_persistent_data() && other.host == cache.host && other.port == cache.port {
            out.add(format!(
                "The cache Redis {} and {} are the same server ({}:{}): cache and persistent data share one instance",
                cache.name, other.name, cache.host, cache.port
            ))
            .at(format!("/redis/{}/port", index(&cache.name)))
            .at(format!("/redis/{i}/port"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    #[test]
    fn silent_with_a_cache_instance_of_its_own() {
        assert_silent(&RULE, &preset("single-server"));
        assert_silent(&RULE, &preset("large-split"));
    }

    #[test]
    fn fires_when_the_cache_falls_back_to_the_persistent_instance() {
        let found = assert_fires(&RULE, &preset("stock-systemd"));
        assert!(found[0].message.contains("falls back to redis (mastodon:6379)"), "{}", found[0].message);
        assert!(found[0].message.ends_with("with the feeds and sidekiq's queues"), "{}", found[0].message);
        assert_eq!(found[0].at, ["/redis/0"]);
    }

    #[test]
    fn fires_when_the_cache_is_the_same_server_under_another_name() {
        let mut plan = preset("single-server");
        plan.redis[1].port = 6379;
        let found = assert_fires(&RULE, &plan);
        assert!(found[0].message.contains("same server (mastodon:6379)"), "{}", found[0].message);
    }

    #[test]
    fn silent_without_any_redis() {
        let mut plan = preset("single-server");
        plan.redis.clear();
        assert_silent(&RULE, &plan); // redis-missing's case
    }
}

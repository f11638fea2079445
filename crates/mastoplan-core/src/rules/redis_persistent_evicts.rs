use super::sources::{COMPENDIUM, MASTODON_SCALING, PERHAM_REDIS, SIDEKIQ_USING_REDIS};
use crate::finding::{Context, Findings, Rule, Severity};
use crate::plan::{EvictionPolicy, RedisRole};

pub static RULE: Rule = Rule {
    id: "MP022",
    name: "redis-persistent-evicts",
    severity: Severity::Warning,
    summary: "A Redis holding persistent data may evict keys (policy other than noeviction) or lacks AOF.",
    problem: "Sidekiq's queues and Mastodon's home and list feeds live only in Redis. With any \
        maxmemory-policy but noeviction, a full Redis deletes keys to make room: queued jobs or \
        feeds silently vanish (Sidekiq logs a warning at boot for any other policy). Without \
        append-only-file persistence, a crash or restart loses everything written since the last \
        RDB snapshot. The compendium and Mike Perham: for data like this you want real-time \
        persistence with AOF, and the persistent Redis must never be configured as a cache.",
    fix: "On that instance set maxmemory-policy noeviction and appendonly yes (appendfsync \
        everysec is the usual trade-off), and give it the memory it needs; keep the cache on a \
        separate instance.",
    sources: &[COMPENDIUM, PERHAM_REDIS, SIDEKIQ_USING_REDIS, MASTODON_SCALING],
    check,
};

fn check(cx: &Context, out: &mut Findings) {
    for (i, r) in cx.plan.redis.iter().enumerate() {
        if !r.role.holds_persistent_data() {
            continue;
        }
        let mut problems = Vec::new();
        let mut at = Vec::new();
        if r.eviction_policy != EvictionPolicy::Noeviction {
            problems.push(format!("maxmemory-policy {} may evict its keys", r.eviction_policy.name()));
            at.push(format!("/redis/{i}/eviction_policy"));
        }
        if !r.persistence.has_aof() {
            problems.push(format!(
                "persistence {} without AOF loses what was written since the last snapshot on a crash",
                super::redis_persistence_name(r.persistence)
            ));
            at.push(format!("/redis/{i}/persistence"));
        }
        if problems.is_empty() {
            continue;
        }
        let holds = match r.role {
            RedisRole::SidekiqOnly => "sidekiq's queues",
            // SIDEKIQ_REDIS_* falls back to the base instance.
            _ if !cx.plan.redis.iter().any(|x| x.role == RedisRole::SidekiqOnly) => {
                "feeds, streaming and sidekiq's queues"
            }
            _ => "feeds and streaming",
        };
        let finding = out.add(format!("{} holds {holds}, but {}", r.name, problems.join("; ")));
        for a in at {
            finding.at(a);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::RedisPersistence;
    use crate::rules::testing::*;

    #[test]
    fn silent_with_aof_and_noeviction() {
        assert_silent(&RULE, &preset("large-split"));
    }

    #[test]
    fn fires_on_the_stock_rdb_only_redis() {
        let found = assert_fires(&RULE, &preset("stock-systemd"));
        assert!(found[0].message.starts_with("redis holds feeds, streaming and sidekiq's queues, but persistence rdb without AOF"), "{}", found[0].message);
        assert_eq!(found[0].at, ["/redis/0/persistence"]);
    }

    #[test]
    fn fires_on_an_evicting_sidekiq_redis() {
        let mut plan = preset("large-split");
        plan.redis[1].eviction_policy = EvictionPolicy::AllkeysLru;
        let found = assert_fires(&RULE, &plan);
        assert!(found[0].message.starts_with("redis-sidekiq holds sidekiq's queues, but maxmemory-policy allkeys-lru"), "{}", found[0].message);
        assert_eq!(found[0].at, ["/redis/1/eviction_policy"]);
    }

    #[test]
    fn silent_with_aof_and_rdb_together() {
        let mut plan = preset("large-split");
        plan.redis[0].persistence = RedisPersistence::AofRdb;
        assert_silent(&RULE, &plan);
    }

    #[test]
    fn silent_about_cache_instances() {
        let mut plan = preset("large-split");
        plan.redis[2].persistence = RedisPersistence::None; // the cache: redis-cache-persists' concern
        assert_silent(&RULE, &plan);
    }
}

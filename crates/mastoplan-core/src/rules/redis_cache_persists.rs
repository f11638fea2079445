use super::sources::{COMPENDIUM, MASTODON_SCALING, PERHAM_REDIS};
use crate::finding::{Context, Findings, Rule, Severity};
use crate::plan::{EvictionPolicy, RedisPersistence, RedisRole};

pub static RULE: Rule = Rule {
    id: "MP023",
    name: "redis-cache-persists",
    severity: Severity::Warning,
    summary: "The cache Redis persists to disk, has no maxmemory, or cannot evict when full.",
    problem: "The Rails cache can be thrown away and rebuilt from Postgres, so the cache instance \
        wants a memory limit, an eviction policy that makes room, and no persistence. Writing it \
        to disk (AOF on every write, or RDB snapshots) costs I/O for data nobody needs back; Mike \
        Perham allows at most infrequent RDB snapshots for a cache. Without maxmemory it grows \
        until the machine runs out of memory. With maxmemory but the noeviction policy (Redis's \
        default), once full every cache write fails instead of evicting an old entry.",
    fix: "On the cache instance set maxmemory to what the machine can spare, maxmemory-policy \
        allkeys-lru (or allkeys-lfu), appendonly no and save \"\".",
    sources: &[COMPENDIUM, PERHAM_REDIS, MASTODON_SCALING],
    check,
};

fn check(cx: &Context, out: &mut Findings) {
    for (i, r) in cx.plan.redis.iter().enumerate() {
        if r.role != RedisRole::Cache {
            continue;
        }
        let mut problems = Vec::new();
        let mut at = Vec::new();
        if r.persistence != RedisPersistence::None {
            problems.push(format!(
                "persistence {} writes a throwaway cache to disk",
                super::redis_persistence_name(r.persistence)
            ));
            at.push(format!("/redis/{i}/persistence"));
        }
        if r.maxmemory_mb == 0 {
            problems.push("no maxmemory lets it grow until the machine runs out of memory".to_string());
            at.push(format!("/redis/{i}/maxmemory_mb"));
        } else if r.eviction_policy == EvictionPolicy::Noeviction {
            problems.push(format!(
                "maxmemory-policy noeviction makes every write fail once its {} MB are full",
                r.maxmemory_mb
            ));
            at.push(format!("/redis/{i}/eviction_policy"));
        }
        if problems.is_empty() {
            continue;
        }
        let finding = out.add(format!("Cache Redis {}: {}", r.name, problems.join("; ")));
        for a in at {
            finding.at(a);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    #[test]
    fn silent_with_a_memory_limit_lru_and_no_persistence() {
        assert_silent(&RULE, &preset("single-server"));
    }

    #[test]
    fn fires_with_rdb_snapshots() {
        let mut plan = preset("single-server");
        plan.redis[1].persistence = RedisPersistence::Rdb;
        let found = assert_fires(&RULE, &plan);
        assert!(found[0].message.contains("persistence rdb writes"), "{}", found[0].message);
        assert_eq!(found[0].at, ["/redis/1/persistence"]);
    }

    #[test]
    fn fires_without_maxmemory() {
        let mut plan = preset("single-server");
        plan.redis[1].maxmemory_mb = 0;
        let found = assert_fires(&RULE, &plan);
        assert_eq!(found[0].at, ["/redis/1/maxmemory_mb"]);
    }

    #[test]
    fn fires_with_noeviction_under_a_limit() {
        let mut plan = preset("single-server");
        plan.redis[1].eviction_policy = EvictionPolicy::Noeviction;
        let found = assert_fires(&RULE, &plan);
        assert!(found[0].message.contains("once its 512 MB are full"), "{}", found[0].message);
    }

    #[test]
    fn silent_about_the_persistent_instance() {
        assert_silent(&RULE, &preset("stock-systemd")); // no cache instance at all
    }
}

//! The rules registry. Each rule lives in its own module with its tests; this list is the one
//! place that names them all. Ids are assigned in order and never reused: a retired rule keeps
//! its id out of circulation.

use crate::budget::{ConnectionLine, UnitKind};
use crate::finding::Rule;
use crate::plan::RedisPersistence;

pub mod sources;
#[cfg(test)]
pub(crate) mod testing;

mod connections_near_budget;
mod connections_over_budget;
mod cores_oversubscribed;
mod db_pool_above_threads;
mod db_pool_below_threads;
mod effective_cache_size_over_ram;
mod max_connections_high;
mod max_connections_over_ceiling;
mod media_local_across_hosts;
mod media_on_nfs;
mod migrations_bypass_bouncer;
mod no_jemalloc;
mod object_storage_recommended;
mod pgbouncer_clients_over_limit;
mod pgbouncer_file_descriptors;
mod pgbouncer_on_db_host;
mod pgbouncer_pool_mode;
mod pgbouncer_pools_over_budget;
mod pgbouncer_recommended;
mod pgbouncer_single_core;
mod prepared_statements;
mod queue_not_in_version;
mod queue_unserved;
mod ram_overcommitted;
mod redis_cache_persists;
mod redis_missing;
mod redis_persistent_evicts;
mod redis_shared_cache_and_persistent;
mod replica_doubles_pools;
mod replica_over_budget;
mod scheduler_count;
mod shared_buffers_out_of_range;
mod sidekiq_threads_high;
mod sidekiq_weighted_queues;
mod streaming_capacity;
mod synchronous_commit_off;
mod trusted_proxy_missing;
mod work_mem_over_ram;

/// Every rule, in id order.
pub static ALL: &[&Rule] = &[
    &connections_over_budget::RULE,
    &connections_near_budget::RULE,
    &max_connections_high::RULE,
    &db_pool_below_threads::RULE,
    &db_pool_above_threads::RULE,
    &scheduler_count::RULE,
    &sidekiq_threads_high::RULE,
    &sidekiq_weighted_queues::RULE,
    &queue_unserved::RULE,
    &queue_not_in_version::RULE,
    &pgbouncer_recommended::RULE,
    &pgbouncer_pool_mode::RULE,
    &prepared_statements::RULE,
    &pgbouncer_clients_over_limit::RULE,
    &pgbouncer_pools_over_budget::RULE,
    &pgbouncer_single_core::RULE,
    &pgbouncer_on_db_host::RULE,
    &pgbouncer_file_descriptors::RULE,
    &migrations_bypass_bouncer::RULE,
    &redis_shared_cache_and_persistent::RULE,
    &redis_missing::RULE,
    &redis_persistent_evicts::RULE,
    &redis_cache_persists::RULE,
    &media_on_nfs::RULE,
    &object_storage_recommended::RULE,
    &trusted_proxy_missing::RULE,
    &streaming_capacity::RULE,
    &replica_doubles_pools::RULE,
    &replica_over_budget::RULE,
    &media_local_across_hosts::RULE,
    // MP030 (work-mem-over-ram), MP031 (jemalloc-missing) and MP032
    // (synchronous-commit-off) were withdrawn before release in favour of MP042, MP046 and
    // MP045; their ids stay unused.
    &ram_overcommitted::RULE,
    &cores_oversubscribed::RULE,
    &work_mem_over_ram::RULE,
    &shared_buffers_out_of_range::RULE,
    &max_connections_over_ceiling::RULE,
    &synchronous_commit_off::RULE,
    &no_jemalloc::RULE,
    &effective_cache_size_over_ram::RULE,
];

/// `1 process`, `3 processes`.
pub(crate) fn count(n: u32, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// How a unit's threads are set, as an admin would write it: `MAX_THREADS 5`, `-c 25`.
pub(crate) fn threads_setting(line: &ConnectionLine) -> String {
    match line.kind {
        UnitKind::Web => format!("MAX_THREADS {}", line.threads),
        UnitKind::Sidekiq => format!("-c {}", line.threads),
        UnitKind::Streaming => format!("{} connections", line.threads),
    }
}

/// A persistence setting as the plan's JSON spells it.
pub(crate) fn redis_persistence_name(p: RedisPersistence) -> &'static str {
    match p {
        RedisPersistence::None => "none",
        RedisPersistence::Rdb => "rdb",
        RedisPersistence::Aof => "aof",
        RedisPersistence::AofRdb => "aof-rdb",
    }
}

pub fn by_id(id: &str) -> Option<&'static Rule> {
    ALL.iter().copied().find(|r| r.id == id)
}

pub fn by_name(name: &str) -> Option<&'static Rule> {
    ALL.iter().copied().find(|r| r.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_and_names_are_unique_and_well_formed() {
        let mut ids = HashSet::new();
        let mut names = HashSet::new();
        for (i, rule) in ALL.iter().enumerate() {
            assert!(ids.insert(rule.id), "duplicate id {}", rule.id);
            assert!(names.insert(rule.name), "duplicate name {}", rule.name);
            assert_eq!(rule.id.len(), 5, "{}", rule.id);
            assert!(rule.id.starts_with("MP") && rule.id[2..].chars().all(|c| c.is_ascii_digit()));
            assert!(rule.name.chars().all(|c| c.is_ascii_lowercase() || c == '-'), "{}", rule.name);
            if i > 0 {
                assert!(ALL[i - 1].id < rule.id, "registry out of id order at {}", rule.id);
            }
        }
    }

    #[test]
    fn every_rule_explains_itself_with_sources() {
        for rule in ALL {
            assert!(!rule.summary.is_empty() && !rule.summary.contains('\n'), "{}", rule.name);
            assert!(rule.problem.len() > 40, "{} problem too short", rule.name);
            assert!(rule.fix.len() > 20, "{} fix too short", rule.name);
            assert!(!rule.sources.is_empty(), "{} cites nothing", rule.name);
            for s in rule.sources {
                assert!(s.url.starts_with("https://"), "{}: {}", rule.name, s.url);
            }
        }
    }
}

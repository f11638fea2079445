//! The rules registry. Each rule lives in its own module with its tests; this list is the one
//! place that names them all. Ids are assigned in order and never reused: a retired rule keeps
//! its id out of circulation.

use crate::finding::Rule;

pub mod sources;
#[cfg(test)]
pub(crate) mod testing;

mod connections_over_budget;
mod ram_overcommitted;
mod cores_oversubscribed;
mod work_mem_over_ram;
mod shared_buffers_out_of_range;
mod max_connections_over_ceiling;
mod synchronous_commit_off;
mod no_jemalloc;
mod effective_cache_size_over_ram;

/// Every rule, in id order.
pub static ALL: &[&Rule] = &[
    &connections_over_budget::RULE,
    &ram_overcommitted::RULE,
    &cores_oversubscribed::RULE,
    &work_mem_over_ram::RULE,
    &shared_buffers_out_of_range::RULE,
    &max_connections_over_ceiling::RULE,
    &synchronous_commit_off::RULE,
    &no_jemalloc::RULE,
    &effective_cache_size_over_ram::RULE,
];

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

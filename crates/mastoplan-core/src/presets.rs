//! Starting plans kept as data: each is a JSON file under `presets/`.

use crate::plan::Plan;

/// Name, one-line description and JSON of every preset, in the order the page lists them.
pub const PRESETS: &[(&str, &str, &str)] = &[
    (
        "single-server",
        "One 4-core, 8 GB machine running everything, Redis split into persistent and cache",
        include_str!("../presets/single-server.json"),
    ),
    (
        "compendium-example",
        "The compendium's worked example: 185 connections of 200 available, 15 loose",
        include_str!("../presets/compendium-example.json"),
    ),
    (
        "large-split",
        "A split cluster for ~50k users: PgBouncer per app host, three Redis instances, object storage",
        include_str!("../presets/large-split.json"),
    ),
    (
        "stock-systemd",
        "The stock systemd units from mastodon/mastodon dist/ on one small machine, as installed",
        include_str!("../presets/stock-systemd.json"),
    ),
];

pub fn names() -> impl Iterator<Item = &'static str> {
    PRESETS.iter().map(|(name, _, _)| *name)
}

pub fn get(name: &str) -> Option<Plan> {
    PRESETS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(n, _, json)| Plan::from_json(json).unwrap_or_else(|e| panic!("preset {n} is invalid: {e}")))
}

pub fn all() -> Vec<Plan> {
    names().filter_map(get).collect()
}

/// What the page opens on.
pub fn default_plan() -> Plan {
    get("single-server").expect("the default preset exists")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_round_trips_through_json() {
        for plan in all() {
            let again = Plan::from_json(&plan.to_json()).unwrap();
            assert_eq!(plan, again);
        }
    }

    #[test]
    fn preset_names_match_their_files() {
        for (name, _, _) in PRESETS {
            assert_eq!(get(name).unwrap().name, *name);
        }
    }
}

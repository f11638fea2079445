//! Helpers for the tests beside each rule.

use crate::budget::ConnectionBudget;
use crate::finding::{Context, Finding, Findings, Rule};
use crate::plan::Plan;

pub fn preset(name: &str) -> Plan {
    crate::presets::get(name).expect("preset exists")
}

/// Run one rule alone on a plan.
pub fn run(rule: &Rule, plan: &Plan) -> Vec<Finding> {
    plan.validate().expect("test plans are valid");
    let budget = ConnectionBudget::compute(plan);
    let resources = crate::resources::Resources::compute(plan, &budget);
    let mut out = Findings::new(rule);
    (rule.check)(&Context { plan, budget: &budget, resources: &resources }, &mut out);
    out.into_vec()
}

#[track_caller]
pub fn assert_fires(rule: &Rule, plan: &Plan) -> Vec<Finding> {
    let found = run(rule, plan);
    assert!(!found.is_empty(), "{} did not fire", rule.name);
    found
}

#[track_caller]
pub fn assert_silent(rule: &Rule, plan: &Plan) {
    let found = run(rule, plan);
    assert!(found.is_empty(), "{} fired: {:?}", rule.name, found);
}

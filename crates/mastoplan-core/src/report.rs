//! `evaluate`: a plan in, the connection budget and the findings out.

use serde::Serialize;

use crate::budget::ConnectionBudget;
use crate::finding::{Context, Finding, Findings, Severity};
use crate::plan::{MastodonVersion, Plan};
use crate::resources::{HostLedger, PostgresTuning, Resources};
use crate::rules;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub plan: String,
    pub mastodon_version: MastodonVersion,
    pub connections: ConnectionBudget,
    /// Each host's RAM and cores and what every unit on it claims.
    pub hosts: Vec<HostLedger>,
    /// Recommended settings for the Postgres primary (PGTune for a web application, with the
    /// plan's overrides) and its max_connections ceiling.
    pub postgres_settings: PostgresTuning,
    /// The same for the read replica, when the plan has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replica_settings: Option<PostgresTuning>,
    /// Errors first, then warnings, then advice; in registry order within each.
    pub findings: Vec<Finding>,
}

impl Report {
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }

    pub fn count(&self, severity: Severity) -> usize {
        self.findings.iter().filter(|f| f.severity == severity).count()
    }
}

pub fn evaluate(plan: &Plan) -> Report {
    let budget = ConnectionBudget::compute(plan);
    let cx = Context { plan, budget: &budget };
    let mut findings: Vec<Finding> = rules::ALL
        .iter()
        .flat_map(|rule| {
            let mut out = Findings::new(rule);
            (rule.check)(&cx, &mut out);
            out.into_vec()
        })
        .collect();
    // A stable sort keeps registry order within a severity.
    findings.sort_by_key(|f| f.severity);
    let resources = Resources::compute(plan, &budget);
    Report {
        plan: plan.name.clone(),
        mastodon_version: plan.mastodon_version,
        connections: budget,
        hosts: resources.hosts,
        postgres_settings: resources.postgres,
        replica_settings: resources.replica,
        findings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::presets;

    #[test]
    fn compendium_example_opens_185_of_200() {
        let report = evaluate(&presets::get("compendium-example").unwrap());
        let c = &report.connections;
        assert_eq!(c.total, 185);
        assert_eq!(c.clients, 185);
        assert_eq!(c.available, 200);
        assert_eq!(c.headroom, 15);
    }

    #[test]
    fn findings_are_sorted_by_severity() {
        for plan in presets::all() {
            let report = evaluate(&plan);
            assert!(report.findings.windows(2).all(|w| w[0].severity <= w[1].severity));
        }
    }
}

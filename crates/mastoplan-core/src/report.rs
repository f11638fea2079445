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
    let resources = Resources::compute(plan, &budget);
    let cx = Context { plan, budget: &budget, resources: &resources };
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

    /// A preset's findings as `severity rule-name`, with `xN` when a rule fires N times.
    fn diagnosis(preset: &str) -> Vec<String> {
        let report = evaluate(&presets::get(preset).unwrap());
        let mut out: Vec<(String, usize)> = Vec::new();
        for f in &report.findings {
            let key = format!("{} {}", f.severity.name(), f.name);
            match out.last_mut() {
                Some((last, n)) if *last == key => *n += 1,
                _ => out.push((key, 1)),
            }
        }
        out.into_iter().map(|(k, n)| if n == 1 { k } else { format!("{k} x{n}") }).collect()
    }

    /// What each preset is diagnosed with, so a change to a rule or a preset shows here.
    #[test]
    fn diagnosis_of_every_preset() {
        // One machine for a small server: sound; the only note is to split sidekiq by queue
        // once it grows.
        assert_eq!(diagnosis("single-server"), ["advice sidekiq-weighted-queues"]);
        // The compendium's worked example, faithful to its numbers: 185 of 200 is past its own
        // 90% line, 185 direct connections is where it reaches for PgBouncer, its units mix
        // queues, and none of them serves ingress, which 4.2 has.
        assert_eq!(
            diagnosis("compendium-example"),
            [
                "error queue-unserved",
                "warning connections-near-budget",
                "warning pgbouncer-recommended",
                "advice sidekiq-weighted-queues x6",
            ]
        );
        // The split cluster behind bouncers: only the reminder to migrate around them.
        assert_eq!(diagnosis("large-split"), ["advice migrations-bypass-bouncer"]);
        // The dist/ units as installed: cache and queues share an RDB-only Redis, and a
        // 2-core machine carries more processes than cores with Postgres's default 100
        // connections above what two cores serve.
        assert_eq!(
            diagnosis("stock-systemd"),
            [
                "error redis-shared-cache-and-persistent",
                "warning redis-persistent-evicts",
                "warning cores-oversubscribed",
                "warning max-connections-over-ceiling",
                "advice sidekiq-weighted-queues",
            ]
        );
    }

    #[test]
    fn sensible_presets_have_no_errors_or_warnings() {
        for name in ["single-server", "large-split"] {
            let report = evaluate(&presets::get(name).unwrap());
            assert_eq!(report.count(Severity::Error) + report.count(Severity::Warning), 0, "{name}: {:?}", report.findings);
        }
    }
}

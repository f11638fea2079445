//! Rules and the findings they raise.

use serde::Serialize;

use crate::budget::ConnectionBudget;
use crate::plan::Plan;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Advice,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Advice => "advice",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Source {
    pub title: &'static str,
    pub url: &'static str,
}

/// A check with a stable identity. Ids and names are never reused for another meaning.
#[derive(Debug)]
pub struct Rule {
    /// `MP` and three digits, assigned in order and never reused.
    pub id: &'static str,
    /// Kebab-case; what users type and links carry.
    pub name: &'static str,
    /// The usual severity; a finding may be raised higher where the rule says why.
    pub severity: Severity,
    /// One line: what the rule looks for.
    pub summary: &'static str,
    pub problem: &'static str,
    pub fix: &'static str,
    pub sources: &'static [Source],
    pub check: fn(&Context, &mut Findings),
}

/// What rules look at: the plan, its computed budget and its hosts' ledgers, so no rule
/// recomputes them.
pub struct Context<'a> {
    pub plan: &'a Plan,
    pub budget: &'a ConnectionBudget,
    pub resources: &'a crate::resources::Resources,
}

/// One problem in one plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub id: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    /// One line naming the numbers involved.
    pub message: String,
    /// JSON pointers into the plan at the parts concerned, e.g. `/sidekiq/2/db_pool`.
    pub at: Vec<String>,
}

impl Finding {
    pub fn rule(&self) -> &'static Rule {
        crate::rules::by_id(self.id).expect("findings come from registered rules")
    }
}

/// Collects the findings of the rule being run, stamping each with that rule's identity.
pub struct Findings<'r> {
    rule: &'r Rule,
    found: Vec<Finding>,
}

impl<'r> Findings<'r> {
    pub(crate) fn new(rule: &'r Rule) -> Self {
        Findings { rule, found: Vec::new() }
    }

    pub fn add(&mut self, message: impl Into<String>) -> &mut Finding {
        self.found.push(Finding {
            id: self.rule.id,
            name: self.rule.name,
            severity: self.rule.severity,
            message: message.into(),
            at: Vec::new(),
        });
        self.found.last_mut().expect("just pushed")
    }

    pub(crate) fn into_vec(self) -> Vec<Finding> {
        self.found
    }
}

impl Finding {
    pub fn at(&mut self, pointer: impl Into<String>) -> &mut Self {
        self.at.push(pointer.into());
        self
    }

    pub fn severity(&mut self, severity: Severity) -> &mut Self {
        self.severity = severity;
        self
    }
}

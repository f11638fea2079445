//! mastoplan's engine: what a Mastodon deployment will open against Postgres, what is wrong
//! with it and why. Pure Rust with no web dependencies, shared by the page and the CLI.

pub mod budget;
pub mod diagnose;
pub mod docs;
pub mod finding;
pub mod import;
pub mod link;
pub mod plan;
pub mod presets;
pub mod report;
pub mod rules;
pub mod validate;

pub use budget::{BouncerLoad, ConnectionBudget, ConnectionLine, UnitKind};
pub use finding::{Finding, Rule, Severity, Source};
pub use plan::*;
pub use report::{evaluate, Report};
pub use validate::PlanError;

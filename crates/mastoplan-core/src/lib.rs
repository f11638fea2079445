//! mastoplan's engine: what a Mastodon deployment will open against Postgres, what is wrong
//! with it and why. Pure Rust with no web dependencies, shared by the page and the CLI.

pub mod budget;
pub mod ceiling;
pub mod diagnose;
pub mod docs;
pub mod edit;
pub mod estimates;
pub mod export;
pub mod finding;
pub mod import;
pub mod link;
pub mod generate;
pub mod pgtune;
pub mod plan;
pub mod presets;
pub mod report;
pub mod resources;
pub mod rules;
pub mod synthetic;
pub mod validate;

pub use budget::{BouncerLoad, ConnectionBudget, ConnectionLine, UnitKind};
pub use estimates::{Assumption, Estimates};
pub use finding::{Finding, Rule, Severity, Source};
pub use plan::*;
pub use report::{evaluate, Report};
pub use resources::{HostLedger, PostgresTuning, Resources};
pub use validate::PlanError;

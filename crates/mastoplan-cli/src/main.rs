//! `mastoplan`: the planner for plans kept as files.

mod render;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use mastoplan_core::{evaluate, presets, Plan, PlanError};

#[derive(Parser)]
#[command(name = "mastoplan", version, about = "Capacity and configuration planner for Mastodon servers")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the connection ledger and the findings of a plan; exit 1 when an error fires.
    Check {
        /// A plan as JSON (see `mastoplan preset NAME` for examples).
        plan: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// List the presets.
    Presets,
    /// Print one preset as plan JSON.
    Preset { name: String },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
}

/// Exit codes: 0 clean (warnings and advice allowed), 1 an error finding, 2 unusable input.
const EXIT_FINDINGS: u8 = 1;
const EXIT_INPUT: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check { plan, format } => check(&plan, format),
        Command::Presets => {
            for (name, description, _) in presets::PRESETS {
                println!("{name:<20} {description}");
            }
            ExitCode::SUCCESS
        }
        Command::Preset { name } => match presets::get(&name) {
            Some(plan) => {
                println!("{}", plan.to_json());
                ExitCode::SUCCESS
            }
            None => {
                let known: Vec<_> = presets::names().collect();
                eprintln!("mastoplan: no preset named {name:?}; presets: {}", known.join(", "));
                ExitCode::from(EXIT_INPUT)
            }
        },
    }
}

fn check(path: &Path, format: Format) -> ExitCode {
    let plan = match read_plan(path) {
        Ok(plan) => plan,
        Err(message) => {
            eprintln!("mastoplan: {message}");
            return ExitCode::from(EXIT_INPUT);
        }
    };
    let report = evaluate(&plan);
    match format {
        Format::Text => print!("{}", render::report_text(&report)),
        Format::Json => println!("{}", serde_json::to_string_pretty(&report).expect("reports serialise")),
    }
    if report.has_errors() {
        ExitCode::from(EXIT_FINDINGS)
    } else {
        ExitCode::SUCCESS
    }
}

fn read_plan(path: &Path) -> Result<Plan, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Plan::from_json(&text).map_err(|e: PlanError| format!("{} is not a valid plan: {e}", path.display()))
}

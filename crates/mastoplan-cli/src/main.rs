//! `mastoplan`: the planner for plans kept as files.

mod export;
mod live;
mod render;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use mastoplan_core::generate::{generate, Options, Request};
use mastoplan_core::{evaluate, link, presets, DiskKind, MastodonVersion, Plan, PlanError};

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
        #[arg(required_unless_present = "url", conflicts_with = "url")]
        plan: Option<PathBuf>,
        /// Check a shared link instead: a whole URL or just its fragment.
        #[arg(long)]
        url: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Print a share link that holds the whole plan.
    Link {
        plan: PathBuf,
        /// Where the planner is served; without it only the fragment (`#v1.…`) is printed.
        #[arg(long)]
        base: Option<String>,
    },
    /// List the presets.
    Presets,
    /// Print one preset as plan JSON.
    Preset { name: String },
    /// Propose a starting plan for the users you expect on the hosts you have. The plan goes to
    /// stdout as JSON (ready for `mastoplan check`); the assumptions behind it and any warnings
    /// go to stderr.
    New {
        /// Monthly active users you expect.
        #[arg(long)]
        users: u32,
        /// How many hosts you have, all of the size below.
        #[arg(long, default_value_t = 1)]
        hosts: u32,
        /// RAM of each host, in GB.
        #[arg(long)]
        ram: u32,
        /// Cores of each host.
        #[arg(long)]
        cores: u32,
        /// The plan's name.
        #[arg(long, default_value = "generated")]
        name: String,
        #[arg(long, value_enum, default_value_t = Version::V4_4)]
        mastodon: Version,
        /// The storage under Postgres.
        #[arg(long, value_enum, default_value_t = Disk::Ssd)]
        disk: Disk,
        /// Change one assumption, e.g. --assume busy_queue_threads=15 (repeatable; the names are
        /// those printed on stderr).
        #[arg(long = "assume", value_name = "NAME=VALUE")]
        assume: Vec<String>,
    },
    /// Read a running server's configuration into a plan: the plan JSON on stdout, what was
    /// taken, ignored or unreadable on stderr; exit 2 when nothing could be read.
    Import {
        /// .env.production, systemd units or `systemctl cat` output, pgbouncer.ini,
        /// postgresql.conf or SHOW ALL, redis.conf or CONFIG GET *, the chart's values.yaml;
        /// `-` reads standard input.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The plan to fill in: a preset name or a plan JSON file (default: single-server).
        #[arg(long)]
        base: Option<String>,
    },
    /// Read the output of the diagnostic queries run in psql; exit 1 when an error fires.
    Diagnose {
        /// psql output (aligned, \x expanded or CSV); `-` reads standard input.
        #[arg(required_unless_present = "queries")]
        file: Option<PathBuf>,
        /// The app reaches Postgres through PgBouncer.
        #[arg(long)]
        behind_bouncer: bool,
        /// Print the queries to run instead.
        #[arg(long, conflicts_with = "file")]
        queries: bool,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Write the deployable files of a plan, in a folder per host (see ROLLOUT.txt among them).
    Export {
        /// A plan as JSON.
        plan: PathBuf,
        /// The folder to write into; each host gets HOST/ with paths mirroring its filesystem.
        #[arg(long)]
        out: PathBuf,
        /// Replace files that already exist (without it, nothing is written if any does).
        #[arg(long)]
        force: bool,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Version {
    #[value(name = "4.2")]
    V4_2,
    #[value(name = "4.3")]
    V4_3,
    #[value(name = "4.4")]
    V4_4,
}

#[derive(Clone, Copy, ValueEnum)]
enum Disk {
    Ssd,
    Hdd,
    Network,
    Nvme,
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Format {
    Text,
    Json,
}

/// Exit codes: 0 clean (warnings and advice allowed), 1 an error finding, 2 unusable input.
pub(crate) const EXIT_FINDINGS: u8 = 1;
pub(crate) const EXIT_INPUT: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check { plan, url, format } => {
            let plan = match (plan, url) {
                (Some(path), _) => read_plan(&path),
                (None, Some(url)) => link::decode(&url).map_err(|e| format!("cannot open the link: {e}")),
                (None, None) => unreachable!("clap requires a plan or --url"),
            };
            match plan {
                Ok(plan) => check(&plan, format),
                Err(message) => {
                    eprintln!("mastoplan: {message}");
                    ExitCode::from(EXIT_INPUT)
                }
            }
        }
        Command::Link { plan, base } => match read_plan(&plan) {
            Ok(plan) => {
                match base {
                    Some(base) => println!("{}", link::share_url(&base, &plan)),
                    None => println!("#{}", link::encode(&plan)),
                }
                ExitCode::SUCCESS
            }
            Err(message) => {
                eprintln!("mastoplan: {message}");
                ExitCode::from(EXIT_INPUT)
            }
        },
        Command::Export { plan, out, force } => export::run(&plan, &out, force),
        Command::Presets => {
            for (name, description, _) in presets::PRESETS {
                println!("{name:<20} {description}");
            }
            ExitCode::SUCCESS
        }
        Command::Import { files, base } => live::import(&files, base.as_deref()),
        Command::Diagnose { file, behind_bouncer, queries, format } => match file {
            Some(file) if !queries => live::diagnose(&file, behind_bouncer, format),
            _ => live::queries(),
        },
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
        Command::New { users, hosts, ram, cores, name, mastodon, disk, assume } => {
            let request = Request {
                name,
                users,
                hosts,
                ram_gb: ram,
                cores,
                mastodon_version: match mastodon {
                    Version::V4_2 => MastodonVersion::V4_2,
                    Version::V4_3 => MastodonVersion::V4_3,
                    Version::V4_4 => MastodonVersion::V4_4,
                },
                disk: match disk {
                    Disk::Ssd => DiskKind::Ssd,
                    Disk::Hdd => DiskKind::Hdd,
                    Disk::Network => DiskKind::Network,
                    Disk::Nvme => DiskKind::Nvme,
                },
            };
            new_plan(&request, &assume)
        }
    }
}

fn new_plan(request: &Request, assume: &[String]) -> ExitCode {
    let mut options = Options::default();
    for a in assume {
        let result = match a.split_once('=') {
            Some((name, value)) => options.set(name.trim(), value.trim()),
            None => Err(format!("--assume takes NAME=VALUE, not {a:?}")),
        };
        if let Err(e) = result {
            eprintln!("mastoplan: {e}");
            return ExitCode::from(EXIT_INPUT);
        }
    }
    let generated = match generate(request, &options) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("mastoplan: {e}");
            return ExitCode::from(EXIT_INPUT);
        }
    };
    println!("{}", generated.plan.to_json());
    let report = evaluate(&generated.plan);
    eprint!("{}", render::generated_text(&generated, &report));
    ExitCode::SUCCESS
}

fn check(plan: &Plan, format: Format) -> ExitCode {
    let report = evaluate(plan);
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

pub(crate) fn read_plan(path: &Path) -> Result<Plan, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Plan::from_json(&text).map_err(|e: PlanError| format!("{} is not a valid plan: {e}", path.display()))
}

//! `mastoplan import` and `mastoplan diagnose`: the commands that read a running server.

use std::fmt::Write;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use mastoplan_core::diagnose::{self, Diagnosis, TableKind};
use mastoplan_core::import::{self, ImportInput, ImportOutcome, NoteAction};
use mastoplan_core::{presets, Plan};

use crate::{Format, EXIT_FINDINGS, EXIT_INPUT};

/// A file's text, `-` being standard input.
fn read_text(path: &Path) -> Result<(String, String), String> {
    if path == Path::new("-") {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).map_err(|e| format!("cannot read standard input: {e}"))?;
        return Ok((String::new(), text));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    Ok((name, String::from_utf8_lossy(&bytes).into_owned()))
}

/// `--base`: a preset's name, else a plan file.
fn base_plan(base: Option<&str>) -> Result<Plan, String> {
    match base {
        None => Ok(presets::default_plan()),
        Some(name) => match presets::get(name) {
            Some(plan) => Ok(plan),
            None if Path::new(name).exists() => crate::read_plan(Path::new(name)),
            None => {
                let known: Vec<_> = presets::names().collect();
                Err(format!("--base {name:?} is neither a preset ({}) nor a plan file", known.join(", ")))
            }
        },
    }
}

pub fn import(files: &[PathBuf], base: Option<&str>) -> ExitCode {
    let base = match base_plan(base) {
        Ok(plan) => plan,
        Err(message) => {
            eprintln!("mastoplan: {message}");
            return ExitCode::from(EXIT_INPUT);
        }
    };
    let mut inputs = Vec::new();
    for path in files {
        match read_text(path) {
            Ok((name, text)) => inputs.push(ImportInput::new(name, text)),
            Err(message) => {
                eprintln!("mastoplan: {message}");
                return ExitCode::from(EXIT_INPUT);
            }
        }
    }
    let outcome = import::apply(&base, &inputs);
    eprint!("{}", summary_text(&outcome));
    if outcome.nothing_read() {
        eprintln!("mastoplan: nothing could be read from the input: no plan printed");
        return ExitCode::from(EXIT_INPUT);
    }
    println!("{}", outcome.plan.to_json());
    ExitCode::SUCCESS
}

/// The summary as `file:line: action key: message` lines, like a compiler's.
pub fn summary_text(outcome: &ImportOutcome) -> String {
    let mut out = String::new();
    for i in &outcome.inputs {
        let format = i.format.map_or("unknown format", |f| f.label());
        let _ = writeln!(out, "read {} as {format}: {} settings", i.name, i.recognised);
    }
    for n in &outcome.summary {
        let place = match n.line {
            Some(l) => format!("{}:{l}", n.source),
            None => n.source.clone(),
        };
        let key = if n.key.is_empty() { String::new() } else { format!(" {}", n.key) };
        let _ = writeln!(out, "{place}: {}{key}: {}", n.action.name(), n.message);
    }
    let _ = writeln!(
        out,
        "{} taken, {} ignored, {} malformed, {} overridden",
        outcome.count(NoteAction::Taken),
        outcome.count(NoteAction::Ignored),
        outcome.count(NoteAction::Malformed),
        outcome.count(NoteAction::Overridden)
    );
    out
}

pub fn queries() -> ExitCode {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    for q in diagnose::QUERIES {
        // A closed pipe (`| head`) is no error worth a panic.
        if writeln!(out, "-- {}: {}\n{}\n", q.title, q.about, q.sql).is_err() {
            break;
        }
    }
    ExitCode::SUCCESS
}

pub fn diagnose(file: &Path, behind_bouncer: bool, format: Format) -> ExitCode {
    let text = match read_text(file) {
        Ok((_, text)) => text,
        Err(message) => {
            eprintln!("mastoplan: {message}");
            return ExitCode::from(EXIT_INPUT);
        }
    };
    let d = diagnose::diagnose(&text, behind_bouncer);
    match format {
        Format::Text => print!("{}", diagnosis_text(&d)),
        Format::Json => println!("{}", serde_json::to_string_pretty(&d).expect("diagnoses serialise")),
    }
    if !d.read_anything() {
        eprintln!("mastoplan: no result of the diagnostic queries found (`mastoplan diagnose --queries` prints them)");
        return ExitCode::from(EXIT_INPUT);
    }
    if d.has_errors() {
        ExitCode::from(EXIT_FINDINGS)
    } else {
        ExitCode::SUCCESS
    }
}

fn diagnosis_text(d: &Diagnosis) -> String {
    let mut out = String::new();
    for t in &d.tables {
        let kind = match t.kind {
            TableKind::ConnectionStates => "connection states",
            TableKind::ClientStates => "client backends",
            TableKind::WaitEvents => "wait events",
            TableKind::Unknown => "unknown result",
        };
        let _ = writeln!(out, "line {}: {kind} ({}, {} rows)", t.line, t.format.name(), t.rows);
    }
    if let Some(s) = &d.observed.states {
        let _ = write!(
            out,
            "\nconnections: {} clients ({} active, {} idle, {} idle in transaction), {} background",
            s.clients(),
            s.active,
            s.idle,
            s.in_transaction(),
            s.background
        );
        if let Some(l) = &d.observed.limits {
            let _ = write!(out, "; {} available ({} max_connections - {} reserved)", l.available(), l.max_connections, l.superuser_reserved_connections);
        }
        out.push('\n');
    }
    let count = |s| d.findings.iter().filter(|f| f.severity == s).count();
    use mastoplan_core::Severity::*;
    let _ = writeln!(out, "\n{} errors, {} warnings, {} advice", count(Error), count(Warning), count(Advice));
    for f in &d.findings {
        let _ = writeln!(out, "{:<8} {} [{}] {}", f.severity.name(), f.id, f.name, f.message);
        let _ = writeln!(out, "         fix: {}", f.fix.split(". ").next().unwrap_or(f.fix).trim_end_matches('.'));
    }
    if !d.notes.is_empty() {
        out.push('\n');
        for n in &d.notes {
            let _ = writeln!(out, "line {}: {}", n.line, n.message);
        }
    }
    out
}

//! The report as text for a terminal.

use std::fmt::Write;

use mastoplan_core::generate::Generated;
use mastoplan_core::{PostgresTuning, Report, Severity};

pub fn report_text(report: &Report) -> String {
    let c = &report.connections;
    let mut out = String::new();
    let _ = writeln!(out, "plan {} (Mastodon {})\n", report.plan, report.mastodon_version.label());

    let mut rows = vec![[
        "unit".to_string(),
        "kind".into(),
        "host".into(),
        "via".into(),
        "connections".into(),
        "how".into(),
    ]];
    for l in &c.lines {
        let mut how = l.derivation.to_string();
        if let Some(d) = &l.default_applied {
            let _ = write!(how, " ({d})");
        }
        rows.push([
            l.unit.clone(),
            format!("{:?}", l.kind).to_lowercase(),
            l.host.clone(),
            l.pgbouncer.clone().unwrap_or_else(|| "postgres".into()),
            l.connections.to_string(),
            how,
        ]);
    }
    out.push_str(&table(&rows));

    if !c.bouncers.is_empty() {
        out.push('\n');
        let mut rows = vec![[
            "pgbouncer".to_string(),
            "host".into(),
            "clients".into(),
            "max_client_conn".into(),
            "server pool".into(),
            "to postgres".into(),
        ]];
        for b in &c.bouncers {
            rows.push([
                b.name.clone(),
                b.host.clone(),
                b.clients.to_string(),
                b.max_client_conn.to_string(),
                b.server_pool.to_string(),
                b.server_connections.to_string(),
            ]);
        }
        out.push_str(&table(&rows));
    }

    let _ = writeln!(
        out,
        "\napp pools {}; postgres sees {} of {} available ({} max_connections - {} reserved): {:.1}%, headroom {}",
        c.clients,
        c.total,
        c.available,
        c.max_connections,
        c.reserved,
        c.utilisation * 100.0,
        c.headroom
    );
    if let Some(r) = &c.replica {
        let _ = writeln!(out, "replica on {}: {} of {} available", r.host, r.total, r.available);
    }

    out.push('\n');
    out.push_str(&hosts_text(report));
    out.push('\n');
    out.push_str(&postgres_text("postgres", &report.postgres_settings));
    if let Some(t) = &report.replica_settings {
        out.push('\n');
        out.push_str(&postgres_text("replica", t));
    }

    let plural = |n: usize, word: &str| if n == 1 { format!("{n} {word}") } else { format!("{n} {word}s") };
    let _ = writeln!(
        out,
        "\n{}, {}, {} advice",
        plural(report.count(Severity::Error), "error"),
        plural(report.count(Severity::Warning), "warning"),
        report.count(Severity::Advice)
    );
    for f in &report.findings {
        let _ = writeln!(out, "{:<8} {} [{}] {}", f.severity.name(), f.id, f.name, f.message);
    }
    out
}

/// Each host's totals, then every claim on it.
fn hosts_text(report: &Report) -> String {
    let mut out = String::new();
    let mut rows = vec![["host".to_string(), "RAM MB".into(), "of".into(), "used".into(), "cores".into(), "of".into(), "largest".into()]];
    for h in &report.hosts {
        rows.push([
            h.host.clone(),
            h.claimed_ram_mb.to_string(),
            h.ram_mb.to_string(),
            format!("{:.0}%", h.claimed_ram_mb as f64 * 100.0 / h.ram_mb.max(1) as f64),
            cores(h.claimed_cores),
            h.cores.to_string(),
            h.top_ram(3),
        ]);
    }
    out.push_str(&table(&rows));
    out.push('\n');
    let mut rows = vec![["host".to_string(), "unit".into(), "RAM MB".into(), "cores".into(), "how".into()]];
    for h in &report.hosts {
        for c in &h.claims {
            rows.push([h.host.clone(), c.unit.clone(), c.ram_mb.to_string(), cores(c.cores), c.derivation.clone()]);
        }
    }
    out.push_str(&table(&rows));
    out
}

fn cores(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The recommended postgresql.conf lines, each with its basis, and the ceiling.
fn postgres_text(what: &str, t: &PostgresTuning) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{what} settings on {} (Postgres {}, {} cores, {} storage), tuned for {} MB: {}",
        t.host,
        t.version,
        t.cores,
        t.disk.name(),
        t.ram_mb,
        t.ram_basis
    );
    let width = t.settings.iter().map(|s| s.name.len() + s.value.len() + 3).max().unwrap_or(0);
    for s in &t.settings {
        let line = format!("{} = {}", s.name, s.value);
        let why = match (&s.recommended, s.overridden) {
            (Some(r), true) => format!("set in the plan; recommended {r}: {}", s.basis),
            (None, true) => format!("set in the plan: {}", s.basis),
            _ => s.basis.clone(),
        };
        let _ = writeln!(out, "{line:<width$}  # {why}");
    }
    let c = &t.ceiling;
    let _ = writeln!(
        out,
        "max_connections ceiling (CYBERTEC): {}; max_connections {} is {}",
        c.derivation(),
        c.max_connections,
        if c.within { "below it" } else { "NOT below it" }
    );
    out
}

/// What `mastoplan new` tells the admin beside the plan: every assumption, the warnings, and
/// how the plan fares under the rules.
pub fn generated_text(g: &Generated, report: &Report) -> String {
    let mut out = String::from("assumptions (change any with --assume NAME=VALUE):\n");
    let mut rows = vec![["name".to_string(), "value".into(), "source".into()]];
    for a in &g.assumptions {
        rows.push([a.name.clone(), a.value.clone(), a.source.clone()]);
    }
    out.push_str(&table(&rows));
    if !g.warnings.is_empty() {
        out.push_str("\nwarnings:\n");
        for w in &g.warnings {
            let _ = writeln!(out, "- {w}");
        }
    }
    let _ = writeln!(
        out,
        "\nthe plan checks with {} errors, {} warnings, {} advice (mastoplan check FILE for the details)",
        report.count(Severity::Error),
        report.count(Severity::Warning),
        report.count(Severity::Advice)
    );
    out
}

fn table<const N: usize>(rows: &[[String; N]]) -> String {
    let mut widths = [0usize; N];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in rows {
        let line: Vec<String> = row.iter().zip(widths).map(|(cell, w)| format!("{cell:<w$}")).collect();
        let _ = writeln!(out, "{}", line.join("  ").trim_end());
    }
    out
}

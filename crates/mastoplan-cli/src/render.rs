//! The report as text for a terminal.

use std::fmt::Write;

use mastoplan_core::{Report, Severity};

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

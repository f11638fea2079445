//! The rules reference, generated from the registry so it can never drift from the code.

use std::fmt::Write;

use crate::finding::{Severity, Source};
use crate::rules;

/// One entry of a reference: a rule, or a diagnostic check.
pub(crate) struct Entry {
    pub id: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    pub summary: &'static str,
    pub problem: &'static str,
    pub fix: &'static str,
    pub sources: &'static [Source],
}

/// A summary table, then a section per entry at heading `level` (2 for `##`) with its
/// problem, fix and sources one level below.
pub(crate) fn write_reference(md: &mut String, level: usize, entries: impl Iterator<Item = Entry> + Clone) {
    md.push_str("| id | name | severity | checks |\n|---|---|---|---|\n");
    for e in entries.clone() {
        let _ = writeln!(md, "| {} | [`{}`](#{}) | {} | {} |", e.id, e.name, e.name, e.severity.name(), e.summary);
    }
    let (h, sub) = ("#".repeat(level), "#".repeat(level + 1));
    for e in entries {
        let _ = write!(
            md,
            "\n{h} {name}\n\n`{id}` · {severity}\n\n{summary}\n\n{sub} Problem\n\n{problem}\n\n{sub} Fix\n\n{fix}\n\n{sub} Sources\n\n",
            name = e.name,
            id = e.id,
            severity = e.severity.name(),
            summary = e.summary,
            problem = e.problem,
            fix = e.fix,
        );
        for s in e.sources {
            let _ = writeln!(md, "- [{}]({})", s.title, s.url);
        }
    }
}

/// Fails when the committed `docs/NAME` differs from `fresh`; `UPDATE_DOCS=1` rewrites it.
#[cfg(test)]
pub(crate) fn assert_up_to_date(name: &str, fresh: &str) {
    let path = format!("{}/../../docs/{name}", env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, fresh).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(committed == fresh, "docs/{name} is out of date: run `UPDATE_DOCS=1 cargo test -p mastoplan-core docs`");
}

/// `docs/rules.md`.
pub fn rules_markdown() -> String {
    let mut md = String::from(
        "# Rules reference\n\n\
         Generated from the rules registry in `crates/mastoplan-core/src/rules/`; \
         do not edit by hand (`UPDATE_DOCS=1 cargo test -p mastoplan-core docs` rewrites it).\n\n",
    );
    let entries = rules::ALL.iter().map(|r| Entry {
        id: r.id,
        name: r.name,
        severity: r.severity,
        summary: r.summary,
        problem: r.problem,
        fix: r.fix,
        sources: r.sources,
    });
    write_reference(&mut md, 2, entries);
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docs_rules_md_is_up_to_date() {
        assert_up_to_date("rules.md", &rules_markdown());
    }

    #[test]
    fn every_rule_has_a_section() {
        let md = rules_markdown();
        for r in rules::ALL {
            assert!(md.contains(&format!("\n## {}\n", r.name)));
        }
    }
}

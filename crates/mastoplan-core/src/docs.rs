//! The rules reference, generated from the registry so it can never drift from the code.

use std::fmt::Write;

use crate::rules;

/// `docs/rules.md`.
pub fn rules_markdown() -> String {
    let mut md = String::from(
        "# Rules reference\n\n\
         Generated from the rules registry in `crates/mastoplan-core/src/rules/`; \
         do not edit by hand (`UPDATE_DOCS=1 cargo test -p mastoplan-core docs` rewrites it).\n\n\
         | id | name | severity | checks |\n|---|---|---|---|\n",
    );
    for r in rules::ALL {
        let _ = writeln!(md, "| {} | [`{}`](#{}) | {} | {} |", r.id, r.name, r.name, r.severity.name(), r.summary);
    }
    for r in rules::ALL {
        let _ = write!(
            md,
            "\n## {name}\n\n`{id}` · {severity}\n\n{summary}\n\n### Problem\n\n{problem}\n\n### Fix\n\n{fix}\n\n### Sources\n\n",
            name = r.name,
            id = r.id,
            severity = r.severity.name(),
            summary = r.summary,
            problem = r.problem,
            fix = r.fix,
        );
        for s in r.sources {
            let _ = writeln!(md, "- [{}]({})", s.title, s.url);
        }
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docs_rules_md_is_up_to_date() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/rules.md");
        let fresh = rules_markdown();
        if std::env::var_os("UPDATE_DOCS").is_some() {
            std::fs::write(path, &fresh).unwrap();
        }
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == fresh,
            "docs/rules.md is out of date: run `UPDATE_DOCS=1 cargo test -p mastoplan-core docs`"
        );
    }

    #[test]
    fn every_rule_has_a_section() {
        let md = rules_markdown();
        for r in rules::ALL {
            assert!(md.contains(&format!("\n## {}\n", r.name)));
        }
    }
}

//! Diagnose fixtures: psql output in its three formats, the findings with their numbers.

use mastoplan_core::diagnose::table::TableFormat;
use mastoplan_core::diagnose::{diagnose, Diagnosis, TableKind, QUERIES};
use mastoplan_core::Severity;

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/diagnose/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn names(d: &Diagnosis) -> Vec<&'static str> {
    d.findings.iter().map(|f| f.name).collect()
}

fn message<'a>(d: &'a Diagnosis, name: &str) -> &'a str {
    &d.findings.iter().find(|f| f.name == name).unwrap_or_else(|| panic!("{name} did not fire: {:?}", names(d))).message
}

#[test]
fn the_compendiums_example_is_mostly_idle() {
    let d = diagnose(&fixture("compendium-states.txt"), false);
    assert!(d.notes.is_empty(), "{:?}", d.notes);
    assert_eq!(d.tables[0].kind, TableKind::ConnectionStates);
    let s = d.observed.states.as_ref().unwrap();
    assert_eq!((s.active, s.idle, s.idle_in_transaction, s.background, s.clients()), (12, 127, 6, 6, 145));
    let l = d.observed.limits.unwrap();
    assert_eq!((l.max_connections, l.superuser_reserved_connections, l.available()), (300, 3, 297));
    assert_eq!(names(&d), ["idle-connections-high"]);
    assert_eq!(message(&d, "idle-connections-high"), "127 of 145 client connections are idle (88%, above 20%): a PgBouncer in transaction mode would let fewer connections do the same work");
    assert!(!d.has_errors());
    let f = &d.findings[0];
    assert_eq!((f.id, f.severity, f.lines.as_slice()), ("MP080", Severity::Warning, &[1usize][..]));
    assert!(!f.problem.is_empty() && !f.fix.is_empty() && !f.sources.is_empty());
}

#[test]
fn the_compendiums_wait_events_show_lock_contention() {
    let d = diagnose(&fixture("compendium-waits.txt"), false);
    assert_eq!(d.tables[0].kind, TableKind::WaitEvents);
    assert_eq!(names(&d), ["idle-in-transaction-high", "lock-waits"]);
    assert_eq!(message(&d, "lock-waits"), "13 sessions wait on locks (relation 13), with 16 active client sessions");
    assert_eq!(message(&d, "idle-in-transaction-high"), "11 of 79 client connections are idle in transaction (14%)");
}

/// The same server seen in psql's three output formats gives the same diagnosis.
#[test]
fn a_busy_server_in_all_three_formats() {
    let mut seen = Vec::new();
    for (file, format) in [("busy-aligned.txt", TableFormat::Aligned), ("busy-expanded.txt", TableFormat::Expanded), ("busy.csv", TableFormat::Csv)] {
        let d = diagnose(&fixture(file), true);
        assert!(d.notes.is_empty(), "{file}: {:?}", d.notes);
        assert_eq!(d.tables.iter().map(|t| (t.kind, t.format)).collect::<Vec<_>>(), [(TableKind::ConnectionStates, format), (TableKind::WaitEvents, format)], "{file}");
        assert_eq!(
            names(&d),
            ["bouncer-bottleneck", "idle-in-transaction-high", "wal-write-waits", "lock-waits", "connections-near-limit"],
            "{file}"
        );
        assert_eq!(message(&d, "connections-near-limit"), "88 client connections of 97 available (100 max_connections - 3 superuser_reserved_connections): 91%");
        assert_eq!(message(&d, "bouncer-bottleneck"), "3 of 88 server connections are idle (3%, near zero) behind PgBouncer");
        assert_eq!(message(&d, "idle-in-transaction-high"), "33 of 88 client connections are idle in transaction (38%)");
        assert_eq!(message(&d, "wal-write-waits"), "15 sessions wait on WAL writes (52 active client sessions in the wait-events result)");
        assert_eq!(message(&d, "lock-waits"), "17 sessions wait on locks (relation 13, transactionid 4), with 52 active client sessions");
        assert!(!d.has_errors());
        seen.push((d.observed.states.clone(), d.observed.limits.map(|l| (l.max_connections, l.superuser_reserved_connections)), d.observed.waits.iter().map(|w| (w.wait_event.clone(), w.count)).collect::<Vec<_>>()));
    }
    assert!(seen.windows(2).all(|w| (&w[0].0.as_ref().map(|s| s.clients()), &w[0].1, &w[0].2) == (&w[1].0.as_ref().map(|s| s.clients()), &w[1].1, &w[1].2)));
}

#[test]
fn the_bouncer_check_needs_the_bouncer() {
    let d = diagnose(&fixture("busy-aligned.txt"), false);
    assert!(!names(&d).contains(&"bouncer-bottleneck"));
}

#[test]
fn at_the_limit_is_an_error() {
    let d = diagnose(&fixture("over-limit.csv"), false);
    assert!(d.has_errors());
    assert_eq!(d.findings[0].name, "connections-near-limit");
    assert_eq!(d.findings[0].severity, Severity::Error);
    assert_eq!(d.findings[0].message, "97 client connections of 97 available (100 max_connections - 3 superuser_reserved_connections): 100%");
    assert!(names(&d).contains(&"idle-connections-high"));
}

#[test]
fn mangled_output_gives_line_numbered_notes_and_reads_the_rest() {
    let d = diagnose(&fixture("mangled.txt"), false);
    let lines: Vec<usize> = d.notes.iter().map(|n| n.line).collect();
    assert_eq!(lines, [4, 5, 7, 9, 12], "{:#?}", d.notes);
    assert!(d.notes[0].message.contains("\"lots\" is not a number"));
    assert!(d.notes[1].message.contains("expected 4 columns"));
    assert!(d.notes[2].message.contains("psql counted 4 rows"));
    assert!(d.notes[3].message.contains("not part of a result table"));
    assert!(d.notes[4].message.contains("\"x\" is not a number"));
    let s = d.observed.states.as_ref().unwrap();
    assert_eq!((s.active, s.idle), (12, 40));
    assert_eq!(names(&d), ["idle-connections-high", "lock-waits"]);
}

#[test]
fn nothing_recognisable_says_so() {
    for text in ["", "hello", "a,b\n1,2\n", "\u{1b}[31m|||\n"] {
        let d = diagnose(text, false);
        assert!(!d.read_anything());
        assert!(d.findings.is_empty());
        assert!(!d.notes.is_empty(), "{text:?}");
    }
}

#[test]
fn the_queries_are_the_compendiums() {
    assert_eq!(QUERIES.len(), 3);
    assert!(QUERIES[0].sql.contains("res_for_super") && QUERIES[0].sql.contains("max_conn"));
    assert!(QUERIES[1].sql.contains("wait_event_type IS DISTINCT FROM 'Activity'"));
    assert!(QUERIES[2].sql.contains("backend_type = 'client backend'"));
}

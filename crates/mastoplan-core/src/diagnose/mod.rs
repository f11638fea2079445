//! Diagnose: read what a live server's Postgres says about its connections and waits, and
//! say what it means.
//!
//! The admin runs the compendium's queries ([`QUERIES`]) in psql and pastes the output, in
//! the aligned, expanded (`\x`) or CSV format; [`diagnose`] finds the result tables in the
//! paste, reads the numbers and runs the checks of [`checks::CHECKS`] on them. Each finding
//! carries its check's explanation (problem, fix, sources), like the plan rules do.

use serde::Serialize;

use crate::finding::{Severity, Source};

pub mod checks;
pub mod table;

use table::{LineNote, Table, TableFormat};

/// The compendium's "connection states vs limits" query (from a Stack Overflow answer it
/// cites): connections per state, with the limits beside them.
pub const CONNECTION_STATES_QUERY: &str = "select * from
    (select state, count(*) from pg_stat_activity where pid <> pg_backend_pid() group by 1 order by 1) q1,
    (select setting::int res_for_super from pg_settings where name=$$superuser_reserved_connections$$) q2,
    (select setting::int max_conn from pg_settings where name=$$max_connections$$) q3;";

/// The compendium's "wait events by backend type" query.
pub const WAIT_EVENTS_QUERY: &str = "SELECT backend_type, state, wait_event_type, wait_event, count(*)
  FROM pg_stat_activity
    WHERE pid <> pg_backend_pid()
      AND wait_event_type IS DISTINCT FROM 'Activity'
  GROUP BY 1, 2, 3, 4
  ORDER BY count(*) DESC;";

/// The compendium's test for a PgBouncer bottleneck: client backends per state.
pub const CLIENT_STATES_QUERY: &str = "select state, count(*)
from pg_stat_activity
where backend_type = 'client backend'
group by 1;";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Query {
    /// Kebab-case, stable.
    pub name: &'static str,
    pub title: &'static str,
    pub sql: &'static str,
    pub about: &'static str,
}

/// The queries to run, in the order the page offers them.
pub const QUERIES: &[Query] = &[
    Query {
        name: "connection-states",
        title: "Connection states vs limits",
        sql: CONNECTION_STATES_QUERY,
        about: "How many connections are active, idle and idle in transaction, against max_connections.",
    },
    Query {
        name: "wait-events",
        title: "Wait events by backend type",
        sql: WAIT_EVENTS_QUERY,
        about: "What the busy connections wait for: locks, WAL writes, the client.",
    },
    Query {
        name: "client-states",
        title: "Client backends per state (behind PgBouncer)",
        sql: CLIENT_STATES_QUERY,
        about: "Behind a bouncer, idle server connections near zero mean the bouncer is the bottleneck.",
    },
];

/// Which of the queries a result table answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TableKind {
    ConnectionStates,
    ClientStates,
    WaitEvents,
    /// A table none of the checks reads.
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParsedTable {
    pub kind: TableKind,
    pub format: TableFormat,
    pub line: usize,
    pub columns: Vec<String>,
    pub rows: usize,
}

/// Connections per state. psql shows background processes (checkpointer, walwriter,
/// autovacuum launcher…) with an empty state; they are not client connections.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StateCounts {
    pub active: u64,
    pub idle: u64,
    pub idle_in_transaction: u64,
    pub idle_in_transaction_aborted: u64,
    /// `fastpath function call`, `disabled` and states this version does not know.
    pub other: u64,
    /// Rows with no state.
    pub background: u64,
    /// The line of the table these come from.
    pub line: usize,
}

impl StateCounts {
    /// Client connections: every row with a state.
    pub fn clients(&self) -> u64 {
        self.active + self.idle + self.idle_in_transaction + self.idle_in_transaction_aborted + self.other
    }

    pub fn in_transaction(&self) -> u64 {
        self.idle_in_transaction + self.idle_in_transaction_aborted
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Limits {
    pub max_connections: u64,
    pub superuser_reserved_connections: u64,
    pub line: usize,
}

impl Limits {
    /// What ordinary users may open.
    pub fn available(&self) -> u64 {
        self.max_connections.saturating_sub(self.superuser_reserved_connections)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WaitRow {
    pub line: usize,
    pub backend_type: String,
    pub state: String,
    pub wait_event_type: String,
    pub wait_event: String,
    pub count: u64,
}

/// The numbers the checks read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Observed {
    /// The admin says the app reaches Postgres through PgBouncer.
    pub behind_bouncer: bool,
    pub states: Option<StateCounts>,
    pub limits: Option<Limits>,
    /// Rows of the wait-events query; empty when it was not pasted.
    pub waits: Vec<WaitRow>,
    /// Whether the wait-events query was pasted (its result can be empty).
    pub has_waits: bool,
}

impl Observed {
    /// Client backends that are active, as the wait-events table counts them.
    pub fn active_in_waits(&self) -> u64 {
        self.waits.iter().filter(|w| is_client(&w.backend_type) && w.state == "active").map(|w| w.count).sum()
    }
}

fn is_client(backend_type: &str) -> bool {
    backend_type.is_empty() || backend_type == "client backend"
}

/// One finding of a diagnostic check, with its explanation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DiagnosticFinding {
    pub id: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    /// One line with the numbers.
    pub message: String,
    /// Lines of the paste the numbers come from.
    pub lines: Vec<usize>,
    pub summary: &'static str,
    pub problem: &'static str,
    pub fix: &'static str,
    pub sources: &'static [Source],
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnosis {
    pub tables: Vec<ParsedTable>,
    pub observed: Observed,
    /// Errors first, then warnings, then advice; check order within each.
    pub findings: Vec<DiagnosticFinding>,
    /// Lines that could not be read, and other remarks on the paste.
    pub notes: Vec<LineNote>,
}

impl Diagnosis {
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }

    /// False when no result table of the queries was found.
    pub fn read_anything(&self) -> bool {
        self.tables.iter().any(|t| t.kind != TableKind::Unknown)
    }
}

fn classify(t: &Table) -> TableKind {
    if t.has(&["wait_event_type", "wait_event", "count"]) {
        TableKind::WaitEvents
    } else if t.has(&["state", "count"]) && (t.has(&["max_conn"]) || t.has(&["res_for_super"])) {
        TableKind::ConnectionStates
    } else if t.has(&["state", "count"]) {
        TableKind::ClientStates
    } else {
        TableKind::Unknown
    }
}

fn number(cell: &str, line: usize, column: &str, notes: &mut Vec<LineNote>) -> Option<u64> {
    match crate::import::text::parse_u64(cell) {
        Some(v) => Some(v),
        None => {
            notes.push(LineNote {
                line,
                message: format!("{column} {} is not a number: row skipped", crate::import::text::quoted(cell)),
            });
            None
        }
    }
}

fn read_states(t: &Table, notes: &mut Vec<LineNote>) -> (StateCounts, Option<Limits>) {
    let (state, count) = (t.column("state").unwrap_or(0), t.column("count").unwrap_or(1));
    let mut s = StateCounts { line: t.line, ..Default::default() };
    let mut limits: Option<Limits> = None;
    for row in &t.rows {
        let Some(n) = number(&row.cells[count], row.line, "count", notes) else { continue };
        match row.cells[state].to_ascii_lowercase().as_str() {
            "active" => s.active += n,
            "idle" => s.idle += n,
            "idle in transaction" => s.idle_in_transaction += n,
            "idle in transaction (aborted)" => s.idle_in_transaction_aborted += n,
            "" | "null" | "[null]" | "<null>" | "(null)" => s.background += n,
            _ => s.other += n,
        }
        let cell = |name: &str| t.column(name).map(|i| row.cells[i].as_str());
        if let (Some(mc), Some(rs)) = (cell("max_conn"), cell("res_for_super")) {
            if let (Some(mc), Some(rs)) = (
                number(mc, row.line, "max_conn", notes),
                number(rs, row.line, "res_for_super", notes),
            ) {
                match limits {
                    None => limits = Some(Limits { max_connections: mc, superuser_reserved_connections: rs, line: row.line }),
                    Some(l) if l.max_connections != mc || l.superuser_reserved_connections != rs => notes.push(LineNote {
                        line: row.line,
                        message: format!(
                            "max_conn {mc} / res_for_super {rs} differ from line {} ({} / {}): the first are used",
                            l.line, l.max_connections, l.superuser_reserved_connections
                        ),
                    }),
                    Some(_) => {}
                }
            }
        }
    }
    (s, limits)
}

fn read_waits(t: &Table, notes: &mut Vec<LineNote>) -> Vec<WaitRow> {
    let col = |name: &str| t.column(name);
    let (bt, st, wt, we, count) = (col("backend_type"), col("state"), col("wait_event_type"), col("wait_event"), col("count"));
    let mut out = Vec::new();
    for row in &t.rows {
        let cell = |i: Option<usize>| i.map(|i| row.cells[i].clone()).unwrap_or_default();
        let Some(n) = count.and_then(|c| number(&row.cells[c], row.line, "count", notes)) else { continue };
        out.push(WaitRow {
            line: row.line,
            backend_type: cell(bt).to_ascii_lowercase(),
            state: cell(st).to_ascii_lowercase(),
            wait_event_type: cell(wt),
            wait_event: cell(we),
            count: n,
        });
    }
    out
}

/// Read every result table in `text` and run the checks. `behind_bouncer` says the app
/// connects through PgBouncer, which changes what idle connections mean.
pub fn diagnose(text: &str, behind_bouncer: bool) -> Diagnosis {
    let mut notes = Vec::new();
    if text.len() > crate::import::text::MAX_INPUT_BYTES {
        notes.push(LineNote { line: 1, message: format!("{} bytes is more than query results need: not read", text.len()) });
        return Diagnosis { tables: Vec::new(), observed: Observed { behind_bouncer, ..Default::default() }, findings: Vec::new(), notes };
    }
    let (tables, table_notes) = table::parse_tables(text);
    notes.extend(table_notes);
    let mut observed = Observed { behind_bouncer, ..Default::default() };
    let mut parsed = Vec::new();
    let mut client_states: Option<StateCounts> = None;
    let mut seen_states_at: Option<usize> = None;
    for t in &tables {
        let kind = classify(t);
        parsed.push(ParsedTable { kind, format: t.format, line: t.line, columns: t.columns.clone(), rows: t.rows.len() });
        match kind {
            TableKind::ConnectionStates => {
                if let Some(prev) = seen_states_at {
                    notes.push(LineNote { line: t.line, message: format!("a second connection-states result: it replaces the one at line {prev}") });
                }
                seen_states_at = Some(t.line);
                let (s, l) = read_states(t, &mut notes);
                observed.states = Some(s);
                observed.limits = l;
            }
            TableKind::ClientStates => {
                let (s, _) = read_states(t, &mut notes);
                client_states = Some(s);
            }
            TableKind::WaitEvents => {
                observed.has_waits = true;
                observed.waits.extend(read_waits(t, &mut notes));
            }
            TableKind::Unknown => notes.push(LineNote {
                line: t.line,
                message: format!(
                    "a result with columns {} is not one of the queries: not read",
                    crate::import::text::list(&t.columns, 8)
                ),
            }),
        }
    }
    // The client-backends query is the sharper view of states; it lacks the limits.
    if let Some(cs) = client_states {
        observed.states = Some(cs);
    }
    if tables.is_empty() {
        notes.push(LineNote {
            line: 1,
            message: "no query result found: paste psql's output with its header line (aligned, \\x expanded or CSV)".into(),
        });
    }
    let findings = checks::run(&observed);
    notes.sort_by_key(|n| n.line);
    Diagnosis { tables: parsed, observed, findings, notes }
}

//! The diagnostic checks: like the plan rules, each has a stable id and kebab-case name, a
//! severity, and an explanation with problem, fix and sources; they read what a live
//! server's Postgres reported ([`Observed`]) instead of a plan. Ids come from the same
//! `MP` sequence as the rules (MP080 upward), so an id names one thing wherever it appears.

use std::fmt::Write;

use super::{DiagnosticFinding, Observed};
use crate::finding::{Severity, Source};
use crate::rules::sources::{AWS_IDLE_CONNECTIONS, COMPENDIUM, CRUNCHY_PGBOUNCER, MASTODON_SCALING, PGBOUNCER_CONFIG, POSTGRES_CONNECTIONS};

pub const PG_STAT_ACTIVITY: Source = Source {
    title: "PostgreSQL documentation: pg_stat_activity and wait events",
    url: "https://www.postgresql.org/docs/current/monitoring-stats.html#MONITORING-PG-STAT-ACTIVITY-VIEW",
};
pub const PG_ASYNC_COMMIT: Source = Source {
    title: "PostgreSQL documentation: Asynchronous Commit",
    url: "https://www.postgresql.org/docs/current/wal-async-commit.html",
};
pub const PG_EXPLICIT_LOCKING: Source = Source {
    title: "PostgreSQL documentation: Explicit Locking",
    url: "https://www.postgresql.org/docs/current/explicit-locking.html",
};

/// A check on a live server's numbers.
#[derive(Debug)]
pub struct Check {
    pub id: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    pub summary: &'static str,
    pub problem: &'static str,
    pub fix: &'static str,
    pub sources: &'static [Source],
    pub check: fn(&Observed, &mut Found),
}

/// Collects the findings of the check being run.
pub struct Found<'c> {
    check: &'c Check,
    found: Vec<DiagnosticFinding>,
}

impl Found<'_> {
    pub fn add(&mut self, message: String, lines: Vec<usize>) -> &mut DiagnosticFinding {
        let c = self.check;
        self.found.push(DiagnosticFinding {
            id: c.id,
            name: c.name,
            severity: c.severity,
            message,
            lines,
            summary: c.summary,
            problem: c.problem,
            fix: c.fix,
            sources: c.sources,
        });
        self.found.last_mut().expect("just pushed")
    }
}

fn pct(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

/// Fewer client connections than this say nothing about proportions.
const MIN_SAMPLE: u64 = 5;

pub static IDLE_CONNECTIONS_HIGH: Check = Check {
    id: "MP080",
    name: "idle-connections-high",
    severity: Severity::Warning,
    summary: "More than 20% of the client connections are idle: the pools hold more connections than the work needs.",
    problem: "Every idle connection is a Postgres backend holding memory and a slot of max_connections \
        while doing nothing. The compendium: a happy Postgres has few idle connections (but not \
        constantly zero); think of the 80/20 rule: if more than 20% of your connections are idle, \
        that's not great. Over-provisioned pools push max_connections up, and past a few hundred \
        connections Postgres slows down for everyone (the AWS study the compendium cites measured \
        up to a 46% drop in queries per second).",
    fix: "Without PgBouncer: put one in front of Postgres in transaction mode, so the app's many \
        client connections share a small server pool. Behind PgBouncer: lower default_pool_size \
        (and reserve_pool_size) until few server connections sit idle. Either way, size DB_POOL to \
        the threads that use it (DB_POOL = -c for sidekiq, MAX_THREADS for Puma) and no more.",
    sources: &[COMPENDIUM, AWS_IDLE_CONNECTIONS, MASTODON_SCALING],
    check: |o, out| {
        let Some(s) = &o.states else { return };
        let clients = s.clients();
        if clients < MIN_SAMPLE || s.idle * 100 <= clients * 20 {
            return;
        }
        let tail = if o.behind_bouncer {
            "behind PgBouncer this means its server pools are larger than needed"
        } else {
            "a PgBouncer in transaction mode would let fewer connections do the same work"
        };
        out.add(
            format!("{} of {clients} client connections are idle ({:.0}%, above 20%): {tail}", s.idle, pct(s.idle, clients)),
            vec![s.line],
        );
    },
};

pub static BOUNCER_BOTTLENECK: Check = Check {
    id: "MP081",
    name: "bouncer-bottleneck",
    severity: Severity::Warning,
    summary: "Behind PgBouncer, (almost) no server connection is idle: the bouncer is the bottleneck.",
    problem: "PgBouncer hands each transaction a server connection from its pool. When none is ever \
        idle, transactions queue inside the bouncer while Postgres could take more: the compendium, \
        quoting Crunchy Data, says that if idle connections are zero or very close to zero, PgBouncer \
        is bottlenecked. It is single-threaded; at 100% CPU, or with waits that grow while Postgres is \
        not similarly loaded, one instance is not enough.",
    fix: "Check the bouncer's CPU (SHOW POOLS; cl_waiting above zero means clients wait for a server \
        connection). If its pools are exhausted, raise default_pool_size within Postgres's budget; if \
        its core is saturated, run more PgBouncer processes (so_reuseport = 1, one per core, each with \
        its own unix_socket_dir and pidfile) or one per app machine.",
    sources: &[COMPENDIUM, CRUNCHY_PGBOUNCER, PGBOUNCER_CONFIG],
    check: |o, out| {
        if !o.behind_bouncer {
            return;
        }
        let Some(s) = &o.states else { return };
        let clients = s.clients();
        if clients < MIN_SAMPLE || s.idle * 20 > clients {
            return;
        }
        out.add(
            format!("{} of {clients} server connections are idle ({:.0}%, near zero) behind PgBouncer", s.idle, pct(s.idle, clients)),
            vec![s.line],
        );
    },
};

pub static IDLE_IN_TRANSACTION: Check = Check {
    id: "MP082",
    name: "idle-in-transaction-high",
    severity: Severity::Warning,
    summary: "Many connections sit idle inside an open transaction: slow media storage or long transactions hold them.",
    problem: "A connection idle in transaction has begun a transaction and is waiting for the app to \
        go on. It keeps its connection, its snapshot (holding back vacuum) and any locks it took. \
        In Mastodon the usual cause is the one the compendium's \"Locks That Bind\" describes: Rails \
        starts a transaction, uploads the media file to storage, then writes the row and commits, so \
        every slow upload (NFS, a remote or overloaded object store) keeps a transaction open for its \
        whole duration.",
    fix: "Put media on object storage that answers quickly, not on NFS and not on Postgres's disk. \
        Find the culprits with pg_stat_activity (state = 'idle in transaction', oldest xact_start \
        first, and their query). idle_in_transaction_session_timeout ends such sessions, but Mastodon \
        sees the errors: use it as a backstop, not a fix.",
    sources: &[COMPENDIUM, PG_STAT_ACTIVITY],
    check: |o, out| {
        let (n, clients, line) = match &o.states {
            Some(s) => (s.in_transaction(), s.clients(), s.line),
            None => {
                let n: u64 = o.waits.iter().filter(|w| w.state.starts_with("idle in transaction")).map(|w| w.count).sum();
                let all: u64 = o.waits.iter().filter(|w| !w.state.is_empty()).map(|w| w.count).sum();
                let line = o.waits.iter().find(|w| w.state.starts_with("idle in transaction")).map_or(0, |w| w.line);
                (n, all, line)
            }
        };
        if n < 3 || n * 100 < clients * 5 {
            return;
        }
        out.add(
            format!("{n} of {clients} client connections are idle in transaction ({:.0}%)", pct(n, clients)),
            vec![line],
        );
    },
};

pub static WAL_WRITE_WAITS: Check = Check {
    id: "MP083",
    name: "wal-write-waits",
    severity: Severity::Warning,
    summary: "Sessions wait on WALWrite: commits are bound by the write latency of the WAL disk.",
    problem: "Every commit waits until its WAL record is flushed to disk. When many sessions show the \
        WALWrite (or WALSync) wait event, the disk under pg_wal cannot flush as fast as transactions \
        commit, and every write in Mastodon (posts, follows, every sidekiq job that updates a row) \
        queues behind it. The compendium: if you're write latency bound, the query shows a lot of \
        WALWrite wait events.",
    fix: "Give the WAL a faster disk (local NVMe rather than network storage), or batch fewer, larger \
        transactions. synchronous_commit = off removes the wait from the commit: transactions then \
        return before their WAL is flushed, and a crash of Postgres or the machine can lose the last \
        transactions of the moment (up to three times wal_writer_delay, 600 ms by default). It cannot \
        corrupt the database; it can lose a post or a follow that the user was told had succeeded. \
        Turn it off only knowing that, per role or database if not for the whole server.",
    sources: &[COMPENDIUM, PG_ASYNC_COMMIT, PG_STAT_ACTIVITY],
    check: |o, out| {
        let wal: Vec<_> = o.waits.iter().filter(|w| matches!(w.wait_event.as_str(), "WALWrite" | "WALSync")).collect();
        let n: u64 = wal.iter().map(|w| w.count).sum();
        let active = o.active_in_waits();
        if n < 3 || n * 10 < active {
            return;
        }
        out.add(
            format!("{n} sessions wait on WAL writes ({} active client sessions in the wait-events result)", active),
            wal.iter().map(|w| w.line).collect(),
        );
    },
};

pub static LOCK_WAITS: Check = Check {
    id: "MP084",
    name: "lock-waits",
    severity: Severity::Warning,
    summary: "Sessions wait on heavyweight locks: transactions contend for the same rows or tables.",
    problem: "A Lock wait means a session needs a lock another transaction holds (a row being updated, \
        a relation being altered, a transaction id it must wait out). A few are normal; many mean \
        contention, and each waiting session keeps its connection and its sidekiq thread. The \
        compendium describes the loop: more sidekiq workers, more connections, more contention, \
        slower queries, a bigger backlog, and the urge to add workers again.",
    fix: "Find who blocks whom (pg_blocking_pids() in pg_stat_activity, or pg_locks) and what they run. \
        Long transactions (see idle-in-transaction-high) and a migration or VACUUM FULL are the usual \
        holders. Do not add sidekiq threads while it lasts: fewer, shorter transactions help more than \
        more workers.",
    sources: &[COMPENDIUM, PG_EXPLICIT_LOCKING, PG_STAT_ACTIVITY],
    check: |o, out| {
        let locks: Vec<_> = o.waits.iter().filter(|w| w.wait_event_type == "Lock").collect();
        let n: u64 = locks.iter().map(|w| w.count).sum();
        let active = o.active_in_waits();
        if n < 3 || n * 10 < active {
            return;
        }
        let mut by_event: Vec<(String, u64)> = Vec::new();
        for w in &locks {
            match by_event.iter_mut().find(|(e, _)| *e == w.wait_event) {
                Some((_, c)) => *c += w.count,
                None => by_event.push((w.wait_event.clone(), w.count)),
            }
        }
        let detail: Vec<String> = by_event
            .iter()
            .map(|(e, c)| format!("{} {c}", if e.is_empty() { "(none)" } else { e.as_str() }))
            .collect();
        out.add(
            format!("{n} sessions wait on locks ({}), with {active} active client sessions", crate::import::text::list(&detail, 6)),
            locks.iter().map(|w| w.line).collect(),
        );
    },
};

pub static CONNECTIONS_NEAR_LIMIT: Check = Check {
    id: "MP085",
    name: "connections-near-limit",
    severity: Severity::Warning,
    summary: "Client connections are at 90% or more of what max_connections allows (an error at 100%).",
    problem: "Postgres refuses new connections past max_connections minus the superuser-reserved \
        slots (\"sorry, too many clients already\"); the processes that connect last then fail their \
        jobs and requests. The compendium: over max_connections you lost; above 90% you are much \
        closer to impending doom than you would ever feel comfortable with. A restart or a deploy, \
        which briefly opens old and new pools together, tips it over.",
    fix: "Lower the pools (fewer sidekiq threads or instances, fewer Puma workers) or put PgBouncer in \
        front so many client connections share a small server pool. Raise max_connections only with \
        the memory for it and never far past 500.",
    sources: &[COMPENDIUM, POSTGRES_CONNECTIONS],
    check: |o, out| {
        let (Some(s), Some(l)) = (&o.states, &o.limits) else { return };
        let clients = s.clients();
        let available = l.available();
        if available == 0 || clients * 10 < available * 9 {
            return;
        }
        let f = out.add(
            format!(
                "{clients} client connections of {available} available ({} max_connections - {} superuser_reserved_connections): {:.0}%",
                l.max_connections,
                l.superuser_reserved_connections,
                pct(clients, available)
            ),
            vec![s.line, l.line],
        );
        if clients >= available {
            f.severity = Severity::Error;
        }
    },
};

/// Every check, in id order.
pub static CHECKS: &[&Check] =
    &[&IDLE_CONNECTIONS_HIGH, &BOUNCER_BOTTLENECK, &IDLE_IN_TRANSACTION, &WAL_WRITE_WAITS, &LOCK_WAITS, &CONNECTIONS_NEAR_LIMIT];

pub fn by_name(name: &str) -> Option<&'static Check> {
    CHECKS.iter().copied().find(|c| c.name == name)
}

pub fn by_id(id: &str) -> Option<&'static Check> {
    CHECKS.iter().copied().find(|c| c.id == id)
}

/// Run every check; errors first, then warnings, then advice.
pub fn run(o: &Observed) -> Vec<DiagnosticFinding> {
    let mut all: Vec<DiagnosticFinding> = CHECKS
        .iter()
        .flat_map(|c| {
            let mut f = Found { check: c, found: Vec::new() };
            (c.check)(o, &mut f);
            f.found
        })
        .collect();
    all.sort_by_key(|f| f.severity);
    all
}

/// `docs/diagnose.md`, generated from [`CHECKS`] and the queries.
pub fn diagnose_markdown() -> String {
    let mut md = String::from(
        "# Diagnose reference\n\n\
         Generated from `crates/mastoplan-core/src/diagnose/checks.rs`; do not edit by hand \
         (`UPDATE_DOCS=1 cargo test -p mastoplan-core docs` rewrites it).\n\n\
         `mastoplan diagnose FILE [--behind-bouncer]` (or the page's diagnose panel) reads the output \
         of the queries below as psql prints it: aligned (the default), expanded (`\\x`) or CSV \
         (`\\pset format csv`, `psql --csv`). Several results can be pasted together.\n\n## Queries\n",
    );
    for q in super::QUERIES {
        let _ = write!(md, "\n### {}\n\n{}\n\n```sql\n{}\n```\n", q.title, q.about, q.sql);
    }
    md.push_str("\n## Checks\n\n");
    let entries = CHECKS.iter().map(|c| crate::docs::Entry {
        id: c.id,
        name: c.name,
        severity: c.severity,
        summary: c.summary,
        problem: c.problem,
        fix: c.fix,
        sources: c.sources,
    });
    crate::docs::write_reference(&mut md, 3, entries);
    md
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_and_names_are_unique_well_formed_and_clear_of_the_rules() {
        let mut ids = HashSet::new();
        let mut names = HashSet::new();
        for (i, c) in CHECKS.iter().enumerate() {
            assert!(ids.insert(c.id) && names.insert(c.name), "{} duplicated", c.name);
            assert!(c.id.len() == 5 && c.id.starts_with("MP") && c.id[2..].chars().all(|d| d.is_ascii_digit()));
            assert!(c.id >= "MP080", "{}: diagnostic ids start at MP080", c.id);
            assert!(c.name.chars().all(|ch| ch.is_ascii_lowercase() || ch == '-'), "{}", c.name);
            assert!(crate::rules::by_id(c.id).is_none() && crate::rules::by_name(c.name).is_none(), "{} clashes with a rule", c.id);
            if i > 0 {
                assert!(CHECKS[i - 1].id < c.id);
            }
            assert!(!c.summary.contains('\n') && c.problem.len() > 40 && c.fix.len() > 20 && !c.sources.is_empty());
            assert!(c.sources.iter().all(|s| s.url.starts_with("https://")));
            assert_eq!(by_name(c.name).map(|x| x.id), Some(c.id));
            assert_eq!(by_id(c.id).map(|x| x.name), Some(c.name));
        }
    }

    #[test]
    fn docs_diagnose_md_is_up_to_date() {
        crate::docs::assert_up_to_date("diagnose.md", &diagnose_markdown());
    }
}

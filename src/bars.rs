//! The connection budget as bars: one per target (Postgres's server side, each PgBouncer's
//! client side, the replica), each unit's share a segment. Plain data from the report; the
//! component only draws it.

use mastoplan_core::{Report, UnitKind};

#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub label: String,
    pub value: u32,
    /// CSS class: the unit kind, or `bouncer` for a bouncer's server connections.
    pub class: &'static str,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub id: String,
    pub title: String,
    pub limit: u32,
    pub limit_label: String,
    pub total: u32,
    pub segments: Vec<Segment>,
    pub note: String,
}

impl Bar {
    /// The scale the bar is drawn on: the limit or the total, whichever is larger, with room
    /// to see the 100% line.
    pub fn scale(&self) -> f64 {
        (self.limit.max(self.total).max(1)) as f64 * 1.08
    }

    pub fn percent_of_scale(&self, value: u32) -> f64 {
        value as f64 / self.scale() * 100.0
    }
}

fn kind_class(kind: UnitKind) -> &'static str {
    match kind {
        UnitKind::Web => "web",
        UnitKind::Streaming => "streaming",
        UnitKind::Sidekiq => "sidekiq",
    }
}

pub fn bars(report: &Report) -> Vec<Bar> {
    let c = &report.connections;
    let mut out = Vec::with_capacity(2 + c.bouncers.len());
    let mut segments: Vec<Segment> = c
        .lines
        .iter()
        .filter(|l| l.pgbouncer_index.is_none() && l.connections > 0)
        .map(|l| Segment { label: l.unit.clone(), value: l.connections, class: kind_class(l.kind) })
        .collect();
    segments.extend(c.bouncers.iter().filter(|b| b.server_connections > 0).map(|b| Segment {
        label: b.name.clone(),
        value: b.server_connections,
        class: "bouncer",
    }));
    out.push(Bar {
        id: "postgres".into(),
        title: "Postgres primary, server side".into(),
        limit: c.available,
        limit_label: format!("{} available ({} max_connections - {} reserved)", c.available, c.max_connections, c.reserved),
        total: c.total,
        segments,
        note: format!("{} connections at peak; headroom {}", c.total, c.headroom),
    });
    for b in &c.bouncers {
        out.push(Bar {
            id: format!("pgbouncer-{}", b.name),
            title: format!("{}: clients", b.name),
            limit: b.max_client_conn,
            limit_label: format!("max_client_conn {}", b.max_client_conn),
            total: b.clients,
            segments: c
                .lines
                .iter()
                .filter(|l| l.pgbouncer_index == Some(b.index) && l.connections > 0)
                .map(|l| Segment { label: l.unit.clone(), value: l.connections, class: kind_class(l.kind) })
                .collect(),
            note: format!(
                "{} clients share at most {} server connections to Postgres ({} at peak)",
                b.clients, b.server_pool, b.server_connections
            ),
        });
    }
    if let Some(r) = &c.replica {
        out.push(Bar {
            id: "replica".into(),
            title: "Read replica".into(),
            limit: r.available,
            limit_label: format!("{} available", r.available),
            total: r.total,
            segments: c
                .lines
                .iter()
                .filter(|l| l.replica_connections > 0)
                .map(|l| Segment { label: l.unit.clone(), value: l.replica_connections, class: kind_class(l.kind) })
                .collect(),
            note: "every process opens a second pool against the replica".into(),
        });
    }
    out
}

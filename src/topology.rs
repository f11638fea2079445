//! The topology diagram: hosts as boxes, what runs on them as chips, arrows from app hosts to
//! the bouncer or Postgres their pools point at, labelled with connection counts, and Redis
//! instances coloured by role. `diagram` is plain geometry; `Topology` draws it as SVG.

use std::collections::BTreeMap;

use leptos::prelude::*;
use mastoplan_core::{Plan, RedisRole, Report};

use crate::state::Planner;

const COLUMNS: usize = 3;
const BOX_W: f64 = 240.0;
const GAP_X: f64 = 80.0;
const GAP_Y: f64 = 48.0;
const HEAD: f64 = 30.0;
const CHIP_H: f64 = 22.0;
const CHIP_GAP: f64 = 4.0;
const PAD: f64 = 10.0;

#[derive(Debug, Clone, PartialEq)]
pub struct Chip {
    pub key: String,
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub label: String,
    pub class: &'static str,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HostBox {
    pub name: String,
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
    pub chips: Vec<Chip>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Arrow {
    pub path: String,
    pub label: String,
    pub label_x: f64,
    pub label_y: f64,
    pub class: &'static str,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Diagram {
    pub width: f64,
    pub height: f64,
    pub hosts: Vec<HostBox>,
    pub arrows: Vec<Arrow>,
}

fn redis_class(role: RedisRole) -> &'static str {
    match role {
        RedisRole::Persistent => "redis-persistent",
        RedisRole::Cache => "redis-cache",
        RedisRole::SidekiqOnly => "redis-sidekiq",
    }
}

pub fn diagram(plan: &Plan, report: &Report) -> Diagram {
    let c = &report.connections;
    // Chips per host, in a fixed order: entry points, data, pooling, app units, caches.
    let mut per_host: Vec<Vec<(String, String, &'static str)>> = vec![Vec::new(); plan.hosts.len()];
    let host_index: BTreeMap<&str, usize> = plan.hosts.iter().enumerate().map(|(i, h)| (h.name.as_str(), i)).collect();
    let mut push = |host: &str, key: String, label: String, class: &'static str| {
        if let Some(&i) = host_index.get(host) {
            per_host[i].push((key, label, class));
        }
    };
    if let Some(n) = &plan.nginx {
        push(&n.host, "nginx".into(), "nginx".into(), "nginx");
    }
    push(&plan.postgres.host, "postgres".into(), format!("Postgres · {} / {}", c.total, c.available), "postgres");
    if let (Some(r), Some(load)) = (&plan.replica, &c.replica) {
        push(&r.host, "replica".into(), format!("replica · {} / {}", load.total, load.available), "replica");
    }
    for b in &c.bouncers {
        push(&b.host, format!("pgbouncer:{}", b.name), format!("{} · {} → {}", b.name, b.clients, b.server_connections), "bouncer");
    }
    for l in &c.lines {
        let times = if l.processes == 1 { String::new() } else { format!(" ×{}", l.processes) };
        push(&l.host, format!("{}:{}", l.kind.plan_field(), l.index), format!("{}{} · {}", l.unit, times, l.connections), l.kind.plan_field());
    }
    for r in &plan.redis {
        push(&r.host, format!("redis:{}", r.name), format!("{} ({})", r.name, serde_role(r.role)), redis_class(r.role));
    }

    let mut diagram = Diagram::default();
    let mut row_top = PAD;
    for row in per_host.chunks(COLUMNS).enumerate() {
        let (r, chunk) = row;
        let row_height = chunk.iter().map(|chips| HEAD + chips.len() as f64 * (CHIP_H + CHIP_GAP) + PAD).fold(HEAD + PAD, f64::max);
        for (col, chips) in chunk.iter().enumerate() {
            let i = r * COLUMNS + col;
            let x = PAD + col as f64 * (BOX_W + GAP_X);
            let chips = chips
                .iter()
                .enumerate()
                .map(|(k, (key, label, class))| Chip {
                    key: key.clone(),
                    x: x + PAD,
                    y: row_top + HEAD + k as f64 * (CHIP_H + CHIP_GAP),
                    w: BOX_W - 2.0 * PAD,
                    label: label.clone(),
                    class,
                })
                .collect();
            diagram.hosts.push(HostBox { name: plan.hosts[i].name.clone(), x, y: row_top, w: BOX_W, h: row_height, chips });
        }
        row_top += row_height + GAP_Y;
    }
    diagram.width = PAD * 2.0 + COLUMNS.min(plan.hosts.len()).max(1) as f64 * (BOX_W + GAP_X) - GAP_X;
    diagram.height = row_top - GAP_Y + PAD;

    let chip = |key: &str| diagram.hosts.iter().flat_map(|h| &h.chips).find(|c| c.key == key).cloned();
    // App connections per (source host, target), drawn once per pair.
    let mut flows: BTreeMap<(String, String), u32> = BTreeMap::new();
    for l in &c.lines {
        let target = match &l.pgbouncer {
            Some(b) => format!("pgbouncer:{b}"),
            None => "postgres".to_string(),
        };
        *flows.entry((format!("{}:{}", l.kind.plan_field(), l.index), target)).or_default() += l.connections;
    }
    let mut by_host: BTreeMap<(String, String), (String, u32)> = BTreeMap::new();
    for ((source, target), n) in flows {
        let host = c.lines.iter().find(|l| format!("{}:{}", l.kind.plan_field(), l.index) == source).map(|l| l.host.clone()).unwrap_or_default();
        let entry = by_host.entry((host, target)).or_insert((source, 0));
        entry.1 += n;
    }
    let mut arrows = Vec::new();
    for ((host, target), (first_source, n)) in by_host {
        let target_host = diagram.hosts.iter().find(|h| h.chips.iter().any(|c| c.key == target)).map(|h| h.name.clone());
        if n == 0 || target_host.as_deref() == Some(host.as_str()) {
            continue;
        }
        if let (Some(from), Some(to)) = (chip(&first_source), chip(&target)) {
            arrows.push(arrow(&from, &to, n.to_string(), "flow"));
        }
    }
    for b in &c.bouncers {
        let key = format!("pgbouncer:{}", b.name);
        if b.host == plan.postgres.host || b.server_connections == 0 {
            continue;
        }
        if let (Some(from), Some(to)) = (chip(&key), chip("postgres")) {
            arrows.push(arrow(&from, &to, b.server_connections.to_string(), "server"));
        }
    }
    diagram.arrows = arrows;
    diagram
}

fn serde_role(role: RedisRole) -> &'static str {
    match role {
        RedisRole::Persistent => "persistent",
        RedisRole::Cache => "cache",
        RedisRole::SidekiqOnly => "sidekiq",
    }
}

fn arrow(from: &Chip, to: &Chip, label: String, class: &'static str) -> Arrow {
    // Leave from the side facing the target, enter the target's facing side.
    let (x1, x2) = if from.x + from.w < to.x { (from.x + from.w, to.x) } else if to.x + to.w < from.x { (from.x, to.x + to.w) } else { (from.x + from.w, to.x + to.w) };
    let (y1, y2) = (from.y + CHIP_H / 2.0, to.y + CHIP_H / 2.0);
    let bend = if (x1 - x2).abs() < 1.0 { 40.0 } else { (x2 - x1) / 2.0 };
    let path = format!("M{x1:.1},{y1:.1} C{:.1},{y1:.1} {:.1},{y2:.1} {x2:.1},{y2:.1}", x1 + bend, x2 - bend);
    Arrow { path, label, label_x: (x1 + x2) / 2.0 + if (x1 - x2).abs() < 1.0 { 30.0 } else { 0.0 }, label_y: (y1 + y2) / 2.0 - 4.0, class }
}

#[component]
pub fn Topology() -> impl IntoView {
    let planner = expect_context::<Planner>();
    let diagram = Memo::new(move |_| planner.plan.with(|p| planner.report.with(|r| diagram(p, r))));
    view! {
        <section class="topology" aria-labelledby="topology-heading">
            <h2 id="topology-heading">"Topology"</h2>
            <div class="topology-scroll">
                {move || diagram.with(|d| view! {
                    <svg
                        class="topology-svg"
                        viewBox=format!("0 0 {:.0} {:.0}", d.width, d.height)
                        width=format!("{:.0}", d.width)
                        role="img"
                        aria-label="Hosts, what runs on them, and where their database connections go"
                    >
                        <defs>
                            <marker id="arrowhead" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
                                <path d="M0,0 L10,5 L0,10 z" class="arrowhead"></path>
                            </marker>
                        </defs>
                        {d.hosts.iter().map(|h| view! {
                            <g class="host-box">
                                <rect x=h.x y=h.y width=h.w height=h.h rx="8"></rect>
                                <text x=h.x + PAD y=h.y + 20.0 class="host-name">{h.name.clone()}</text>
                                {h.chips.iter().map(|c| view! {
                                    <g class=format!("chip {}", c.class)>
                                        <rect x=c.x y=c.y width=c.w height=CHIP_H rx="4"></rect>
                                        <text x=c.x + 6.0 y=c.y + 15.0>{c.label.clone()}</text>
                                    </g>
                                }).collect_view()}
                            </g>
                        }).collect_view()}
                        {d.arrows.iter().map(|a| view! {
                            <g class=format!("arrow {}", a.class)>
                                <path d=a.path.clone() marker-end="url(#arrowhead)"></path>
                                <text x=a.label_x y=a.label_y>{a.label.clone()}</text>
                            </g>
                        }).collect_view()}
                    </svg>
                })}
            </div>
            <ul class="legend">
                <li><span class="swatch redis-persistent"></span>"Redis, persistent"</li>
                <li><span class="swatch redis-cache"></span>"Redis, cache"</li>
                <li><span class="swatch redis-sidekiq"></span>"Redis, sidekiq only"</li>
                <li><span class="swatch bouncer"></span>"PgBouncer: clients → server connections"</li>
            </ul>
        </section>
    }
}

//! nginx: the upstream blocks listing every Puma and streaming instance (http context, as
//! Debian's `conf.d/*.conf` is), and a main-context snippet with the file and connection
//! limits.
//!
//! The upstream names are those of Mastodon's `dist/nginx.conf` (`backend`, `streaming`), so
//! the site file keeps its `proxy_pass` lines; its own two upstream blocks must go.

use super::{header, host_port, Ctx, ExportFile, WEB_PORT};

pub const UPSTREAMS: &str = "etc/nginx/conf.d/mastodon-upstreams.conf";
pub const MAIN_SNIPPET: &str = "etc/nginx/mastoplan-main.conf";

/// Connections a worker keeps for ordinary requests besides the streaming ones.
const BASE_CONNECTIONS: u64 = 1024;

pub fn files(cx: &Ctx) -> Vec<ExportFile> {
    let plan = cx.plan;
    let Some(n) = &plan.nginx else { return Vec::new() };
    let mut t = header("#", plan, &format!("nginx upstreams on host {}, for the http context.", n.host));
    t.push_str("# Replaces the `upstream backend` and `upstream streaming` blocks of the Mastodon site file.\n");
    let pumas: Vec<String> = plan
        .web
        .iter()
        .map(|w| format!("    server {} fail_timeout=0;", host_port(&cx.reach(&n.host, &w.host), WEB_PORT)))
        .collect();
    if pumas.is_empty() {
        t.push_str("\n# The plan has no web unit: no backend upstream.\n");
    } else {
        t.push_str("\n# Puma on every web host; a Puma on another host needs TRUSTED_PROXY_IP (set in its web.env).\n");
        t.push_str("upstream backend {\n");
        for p in pumas {
            t.push_str(&p);
            t.push('\n');
        }
        t.push_str("}\n");
    }
    let mut streams = Vec::new();
    for (i, s) in plan.streaming.iter().enumerate() {
        for port in &cx.streaming_ports[i] {
            streams.push(format!("    server {} fail_timeout=0;", host_port(&cx.reach(&n.host, &s.host), *port)));
        }
    }
    if streams.is_empty() {
        t.push_str("\n# The plan has no streaming instance: no streaming upstream.\n");
    } else {
        t.push_str("\n# One server per mastodon-streaming@PORT instance; least_conn spreads the long-lived connections.\n");
        t.push_str("upstream streaming {\n    least_conn;\n");
        for s in streams {
            t.push_str(&s);
            t.push('\n');
        }
        t.push_str("}\n");
    }
    let upstreams = ExportFile { host: Some(n.host.clone()), path: UPSTREAMS.into(), content: t };

    let cores = plan.host(&n.host).map(|h| h.cores).unwrap_or(1).max(1) as u64;
    let a = &plan.assumptions;
    let streaming = (plan.expected_active_users as f64 * a.streaming_connections_per_user).ceil() as u64;
    // Each proxied connection holds two: the client's and the upstream's.
    let per_worker = (2 * streaming).div_ceil(cores) + BASE_CONNECTIONS;
    let worker_connections = per_worker.div_ceil(1024) * 1024;
    let nofile = worker_connections * 2;
    let mut m = header("#", plan, &format!("nginx limits on host {}, for the main context.", n.host));
    m.push_str("# In /etc/nginx/nginx.conf, replace the `events { ... }` block by: include /etc/nginx/mastoplan-main.conf;\n");
    m.push_str(&format!(
        "# {} expected streaming connections ({} active users x {}), two sockets each, over {} workers\n",
        streaming, plan.expected_active_users, a.streaming_connections_per_user, cores
    ));
    m.push_str(&format!("# (worker_processes auto: one per core), plus {BASE_CONNECTIONS} for ordinary requests, rounded up.\n"));
    m.push_str(&format!("# Each connection may hold a file as well: twice as many files as connections.\nworker_rlimit_nofile {nofile};\n\n"));
    m.push_str(&format!("events {{\n    worker_connections {worker_connections};\n}}\n"));
    vec![upstreams, ExportFile { host: Some(n.host.clone()), path: MAIN_SNIPPET.into(), content: m }]
}

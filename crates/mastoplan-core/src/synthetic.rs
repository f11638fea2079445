//! Large plans made to measure: the engine must stay far below a frame on them, since the page
//! recomputes on every input event.

use crate::plan::*;

/// A cluster of `app_hosts` application hosts plus a database host, with one PgBouncer on each
/// of the first `bouncers` app hosts, `sidekiq_units` single-queue sidekiq units spread over
/// the hosts, and a web and a streaming unit on every host that has no sidekiq.
pub fn large_cluster(app_hosts: usize, sidekiq_units: usize, bouncers: usize) -> Plan {
    let app_hosts = app_hosts.max(1);
    let mut plan = crate::presets::get("large-split").expect("preset exists");
    plan.name = format!("synthetic-{app_hosts}-hosts");
    plan.hosts = (0..app_hosts)
        .map(|i| Host {
            name: format!("app-{i:03}"),
            cores: 8,
            ram_gb: 32,
            address: Some(format!("10.1.{}.{}", i / 200, i % 200 + 10)),
        })
        .collect();
    plan.hosts.push(Host { name: "db".into(), cores: 64, ram_gb: 256, address: Some("10.0.0.2".into()) });
    plan.hosts.push(Host { name: "edge".into(), cores: 8, ram_gb: 16, address: Some("10.0.0.3".into()) });
    plan.nginx = Some(Nginx { host: "edge".into() });
    plan.postgres.host = "db".into();
    plan.postgres.max_connections = 1000;
    for r in &mut plan.redis {
        r.host = "db".into();
    }
    plan.pgbouncers = (0..bouncers.min(app_hosts))
        .map(|i| PgBouncer {
            name: format!("pgbouncer-app-{i:03}"),
            host: format!("app-{i:03}"),
            pool_mode: PoolMode::Transaction,
            max_client_conn: 2000,
            default_pool_size: 20,
            reserve_pool_size: 5,
            max_db_connections: 0,
            databases: 1,
            limit_nofile: 8192,
            listen_port: 6432,
        })
        .collect();
    let bouncer_for = |host: usize| {
        (!plan.pgbouncers.is_empty()).then(|| plan.pgbouncers[host % plan.pgbouncers.len()].name.clone())
    };
    let queues = [Queue::Default, Queue::Push, Queue::Pull, Queue::Ingress, Queue::Mailers, Queue::Fasp];
    let mut sidekiq: Vec<SidekiqUnit> = (0..sidekiq_units)
        .map(|i| {
            let queue = queues[i % queues.len()];
            let host = i % app_hosts;
            SidekiqUnit {
                name: format!("sidekiq-{}-{i:03}", queue.name()),
                host: format!("app-{host:03}"),
                queues: vec![queue],
                instances: 2,
                concurrency: 10,
                db_pool: Some(10),
                pgbouncer: bouncer_for(host),
                jemalloc: true,
            }
        })
        .collect();
    if let Some(first) = sidekiq.first_mut() {
        first.queues = vec![Queue::Scheduler];
        first.instances = 1;
        first.name = "sidekiq-scheduler".into();
    }
    plan.sidekiq = sidekiq;
    let web_hosts = app_hosts.saturating_sub(sidekiq_units.min(app_hosts) / 2).max(1);
    plan.web = (0..web_hosts)
        .map(|i| WebUnit {
            name: format!("web-{i:03}"),
            host: format!("app-{i:03}"),
            web_concurrency: 4,
            max_threads: 5,
            db_pool: None,
            pgbouncer: bouncer_for(i),
            trusted_proxy_ip: Some("10.0.0.3".into()),
            jemalloc: true,
        })
        .collect();
    plan.streaming = (0..web_hosts)
        .map(|i| StreamingUnit {
            name: format!("streaming-{i:03}"),
            host: format!("app-{i:03}"),
            instances: 1,
            db_pool: Some(10),
            pgbouncer: bouncer_for(i),
        })
        .collect();
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_benchmark_cluster_has_the_promised_shape() {
        let plan = large_cluster(100, 400, 20);
        plan.validate().unwrap();
        assert_eq!(plan.hosts.len(), 102);
        assert_eq!(plan.sidekiq.len(), 400);
        assert_eq!(plan.pgbouncers.len(), 20);
        let report = crate::evaluate(&plan);
        assert_eq!(report.connections.lines.len(), 400 + 2 * plan.web.len());
    }
}

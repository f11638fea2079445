//! What runs on every input event in the page (evaluate), what runs on opening a share link
//! (decode) or making one (encode), and what runs on download (export), on plans from one
//! server to a 100-host cluster; plus evaluate on 50, 100 and 200 hosts, to see how it grows.
//! `cargo bench -p mastoplan-core --bench engine`; figures go to BENCHMARKS.md.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use mastoplan_core::{evaluate, export, link, presets, synthetic, Plan};
use std::hint::black_box;

fn plans() -> Vec<(String, Plan)> {
    vec![
        ("single-server".into(), presets::get("single-server").unwrap()),
        ("compendium-example".into(), presets::get("compendium-example").unwrap()),
        ("100-hosts".into(), synthetic::large_cluster(100, 400, 20)),
    ]
}

fn engine(c: &mut Criterion) {
    for (name, plan) in plans() {
        c.bench_function(&format!("evaluate/{name}"), |b| b.iter(|| evaluate(black_box(&plan))));
        // The export refuses the 400-unit plan: units 300 apart land on the same host with the
        // same queue, hence the same systemd unit name. With 300 units no two collide.
        let (export_name, export_plan) = if name == "100-hosts" {
            ("100-hosts-300-sidekiq".to_string(), synthetic::large_cluster(100, 300, 20))
        } else {
            (name.clone(), plan.clone())
        };
        c.bench_function(&format!("export/{export_name}"), |b| {
            b.iter(|| export::export(black_box(&export_plan)).unwrap())
        });
        let encoded = link::encode(&plan);
        c.bench_function(&format!("link-encode/{name}"), |b| b.iter(|| link::encode(black_box(&plan))));
        c.bench_function(&format!("link-decode/{name}"), |b| b.iter(|| link::decode(black_box(&encoded)).unwrap()));
    }
}

/// The same shape of cluster at 50, 100 and 200 hosts (4 sidekiq units and one bouncer per 5
/// hosts each): time per host should stay flat.
fn scaling(c: &mut Criterion) {
    let mut group = c.benchmark_group("evaluate-scaling");
    for hosts in [50, 100, 200] {
        let plan = synthetic::large_cluster(hosts, hosts * 4, hosts / 5);
        group.bench_with_input(BenchmarkId::from_parameter(format!("{hosts}-hosts")), &plan, |b, plan| {
            b.iter(|| evaluate(black_box(plan)))
        });
    }
    group.finish();
}

criterion_group!(benches, engine, scaling);
criterion_main!(benches);

//! What runs on every input event in the page, on plans from one server to a 100-host cluster.
//! `cargo bench -p mastoplan-core`; figures go to BENCHMARKS.md.

use criterion::{criterion_group, criterion_main, Criterion};
use mastoplan_core::{evaluate, link, presets, synthetic, Plan};
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
        let encoded = link::encode(&plan);
        c.bench_function(&format!("link-encode/{name}"), |b| b.iter(|| link::encode(black_box(&plan))));
        c.bench_function(&format!("link-decode/{name}"), |b| b.iter(|| link::decode(black_box(&encoded)).unwrap()));
    }
}

criterion_group!(benches, engine);
criterion_main!(benches);

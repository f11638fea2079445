//! Prints a generated large plan as JSON, for measuring the page on it:
//! `cargo run -p mastoplan-core --example synthetic_plan [HOSTS [SIDEKIQ_UNITS [BOUNCERS]]]`
//! (default 100 400 20, the plan of the benchmarks).

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>().expect("a number"));
    let hosts = args.next().unwrap_or(100);
    let sidekiq = args.next().unwrap_or(400);
    let bouncers = args.next().unwrap_or(20);
    println!("{}", mastoplan_core::synthetic::large_cluster(hosts, sidekiq, bouncers).to_json());
}

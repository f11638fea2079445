//! Each host's RAM and cores: what every unit on it claims, against what it has.

use leptos::prelude::*;
use mastoplan_core::resources::HostLedger;

use crate::format::{megabytes, percent};
use crate::state::Planner;

#[component]
pub fn HostsView() -> impl IntoView {
    let planner = expect_context::<Planner>();
    let hosts = Memo::new(move |_| planner.report.with(|r| r.hosts.clone()));
    view! {
        <section class="resources" aria-labelledby="resources-heading">
            <h2 id="resources-heading">"Memory and cores per host"</h2>
            {move || hosts.with(|hs| hs.iter().map(host_view).collect_view())}
            <p class="note">"Per-process figures are named estimates (see the rules reference and the plan's estimates); Postgres counts shared_buffers plus work_mem for its connections."</p>
        </section>
    }
}

fn host_view(h: &HostLedger) -> impl IntoView {
    let ram_scale = (h.ram_mb.max(h.claimed_ram_mb).max(1)) as f64 * 1.05;
    let core_scale = f64::from(h.cores).max(h.claimed_cores).max(1.0) * 1.05;
    let by_ram = h.by_ram();
    view! {
        <figure class="host-ledger" class:over=h.ram_overcommitted() || h.cores_oversubscribed()>
            <figcaption>
                <strong>{h.host.clone()}</strong>
                {format!(
                    " · RAM {} of {} ({}) · cores {:.2} of {}",
                    megabytes(h.claimed_ram_mb),
                    megabytes(h.ram_mb),
                    percent(h.claimed_ram_mb as f64 / h.ram_mb.max(1) as f64),
                    h.claimed_cores,
                    h.cores
                )}
            </figcaption>
            <div class="bar ram" role="img" aria-label=format!("{}: RAM {} MB claimed of {} MB", h.host, h.claimed_ram_mb, h.ram_mb)>
                {h.claims.iter().filter(|c| c.ram_mb > 0).map(|c| {
                    let width = format!("{:.3}%", c.ram_mb as f64 / ram_scale * 100.0);
                    view! { <span class=format!("seg {}", claim_class(&c.at)) style:width=width title=format!("{}: {}", c.unit, c.derivation)></span> }
                }).collect_view()}
                <span class="mark limit" style:left=format!("{:.2}%", h.ram_mb as f64 / ram_scale * 100.0) title="RAM"></span>
            </div>
            <div class="bar cores" role="img" aria-label=format!("{}: {:.2} cores claimed of {}", h.host, h.claimed_cores, h.cores)>
                {h.claims.iter().filter(|c| c.cores > 0.0).map(|c| {
                    let width = format!("{:.3}%", c.cores / core_scale * 100.0);
                    view! { <span class=format!("seg {}", claim_class(&c.at)) style:width=width title=format!("{}: {:.2} cores", c.unit, c.cores)></span> }
                }).collect_view()}
                <span class="mark limit" style:left=format!("{:.2}%", f64::from(h.cores) / core_scale * 100.0) title="cores"></span>
            </div>
            <ul class="shares">
                {by_ram.into_iter().take(6).map(|c| view! { <li>{c.unit.clone()} " " <strong>{megabytes(c.ram_mb)}</strong></li> }).collect_view()}
            </ul>
        </figure>
    }
}

/// The colour of a claim follows what it is: `/sidekiq/2` is sidekiq.
fn claim_class(at: &str) -> &'static str {
    match at.split('/').nth(1).unwrap_or("") {
        "web" => "web",
        "streaming" => "streaming",
        "sidekiq" => "sidekiq",
        "pgbouncers" => "bouncer",
        "postgres" | "replica" => "postgres",
        "redis" => "redis-persistent",
        _ => "system",
    }
}

/// The Postgres settings mastoplan recommends for the primary, with the reason for each.
#[component]
pub fn PostgresSettingsView() -> impl IntoView {
    let planner = expect_context::<Planner>();
    let tuning = Memo::new(move |_| planner.report.with(|r| r.postgres_settings.clone()));
    view! {
        <section class="pg-settings" aria-labelledby="pg-heading">
            <h2 id="pg-heading">"Postgres settings"</h2>
            <p class="note">{move || tuning.with(|t| format!(
                "For {} with {} of RAM for Postgres ({}), {} cores, {} disk, PostgreSQL {}. max_connections ceiling (CYBERTEC): {:.0}.",
                t.host, megabytes(t.ram_mb), t.ram_basis, t.cores, t.disk.name().to_uppercase(), t.version, t.ceiling.ceiling
            ))}</p>
            <table>
                <thead><tr><th scope="col">"setting"</th><th scope="col">"value"</th><th scope="col">"why"</th></tr></thead>
                <tbody>
                    {move || tuning.with(|t| t.settings.iter().map(|s| view! {
                        <tr class:overridden=s.overridden>
                            <td><code>{s.name}</code></td>
                            <td><code>{s.value.clone()}</code></td>
                            <td>{s.basis.clone()}</td>
                        </tr>
                    }).collect_view())}
                </tbody>
            </table>
        </section>
    }
}

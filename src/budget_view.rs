//! The connection budget: the headline figures and a stacked bar per target.

use leptos::prelude::*;

use crate::bars::{bars, Bar};
use crate::format::{percent, thousands};
use crate::state::Planner;

#[component]
pub fn BudgetView() -> impl IntoView {
    let planner = expect_context::<Planner>();
    let budget = Memo::new(move |_| planner.report.with(|r| r.connections.clone()));
    let all_bars = Memo::new(move |_| planner.report.with(bars));
    view! {
        <section class="budget" class:over=move || budget.with(|b| b.headroom < 0) aria-labelledby="budget-heading">
            <h2 id="budget-heading">"Postgres connections"</h2>
            <p class="figure">
                <output id="connections-total">{move || budget.with(|b| b.total)}</output>
                " of "
                <output id="connections-available">{move || budget.with(|b| b.available)}</output>
                " available "
                <span class="utilisation">{move || budget.with(|b| format!("({})", percent(b.utilisation)))}</span>
            </p>
            <p class="note">
                {move || budget.with(|b| format!(
                    "App pools add up to {}; {} of them go straight to Postgres. Headroom: {}.",
                    thousands(b.clients as u64), thousands(b.direct as u64), b.headroom,
                ))}
            </p>
            <For
                each=move || all_bars.get()
                key=|bar| bar.id.clone()
                children=move |bar: Bar| {
                    let id = bar.id.clone();
                    let current = Memo::new(move |_| all_bars.with(|bars| bars.iter().find(|b| b.id == id).cloned()));
                    view! { <BarView bar=current/> }
                }
            />
            <ul class="legend" aria-label="Colours">
                <li><span class="swatch web"></span>"web"</li>
                <li><span class="swatch streaming"></span>"streaming"</li>
                <li><span class="swatch sidekiq"></span>"sidekiq"</li>
                <li><span class="swatch bouncer"></span>"through PgBouncer"</li>
            </ul>
        </section>
    }
}

#[component]
fn BarView(bar: Memo<Option<Bar>>) -> impl IntoView {
    let get = move |f: fn(&Bar) -> String| bar.with(|b| b.as_ref().map(f).unwrap_or_default());
    let mark = move |fraction: f64| {
        bar.with(|b| b.as_ref().map(|b| format!("{:.2}%", b.limit as f64 * fraction / b.scale() * 100.0)).unwrap_or_default())
    };
    view! {
        <figure class="bar-figure" id=move || get(|b| format!("bar-{}", b.id))>
            <figcaption>
                <span class="bar-title">{move || get(|b| b.title.clone())}</span>
                <span class="bar-total">{move || get(|b| format!("{} / {}", thousands(b.total as u64), thousands(b.limit as u64)))}</span>
            </figcaption>
            <div class="bar" role="img" aria-label=move || get(|b| format!("{}: {} of {}", b.title, b.total, b.limit_label))>
                {move || bar.with(|b| b.as_ref().map(|b| b.segments.iter().map(|s| {
                    let width = format!("{:.3}%", b.percent_of_scale(s.value));
                    let title = format!("{}: {}", s.label, s.value);
                    view! { <span class=format!("seg {}", s.class) style:width=width title=title></span> }
                }).collect_view()))}
                <span class="mark near" style:left=move || mark(0.9) title="90%"></span>
                <span class="mark limit" style:left=move || mark(1.0) title="100%"></span>
            </div>
            <ul class="shares">
                {move || bar.with(|b| b.as_ref().map(|b| b.segments.iter().map(|s| view! {
                    <li class=s.class>{s.label.clone()} " " <strong>{s.value}</strong></li>
                }).collect_view()))}
            </ul>
            <p class="note">{move || get(|b| format!("{}. Limit: {}.", b.note, b.limit_label))}</p>
        </figure>
    }
}

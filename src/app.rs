//! The page: the default plan's thread settings as sliders, and the Postgres connections they
//! add up to. Every figure comes from `mastoplan_core::evaluate`.

use leptos::prelude::*;
use leptos::web_sys::HtmlInputElement;
use mastoplan_core::{evaluate, presets, Plan};

use crate::knobs::{self, Knob};

#[component]
pub fn App() -> impl IntoView {
    let plan = RwSignal::new(presets::default_plan());
    let report = Memo::new(move |_| plan.with(evaluate));
    let budget = Memo::new(move |_| report.with(|r| r.connections.clone()));
    let total = Memo::new(move |_| budget.with(|b| b.total));
    let available = Memo::new(move |_| budget.with(|b| b.available));
    let over = Memo::new(move |_| budget.with(|b| b.headroom < 0));

    view! {
        <main>
            <header>
                <h1>"mastoplan"</h1>
                <p class="lede">
                    "Plan: " <strong>{move || plan.with(|p| p.name.clone())}</strong>
                    ". Move a slider and watch what Mastodon will open against Postgres."
                </p>
            </header>

            <section class="knobs" aria-labelledby="threads-heading">
                <h2 id="threads-heading">"Threads"</h2>
                {knobs::ALL.map(|knob| view! { <KnobField knob plan/> })}
            </section>

            <section class="budget" class:over=over aria-labelledby="budget-heading">
                <h2 id="budget-heading">"Postgres connections"</h2>
                <p class="figure">
                    <output id="connections-total" for="web-threads sidekiq-threads">
                        {move || total.get()}
                    </output>
                    " of "
                    <output id="connections-available">{move || available.get()}</output>
                    " available"
                </p>
                <meter
                    min="0"
                    max=move || available.get()
                    high=move || available.get() * 9 / 10
                    value=move || total.get()
                    aria-label="Connections used of available"
                ></meter>
                <p class="note">
                    {move || budget.with(|b| format!(
                        "max_connections {} minus {} reserved = {} available; {} left.",
                        b.max_connections, b.reserved, b.available, b.headroom,
                    ))}
                </p>
                <ul class="lines">
                    {move || budget.with(|b| b.lines.iter().map(|line| view! {
                        <li>
                            <span class="unit-name">{line.unit.clone()}</span>
                            " "
                            <span class="derivation">{line.derivation.clone()}</span>
                        </li>
                    }).collect_view())}
                </ul>
            </section>
        </main>
    }
}

/// A labelled slider with a number input for exact values, both bound to one plan setting.
#[component]
fn KnobField(knob: &'static Knob, plan: RwSignal<Plan>) -> impl IntoView {
    let value = Memo::new(move |_| plan.with(|p| knob.get(p)));
    let label_id = format!("{}-label", knob.id);
    let unit_id = format!("{}-unit", knob.id);
    let number_labelled_by = format!("{label_id} {unit_id}");
    let set = move |n: u32| plan.update(|p| knob.set(p, n));

    view! {
        <div class="knob">
            <label id=label_id for=knob.id>{knob.label}</label>
            <div class="knob-inputs">
                <input
                    type="range"
                    id=knob.id
                    min=knob.min
                    max=knob.max
                    step="1"
                    prop:value=move || value.get().to_string()
                    on:input=move |ev| {
                        if let Some(n) = knob.parse_exact(&event_target_value(&ev)) {
                            set(n)
                        }
                    }
                />
                <input
                    type="number"
                    id=knob.number_id
                    min=knob.min
                    max=knob.max
                    step="1"
                    inputmode="numeric"
                    aria-labelledby=number_labelled_by
                    prop:value=move || value.get().to_string()
                    on:input=move |ev| {
                        if let Some(n) = knob.parse_exact(&event_target_value(&ev)) {
                            set(n)
                        }
                    }
                    on:change=move |ev| {
                        // Typing is done: put what the field shows back in bounds.
                        let n = knob.parse_clamped(&event_target_value(&ev))
                            .unwrap_or_else(|| value.get_untracked());
                        set(n);
                        event_target::<HtmlInputElement>(&ev).set_value(&n.to_string());
                    }
                />
                <span id=unit_id class="unit">{knob.unit}</span>
            </div>
            <p class="hint">{knob.hint}</p>
        </div>
    }
}

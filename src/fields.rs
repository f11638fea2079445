//! Form controls bound to one setting of the plan. Each has a visible label, a unit, works with
//! the keyboard, and carries the id findings use to focus it (`state::control_id`).

use leptos::prelude::*;
use leptos::web_sys::HtmlInputElement;

/// A slider paired with a number input for exact values. The slider covers the usual range,
/// the number input everything the plan accepts.
#[component]
pub fn NumField(
    /// The control's id; the number input's is this with `-n`.
    id: String,
    label: &'static str,
    unit: &'static str,
    min: u32,
    /// The slider's end; the number input goes up to `max`.
    slider_max: u32,
    max: u32,
    #[prop(into)] value: Signal<u32>,
    on_set: Callback<u32>,
    #[prop(optional)] hint: &'static str,
) -> impl IntoView {
    // Every field derives from the whole plan; a memo passes a change on only when this
    // field's own value changed, so a drag elsewhere touches no DOM here.
    let value = Memo::new(move |_| value.get());
    let number_id = format!("{id}-n");
    let label_id = format!("{id}-label");
    let unit_id = format!("{id}-unit");
    let number_labelled = format!("{label_id} {unit_id}");
    let parse = move |raw: &str| raw.trim().parse::<u32>().ok().filter(|n| (min..=max).contains(n));
    view! {
        <div class="field num-field">
            <label id=label_id.clone() for=id.clone()>{label}</label>
            <div class="num-inputs">
                <input
                    type="range"
                    id=id
                    min=min
                    max=move || slider_max.max(value.get())
                    step="1"
                    prop:value=move || value.get().to_string()
                    on:input=move |ev| {
                        if let Some(n) = parse(&event_target_value(&ev)) {
                            on_set.run(n)
                        }
                    }
                />
                <input
                    type="number"
                    id=number_id
                    min=min
                    max=max
                    step="1"
                    inputmode="numeric"
                    aria-labelledby=number_labelled
                    prop:value=move || value.get().to_string()
                    on:input=move |ev| {
                        if let Some(n) = parse(&event_target_value(&ev)) {
                            on_set.run(n)
                        }
                    }
                    on:change=move |ev| {
                        // Typing is done: show what the plan holds, whatever was typed.
                        event_target::<HtmlInputElement>(&ev).set_value(&value.get_untracked().to_string());
                    }
                />
                <span id=unit_id class="unit">{unit}</span>
            </div>
            {(!hint.is_empty()).then(|| view! { <p class="hint">{hint}</p> })}
        </div>
    }
}

/// A checkbox for a yes/no setting.
#[component]
pub fn CheckField(id: String, label: &'static str, #[prop(into)] value: Signal<bool>, on_set: Callback<bool>) -> impl IntoView {
    let value = Memo::new(move |_| value.get());
    view! {
        <div class="field check-field">
            <input
                type="checkbox"
                id=id.clone()
                prop:checked=move || value.get()
                on:change=move |ev| {
                    on_set.run(event_target_checked(&ev));
                    // A refused edit leaves the plan as it was: show that, not the click.
                    event_target::<HtmlInputElement>(&ev).set_checked(value.get_untracked());
                }
            />
            <label for=id>{label}</label>
        </div>
    }
}

/// A choice among fixed options; `options` are (value, label) pairs.
#[component]
pub fn SelectField(
    id: String,
    label: &'static str,
    #[prop(into)] options: Signal<Vec<(String, String)>>,
    #[prop(into)] value: Signal<String>,
    on_set: Callback<String>,
) -> impl IntoView {
    let value = Memo::new(move |_| value.get());
    let options = Memo::new(move |_| options.get());
    view! {
        <div class="field select-field">
            <label for=id.clone()>{label}</label>
            <select
                id=id
                on:change=move |ev| {
                    on_set.run(event_target_value(&ev));
                    event_target::<leptos::web_sys::HtmlSelectElement>(&ev).set_value(&value.get_untracked());
                }
                prop:value=move || value.get()
            >
                {move || {
                    let current = value.get();
                    options
                        .get()
                        .into_iter()
                        .map(|(v, l)| {
                            let selected = v == current;
                            view! { <option value=v selected=selected>{l}</option> }
                        })
                        .collect_view()
                }}
            </select>
        </div>
    }
}

/// A name or address, applied when the admin leaves the field or presses Enter; a refused
/// value is put back.
#[component]
pub fn TextField(
    id: String,
    label: &'static str,
    #[prop(into)] value: Signal<String>,
    on_set: Callback<String>,
    #[prop(optional)] placeholder: &'static str,
) -> impl IntoView {
    let value = Memo::new(move |_| value.get());
    view! {
        <div class="field text-field">
            <label for=id.clone()>{label}</label>
            <input
                type="text"
                id=id
                spellcheck="false"
                autocomplete="off"
                placeholder=placeholder
                prop:value=move || value.get()
                on:change=move |ev| {
                    on_set.run(event_target_value(&ev));
                    event_target::<HtmlInputElement>(&ev).set_value(&value.get_untracked());
                }
            />
        </div>
    }
}

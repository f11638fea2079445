//! The plan in the URL fragment: read on load, on hashchange and on back/forward; written as
//! the plan changes with replaceState, debounced, so dragging adds no history entries.

use std::time::Duration;

use leptos::prelude::*;
use leptos::web_sys;
use mastoplan_core::link::{self, Fragment};
use mastoplan_core::presets;

use crate::findings_view::open_rule;
use crate::state::Planner;

/// How long the plan must stay still before the address bar follows it.
const WRITE_DELAY: Duration = Duration::from_millis(300);

fn current_fragment() -> String {
    web_sys::window().and_then(|w| w.location().hash().ok()).unwrap_or_default()
}

/// Open whatever the fragment asks for. A bad link leaves the current plan and says why.
pub fn open_fragment(planner: Planner, fragment: &str, initial: bool) {
    let fragment = fragment.trim_start_matches('#');
    if fragment.is_empty() {
        return;
    }
    // What this page wrote itself needs no reading back.
    if fragment == link::encode(&planner.plan.get_untracked()) {
        return;
    }
    match link::parse(fragment) {
        Ok(Fragment::Plan(plan)) => {
            if initial {
                planner.plan.set(*plan);
            } else {
                planner.replace(*plan);
            }
        }
        Ok(Fragment::Preset(name)) => {
            if let Some(plan) = presets::get(&name) {
                planner.replace(plan);
            }
        }
        Ok(Fragment::Rule(name)) => {
            // After the page has rendered the reference.
            set_timeout(move || open_rule(&name), Duration::from_millis(0));
        }
        Err(e) => planner.refuse(format!("This link could not be opened, so the plan shown is unchanged: {e}.")),
    }
}

/// Wire the fragment both ways. Call once from the App.
pub fn sync_with_address_bar(planner: Planner) {
    open_fragment(planner, &current_fragment(), true);

    let hash_handle = window_event_listener(leptos::ev::hashchange, move |_| open_fragment(planner, &current_fragment(), false));
    let pop_handle = window_event_listener(leptos::ev::popstate, move |_| open_fragment(planner, &current_fragment(), false));
    on_cleanup(move || {
        hash_handle.remove();
        pop_handle.remove();
    });

    let pending: StoredValue<Option<TimeoutHandle>> = StoredValue::new(None);
    Effect::new(move |_| {
        let fragment = planner.plan.with(link::encode);
        if let Some(h) = pending.get_value() {
            h.clear();
        }
        let handle = set_timeout_with_handle(
            move || {
                if let Some(w) = web_sys::window() {
                    if let Ok(history) = w.history() {
                        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&format!("#{fragment}")));
                    }
                }
            },
            WRITE_DELAY,
        )
        .ok();
        pending.set_value(handle);
    });
}

/// The page's address with the current plan, for the "Copy link" button.
pub fn share_url(planner: Planner) -> String {
    let base = web_sys::window().and_then(|w| w.location().href().ok()).unwrap_or_default();
    planner.plan.with_untracked(|p| link::share_url(&base, p))
}

pub fn copy_to_clipboard(text: &str) -> bool {
    match web_sys::window() {
        Some(w) => {
            let _ = w.navigator().clipboard().write_text(text);
            true
        }
        None => false,
    }
}

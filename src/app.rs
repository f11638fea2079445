//! The page: header with presets, undo and sharing; the cluster editor; and everything the
//! engine says about the plan, recomputed on every input event.

use leptos::prelude::*;
use leptos::web_sys::{HtmlInputElement, KeyboardEvent};
use leptos::wasm_bindgen::JsCast;
use mastoplan_core::{presets, Severity};

use crate::budget_view::BudgetView;
use crate::editor::Editor;
use crate::export_view::ExportView;
use crate::live_view::{DiagnoseView, ImportView};
use crate::findings_view::{FindingsView, RulesReference};
use crate::hosts_view::{HostsView, PostgresSettingsView};
use crate::share::{copy_to_clipboard, share_url, sync_with_address_bar};
use crate::state::Planner;
use crate::topology::Topology;

#[component]
pub fn App() -> impl IntoView {
    let planner = Planner::new(presets::default_plan());
    provide_context(planner);
    sync_with_address_bar(planner);

    // Ctrl+Z / Ctrl+Shift+Z (and Ctrl+Y), except in text fields, which keep their own undo.
    let keys = window_event_listener(leptos::ev::keydown, move |ev: KeyboardEvent| {
        if !(ev.ctrl_key() || ev.meta_key()) {
            return;
        }
        let in_text = ev
            .target()
            .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
            .is_some_and(|i| i.type_() == "text");
        if in_text {
            return;
        }
        match ev.key().to_lowercase().as_str() {
            "z" if ev.shift_key() => planner.redo(),
            "z" => planner.undo(),
            "y" => planner.redo(),
            _ => return,
        }
        ev.prevent_default();
    });
    on_cleanup(move || keys.remove());

    view! {
        <header class="top">
            <div class="brand">
                <h1>"mastoplan"</h1>
                <p class="lede">"Plan a Mastodon cluster: what it opens against Postgres, what each host carries, what to fix."</p>
            </div>
            <Toolbar/>
        </header>
        <SummaryStrip/>
        <Banner/>
        <main class="layout">
            <div class="column edit-column">
                <Editor/>
                <ImportView/>
                <DiagnoseView/>
            </div>
            <div class="column results-column">
                <BudgetView/>
                <FindingsView/>
                <HostsView/>
                <Topology/>
                <PostgresSettingsView/>
                <ExportView/>
                <HowToRead/>
                <RulesReference/>
            </div>
        </main>
    }
}

#[component]
fn Toolbar() -> impl IntoView {
    let planner = expect_context::<Planner>();
    let preset_choices = presets::PRESETS.iter().map(|(name, description, _)| (name.to_string(), description.to_string())).collect::<Vec<_>>();
    let on_preset = move |ev: leptos::ev::Event| {
        let name = event_target_value(&ev);
        if let Some(plan) = presets::get(&name) {
            planner.replace(plan);
        }
    };
    let copy = move |_| {
        let url = share_url(planner);
        if copy_to_clipboard(&url) {
            planner.tell("Link copied: it holds the whole plan, and opening it sends nothing to any server.");
        }
    };
    view! {
        <nav class="toolbar" aria-label="Plan">
            <label for="preset">"Start from"</label>
            <select id="preset" on:change=on_preset prop:value=move || planner.plan.with(|p| p.name.clone())>
                {preset_choices.into_iter().map(|(name, description)| view! {
                    <option value=name.clone() title=description>{name.clone()}</option>
                }).collect_view()}
            </select>
            <button type="button" id="undo" on:click=move |_| planner.undo() disabled=move || !planner.can_undo() title="Ctrl+Z">"Undo"</button>
            <button type="button" id="redo" on:click=move |_| planner.redo() disabled=move || !planner.can_redo() title="Ctrl+Shift+Z">"Redo"</button>
            <button type="button" id="copy-link" on:click=copy>"Copy link"</button>
        </nav>
    }
}

/// The verdict in one line, kept in view while the admin scrolls through the editor.
#[component]
fn SummaryStrip() -> impl IntoView {
    let planner = expect_context::<Planner>();
    let line = Memo::new(move |_| {
        planner.report.with(|r| {
            let c = &r.connections;
            let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
            (
                format!("Postgres {} of {} ({})", c.total, c.available, crate::format::percent(c.utilisation)),
                format!(
                    "{} · {} · {} advice",
                    plural(r.count(Severity::Error), "error"),
                    plural(r.count(Severity::Warning), "warning"),
                    r.count(Severity::Advice)
                ),
                c.headroom < 0 || r.has_errors(),
            )
        })
    });
    view! {
        <div class="summary-strip" class:bad=move || line.with(|l| l.2) role="status" aria-live="polite">
            <a href="#budget-heading">{move || line.with(|l| l.0.clone())}</a>
            <a href="#findings-heading">{move || line.with(|l| l.1.clone())}</a>
        </div>
    }
}

#[component]
fn Banner() -> impl IntoView {
    let planner = expect_context::<Planner>();
    move || {
        planner.notice.get().map(|n| {
            view! {
                <div class="banner" class:error=n.error role=if n.error { "alert" } else { "status" } id="banner">
                    <span>{n.text}</span>
                    <button type="button" aria-label="Dismiss" on:click=move |_| planner.notice.set(None)>"×"</button>
                </div>
            }
        })
    }
}

#[component]
fn HowToRead() -> impl IntoView {
    view! {
        <section class="how-to-read" aria-labelledby="how-heading">
            <h2 id="how-heading">"How to read this"</h2>
            <p>
                "Every thread that can run a query holds one Postgres connection from its process's pool. A unit opens "
                <em>"processes × pool"</em>
                " connections: Puma workers × MAX_THREADS (or DB_POOL), each sidekiq instance's DB_POOL (by default its -c from 4.3, 5 on 4.2), each streaming process's DB_POOL (10). "
                "Units can connect through PgBouncer, whose clients must fit its max_client_conn and whose server pools must fit Postgres's max_connections minus its reserved slots."
            </p>
            <p>
                "The bars show each target with its 90% and 100% lines; findings say what is wrong and cite where the numbers come from. "
                "Sources: "
                <a href="https://hazelweakly.me/blog/scaling-mastodon/" rel="noopener noreferrer" target="_blank">"Scaling Mastodon: The Compendium"</a>
                ", "
                <a href="https://docs.joinmastodon.org/admin/scaling/" rel="noopener noreferrer" target="_blank">"Mastodon's scaling guide"</a>
                ", "
                <a href="https://www.pgbouncer.org/config.html" rel="noopener noreferrer" target="_blank">"PgBouncer's configuration reference"</a>
                ", "
                <a href="https://github.com/le0pard/pgtune" rel="noopener noreferrer" target="_blank">"PGTune"</a>
                "."
            </p>
            <p>"The plan lives in this page's address: copy the link to share it. Nothing is sent to a server."</p>
        </section>
    }
}

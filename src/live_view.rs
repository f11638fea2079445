//! Start from what runs today: paste or upload config files to fill the plan, and paste the
//! output of the compendium's queries to diagnose a live database.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos::web_sys::{self, HtmlInputElement};
use mastoplan_core::diagnose::{diagnose, Diagnosis, QUERIES};
use mastoplan_core::import::{apply, ImportInput, ImportNote};

use crate::share::copy_to_clipboard;
use crate::state::Planner;

/// Uploads over this are refused before they are read.
const MAX_UPLOAD: f64 = 1024.0 * 1024.0;

#[component]
pub fn ImportView() -> impl IntoView {
    let planner = expect_context::<Planner>();
    let text = RwSignal::new(String::new());
    let summary: RwSignal<Option<Vec<ImportNote>>> = RwSignal::new(None);
    let run = move |inputs: Vec<ImportInput>| {
        let outcome = planner.plan.with_untracked(|p| apply(p, &inputs));
        if outcome.nothing_read() {
            planner.refuse("Nothing in that input could be read as a Mastodon, PgBouncer, Postgres, Redis or Helm configuration; the plan is unchanged.");
        } else {
            planner.replace(outcome.plan.clone());
            planner.tell("Imported: see what was taken from which line below. Undo brings the previous plan back.");
        }
        summary.set(Some(outcome.summary));
    };
    let import_text = move |_| run(vec![ImportInput::new("pasted text", text.get_untracked())]);
    let upload = move |ev: leptos::ev::Event| {
        let input: HtmlInputElement = event_target(&ev);
        let Some(files) = input.files() else { return };
        let files: Vec<web_sys::File> = (0..files.length()).filter_map(|i| files.get(i)).collect();
        if files.iter().any(|f| f.size() > MAX_UPLOAD) {
            planner.refuse("A file is larger than 1 MiB: configuration files are much smaller, so it was not read.");
            return;
        }
        spawn_local(async move {
            let mut inputs = Vec::new();
            for f in files {
                let read = wasm_bindgen_futures::JsFuture::from(f.text()).await;
                match read.ok().and_then(|v| v.as_string()) {
                    Some(t) => inputs.push(ImportInput::new(f.name(), t)),
                    None => planner.refuse(format!("{} could not be read as text.", f.name())),
                }
            }
            if !inputs.is_empty() {
                run(inputs);
            }
        });
    };
    view! {
        <section class="import" aria-labelledby="import-heading">
            <details id="import-panel">
                <summary><h2 id="import-heading">"Import what you run"</h2></summary>
                <p class="note">
                    "Paste or upload .env.production, systemd units (or systemctl cat output), pgbouncer.ini, postgresql.conf (or SHOW ALL), redis.conf (or CONFIG GET *), or the Helm chart's values.yaml. "
                    "What they set is filled into the current plan; the rest stays. Nothing leaves your browser."
                </p>
                <label for="import-text">"Configuration text"</label>
                <textarea id="import-text" rows="8" spellcheck="false" prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))></textarea>
                <p class="file-actions">
                    <button type="button" id="import-run" on:click=import_text>"Import the text"</button>
                    <label class="upload">"or upload files " <input type="file" id="import-files" multiple on:change=upload/></label>
                </p>
                {move || summary.get().map(|notes| view! {
                    <ul class="import-summary" id="import-summary">
                        {notes.into_iter().map(|n| view! {
                            <li class=format!("note-{}", n.action.name())>
                                <code>{match n.line { Some(l) => format!("{}:{l}", n.source), None => n.source.clone() }}</code>
                                " " <strong>{n.action.name()}</strong> " " <code>{n.key.clone()}</code> ": " {n.message.clone()}
                            </li>
                        }).collect_view()}
                    </ul>
                })}
            </details>
        </section>
    }
}

#[component]
pub fn DiagnoseView() -> impl IntoView {
    let planner = expect_context::<Planner>();
    let text = RwSignal::new(String::new());
    let behind_bouncer = RwSignal::new(false);
    let result: RwSignal<Option<Diagnosis>> = RwSignal::new(None);
    let run = move |_| result.set(Some(diagnose(&text.get_untracked(), behind_bouncer.get_untracked())));
    view! {
        <section class="diagnose" aria-labelledby="diagnose-heading">
            <details id="diagnose-panel">
                <summary><h2 id="diagnose-heading">"Diagnose a live database"</h2></summary>
                <p class="note">"Run these in psql on the primary (aligned, \\x or --csv output all work) and paste what they print."</p>
                {QUERIES.iter().map(|q| view! {
                    <div class="query">
                        <h3>{q.title}</h3>
                        <p class="note">{q.about}</p>
                        <pre>{q.sql}</pre>
                        <button type="button" class="copy-query" on:click=move |_| {
                            if copy_to_clipboard(q.sql) {
                                planner.tell("Query copied.");
                            }
                        }>"Copy the query"</button>
                    </div>
                }).collect_view()}
                <label for="diagnose-text">"psql output"</label>
                <textarea id="diagnose-text" rows="8" spellcheck="false" prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))></textarea>
                <div class="field check-field">
                    <input type="checkbox" id="diagnose-bouncer" prop:checked=move || behind_bouncer.get() on:change=move |ev| behind_bouncer.set(event_target_checked(&ev))/>
                    <label for="diagnose-bouncer">"The app reaches Postgres through PgBouncer"</label>
                </div>
                <button type="button" id="diagnose-run" on:click=run>"Diagnose"</button>
                {move || result.with(|r| r.as_ref().map(|d| view! {
                    <div id="diagnosis">
                        {(!d.read_anything()).then(|| view! { <p class="banner error">"No query result was found in that text."</p> })}
                        <ul class="diagnosis-findings">
                            {d.findings.iter().map(|f| view! {
                                <li>
                                    <details class=format!("finding {}", f.severity.name()) data-rule=f.name>
                                        <summary><span class="badge">{f.severity.name()}</span> " " {f.message.clone()}</summary>
                                        <div class="explanation">
                                            <h4>"Problem"</h4><p>{f.problem}</p>
                                            <h4>"Fix"</h4><p>{f.fix}</p>
                                            <h4>"Sources"</h4>
                                            <ul class="sources">{f.sources.iter().map(|s| view! {
                                                <li><a href=s.url rel="noopener noreferrer" target="_blank">{s.title}</a></li>
                                            }).collect_view()}</ul>
                                        </div>
                                    </details>
                                </li>
                            }).collect_view()}
                        </ul>
                        {(!d.notes.is_empty()).then(|| view! {
                            <ul class="import-summary">
                                {d.notes.iter().map(|n| view! { <li><code>{format!("line {}", n.line)}</code> " " {n.message.clone()}</li> }).collect_view()}
                            </ul>
                        })}
                    </div>
                }))}
            </details>
        </section>
    }
}

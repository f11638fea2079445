//! Findings grouped by severity, each opening to its explanation and sources, each able to
//! take the admin to the control it concerns; and the rules reference they link to.

use leptos::prelude::*;
use leptos::wasm_bindgen::JsCast;
use leptos::web_sys::{self, HtmlElement};
use mastoplan_core::{rules, Finding, Rule, Severity};

use crate::state::{control_id, Planner};

/// Focus the control that edits `pointer`, or the nearest card that holds it.
pub fn focus_pointer(pointer: &str) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else { return };
    let mut p = pointer.to_string();
    loop {
        if let Some(el) = document.get_element_by_id(&control_id(&p)) {
            let el: HtmlElement = el.unchecked_into();
            el.scroll_into_view();
            let _ = el.focus();
            let _ = el.class_list().add_1("flash");
            return;
        }
        match p.rfind('/') {
            Some(0) | None => return,
            Some(i) => p.truncate(i),
        }
    }
}

/// Open a rule's section in the reference and bring it into view.
pub fn open_rule(name: &str) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else { return };
    if let Some(el) = document.get_element_by_id(&format!("rule-{name}")) {
        let _ = el.set_attribute("open", "");
        el.scroll_into_view();
    }
}

fn severity_heading(s: Severity) -> &'static str {
    match s {
        Severity::Error => "Errors",
        Severity::Warning => "Warnings",
        Severity::Advice => "Advice",
    }
}

#[component]
pub fn FindingsView() -> impl IntoView {
    let planner = expect_context::<Planner>();
    let groups = move || {
        planner.report.with(|r| {
            [Severity::Error, Severity::Warning, Severity::Advice]
                .into_iter()
                .map(|s| (s, r.findings.iter().filter(|f| f.severity == s).cloned().collect::<Vec<_>>()))
                .filter(|(_, fs)| !fs.is_empty())
                .collect::<Vec<_>>()
        })
    };
    view! {
        <section class="findings" aria-labelledby="findings-heading">
            <h2 id="findings-heading">
                "Findings "
                <span class="counts">{move || planner.report.with(|r| format!(
                    "{} errors, {} warnings, {} advice",
                    r.count(Severity::Error), r.count(Severity::Warning), r.count(Severity::Advice)
                ))}</span>
            </h2>
            {move || {
                let groups = groups();
                if groups.is_empty() {
                    view! { <p class="all-clear">"No findings: nothing in this plan contradicts the sources."</p> }.into_any()
                } else {
                    groups.into_iter().map(|(s, fs)| view! {
                        <div class=format!("finding-group {}", s.name())>
                            <h3>{severity_heading(s)}</h3>
                            <ul>{fs.into_iter().map(|f| view! { <li><FindingItem finding=f/></li> }).collect_view()}</ul>
                        </div>
                    }).collect_view().into_any()
                }
            }}
        </section>
    }
}

#[component]
fn FindingItem(finding: Finding) -> impl IntoView {
    let rule = finding.rule();
    let target = finding.at.first().cloned();
    view! {
        <details class=format!("finding {}", finding.severity.name()) data-rule=finding.name>
            <summary>
                <span class="badge">{finding.severity.name()}</span>
                " "
                <span class="message">{finding.message.clone()}</span>
            </summary>
            <Explanation rule/>
            <p class="finding-actions">
                {target.map(|t| view! {
                    <button type="button" class="show-in-plan" on:click=move |_| focus_pointer(&t)>"Show in the plan"</button>
                })}
                <button type="button" class="open-rule" on:click=move |_| open_rule(rule.name)>
                    {format!("{} in the rules reference", rule.id)}
                </button>
            </p>
        </details>
    }
}

#[component]
fn Explanation(rule: &'static Rule) -> impl IntoView {
    view! {
        <div class="explanation">
            <h4>"Problem"</h4>
            <p>{rule.problem}</p>
            <h4>"Fix"</h4>
            <p>{rule.fix}</p>
            <h4>"Sources"</h4>
            <ul class="sources">
                {rule.sources.iter().map(|s| view! {
                    <li><a href=s.url rel="noopener noreferrer" target="_blank">{s.title}</a></li>
                }).collect_view()}
            </ul>
        </div>
    }
}

/// Every rule, for the links from findings and for `#rule=NAME` deep links.
#[component]
pub fn RulesReference() -> impl IntoView {
    view! {
        <section class="rules-reference" aria-labelledby="rules-heading">
            <h2 id="rules-heading">"Rules reference"</h2>
            <p class="note">"What mastoplan checks, why, and where each number comes from. Link to one with #rule=NAME."</p>
            {rules::ALL.iter().map(|r| view! {
                <details class="rule" id=format!("rule-{}", r.name)>
                    <summary><code>{r.id}</code> " " <strong>{r.name}</strong> " · " {r.severity.name()} " · " {r.summary}</summary>
                    <Explanation rule=r/>
                </details>
            }).collect_view()}
        </section>
    }
}

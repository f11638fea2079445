//! The page's state: the plan being edited, its report, undo history and the banner. Edits go
//! through `Planner` so that every change is validated, undoable and recomputed once.

use std::collections::HashMap;

use leptos::prelude::*;
use mastoplan_core::edit::Part;
use mastoplan_core::{evaluate, Plan, Report};

use crate::history::History;

/// A message over the page: a refused link or edit, or a confirmation.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub error: bool,
    pub text: String,
}

/// What is placed on each host, in host order: (part, index in its array, name).
pub type Placement = Vec<Vec<(Part, usize, String)>>;

#[derive(Clone, Copy)]
pub struct Planner {
    pub plan: RwSignal<Plan>,
    pub report: Memo<Report>,
    /// The plan's shape, derived once per change and passed on only when it differs, so that
    /// dragging a number does not rebuild every host's card or every select's options.
    pub host_names: Memo<Vec<String>>,
    pub bouncer_names: Memo<Vec<(String, String)>>,
    pub placement: Memo<Placement>,
    history: RwSignal<History<Plan>>,
    pub notice: RwSignal<Option<Notice>>,
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

impl Planner {
    pub fn new(plan: Plan) -> Planner {
        let plan = RwSignal::new(plan);
        Planner {
            plan,
            report: Memo::new(move |_| plan.with(evaluate)),
            host_names: Memo::new(move |_| plan.with(|p| p.hosts.iter().map(|h| h.name.clone()).collect())),
            bouncer_names: Memo::new(move |_| {
                plan.with(|p| p.pgbouncers.iter().map(|b| (b.name.clone(), b.host.clone())).collect())
            }),
            placement: Memo::new(move |_| plan.with(placement)),
            history: RwSignal::new(History::default()),
            notice: RwSignal::new(None),
        }
    }

    /// Change the plan. Edits of one control (`key`) in quick succession are one undo step;
    /// an edit that would make the plan invalid is refused with a notice.
    pub fn edit(&self, key: &str, change: impl FnOnce(&mut Plan)) {
        let before = self.plan.get_untracked();
        let mut after = before.clone();
        change(&mut after);
        if after == before {
            return;
        }
        if let Err(e) = after.validate() {
            self.refuse(format!("Not applied: {e}"));
            return;
        }
        self.history.update(|h| h.record(before, key, now_ms()));
        self.plan.set(after);
    }

    /// Swap in a whole plan (a preset, a link, an import); undo brings the old one back.
    pub fn replace(&self, plan: Plan) {
        let before = self.plan.get_untracked();
        if before == plan {
            return;
        }
        self.history.update(|h| h.record(before, "replace", f64::NEG_INFINITY));
        self.plan.set(plan);
    }

    pub fn undo(&self) {
        let current = self.plan.get_untracked();
        if let Some(previous) = self.history.try_update(|h| h.undo(current)).flatten() {
            self.plan.set(previous);
        }
    }

    pub fn redo(&self) {
        let current = self.plan.get_untracked();
        if let Some(next) = self.history.try_update(|h| h.redo(current)).flatten() {
            self.plan.set(next);
        }
    }

    pub fn can_undo(&self) -> bool {
        self.history.with(|h| h.can_undo())
    }

    pub fn can_redo(&self) -> bool {
        self.history.with(|h| h.can_redo())
    }

    pub fn refuse(&self, text: impl Into<String>) {
        self.notice.set(Some(Notice { error: true, text: text.into() }));
    }

    pub fn tell(&self, text: impl Into<String>) {
        self.notice.set(Some(Notice { error: false, text: text.into() }));
    }
}

fn placement(plan: &Plan) -> Placement {
    let host_index: HashMap<&str, usize> = plan.hosts.iter().enumerate().map(|(i, h)| (h.name.as_str(), i)).collect();
    let mut out = vec![Vec::new(); plan.hosts.len()];
    for part in Part::ALL {
        for i in 0..plan.count(part) {
            if let Some(&h) = plan.part_host(part, i).and_then(|h| host_index.get(h)) {
                out[h].push((part, i, plan.part_name(part, i).unwrap_or_default().to_string()));
            }
        }
    }
    out
}

/// The id of the control that edits the plan at a JSON pointer: `/sidekiq/0/db_pool` is
/// `f-sidekiq-0-db_pool`. Findings point at these to focus the control.
pub fn control_id(pointer: &str) -> String {
    format!("f{}", pointer.replace('/', "-"))
}

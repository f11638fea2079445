//! The page in a real browser (headless Chromium through wasm-bindgen-test-runner): mount the
//! App, change inputs the way the browser reports them, and read the figures back.

#![cfg(target_arch = "wasm32")]

use leptos::mount::mount_to;
use leptos::task::tick;
use leptos::wasm_bindgen::JsCast;
use leptos::web_sys::{self, Event, EventInit, HtmlElement, HtmlInputElement};
use mastoplan::history::History;
use mastoplan::{bars, topology, App};
use mastoplan_core::{evaluate, presets};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const WEB_THREADS: &str = "f-web-0-max_threads";
const SIDEKIQ_THREADS: &str = "f-sidekiq-0-concurrency";

/// The App mounted in a container of its own, unmounted and removed when dropped.
struct Page {
    root: HtmlElement,
    handle: Option<Box<dyn std::any::Any>>,
}

impl Page {
    async fn open() -> Page {
        let window = web_sys::window().unwrap();
        // Each test starts from the default plan, not from what a previous one left in the URL.
        let _ = window.history().unwrap().replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some("#"));
        let document = window.document().unwrap();
        let root: HtmlElement = document.create_element("div").unwrap().unchecked_into();
        document.body().unwrap().append_child(&root).unwrap();
        let handle = mount_to(root.clone(), App);
        tick().await;
        Page { root, handle: Some(Box::new(handle)) }
    }

    fn element(&self, selector: &str) -> HtmlElement {
        self.root
            .query_selector(selector)
            .unwrap()
            .unwrap_or_else(|| panic!("{selector} is not on the page"))
            .unchecked_into()
    }

    fn by_id(&self, id: &str) -> HtmlElement {
        self.element(&format!("#{id}"))
    }

    fn input(&self, id: &str) -> HtmlInputElement {
        self.by_id(id).unchecked_into()
    }

    fn figure(&self, id: &str) -> u32 {
        let text = self.by_id(id).text_content().unwrap_or_default().trim().to_string();
        text.parse().unwrap_or_else(|_| panic!("#{id} shows {text:?}, not an integer"))
    }

    fn count(&self, selector: &str) -> u32 {
        self.root.query_selector_all(selector).unwrap().length()
    }

    /// Sets the field's value and fires the event the browser fires for it, then lets the
    /// reactive system run.
    async fn enter(&self, id: &str, value: &str, event: &str) {
        let input = self.input(id);
        input.set_value(value);
        let init = EventInit::new();
        init.set_bubbles(true);
        input.dispatch_event(&Event::new_with_event_init_dict(event, &init).unwrap()).unwrap();
        tick().await;
    }

    async fn set_checked(&self, id: &str, checked: bool) {
        let input = self.input(id);
        input.set_checked(checked);
        let init = EventInit::new();
        init.set_bubbles(true);
        input.dispatch_event(&Event::new_with_event_init_dict("change", &init).unwrap()).unwrap();
        tick().await;
    }

    async fn click(&self, selector: &str) {
        self.element(selector).click();
        tick().await;
    }
}

impl Drop for Page {
    fn drop(&mut self) {
        drop(self.handle.take());
        self.root.remove();
    }
}

#[wasm_bindgen_test]
async fn opens_on_the_default_plan_with_45_of_97_connections() {
    let page = Page::open().await;
    assert_eq!(page.figure("connections-total"), 45);
    assert_eq!(page.figure("connections-available"), 97);
    assert_eq!(page.input(WEB_THREADS).value(), "5");
    assert_eq!(page.input(&format!("{WEB_THREADS}-n")).value(), "5");
    assert_eq!(page.input(SIDEKIQ_THREADS).value(), "25");
    assert_eq!(page.input(WEB_THREADS).type_(), "range");
    assert_eq!(page.input(&format!("{WEB_THREADS}-n")).type_(), "number");
}

#[wasm_bindgen_test]
async fn every_slider_has_a_visible_label_and_a_number_input() {
    let page = Page::open().await;
    let sliders = page.root.query_selector_all("input[type=range]").unwrap();
    assert!(sliders.length() > 15, "the whole plan is editable: {} sliders", sliders.length());
    for i in 0..sliders.length() {
        let slider: HtmlInputElement = sliders.get(i).unwrap().unchecked_into();
        let id = slider.id();
        let label = page.element(&format!("label[for='{id}']"));
        assert!(!label.text_content().unwrap().trim().is_empty(), "#{id} has an empty label");
        let number = page.input(&format!("{id}-n"));
        for part in number.get_attribute("aria-labelledby").unwrap().split_whitespace() {
            assert!(!page.by_id(part).text_content().unwrap().trim().is_empty(), "#{part} labels #{id}-n but is empty");
        }
    }
}

#[wasm_bindgen_test]
async fn dragging_web_threads_recomputes_the_total_live() {
    let page = Page::open().await;
    // 2 workers x 8 threads + streaming 10 + sidekiq 25.
    page.enter(WEB_THREADS, "8", "input").await;
    assert_eq!(page.figure("connections-total"), 16 + 10 + 25);
    assert_eq!(page.input(&format!("{WEB_THREADS}-n")).value(), "8");
    page.enter(WEB_THREADS, "1", "input").await;
    assert_eq!(page.figure("connections-total"), 2 + 10 + 25);
}

#[wasm_bindgen_test]
async fn sidekiq_threads_carry_db_pool_with_them() {
    let page = Page::open().await;
    page.enter(&format!("{SIDEKIQ_THREADS}-n"), "40", "input").await;
    assert_eq!(page.figure("connections-total"), 10 + 10 + 40);
    assert_eq!(page.input(SIDEKIQ_THREADS).value(), "40");
    assert_eq!(page.input("f-sidekiq-0-db_pool").value(), "40", "DB_POOL follows -c");
    // Half-typed, empty or out-of-range values leave the plan as it was.
    page.enter(&format!("{SIDEKIQ_THREADS}-n"), "", "input").await;
    page.enter(&format!("{SIDEKIQ_THREADS}-n"), "5000", "input").await;
    assert_eq!(page.figure("connections-total"), 60);
    page.enter(&format!("{SIDEKIQ_THREADS}-n"), "5000", "change").await;
    assert_eq!(page.input(&format!("{SIDEKIQ_THREADS}-n")).value(), "40", "the field shows the plan again");
}

#[wasm_bindgen_test]
async fn over_budget_shows_the_finding_and_undo_removes_it() {
    let page = Page::open().await;
    assert_eq!(page.count("details[data-rule='connections-over-budget']"), 0);
    page.enter(SIDEKIQ_THREADS, "100", "input").await;
    assert_eq!(page.figure("connections-total"), 120);
    assert_eq!(page.count("details[data-rule='connections-over-budget']"), 1);
    assert!(page.element("section.budget").class_list().contains("over"));
    page.click("#undo").await;
    assert_eq!(page.figure("connections-total"), 45);
    assert_eq!(page.count("details[data-rule='connections-over-budget']"), 0);
    page.click("#redo").await;
    assert_eq!(page.figure("connections-total"), 120);
}

#[wasm_bindgen_test]
async fn the_page_agrees_with_the_engine() {
    let page = Page::open().await;
    for (web, sidekiq) in [(3, 7), (12, 60), (32, 1)] {
        page.enter(WEB_THREADS, &web.to_string(), "input").await;
        page.enter(SIDEKIQ_THREADS, &sidekiq.to_string(), "input").await;
        let mut plan = presets::default_plan();
        plan.set_web_threads(0, web);
        plan.set_sidekiq_concurrency(0, sidekiq);
        let report = evaluate(&plan);
        assert_eq!(page.figure("connections-total"), report.connections.total);
        assert_eq!(page.count("details.finding"), report.findings.len() as u32);
    }
}

#[wasm_bindgen_test]
async fn adding_a_host_with_a_bouncer_splits_the_budget() {
    let page = Page::open().await;
    page.click("#add-host").await;
    assert_eq!(page.count("article.host"), 2);
    page.enter("add-to-host-1", "pgbouncers", "change").await;
    assert_eq!(page.count("#bar-pgbouncer-pgbouncer-host"), 1, "the new bouncer has its own bar");
    page.enter("f-sidekiq-0-pgbouncer", "pgbouncer-host", "change").await;
    // Sidekiq's 25 now reach Postgres as the bouncer's 20 server connections.
    assert_eq!(page.figure("connections-total"), 10 + 10 + 20);
}

#[wasm_bindgen_test]
async fn an_edit_that_would_break_the_plan_is_refused_and_undone_on_screen() {
    let page = Page::open().await;
    let queues = ["default", "push", "ingress", "mailers", "pull", "scheduler"];
    for q in queues {
        page.set_checked(&format!("f-sidekiq-0-queues-{q}"), false).await;
    }
    assert!(page.root.query_selector("#banner").unwrap().is_none(), "six queues may go");
    // The last queue cannot: a sidekiq unit serves at least one.
    page.set_checked("f-sidekiq-0-queues-fasp", false).await;
    let banner = page.by_id("banner");
    assert!(banner.text_content().unwrap().contains("at least one queue"), "{:?}", banner.text_content());
    assert!(page.input("f-sidekiq-0-queues-fasp").checked(), "the checkbox shows the plan again");
}

#[wasm_bindgen_test]
fn history_makes_one_step_of_one_drag() {
    let mut h = History::default();
    h.record(1, "a", 0.0);
    h.record(2, "a", 300.0);
    h.record(3, "a", 600.0);
    assert_eq!(h.undo(4), Some(1), "a drag is one step");
    assert_eq!(h.redo(1), Some(4));
    h.record(4, "b", 700.0);
    h.record(5, "a", 800.0);
    assert_eq!(h.undo(6), Some(5), "another control is another step");
    assert_eq!(h.undo(5), Some(4));
}

#[wasm_bindgen_test]
fn the_worked_example_is_one_bar_of_185_against_200() {
    let report = evaluate(&presets::get("compendium-example").unwrap());
    let bars = bars::bars(&report);
    assert_eq!(bars.len(), 1);
    assert_eq!((bars[0].total, bars[0].limit), (185, 200));
    assert_eq!(bars[0].segments.iter().map(|s| s.value).sum::<u32>(), 185);
}

#[wasm_bindgen_test]
fn the_topology_draws_every_host_and_the_bouncer_to_postgres_arrows() {
    let plan = presets::get("large-split").unwrap();
    let report = evaluate(&plan);
    let d = topology::diagram(&plan, &report);
    assert_eq!(d.hosts.len(), plan.hosts.len());
    let server_arrows: Vec<_> = d.arrows.iter().filter(|a| a.class == "server").collect();
    assert_eq!(server_arrows.len(), 4);
    assert!(server_arrows.iter().all(|a| a.label == "25"));
}

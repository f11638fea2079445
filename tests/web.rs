//! The page in a real browser (headless Chromium through wasm-bindgen-test-runner): mount the
//! App, change an input the way the browser reports it, and read the figures back.

#![cfg(target_arch = "wasm32")]

use leptos::mount::mount_to;
use leptos::task::tick;
use leptos::wasm_bindgen::JsCast;
use leptos::web_sys::{self, Event, EventInit, HtmlElement, HtmlInputElement};
use mastoplan::{knobs, App};
use mastoplan_core::{evaluate, presets};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// The App mounted in a container of its own, unmounted and removed when dropped.
struct Page {
    root: HtmlElement,
    handle: Option<Box<dyn std::any::Any>>,
}

impl Page {
    async fn open() -> Page {
        let document = web_sys::window().unwrap().document().unwrap();
        let root: HtmlElement = document.create_element("div").unwrap().unchecked_into();
        document.body().unwrap().append_child(&root).unwrap();
        let handle = mount_to(root.clone(), App);
        tick().await;
        Page { root, handle: Some(Box::new(handle)) }
    }

    fn element(&self, id: &str) -> HtmlElement {
        self.root
            .query_selector(&format!("#{id}"))
            .unwrap()
            .unwrap_or_else(|| panic!("#{id} is not on the page"))
            .unchecked_into()
    }

    fn input(&self, id: &str) -> HtmlInputElement {
        self.element(id).unchecked_into()
    }

    fn text(&self, id: &str) -> String {
        self.element(id).text_content().unwrap_or_default().trim().to_string()
    }

    fn figure(&self, id: &str) -> u32 {
        let text = self.text(id);
        text.parse().unwrap_or_else(|_| panic!("#{id} shows {text:?}, not an integer"))
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
    assert_eq!(page.input("web-threads").value(), "5");
    assert_eq!(page.input("web-threads-number").value(), "5");
    assert_eq!(page.input("sidekiq-threads").value(), "25");
    assert_eq!(page.input("sidekiq-threads-number").value(), "25");
    assert_eq!(page.input("web-threads").type_(), "range");
    assert_eq!(page.input("web-threads-number").type_(), "number");
}

#[wasm_bindgen_test]
async fn sliders_have_visible_labels_and_units() {
    let page = Page::open().await;
    for knob in knobs::ALL {
        let label = page
            .root
            .query_selector(&format!("label[for='{}']", knob.id))
            .unwrap()
            .unwrap_or_else(|| panic!("no label for #{}", knob.id));
        assert_eq!(label.text_content().unwrap(), knob.label);
        let labelled_by = page.input(knob.number_id).get_attribute("aria-labelledby").unwrap();
        for id in labelled_by.split_whitespace() {
            assert!(!page.text(id).is_empty(), "#{id} labels #{} but is empty", knob.number_id);
        }
        assert_eq!(page.text(&format!("{}-unit", knob.id)), knob.unit);
    }
}

#[wasm_bindgen_test]
async fn dragging_web_threads_recomputes_the_total_live() {
    let page = Page::open().await;
    // 2 workers x 8 threads + streaming 10 + sidekiq 25.
    page.enter("web-threads", "8", "input").await;
    assert_eq!(page.figure("connections-total"), 16 + 10 + 25);
    assert_eq!(page.input("web-threads-number").value(), "8");
    page.enter("web-threads", "1", "input").await;
    assert_eq!(page.figure("connections-total"), 2 + 10 + 25);
    assert_eq!(page.figure("connections-available"), 97);
}

#[wasm_bindgen_test]
async fn typing_sidekiq_threads_moves_the_slider_and_the_pool() {
    let page = Page::open().await;
    page.enter("sidekiq-threads-number", "40", "input").await;
    assert_eq!(page.figure("connections-total"), 10 + 10 + 40);
    assert_eq!(page.input("sidekiq-threads").value(), "40");
    // Half-typed or empty values leave the plan as it was.
    page.enter("sidekiq-threads-number", "", "input").await;
    assert_eq!(page.figure("connections-total"), 60);
}

#[wasm_bindgen_test]
async fn an_out_of_range_number_is_clamped_when_typing_ends() {
    let page = Page::open().await;
    page.enter("sidekiq-threads-number", "500", "input").await;
    assert_eq!(page.figure("connections-total"), 45, "500 is out of range while typing");
    page.enter("sidekiq-threads-number", "500", "change").await;
    assert_eq!(page.input("sidekiq-threads-number").value(), "100");
    assert_eq!(page.input("sidekiq-threads").value(), "100");
    assert_eq!(page.figure("connections-total"), 10 + 10 + 100);
    let budget = page.root.query_selector("section.budget").unwrap().unwrap();
    assert!(budget.class_list().contains("over"), "120 of 97 is over budget");
}

#[wasm_bindgen_test]
async fn the_page_agrees_with_the_engine() {
    let page = Page::open().await;
    for (web, sidekiq) in [(3, 7), (12, 60), (32, 1)] {
        page.enter("web-threads", &web.to_string(), "input").await;
        page.enter("sidekiq-threads", &sidekiq.to_string(), "input").await;
        let mut plan = presets::default_plan();
        knobs::WEB_THREADS.set(&mut plan, web);
        knobs::SIDEKIQ_THREADS.set(&mut plan, sidekiq);
        let report = evaluate(&plan);
        assert_eq!(page.figure("connections-total"), report.connections.total);
        assert_eq!(plan.sidekiq[0].db_pool, Some(sidekiq), "DB_POOL follows sidekiq threads");
    }
}

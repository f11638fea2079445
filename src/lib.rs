//! The planner page: thin Leptos components over what `mastoplan-core` computes.

mod app;
pub mod bars;
mod budget_view;
mod editor;
mod export_view;
mod fields;
mod findings_view;
pub mod format;
pub mod history;
mod hosts_view;
mod live_view;
mod share;
pub mod state;
pub mod topology;

pub use app::App;

/// Mount the planner on the page's body.
pub fn mount() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}

//! The planner page: thin Leptos components over what `mastoplan-core` computes.

mod app;
pub mod knobs;

pub use app::App;

/// Mount the planner on the page's body.
pub fn mount() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}

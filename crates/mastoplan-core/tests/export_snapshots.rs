//! One snapshot per preset holding every exported file, so a change to any exporter shows as
//! one reviewable diff per preset. Accept changes with `INSTA_UPDATE=always cargo test` or
//! `cargo insta review`; with CI=true insta fails on a changed snapshot instead of writing it.

use mastoplan_core::export::export;
use mastoplan_core::presets;

#[test]
fn every_preset_exports_as_snapshotted() {
    for name in presets::names() {
        let plan = presets::get(name).unwrap();
        let out = export(&plan).unwrap_or_else(|e| panic!("{name}: {e}"));
        insta::assert_snapshot!(format!("export-{name}"), out.concatenated());
    }
}

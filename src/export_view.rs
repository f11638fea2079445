//! The generated files: per host, to read, copy or download, or all at once as a zip. The
//! export is computed only while the panel is open, so dragging elsewhere does not pay for it.

use std::io::{Cursor, Write};

use leptos::prelude::*;
use leptos::wasm_bindgen::{JsCast, JsValue};
use leptos::web_sys::{self, Blob, BlobPropertyBag, HtmlAnchorElement, Url};
use mastoplan_core::export::{export, Export};

use crate::share::copy_to_clipboard;
use crate::state::Planner;

/// A zip of every file under `mastoplan-PLAN/HOST/PATH`.
pub fn zip_archive(plan_name: &str, files: &Export) -> Result<Vec<u8>, String> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .unix_permissions(0o644);
    for f in &files.files {
        zip.start_file(format!("mastoplan-{plan_name}/{}", f.relative_path()), options).map_err(|e| e.to_string())?;
        zip.write_all(f.content.as_bytes()).map_err(|e| e.to_string())?;
    }
    zip.finish().map(|c| c.into_inner()).map_err(|e| e.to_string())
}

/// Offer bytes as a download with the given file name.
fn download(name: &str, bytes: &[u8], mime: &str) -> Result<(), JsValue> {
    let array = js_sys::Uint8Array::from(bytes);
    let parts = js_sys::Array::of1(&array);
    let props = BlobPropertyBag::new();
    props.set_type(mime);
    let blob = Blob::new_with_u8_array_sequence_and_options(&parts, &props)?;
    let url = Url::create_object_url_with_blob(&blob)?;
    let document = web_sys::window().and_then(|w| w.document()).ok_or("no document")?;
    let a: HtmlAnchorElement = document.create_element("a")?.unchecked_into();
    a.set_href(&url);
    a.set_download(name);
    a.click();
    Url::revoke_object_url(&url)
}

#[component]
pub fn ExportView() -> impl IntoView {
    let planner = expect_context::<Planner>();
    let open = RwSignal::new(false);
    let files = Memo::new(move |_| open.get().then(|| planner.plan.with(|p| export(p).map_err(|e| e.to_string()))));
    let download_all = move |_| {
        let name = planner.plan.with_untracked(|p| p.name.clone());
        let result = files.with_untracked(|f| match f {
            Some(Ok(files)) => zip_archive(&name, files),
            _ => Err("the plan cannot be exported yet".into()),
        });
        match result {
            Ok(bytes) => {
                let _ = download(&format!("mastoplan-{name}.zip"), &bytes, "application/zip");
            }
            Err(e) => planner.refuse(format!("No archive: {e}")),
        }
    };
    view! {
        <section class="export" aria-labelledby="export-heading">
            <details id="export-panel" on:toggle=move |ev| open.set(event_target::<web_sys::HtmlDetailsElement>(&ev).open())>
                <summary><h2 id="export-heading">"Config files"</h2></summary>
                <p class="note">
                    "Env files, systemd units, pgbouncer.ini, the postgresql.conf include, redis.conf, nginx upstreams, a Helm values fragment and a rollout note, for each host. "
                    "The CLI writes the same files: " <code>"mastoplan export PLAN.json --out DIR"</code> "."
                </p>
                <button type="button" id="download-all" on:click=download_all>"Download all (.zip)"</button>
                {move || files.with(|f| match f {
                    None => ().into_any(),
                    Some(Err(e)) => view! { <p class="banner error">{format!("These files cannot be written yet: {e}")}</p> }.into_any(),
                    Some(Ok(export)) => export.files.iter().map(|f| {
                        let path = f.relative_path();
                        let content = f.content.clone();
                        let download_name = path.replace('/', "_");
                        let for_copy = content.clone();
                        let for_download = content.clone();
                        view! {
                            <details class="export-file" data-path=path.clone()>
                                <summary><code>{path.clone()}</code></summary>
                                <p class="file-actions">
                                    <button type="button" class="copy-file" on:click=move |_| {
                                        if copy_to_clipboard(&for_copy) {
                                            planner.tell("Copied to the clipboard.");
                                        }
                                    }>"Copy"</button>
                                    <button type="button" class="download-file" on:click=move |_| {
                                        let _ = download(&download_name, for_download.as_bytes(), "text/plain");
                                    }>"Download"</button>
                                </p>
                                <pre>{content}</pre>
                            </details>
                        }
                    }).collect_view().into_any(),
                })}
            </details>
        </section>
    }
}

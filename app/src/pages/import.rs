//! The CSV import panel: choose a file (or paste its text), preview it with every
//! problem by line and column, then import it. Nothing is written while the file
//! has problems; the lists update from the import's one `sync:completed` event.
//!
//! Its code is loaded when the panel is first opened ([`ImportLoader`]): it is a
//! split module of the WASM (`wasm_split`, built by `cargo leptos build --split`; 20 KB
//! with brotli, and the module the dashboard loads first is 8 KB smaller).

use leptos::prelude::*;

#[cfg(feature = "hydrate")]
use crate::{
    error::AppError,
    import::{import_csv, ImportReport},
    model::ids::WorkspaceId,
};
#[cfg(feature = "hydrate")]
use leptos::either::Either;

/// The import panel as the dashboard renders it (on the server, among the panels): a
/// closed `<details>`; opening it the first time loads the panel's code and mounts the
/// panel inside (`wire`).
#[component]
pub fn ImportLoader() -> impl IntoView {
    view! {
        <section class="panel import" aria-labelledby="import-heading">
            <details>
                <summary><h2 id="import-heading">"Import from CSV"</h2></summary>
                <p class="form-error" role="alert" hidden>
                    "The import could not be loaded. Close and open this panel to try again."
                </p>
                <div></div>
            </details>
        </section>
    }
}

/// Makes the import panel in the element `root` names load when first opened. A failed
/// fetch of its code is said in the panel, and the next opening fetches afresh (the split
/// function is `fallible`: see `lazy`). The panel is kept by the morph of `live_part`,
/// so this is wired once.
#[cfg(feature = "hydrate")]
pub fn wire(root: &'static str, ws: WorkspaceId) {
    use wasm_bindgen::{closure::Closure, JsCast};
    Effect::new(move |_| {
        let details = document()
            .get_element_by_id(root)
            .and_then(|r| r.query_selector("section.import details").ok().flatten());
        let Some(details) = details else { return };
        let on_toggle = Closure::<dyn Fn()>::new({
            let details = details.clone();
            move || {
                let (Ok(Some(failed)), Some(body)) = (
                    details.query_selector("p.form-error"),
                    details.last_element_child(),
                ) else {
                    return;
                };
                if !details.has_attribute("open") || details.has_attribute("data-started") {
                    return;
                }
                let _ = details.set_attribute("data-started", "");
                let _ = failed.set_attribute("hidden", "");
                let details = details.clone();
                let Ok(body) = body.dyn_into::<web_sys::HtmlElement>() else {
                    return;
                };
                leptos::task::spawn_local(async move {
                    if mount_import_panel(body, ws).await.is_err() {
                        let _ = details.remove_attribute("data-started");
                        let _ = failed.remove_attribute("hidden");
                    }
                });
            }
        });
        let _ =
            details.add_event_listener_with_callback("toggle", on_toggle.as_ref().unchecked_ref());
        // Lives as long as the page.
        on_toggle.forget();
    });
}

/// Mounts the panel into `body`, from the module split off for it (`fallible`: see
/// `lazy`).
#[cfg(feature = "hydrate")]
#[leptos::wasm_split::wasm_split(import_panel, wasm_split_path = ::leptos::wasm_split, fallible)]
fn mount_import_panel(
    body: web_sys::HtmlElement,
    ws: WorkspaceId,
) -> Result<(), leptos::wasm_split::SplitLoaderError> {
    // Lives as long as the page.
    leptos::mount::mount_to(body, move || view! { <ImportPanel ws/> }).forget();
    Ok(())
}

/// Built in the browser only, when the panel is first opened.
#[cfg(feature = "hydrate")]
#[component]
fn ImportPanel(ws: WorkspaceId) -> impl IntoView {
    // The server function is called directly: a `ServerAction` cost the WASM about
    // 18 KB (6 KB with brotli) of code, of which the panel used a pending flag and the
    // last answer.
    let result = RwSignal::new(None::<Result<ImportReport, AppError>>);
    let pending = RwSignal::new(false);
    let kind = RwSignal::new("expenses".to_owned());
    let text = RwSignal::new(String::new());
    let file_error = RwSignal::new(None::<String>);
    let dispatch = move |commit: bool| {
        if pending.get_untracked() {
            return;
        }
        pending.set(true);
        let (kind, csv) = (kind.get_untracked(), text.get_untracked());
        leptos::task::spawn_local(async move {
            let answer = import_csv(ws, kind, csv, commit).await;
            result.set(Some(answer));
            pending.set(false);
        });
    };
    let on_file = move |ev: leptos::ev::Event| {
        use wasm_bindgen::JsCast;
        let file = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            .and_then(|input| input.files())
            .and_then(|files| files.get(0));
        let Some(file) = file else { return };
        if file.size() > crate::import::MAX_BYTES as f64 {
            file_error.set(Some(format!(
                "The file is larger than {} KiB.",
                crate::import::MAX_BYTES / 1024
            )));
            return;
        }
        file_error.set(None);
        leptos::task::spawn_local(async move {
            match wasm_bindgen_futures::JsFuture::from(file.text()).await {
                Ok(v) => text.set(v.as_string().unwrap_or_default()),
                Err(_) => file_error.set(Some("The file could not be read.".into())),
            }
        });
    };
    view! {
        <div>
            <p class="muted">
                "Expenses: date, amount, currency, category, description. "
                "Earnings: date, platform, amount, currency, hours, notes. The first line names the columns."
            </p>
            <div class="grid">
                <div class="field">
                    <label for="import-kind">"Import"</label>
                    <select id="import-kind" on:change=move |ev| kind.set(event_target_value(&ev))>
                        <option value="expenses" selected>"Expenses"</option>
                        <option value="earnings">"Earnings"</option>
                    </select>
                </div>
                <div class="field">
                    <label for="import-file">"CSV file"</label>
                    <input id="import-file" type="file" accept=".csv,text/csv" on:change=on_file/>
                </div>
            </div>
            <p class="form-error" role="alert">{move || file_error.get()}</p>
            <div class="field">
                <label for="import-text">"Or paste the file"</label>
                <textarea id="import-text" rows="5" data-testid="import-text"
                    prop:value=move || text.get()
                    on:input=move |ev| text.set(event_target_value(&ev))></textarea>
            </div>
            <div class="form-actions">
                <button type="button" on:click=move |_| dispatch(false) disabled=move || pending.get()>"Preview"</button>
                <button type="button" class="primary" on:click=move |_| dispatch(true) disabled=move || pending.get()>"Import"</button>
            </div>
            {move || result.get().map(|result| match result {
                Ok(report) => Either::Left(view! { <ImportResult report/> }),
                Err(e) => Either::Right(view! { <p class="form-error" role="alert" data-testid="import-error">{e.to_string()}</p> }),
            })}
        </div>
    }
}

#[cfg(feature = "hydrate")]
#[component]
fn ImportResult(report: ImportReport) -> impl IntoView {
    let summary = if report.committed {
        format!("Imported {} {}.", report.created, report.kind.as_str())
    } else if report.problem_count > 0 {
        format!(
            "{} rows, {} with problems: nothing was imported. Fix them and try again.",
            report.rows, report.problem_count
        )
    } else {
        format!("{} rows, no problems. Ready to import.", report.rows)
    };
    let columns = report.columns.clone();
    view! {
        <p class="import-summary" role="status" data-testid="import-result"
            data-committed=report.committed.to_string()>{summary}</p>
        {(!report.problems.is_empty()).then(|| view! {
            <ul class="import-problems" data-testid="import-problems">
                {report.problems.iter().map(|p| view! {
                    <li>
                        {format!("Line {}", p.line)}
                        {p.column.as_ref().map(|c| format!(", {c}"))}
                        ": " {p.message.clone()}
                    </li>
                }).collect_view()}
            </ul>
        })}
        {(!report.committed && !report.preview.is_empty()).then(|| view! {
            <div class="table-wrap">
                <table class="preview" data-testid="import-preview">
                    <thead><tr>{columns.iter().map(|c| view! { <th>{c.clone()}</th> }).collect_view()}</tr></thead>
                    <tbody>
                        {report.preview.iter().map(|row| view! {
                            <tr>{row.iter().map(|cell| view! { <td>{cell.clone()}</td> }).collect_view()}</tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        })}
    }
}

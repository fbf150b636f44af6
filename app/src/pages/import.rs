//! The CSV import panel: choose a file (or paste its text), preview it with every
//! problem by line and column, then import it. Nothing is written while the file
//! has problems; the lists update from the import's one `sync:completed` event.
//!
//! Its code is loaded when the panel is first opened ([`ImportLoader`]): it is a
//! split module of the WASM (`wasm_split`, built by `cargo leptos build --split`; 20 KB
//! with brotli, and the module the dashboard loads first is 8 KB smaller).

use crate::model::ids::WorkspaceId;
use leptos::prelude::*;

use super::lazy::SplitPart;

#[cfg(feature = "hydrate")]
use crate::{
    error::AppError,
    import::{import_csv, ImportReport},
};
#[cfg(feature = "hydrate")]
use leptos::either::Either;

/// The import panel as the dashboard renders it: a closed `<details>`; opening it the
/// first time loads the panel's code and mounts the panel inside.
#[component]
pub fn ImportLoader(ws: WorkspaceId) -> impl IntoView {
    let body = NodeRef::<leptos::html::Div>::new();
    let part = SplitPart::new();
    let on_toggle = move |ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        if let (true, Some(body)) = (
            event_target::<web_sys::Element>(&ev).has_attribute("open"),
            body.get_untracked(),
        ) {
            part.load(move || mount_import_panel(body.into(), ws));
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (ev, part, body, ws);
    };
    view! {
        <section class="panel import" aria-labelledby="import-heading">
            <details on:toggle=on_toggle>
                <summary><h2 id="import-heading">"Import from CSV"</h2></summary>
                <p class="form-error" role="alert" hidden=move || !part.failed()>
                    "The import could not be loaded. Close and open this panel to try again."
                </p>
                <div node_ref=body></div>
            </details>
        </section>
    }
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

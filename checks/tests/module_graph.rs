//! No module of `app`, `server` or `frontend` refers to a module that refers back to it,
//! directly or through others (issue 11). `cargo test -p checks -- --nocapture` prints
//! each crate's layers, bottom first.

use std::path::Path;

fn check(krate: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(krate)
        .join("src/lib.rs");
    let graph = checks::module_graph(&root);
    let loops = checks::cycles(&graph);
    let mut report = String::new();
    for group in &loops {
        report.push_str(&format!(
            "\n  {} modules: {}",
            group.len(),
            group.join(", ")
        ));
        for m in group {
            let inside: Vec<&String> = graph.edges[m]
                .iter()
                .filter(|t| group.contains(t))
                .collect();
            report.push_str(&format!("\n    {m} -> {inside:?}"));
        }
    }
    assert!(loops.is_empty(), "{krate}: modules in loops:{report}");
    let layers = checks::layers(&graph).expect("no loops, so layers exist");
    println!(
        "{krate}: {} modules in {} layers, bottom first",
        graph.modules.len(),
        layers.len()
    );
    for (i, layer) in layers.iter().enumerate() {
        println!("  {i}: {}", layer.join(", "));
    }
}

#[test]
fn app_has_no_module_loops() {
    check("app");
}

#[test]
fn server_has_no_module_loops() {
    check("server");
}

#[test]
fn frontend_has_no_module_loops() {
    check("frontend");
}

/// The bottom layer of `app` (issue 11): the entities and their rules (`model`), money,
/// dates, the error type, its wire encoding and the browser's JSON reader refer to
/// nothing but each other.
#[test]
fn the_model_layer_imports_nothing_above_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../app/src/lib.rs");
    let graph = checks::module_graph(&root);
    let bottom = |m: &str| {
        m == "model"
            || m.starts_with("model::")
            || m.starts_with("wire::")
            || ["money", "dates", "error", "wire", "json", "sorted"].contains(&m)
    };
    let mut upward = Vec::new();
    for (from, targets) in &graph.edges {
        if bottom(from) {
            upward.extend(
                targets
                    .iter()
                    .filter(|t| !bottom(t))
                    .map(|t| format!("{from} -> {t}")),
            );
        }
    }
    assert!(
        graph.modules.contains("model::expense"),
        "the model layer exists"
    );
    assert!(
        upward.is_empty(),
        "the bottom layer refers upward: {upward:?}"
    );
}

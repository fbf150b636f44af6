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
        graph.files.len(),
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

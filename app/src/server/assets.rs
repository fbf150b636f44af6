//! The names of the compiled client's files. With `hash-files` (Cargo.toml), cargo-leptos
//! names them `liveledger.<content hash>.js/.wasm/.css` and lists the hashes in
//! `hash.txt` beside the server binary; such names never change content, so they are
//! served as immutable (`server/src/assets.rs`) and a returning browser fetches nothing.

use std::{path::PathBuf, sync::OnceLock};

use leptos::config::LeptosOptions;

/// `hash.txt` beside the running binary, if the site was built with hashed names.
pub fn hash_file() -> Option<PathBuf> {
    let path = std::env::current_exe().ok()?.parent()?.join("hash.txt");
    path.exists().then_some(path)
}

/// The hash cargo-leptos gave to the file of `kind` (`js`, `wasm`, `css`).
fn hash_of(kind: &str) -> Option<String> {
    let text = std::fs::read_to_string(hash_file()?).ok()?;
    text.lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(k, _)| k.trim() == kind)
        .map(|(_, hash)| hash.trim().to_owned())
}

/// The stylesheet's URL: `/pkg/<name>.<hash>.css` when names are hashed.
pub fn stylesheet_href(options: &LeptosOptions) -> &'static str {
    static HREF: OnceLock<String> = OnceLock::new();
    HREF.get_or_init(|| {
        let name = &options.output_name;
        let pkg = &options.site_pkg_dir;
        match options.hash_files.then(|| hash_of("css")).flatten() {
            Some(hash) => format!("/{pkg}/{name}.{hash}.css"),
            None => format!("/{pkg}/{name}.css"),
        }
    })
}

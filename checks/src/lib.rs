//! Checks on LiveLedger's source tree itself.
//!
//! [`module_graph`] reads a crate's modules from its source with `syn` and lists which
//! module refers to which: every `use` (re-exports too) and every path written out in code,
//! types, attributes' arguments and macro bodies (`view!`, `json!`, …) that starts with
//! `crate::`, `super::`, `self::` or the name of a child module. A module is a file;
//! an inline module (`mod ssr { … }`, `mod tests { … }`) belongs to its file. All `cfg`
//! branches count, so a loop that exists only with `ssr` or only in tests is still a loop.
//! [`cycles`] then finds the strongly connected components: a module graph without loops
//! has none with more than one module.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use proc_macro2::{TokenStream, TokenTree};
use syn::visit::Visit;

/// A module's path inside its crate, e.g. `live::catalog`; the crate root is `crate`.
pub type ModulePath = String;

/// Which module refers to which, per file module.
#[derive(Debug, Default)]
pub struct Graph {
    /// Every file module.
    pub modules: BTreeSet<ModulePath>,
    /// `from -> {to}`: `from` names something in `to`. No self-edges.
    pub edges: BTreeMap<ModulePath, BTreeSet<ModulePath>>,
}

/// Reads the module tree rooted at `root_file` (a crate's `lib.rs`).
pub fn module_graph(root_file: &Path) -> Graph {
    let mut tree = Tree::default();
    tree.load(Vec::new(), root_file.to_path_buf(), true);
    let mut graph = Graph::default();
    for (segments, ast) in &tree.asts {
        graph.modules.insert(display(segments));
        let mut walker = Walker {
            tree: &tree,
            here: segments.clone(),
            refs: BTreeSet::new(),
        };
        walker.visit_file(ast);
        let from = display(segments);
        let to: BTreeSet<_> = walker
            .refs
            .into_iter()
            .map(|target| display(&tree.file_of(&target)))
            .filter(|target| *target != from)
            .collect();
        graph.edges.insert(from, to);
    }
    graph
}

/// The groups of modules that reach each other (strongly connected components with more
/// than one module), each sorted, the largest first.
pub fn cycles(graph: &Graph) -> Vec<Vec<ModulePath>> {
    let nodes: Vec<&ModulePath> = graph.modules.iter().collect();
    let index: BTreeMap<&ModulePath, usize> =
        nodes.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let adjacency: Vec<Vec<usize>> = nodes
        .iter()
        .map(|n| {
            graph
                .edges
                .get(*n)
                .into_iter()
                .flatten()
                .filter_map(|t| index.get(t).copied())
                .collect()
        })
        .collect();
    let mut components: Vec<Vec<ModulePath>> = tarjan(&adjacency)
        .into_iter()
        .filter(|c| c.len() > 1)
        .map(|c| {
            let mut names: Vec<ModulePath> = c.into_iter().map(|i| nodes[i].clone()).collect();
            names.sort();
            names
        })
        .collect();
    components.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
    components
}

/// The modules in layers: layer 0 refers to no other module of the crate, layer n only to
/// modules of lower layers. `None` if the graph has a cycle.
pub fn layers(graph: &Graph) -> Option<Vec<Vec<ModulePath>>> {
    let mut level: BTreeMap<&ModulePath, usize> = BTreeMap::new();
    let mut remaining: Vec<&ModulePath> = graph.modules.iter().collect();
    while !remaining.is_empty() {
        let before = remaining.len();
        remaining.retain(|m| {
            let deps = graph.edges.get(*m).into_iter().flatten();
            let mut top = 0;
            for d in deps {
                match level.get(d) {
                    Some(l) => top = top.max(l + 1),
                    None => return true,
                }
            }
            level.insert(m, top);
            false
        });
        if remaining.len() == before {
            return None;
        }
    }
    let mut out: Vec<Vec<ModulePath>> = Vec::new();
    for (m, l) in level {
        if out.len() <= l {
            out.resize_with(l + 1, Vec::new);
        }
        out[l].push(m.clone());
    }
    Some(out)
}

fn display(segments: &[String]) -> ModulePath {
    if segments.is_empty() {
        "crate".to_owned()
    } else {
        segments.join("::")
    }
}

/// Every module of the crate (file and inline), and the parsed files.
#[derive(Default)]
struct Tree {
    /// Each file module's parsed source.
    asts: BTreeMap<Vec<String>, syn::File>,
    /// Every module path, file or inline, mapped to the file module that holds it.
    modules: BTreeMap<Vec<String>, Vec<String>>,
}

impl Tree {
    fn load(&mut self, segments: Vec<String>, file: PathBuf, owns_dir: bool) {
        let text = std::fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("read {}: {e}", file.display()));
        let ast =
            syn::parse_file(&text).unwrap_or_else(|e| panic!("parse {}: {e}", file.display()));
        // Files of child modules live beside `lib.rs`/`mod.rs`, or in a folder named
        // after `foo.rs`.
        let dir = if owns_dir {
            file.parent().unwrap().to_path_buf()
        } else {
            file.with_extension("")
        };
        self.modules.insert(segments.clone(), segments.clone());
        self.items(&segments, &segments, &dir, &ast.items);
        self.asts.insert(segments, ast);
    }

    fn items(&mut self, file_module: &[String], here: &[String], dir: &Path, items: &[syn::Item]) {
        for item in items {
            let syn::Item::Mod(m) = item else { continue };
            let mut child = here.to_vec();
            child.push(m.ident.to_string());
            match &m.content {
                Some((_, inner)) => {
                    self.modules.insert(child.clone(), file_module.to_vec());
                    self.items(file_module, &child, &dir.join(m.ident.to_string()), inner);
                }
                None => {
                    let name = m.ident.to_string();
                    let flat = dir.join(format!("{name}.rs"));
                    if flat.exists() {
                        self.load(child, flat, false);
                    } else {
                        self.load(child, dir.join(name).join("mod.rs"), true);
                    }
                }
            }
        }
    }

    /// The file module that holds the item named by an absolute path.
    fn file_of(&self, path: &[String]) -> Vec<String> {
        (0..=path.len())
            .rev()
            .find_map(|n| self.modules.get(&path[..n]))
            .cloned()
            .unwrap_or_default()
    }

    /// Resolves a path written in module `here` to an absolute path inside the crate, or
    /// `None` when it names something outside (another crate, a local item, a prelude).
    fn resolve(&self, here: &[String], path: &[String]) -> Option<Vec<String>> {
        let first = path.first()?;
        match first.as_str() {
            "crate" => Some(path[1..].to_vec()),
            "self" => Some([here, &path[1..]].concat()),
            "super" => {
                let mut at = here.to_vec();
                let mut rest = path;
                while rest.first().map(String::as_str) == Some("super") {
                    at.pop()?;
                    rest = &rest[1..];
                }
                Some([&at[..], rest].concat())
            }
            name => {
                let mut child = here.to_vec();
                child.push(name.to_owned());
                self.modules
                    .contains_key(&child)
                    .then(|| [here, path].concat())
            }
        }
    }
}

/// Walks one file, collecting the absolute paths it names.
struct Walker<'t> {
    tree: &'t Tree,
    here: Vec<String>,
    refs: BTreeSet<Vec<String>>,
}

impl Walker<'_> {
    fn note(&mut self, path: &[String]) {
        if let Some(abs) = self.tree.resolve(&self.here, path) {
            self.refs.insert(abs);
        }
    }

    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(prefix, &p.tree);
                prefix.pop();
            }
            syn::UseTree::Name(n) => {
                if n.ident == "self" {
                    self.note(prefix);
                } else {
                    prefix.push(n.ident.to_string());
                    self.note(prefix);
                    prefix.pop();
                }
            }
            syn::UseTree::Rename(r) => {
                if r.ident == "self" {
                    self.note(prefix);
                } else {
                    prefix.push(r.ident.to_string());
                    self.note(prefix);
                    prefix.pop();
                }
            }
            syn::UseTree::Glob(_) => self.note(prefix),
            syn::UseTree::Group(g) => {
                for t in &g.items {
                    self.use_tree(prefix, t);
                }
            }
        }
    }

    /// Paths inside a macro's tokens: every run of `ident :: ident :: …`.
    fn tokens(&mut self, tokens: TokenStream) {
        let trees: Vec<TokenTree> = tokens.into_iter().collect();
        let mut i = 0;
        while i < trees.len() {
            match &trees[i] {
                TokenTree::Group(g) => {
                    self.tokens(g.stream());
                    i += 1;
                }
                TokenTree::Ident(first) => {
                    let mut path = vec![first.to_string()];
                    let mut j = i + 1;
                    while let (
                        Some(TokenTree::Punct(a)),
                        Some(TokenTree::Punct(b)),
                        Some(TokenTree::Ident(next)),
                    ) = (trees.get(j), trees.get(j + 1), trees.get(j + 2))
                    {
                        if a.as_char() != ':' || b.as_char() != ':' {
                            break;
                        }
                        path.push(next.to_string());
                        j += 3;
                    }
                    if path.len() > 1 {
                        self.note(&path);
                    }
                    i = j;
                }
                _ => i += 1,
            }
        }
    }
}

impl<'ast> Visit<'ast> for Walker<'_> {
    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        if let Some((_, items)) = &m.content {
            self.here.push(m.ident.to_string());
            for item in items {
                self.visit_item(item);
            }
            self.here.pop();
        }
    }

    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        self.use_tree(&mut Vec::new(), &u.tree);
    }

    fn visit_path(&mut self, p: &'ast syn::Path) {
        let segments: Vec<String> = p.segments.iter().map(|s| s.ident.to_string()).collect();
        if segments.len() > 1 {
            self.note(&segments);
        }
        syn::visit::visit_path(self, p);
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        self.visit_path(&m.path);
        self.tokens(m.tokens.clone());
    }

    fn visit_attribute(&mut self, a: &'ast syn::Attribute) {
        // `#[cfg_attr(…, derive(…))]`, `#[server(…)]`: paths in the arguments count.
        if let syn::Meta::List(list) = &a.meta {
            self.tokens(list.tokens.clone());
        }
        syn::visit::visit_attribute(self, a);
    }
}

/// Tarjan's strongly connected components.
fn tarjan(adjacency: &[Vec<usize>]) -> Vec<Vec<usize>> {
    struct State<'a> {
        adjacency: &'a [Vec<usize>],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        out: Vec<Vec<usize>>,
    }
    fn connect(s: &mut State, v: usize) {
        s.index[v] = Some(s.next);
        s.low[v] = s.next;
        s.next += 1;
        s.stack.push(v);
        s.on_stack[v] = true;
        for &w in &s.adjacency[v] {
            match s.index[w] {
                None => {
                    connect(s, w);
                    s.low[v] = s.low[v].min(s.low[w]);
                }
                Some(iw) if s.on_stack[w] => s.low[v] = s.low[v].min(iw),
                Some(_) => {}
            }
        }
        if Some(s.low[v]) == s.index[v] {
            let mut component = Vec::new();
            loop {
                let w = s.stack.pop().unwrap();
                s.on_stack[w] = false;
                component.push(w);
                if w == v {
                    break;
                }
            }
            s.out.push(component);
        }
    }
    let n = adjacency.len();
    let mut s = State {
        adjacency,
        index: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in 0..n {
        if s.index[v].is_none() {
            connect(&mut s, v);
        }
    }
    s.out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(edges: &[(&str, &str)]) -> Graph {
        let mut g = Graph::default();
        for (a, b) in edges {
            g.modules.insert(a.to_string());
            g.modules.insert(b.to_string());
            g.edges
                .entry(a.to_string())
                .or_default()
                .insert(b.to_string());
        }
        g
    }

    #[test]
    fn finds_a_loop_through_three_modules_and_only_it() {
        let g = graph(&[("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"), ("e", "d")]);
        assert_eq!(cycles(&g), vec![vec!["a", "b", "c"]]);
        assert!(layers(&g).is_none());
    }

    #[test]
    fn layers_an_acyclic_graph() {
        let g = graph(&[("a", "b"), ("b", "c"), ("a", "c"), ("d", "c")]);
        assert!(cycles(&g).is_empty());
        assert_eq!(
            layers(&g).unwrap(),
            vec![vec!["c"], vec!["b", "d"], vec!["a"]]
        );
    }

    #[test]
    fn reads_uses_paths_and_macro_bodies_of_a_real_tree() {
        let dir = std::env::temp_dir().join(format!("checks-tree-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("live")).unwrap();
        std::fs::write(
            dir.join("lib.rs"),
            "pub mod live; pub mod money; pub mod pages;\n fn f() { view! { <pages::Home/> } }",
        )
        .unwrap();
        std::fs::write(
            dir.join("money.rs"),
            "pub struct Money; mod tests { use super::*; }",
        )
        .unwrap();
        std::fs::write(
            dir.join("pages.rs"),
            "pub fn home() { let _ = crate::live::catalog::X; }",
        )
        .unwrap();
        std::fs::write(
            dir.join("live/mod.rs"),
            "pub mod catalog; pub use catalog::Event;",
        )
        .unwrap();
        std::fs::write(
            dir.join("live/catalog.rs"),
            "use super::super::money::{self, Money}; #[cfg(x)] mod ssr { fn g() { json!(super::Event) } }",
        )
        .unwrap();
        let g = module_graph(&dir.join("lib.rs"));
        let _ = std::fs::remove_dir_all(&dir);
        let edges = |m: &str| g.edges[m].iter().cloned().collect::<Vec<_>>();
        assert_eq!(g.modules.len(), 5);
        assert_eq!(edges("crate"), vec!["pages"]);
        assert_eq!(edges("pages"), vec!["live::catalog"]);
        assert_eq!(edges("live"), vec!["live::catalog"]);
        assert_eq!(edges("live::catalog"), vec!["money"]);
        assert!(edges("money").is_empty());
        assert!(cycles(&g).is_empty());
    }
}

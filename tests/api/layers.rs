//! The layer rule, checked on the source tree: modules read top-down (main → startup → http →
//! graphql → sync → services → db, with domain, entities, channels and the PDF engine `pdf`
//! below), and no module names a layer above it. Each rule says which top-level modules the
//! files of one layer must not name, as `crate::<layer>` or inside `use crate::{…}`; and
//! `services::documents` and `services::shipments` do not name each other. Unit-test modules
//! (`#[cfg(test)] mod …`) are left out: tests may reach anywhere. The BigCommerce sandbox is
//! its own crate (`sandbox/`): nothing of it is in `src/`, and only the binary layer (`main`,
//! `demo`, `bench`) names `orderdeck_sandbox`.

use std::path::{Path, PathBuf};

/// Layer (a folder under `src/`, or a single file's module) → the modules it must not name.
const RULES: &[(&str, &[&str])] = &[
    (
        "services",
        &["sync", "graphql", "http", "startup", "cli", "demo", "bench"],
    ),
    (
        "sync",
        &["graphql", "http", "startup", "cli", "demo", "bench"],
    ),
    ("graphql", &["http", "startup", "cli", "demo", "bench"]),
    ("http", &["startup", "cli", "demo", "bench"]),
    (
        "domain",
        &[
            "db", "entities", "state", "services", "sync", "graphql", "http", "startup", "demo",
            "bench",
        ],
    ),
    (
        "entities",
        &[
            "state", "services", "sync", "graphql", "http", "startup", "cli", "demo", "bench",
        ],
    ),
    (
        "channels",
        &[
            "db", "entities", "state", "services", "sync", "graphql", "http", "startup", "demo",
            "bench",
        ],
    ),
    (
        "pdf",
        &[
            "db", "state", "services", "sync", "graphql", "http", "startup", "cli", "demo", "bench",
        ],
    ),
    (
        "db",
        &[
            "services", "sync", "graphql", "http", "startup", "cli", "demo", "bench",
        ],
    ),
    (
        "metrics",
        &[
            "db", "entities", "domain", "channels", "pdf", "state", "services", "sync", "graphql",
            "http", "startup", "cli", "demo", "bench",
        ],
    ),
    (
        "backup",
        &[
            "services", "sync", "graphql", "http", "startup", "cli", "demo", "bench",
        ],
    ),
];

/// One import of a forbidden layer.
#[derive(Debug, PartialEq, Eq)]
struct Violation {
    line: usize,
    layer: String,
}

/// The forbidden layers `source` names, with their lines (test modules skipped).
fn violations(source: &str, forbidden: &[&str]) -> Vec<Violation> {
    let text = without_test_modules(source);
    let mut found = Vec::new();
    for (start, _) in text.match_indices("crate::") {
        let line = text[..start].matches('\n').count() + 1;
        for layer in named_modules(&text[start + "crate::".len()..]) {
            if forbidden.contains(&layer.as_str()) {
                found.push(Violation { line, layer });
            }
        }
    }
    found
}

/// The top-level modules a path after `crate::` names: `sync::jobs` → `sync`;
/// `{sync::jobs, state::AppState}` → `sync`, `state` (the group may span lines).
fn named_modules(rest: &str) -> Vec<String> {
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let Some(group) = rest.strip_prefix('{') else {
        return vec![ident(rest)];
    };
    let mut names = Vec::new();
    let mut depth = 0usize;
    let mut item_start = true;
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => item_start = true,
            c if c.is_whitespace() => {}
            _ if item_start && depth == 0 => {
                names.push(ident(&group[i..]));
                item_start = false;
            }
            _ => {}
        }
    }
    names.retain(|n| !n.is_empty());
    names
}

/// `source` with the lines of `#[cfg(test)] mod … { … }` blocks blanked (line numbers kept).
fn without_test_modules(source: &str) -> String {
    let lines: Vec<&str> = source.lines().collect();
    let mut out = Vec::with_capacity(lines.len());
    let mut i = 0;
    while i < lines.len() {
        let is_test_mod = lines[i].trim() == "#[cfg(test)]"
            && lines
                .get(i + 1)
                .is_some_and(|l| l.trim_start().starts_with("mod ") && l.contains('{'));
        if !is_test_mod {
            out.push(lines[i]);
            i += 1;
            continue;
        }
        let mut depth = 0i64;
        let mut opened = false;
        out.push("");
        i += 1;
        while i < lines.len() {
            for c in lines[i].chars() {
                match c {
                    '{' => {
                        depth += 1;
                        opened = true;
                    }
                    '}' => depth -= 1,
                    _ => {}
                }
            }
            out.push("");
            i += 1;
            if opened && depth <= 0 {
                break;
            }
        }
    }
    out.join("\n")
}

fn rust_files(dir: &Path, into: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, into);
        } else if path.extension().is_some_and(|e| e == "rs") {
            into.push(path);
        }
    }
}

/// The files of a layer: `src/<layer>/**.rs` and `src/<layer>.rs`.
fn layer_files(src: &Path, layer: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let dir = src.join(layer);
    if dir.is_dir() {
        rust_files(&dir, &mut files);
    }
    let file = src.join(format!("{layer}.rs"));
    if file.is_file() {
        files.push(file);
    }
    files.sort();
    files
}

/// Every violation of the layers in `layers`, one line each: `file:line names crate::layer`.
fn check(layers: &[&str]) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let src = root.join("src");
    let mut report = Vec::new();
    for (layer, forbidden) in RULES.iter().filter(|(l, _)| layers.contains(l)) {
        let files = layer_files(&src, layer);
        assert!(!files.is_empty(), "no source files for the layer {layer}");
        for file in files {
            let source = std::fs::read_to_string(&file).unwrap();
            for v in violations(&source, forbidden) {
                report.push(format!(
                    "{}:{} names crate::{} (the {layer} layer must not)",
                    file.strip_prefix(root).unwrap_or(&file).display(),
                    v.line,
                    v.layer
                ));
            }
        }
    }
    report
}

#[test]
fn no_service_imports_the_sync_layer_or_anything_above_it() {
    let report = check(&["services"]);
    assert!(report.is_empty(), "\n{}", report.join("\n"));
}

#[test]
fn no_sync_module_imports_graphql_http_or_startup() {
    let report = check(&["sync"]);
    assert!(report.is_empty(), "\n{}", report.join("\n"));
}

#[test]
fn every_layer_names_only_the_layers_below_it() {
    let all: Vec<&str> = RULES.iter().map(|(l, _)| *l).collect();
    let report = check(&all);
    assert!(report.is_empty(), "\n{}", report.join("\n"));
}

/// Services of one level that must not name each other: (folder under `src/`, the sibling its
/// files must not name). Documents and shipments share their address, contact and customs
/// rules through `domain`.
const SIBLINGS: &[(&str, &str)] = &[
    ("services/documents", "shipments"),
    ("services/shipments", "documents"),
];

/// The lines of `source` that name the service `sibling` (as `services::sibling`,
/// `super::sibling` or inside a `{…}` group after either), test modules skipped.
fn sibling_imports(source: &str, sibling: &str) -> Vec<usize> {
    let text = without_test_modules(source);
    let mut lines = Vec::new();
    for prefix in ["services::", "super::"] {
        for (start, _) in text.match_indices(prefix) {
            if named_modules(&text[start + prefix.len()..]).contains(&sibling.to_string()) {
                lines.push(text[..start].matches('\n').count() + 1);
            }
        }
    }
    lines.sort_unstable();
    lines.dedup();
    lines
}

#[test]
fn documents_and_shipments_do_not_import_each_other() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let src = root.join("src");
    let mut report = Vec::new();
    for (folder, sibling) in SIBLINGS {
        let files = layer_files(&src, folder);
        assert!(!files.is_empty(), "no source files under src/{folder}");
        for file in files {
            let source = std::fs::read_to_string(&file).unwrap();
            for line in sibling_imports(&source, sibling) {
                report.push(format!(
                    "{}:{line} names services::{sibling}",
                    file.strip_prefix(root).unwrap_or(&file).display()
                ));
            }
        }
    }
    assert!(report.is_empty(), "\n{}", report.join("\n"));
    assert_eq!(
        sibling_imports(
            "use super::documents::build::destination;\nuse crate::services::{leases, documents};\n",
            "documents"
        ),
        vec![1, 2],
        "the checker sees both forms"
    );
}

#[test]
fn the_checker_catches_a_planted_upward_import_in_every_form() {
    let forbidden = &["sync", "graphql"];
    let planted = "//! A service.\n\
        use crate::state::AppState;\n\
        use crate::sync::jobs;\n\
        use crate::{\n    error::AppResult,\n    graphql::Schema,\n};\n\
        fn f() { crate::sync::channel_for(); }\n\
        use crate::{state::{AppState, Other}, sync};\n";
    assert_eq!(
        violations(planted, forbidden),
        vec![
            Violation {
                line: 3,
                layer: "sync".into()
            },
            Violation {
                line: 4,
                layer: "graphql".into()
            },
            Violation {
                line: 8,
                layer: "sync".into()
            },
            Violation {
                line: 9,
                layer: "sync".into()
            },
        ]
    );
}

#[test]
fn the_checker_leaves_unit_test_modules_and_allowed_layers_alone() {
    let source = "use crate::services::push;\n\
        fn f() {}\n\
        #[cfg(test)]\n\
        mod tests {\n    use crate::sync::jobs;\n    fn g() { if true { } }\n}\n\
        fn after() { crate::sync::jobs::x(); }\n";
    assert_eq!(
        violations(source, &["sync"]),
        vec![Violation {
            line: 8,
            layer: "sync".into()
        }],
        "the test module is skipped, the code after it is not"
    );
}

/// Lines outside `src/db.rs` (and outside unit-test modules) that open, commit or roll back a
/// transaction by hand instead of going through `db::write`.
fn hand_written_transactions() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    files.sort();
    let mut report = Vec::new();
    let exempt = |f: &Path| f.ends_with("src/db.rs");
    for file in files.iter().filter(|f| !exempt(f)) {
        let source = without_test_modules(&std::fs::read_to_string(file).unwrap());
        for (n, line) in source.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            if [".begin()", ".commit()", ".rollback()", "begin_write("]
                .iter()
                .any(|t| code.contains(t))
            {
                report.push(format!(
                    "{}:{}: {}",
                    file.strip_prefix(root).unwrap_or(file).display(),
                    n + 1,
                    line.trim()
                ));
            }
        }
    }
    report
}

#[test]
fn every_write_transaction_goes_through_the_one_write_helper() {
    let report = hand_written_transactions();
    assert!(
        report.is_empty(),
        "write through db::write (src/db.rs), which commits, rolls back and retries:\n{}",
        report.join("\n")
    );
}

/// Whether `path` belongs to the binary layer (`main.rs`, `demo.rs`, `bench.rs`, `bench/…`),
/// the only code built with the `sandbox` feature.
fn is_binary_layer(src: &Path, path: &Path) -> bool {
    let rel = path.strip_prefix(src).unwrap_or(path);
    let first = rel
        .components()
        .next()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .unwrap_or_default();
    matches!(first.as_str(), "main.rs" | "demo.rs" | "bench.rs" | "bench")
}

#[test]
fn the_product_holds_no_sandbox_and_only_the_binary_layer_uses_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let src = root.join("src");
    assert!(
        !src.join("sandbox").exists() && !src.join("sandbox.rs").exists(),
        "the BigCommerce sandbox lives in the sandbox/ crate, not in src/"
    );
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    assert!(
        !lib.lines().any(|l| l
            .trim_start()
            .trim_start_matches("pub ")
            .starts_with("mod sandbox")),
        "src/lib.rs declares a sandbox module"
    );
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut report = Vec::new();
    for file in files.iter().filter(|f| !is_binary_layer(&src, f)) {
        let source = without_test_modules(&std::fs::read_to_string(file).unwrap());
        for (n, line) in source.lines().enumerate() {
            if line.contains("orderdeck_sandbox") {
                report.push(format!(
                    "{}:{} names orderdeck_sandbox (only main, demo and bench may)",
                    file.strip_prefix(root).unwrap_or(file).display(),
                    n + 1
                ));
            }
        }
    }
    assert!(report.is_empty(), "\n{}", report.join("\n"));
}

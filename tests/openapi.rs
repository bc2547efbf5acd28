//! `docs/openapi.yaml` describes the router as it is: every API route (all but the console's
//! HTML pages) is documented with its methods, and nothing documented is missing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

type Routes = BTreeMap<String, BTreeSet<String>>;

fn sources(dir: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).expect("src/http").flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(std::fs::read_to_string(&path).expect("readable"));
        }
    }
}

/// `.route("PATH", get(a).post(b))` in src/http: the path and its methods.
fn router_routes() -> Routes {
    let mut texts = Vec::new();
    sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http"),
        &mut texts,
    );
    let mut routes = Routes::new();
    for text in texts {
        for part in text.split(".route(").skip(1) {
            let Some(path) = part
                .trim_start()
                .strip_prefix('"')
                .and_then(|p| p.split('"').next())
            else {
                continue;
            };
            // The handler expression ends at the route call's closing bracket.
            let mut depth = 1;
            let handler: String = part
                .chars()
                .take_while(|c| {
                    depth += match c {
                        '(' => 1,
                        ')' => -1,
                        _ => 0,
                    };
                    depth > 0
                })
                .collect();
            let methods = routes.entry(path.to_string()).or_default();
            for method in ["get", "post", "put", "patch", "delete"] {
                let called = format!("{method}(");
                if handler.match_indices(&called).any(|(i, _)| {
                    i == 0 || !handler[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_')
                }) {
                    methods.insert(method.to_string());
                }
            }
        }
    }
    routes.retain(|path, _| !path.starts_with("/console"));
    routes
}

/// The paths and methods of docs/openapi.yaml (two-space `paths:` entries, four-space
/// methods).
fn documented() -> Routes {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/openapi.yaml"))
            .expect("docs/openapi.yaml");
    let mut routes = Routes::new();
    let mut in_paths = false;
    let mut current = None;
    for line in text.lines() {
        if !line.starts_with(' ') {
            in_paths = line.trim_end() == "paths:";
            continue;
        }
        if !in_paths {
            continue;
        }
        if let Some(path) = line.strip_prefix("  /").and_then(|l| l.strip_suffix(':')) {
            let path = format!("/{path}");
            routes.entry(path.clone()).or_default();
            current = Some(path);
        } else if let (Some(path), Some(method)) = (
            &current,
            line.strip_prefix("    ").and_then(|l| l.strip_suffix(':')),
        ) {
            if !method.starts_with(' ') {
                routes
                    .get_mut(path)
                    .expect("entered")
                    .insert(method.to_string());
            }
        }
    }
    routes
}

#[test]
fn the_openapi_document_lists_exactly_the_routes_and_methods() {
    let routes = router_routes();
    assert!(routes.contains_key("/v1/handoffs/{id}/reply"), "{routes:?}");
    let documented = documented();
    assert_eq!(
        documented, routes,
        "docs/openapi.yaml (left) vs the router (right)"
    );
}

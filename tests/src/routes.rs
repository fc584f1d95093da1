//! The routes the server declares, read from its source: every `.route("path", get(..).post(..))`
//! in `backend/src`. Axum's router can't list its routes, and reading the source keeps the checks
//! that use this (`tests/tests/openapi.rs`: every route is documented) honest about routes added
//! in any module. Every router is merged under `/api`; a path here is relative to it.

use std::collections::BTreeSet;
use std::path::Path;

/// `(METHOD, path)` of every route declared under `backend/src`.
pub fn declared() -> anyhow::Result<BTreeSet<(String, String)>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../backend/src");
    let mut declared = BTreeSet::new();
    let mut stack = vec![src];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                declared.extend(routes_in(&std::fs::read_to_string(&path)?));
            }
        }
    }
    Ok(declared)
}

/// `(METHOD, path)` of every `.route("path", get(..).post(..))` in a source file.
pub fn routes_in(source: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (start, _) in source.match_indices(".route(\"") {
        let rest = &source[start + 8..];
        let Some(end) = rest.find('"') else { continue };
        let path = &rest[..end];
        // The method calls run until the parenthesis that closes `.route(`.
        let mut depth = 1;
        let mut close = rest.len();
        for (i, c) in rest.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        close = i;
                        break;
                    }
                }
                _ => {}
            }
        }
        let call = &rest[end..close];
        for method in ["get", "post", "put", "patch", "delete"] {
            let calls = call.match_indices(&format!("{method}(")).any(|(i, _)| {
                i == 0 || !call[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_')
            });
            if calls {
                out.push((method.to_uppercase(), path.to_string()));
            }
        }
    }
    out
}

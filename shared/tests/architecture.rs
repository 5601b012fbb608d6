//! ARCHITECTURE.md stays true: every path it names exists, and the kit's
//! parts depend on each other only in the order it gives.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the kit sits in the workspace")
        .to_path_buf()
}

/// The words in backticks that look like paths in the repository.
fn paths_named(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter(|w| {
            let w = w.trim_end_matches('/');
            !w.contains(' ')
                && (w.contains('/') || w.ends_with(".rs") || w.ends_with(".md"))
                && !w.contains("NN")
                && !w.contains('<')
                && !w.contains('*')
                && !w.starts_with("--")
        })
        .map(str::to_string)
        .collect()
}

#[test]
fn every_path_the_map_names_exists() {
    let map = std::fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap();
    assert!(map.lines().count() < 250, "the map is meant to stay short");
    let named = paths_named(&map);
    assert!(named.len() > 20, "found only {named:?}");
    let mut missing = Vec::new();
    for path in &named {
        // A path is from the repository's root, or from a lesson's folder
        // (`src/lib.rs`); a bare file name is said of the folder just named.
        let in_a_lesson = || {
            std::fs::read_dir(root().join("lessons"))
                .unwrap()
                .flatten()
                .any(|l| l.path().join(path).exists())
        };
        let found = if path.contains('/') {
            root().join(path).exists() || in_a_lesson()
        } else {
            walk(&root()).iter().any(|p| p.ends_with(path))
        };
        if !found {
            missing.push(path.clone());
        }
    }
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md names paths that do not exist: {missing:?}"
    );
}

/// Every file under `dir`, leaving out build output and git's own.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        let name = e.file_name();
        if name == "target"
            || name == ".git"
            || name == "book" && p.parent() == Some(&root().join("book"))
        {
            continue;
        }
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// The part of the kit a `crate::...` path leads to.
fn part_of(path: &str) -> Option<&'static str> {
    let first = path.trim_start_matches("crate::").split("::").next()?;
    Some(match first {
        "contract" | "lesson" | "grade" => "contract",
        "work" => "work",
        "record" | "TraceExt" | "Traced" | "traced" | "mark" | "blocking" => "record",
        "view" => "view",
        "event" => "event",
        _ => return None,
    })
}

#[test]
fn the_kits_parts_depend_only_on_those_after_them() {
    // contract, work, record, view: each may use those after it, and all
    // may use event, which uses none of them.
    let order = ["contract", "work", "record", "view", "event"];
    let src = root().join("shared").join("src");
    let mut wrong = Vec::new();
    for file in walk(&src) {
        let rel = file
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let part = rel.split('/').next().unwrap().trim_end_matches(".rs");
        let Some(rank) = order.iter().position(|p| *p == part) else {
            continue; // lib.rs
        };
        let text = std::fs::read_to_string(&file).unwrap();
        for (i, _) in text.match_indices("crate::") {
            let path: String = text[i..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            let Some(used) = part_of(&path) else { continue };
            let used_rank = order.iter().position(|p| *p == used).unwrap();
            let allowed = used == part || used_rank > rank;
            if !allowed {
                wrong.push(format!("{rel} uses {path} ({part} may not use {used})"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

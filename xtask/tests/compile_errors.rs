//! The compile errors the lessons quote are the ones the compiler gives.
//!
//! A `compile_fail` doctest passes for any error at all, and on a stable
//! compiler rustdoc does not look at the error code written after
//! `compile_fail,`. So a snippet with a typo in it would still pass, and
//! the book would go on quoting an error the snippet no longer shows.
//!
//! This test compiles every `compile_fail` snippet of every lesson the way
//! rustdoc does (the `# ` lines kept, the code put inside `fn main` unless
//! it has one), with the lesson and its dependencies, in a crate of its own
//! under `target/snippets` (built, not only checked, so that the quizzes'
//! test reuses the dependencies it builds). It then compares what the compiler said
//! with what the lesson says:
//!
//! - the error codes after `compile_fail,` are exactly the codes of the
//!   errors the compiler gives (none, for an error that has no code);
//! - each error the snippet quotes in a comment (`// error[E0373]: ...`,
//!   continued on the comment lines after it) is one the compiler gives,
//!   word for word; a line in brackets after it, `// (help: ...)`, is a
//!   note the compiler prints with it.
//!
//! Checking the code and the quoted lines, rather than the compiler's
//! whole output (as `trybuild` does), keeps the test true to what the
//! lessons claim while the compiler's layout changes between releases.
//! When a release rewords a quoted message, this test says so, and the
//! quote must follow.

mod common;

use common::{compile_bins, packages};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// One `compile_fail` doctest.
#[derive(Debug)]
struct Snippet {
    /// Where it is, for messages: the file and the line of its fence.
    at: String,
    /// A name for its binary in the generated crate.
    name: String,
    /// The codes written after `compile_fail,`.
    codes: BTreeSet<String>,
    /// The code as rustdoc would compile it.
    source: String,
    /// The errors it quotes: code (if any), message, notes.
    quoted: Vec<Quote>,
}

#[derive(Debug)]
struct Quote {
    code: Option<String>,
    message: String,
    notes: Vec<String>,
}

/// What the compiler said about one binary.
#[derive(Debug, Default)]
struct Said {
    /// Each error: its code (if any), its message, and its whole rendered
    /// text (with its notes and help).
    errors: Vec<(Option<String>, String, String)>,
}

fn squash(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The `compile_fail` doctests of one source file.
fn snippets_in(file: &Path, lesson: &str) -> Vec<Snippet> {
    let text = std::fs::read_to_string(file).expect("the lesson's source reads");
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim_start();
        let doc = line
            .strip_prefix("///")
            .or_else(|| line.strip_prefix("//!"))
            .map(str::trim);
        let Some(fence) = doc.and_then(|d| d.strip_prefix("```compile_fail")) else {
            i += 1;
            continue;
        };
        let codes: BTreeSet<String> = fence
            .split(',')
            .map(str::trim)
            .filter(|w| w.starts_with('E'))
            .map(String::from)
            .collect();
        let at = format!("{}:{}", file.display(), i + 1);
        let mut body = String::new();
        i += 1;
        while i < lines.len() {
            let line = lines[i].trim_start();
            if let Some(rest) = line
                .strip_prefix("#![doc = include_str!(\"")
                .or_else(|| line.strip_prefix("#[doc = include_str!(\""))
            {
                let path = rest.split('"').next().expect("a quoted path");
                let included = file.parent().expect("a folder").join(path);
                body.push_str(
                    &std::fs::read_to_string(&included)
                        .unwrap_or_else(|e| panic!("{}: {e}", included.display())),
                );
            } else {
                let doc = line
                    .strip_prefix("///")
                    .or_else(|| line.strip_prefix("//!"))
                    .unwrap_or_else(|| panic!("{at}: the doctest's fence is never closed"));
                if doc.trim() == "```" {
                    break;
                }
                body.push_str(doc.strip_prefix(' ').unwrap_or(doc));
                body.push('\n');
            }
            i += 1;
        }
        found.push(Snippet {
            name: format!("{}_{}", lesson.replace('-', "_"), found.len() + 1),
            quoted: quotes(&body),
            source: as_rustdoc_compiles(&body),
            codes,
            at,
        });
        i += 1;
    }
    found
}

/// The errors a snippet quotes in its comments.
fn quotes(body: &str) -> Vec<Quote> {
    let mut quoted: Vec<Quote> = Vec::new();
    let mut open = false;
    for line in body.lines() {
        let line = line.trim_start_matches('#').trim();
        let Some(comment) = line.strip_prefix("//").map(str::trim) else {
            open = false;
            continue;
        };
        if let Some(rest) = comment.strip_prefix("error") {
            let (code, message) = match rest.strip_prefix('[') {
                Some(r) => {
                    let (code, m) = r.split_once("]:").expect("error[CODE]: message");
                    (Some(code.to_string()), m)
                }
                None => (None, rest.strip_prefix(':').expect("error: message")),
            };
            quoted.push(Quote {
                code,
                message: squash(message),
                notes: Vec::new(),
            });
            open = true;
        } else if open && comment.starts_with('(') {
            let note = comment.trim_start_matches('(').trim_end_matches(')');
            let last = quoted.last_mut().expect("open means a quote");
            last.notes.push(squash(note));
        } else if open && last_has_no_notes(&quoted) {
            let last = quoted.last_mut().expect("open means a quote");
            last.message = squash(&format!("{} {comment}", last.message));
        } else {
            open = false;
        }
    }
    quoted
}

fn last_has_no_notes(quoted: &[Quote]) -> bool {
    quoted.last().is_some_and(|q| q.notes.is_empty())
}

/// The snippet as rustdoc compiles it: hidden lines shown, everything in
/// `fn main` unless it has its own, unused code allowed.
fn as_rustdoc_compiles(body: &str) -> String {
    let shown: Vec<String> = body
        .lines()
        .map(|l| {
            let t = l.trim_start();
            if t == "#" {
                String::new()
            } else if let Some(rest) = t.strip_prefix("# ") {
                rest.to_string()
            } else {
                l.to_string()
            }
        })
        .collect();
    let code = shown.join("\n");
    if code.contains("fn main") {
        format!("#![allow(unused)]\n{code}\n")
    } else {
        format!("#![allow(unused)]\nfn main() {{\n{code}\n}}\n")
    }
}

/// Compiles `snippets` (all of one package) in a crate of their own, and
/// returns what the compiler said about each.
fn compile(package: &Value, snippets: &[Snippet]) -> BTreeMap<String, Said> {
    let bins: Vec<(String, String)> = snippets
        .iter()
        .map(|s| (s.name.clone(), s.source.clone()))
        .collect();
    let compiled = compile_bins(package, "compile-errors", &bins, true);
    let mut said: BTreeMap<String, Said> = BTreeMap::new();
    for (target, errors) in compiled.errors {
        for e in errors {
            // rustdoc puts a snippet without a `main` inside one, so its
            // items are named `main::count_letters` where a learner's own
            // code would have `count_letters`: the quote is what the
            // learner sees.
            let message = e.message.replace("main::", "");
            said.entry(target.clone()).or_default().errors.push((
                e.code,
                squash(&message),
                squash(&e.rendered),
            ));
        }
    }
    for s in snippets {
        if !said.contains_key(&s.name) {
            panic!(
                "{}: the compiler gave no error for this compile_fail snippet \
                 (or did not get to it):\n{}",
                s.at, compiled.stderr
            );
        }
    }
    said
}

/// What is wrong with what `snippet` claims, given what the compiler said.
fn problems(snippet: &Snippet, said: &Said) -> Vec<String> {
    let mut wrong = Vec::new();
    let got: BTreeSet<String> = said.errors.iter().filter_map(|e| e.0.clone()).collect();
    if got != snippet.codes {
        wrong.push(format!(
            "its fence names the error codes {:?}, the compiler gives {:?}",
            snippet.codes, got
        ));
    }
    if snippet.quoted.is_empty() {
        wrong.push("it quotes no error (a `// error[E...]: ...` comment at the line)".into());
    }
    for q in &snippet.quoted {
        let Some(error) = said
            .errors
            .iter()
            .find(|(code, message, _)| *code == q.code && *message == q.message)
        else {
            let code = q
                .code
                .as_deref()
                .map(|c| format!("[{c}]"))
                .unwrap_or_default();
            wrong.push(format!(
                "it quotes `error{code}: {}`, which the compiler does not give",
                q.message
            ));
            continue;
        };
        for note in &q.notes {
            if !error.2.contains(note.as_str()) {
                wrong.push(format!(
                    "it quotes the note `{note}`, which the compiler does not print with \
                     `{}`",
                    q.message
                ));
            }
        }
    }
    if !wrong.is_empty() {
        let said: Vec<String> = said
            .errors
            .iter()
            .map(|(code, message, _)| match code {
                Some(c) => format!("  error[{c}]: {message}"),
                None => format!("  error: {message}"),
            })
            .collect();
        wrong.push(format!("the compiler said:\n{}", said.join("\n")));
    }
    wrong
}

/// Every source file of a package, under its `src`.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut todo = vec![dir.join("src")];
    while let Some(d) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                todo.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

#[test]
fn every_quoted_compile_error_is_the_one_the_compiler_gives() {
    let mut checked = 0;
    let mut wrong = Vec::new();
    for package in packages() {
        let name = package["name"].as_str().expect("a name").to_string();
        if !name.starts_with("lesson-") {
            continue;
        }
        let dir = Path::new(package["manifest_path"].as_str().expect("a path"))
            .parent()
            .expect("a folder")
            .to_path_buf();
        let snippets: Vec<Snippet> = sources(&dir)
            .iter()
            .flat_map(|f| snippets_in(f, &name))
            .collect();
        if snippets.is_empty() {
            continue;
        }
        let said = compile(&package, &snippets);
        for s in &snippets {
            for p in problems(s, &said[&s.name]) {
                wrong.push(format!("{}: {p}", s.at));
            }
            checked += 1;
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
    // The lessons have compile_fail snippets; finding none means this test
    // no longer finds them.
    assert!(checked >= 15, "found only {checked} compile_fail snippets");
    println!("{checked} compile_fail snippets give the errors they quote");
}

#[test]
fn a_quote_is_read_with_its_continuation_and_its_notes() {
    let body = "# use std::cell::Cell;\n\
                // error[E0373]: async block may outlive the current function, but it\n\
                // borrows `orders`, which is owned by the current function\n\
                let x = 1;\n\
                // error: future cannot be sent between threads safely\n\
                // (help: the trait `Sync` is not implemented for `Cell<u64>`)\n\
                // a plain comment\n";
    let q = quotes(body);
    assert_eq!(q.len(), 2);
    assert_eq!(q[0].code.as_deref(), Some("E0373"));
    assert_eq!(
        q[0].message,
        "async block may outlive the current function, but it borrows `orders`, \
         which is owned by the current function"
    );
    assert_eq!(q[1].code, None);
    assert_eq!(q[1].message, "future cannot be sent between threads safely");
    assert_eq!(
        q[1].notes,
        ["help: the trait `Sync` is not implemented for `Cell<u64>`"]
    );
    let compiled = as_rustdoc_compiles(body);
    assert!(compiled.contains("fn main() {\nuse std::cell::Cell;"));
}

#[test]
fn a_wrong_code_or_a_wrong_quote_is_a_problem() {
    let snippet = Snippet {
        at: "here".into(),
        name: "x".into(),
        codes: ["E0373".to_string()].into(),
        source: String::new(),
        quoted: vec![Quote {
            code: Some("E0373".into()),
            message: "async block may outlive the current function".into(),
            notes: vec![],
        }],
    };
    let right = Said {
        errors: vec![(
            Some("E0373".into()),
            "async block may outlive the current function".into(),
            String::new(),
        )],
    };
    assert!(problems(&snippet, &right).is_empty());
    // A typo in the snippet: another error, with another code.
    let typo = Said {
        errors: vec![(
            Some("E0425".into()),
            "cannot find value `oders` in this scope".into(),
            String::new(),
        )],
    };
    let found = problems(&snippet, &typo);
    assert!(found.iter().any(|p| p.contains("error codes")), "{found:?}");
    assert!(
        found.iter().any(|p| p.contains("does not give")),
        "{found:?}"
    );
}

//! Checks on the book's prose that the compiler cannot make: a chapter that
//! says the same thing twice (the copies drift apart and end up
//! contradicting each other), and a chapter that quotes a fact no scenario
//! reports (a renamed or removed fact leaves the prose behind).

use std::collections::BTreeSet;
use std::path::Path;

/// A paragraph must have this many words to count as a repeat: short
/// lines such as "Put it back afterwards." may well recur.
const MIN_WORDS: usize = 12;
/// Two paragraphs that share this share of their three-word runs say the
/// same thing, even with a figure or a word changed.
const SIMILAR: f64 = 0.5;

/// The chapter's paragraphs of prose, with the line each starts on: text
/// between blank lines, outside fenced blocks, skipping headings, includes,
/// images and the tags of a collapsed block (`<details>`, `<summary>`: a
/// chapter's solutions all have much the same label).
pub fn paragraphs(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    let mut in_fence = false;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.starts_with("```") {
            in_fence = !in_fence;
            out.extend(current.take());
            continue;
        }
        let prose = !in_fence
            && !trimmed.is_empty()
            && !trimmed.starts_with('#')
            && !trimmed.starts_with("{{#")
            && !trimmed.starts_with("![")
            && !["<details", "</details", "<summary"]
                .iter()
                .any(|tag| trimmed.starts_with(tag));
        if !prose {
            out.extend(current.take());
            continue;
        }
        match &mut current {
            Some((_, p)) => {
                p.push(' ');
                p.push_str(trimmed);
            }
            None => current = Some((i + 1, trimmed.to_string())),
        }
    }
    out.extend(current);
    out
}

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric() && c != '_')
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

fn shingles(words: &[String]) -> BTreeSet<String> {
    words.windows(3).map(|w| w.join(" ")).collect()
}

/// Pairs of paragraphs in one chapter that say nearly the same thing:
/// `(first line, second line, similarity)`.
pub fn repeats(text: &str) -> Vec<(usize, usize, f64)> {
    let paragraphs: Vec<(usize, BTreeSet<String>)> = paragraphs(text)
        .into_iter()
        .map(|(line, p)| (line, words(&p)))
        .filter(|(_, w)| w.len() >= MIN_WORDS)
        .map(|(line, w)| (line, shingles(&w)))
        .collect();
    let mut found = Vec::new();
    for (i, (line_a, a)) in paragraphs.iter().enumerate() {
        for (line_b, b) in &paragraphs[i + 1..] {
            let shared = a.intersection(b).count() as f64;
            let smaller = a.len().min(b.len()) as f64;
            let similarity = shared / smaller;
            if similarity >= SIMILAR {
                found.push((*line_a, *line_b, similarity));
            }
        }
    }
    found
}

/// Whether `s` looks like a fact's name: lower-case words joined by `_`.
fn fact_like(s: &str) -> bool {
    let mut parts = s.split('_');
    s.contains('_')
        && parts.all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
        && s.starts_with(|c: char| c.is_ascii_lowercase())
}

/// The inline code spans of a chapter's prose that look like fact names,
/// with their line numbers.
pub fn quoted_names(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut in_fence = false;
    for (i, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            continue;
        }
        let mut spans = line.split('`');
        spans.next(); // text before the first backtick
        while let Some(code) = spans.next() {
            if fact_like(code) {
                out.push((i + 1, code.to_string()));
            }
            spans.next(); // the text after it
        }
    }
    out
}

/// The identifiers used in Rust code, leaving out comments and the inside
/// of string literals (narration may still quote a fact that is gone).
pub fn code_identifiers(source: &str) -> BTreeSet<String> {
    let mut code = String::with_capacity(source.len());
    let mut chars = source.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
                code.push('\n');
            }
            '/' if chars.peek() == Some(&'*') => {
                let mut last = ' ';
                for c in chars.by_ref() {
                    if last == '*' && c == '/' {
                        break;
                    }
                    last = c;
                }
                code.push(' ');
            }
            '\'' => {
                // A char literal such as '"' or '\'' (a lifetime has no
                // closing quote right after one character).
                let mut ahead = chars.clone();
                match (ahead.next(), ahead.next(), ahead.next()) {
                    (Some('\\'), Some(_), Some('\'')) => {
                        chars.nth(2);
                    }
                    (Some(_), Some('\''), _) => {
                        chars.nth(1);
                    }
                    _ => {}
                }
                code.push(' ');
            }
            'r' if chars.peek() == Some(&'#') || chars.peek() == Some(&'"') => {
                let mut ahead = chars.clone();
                let hashes = ahead.by_ref().take_while(|c| *c == '#').count();
                let opens = if hashes == 0 {
                    chars.peek() == Some(&'"')
                } else {
                    chars.clone().nth(hashes) == Some('"')
                };
                if !opens || code.ends_with(|c: char| c.is_alphanumeric() || c == '_') {
                    code.push(c);
                    continue;
                }
                chars.nth(hashes); // the hashes and the opening quote
                let close: String = std::iter::once('"')
                    .chain(std::iter::repeat_n('#', hashes))
                    .collect();
                let mut seen = String::new();
                for c in chars.by_ref() {
                    seen.push(c);
                    if seen.ends_with(&close) {
                        break;
                    }
                }
                code.push(' ');
            }
            '"' => {
                let mut escaped = false;
                for c in chars.by_ref() {
                    match c {
                        '\\' if !escaped => escaped = true,
                        '"' if !escaped => break,
                        _ => escaped = false,
                    }
                }
                code.push(' ');
            }
            c => code.push(c),
        }
    }
    code.split(|c: char| !c.is_alphanumeric() && c != '_')
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// Every `.rs` file under `dir`, recursively, skipping `target`.
pub fn rust_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if path
                .file_name()
                .is_some_and(|n| n != "target" && n != ".git")
            {
                out.extend(rust_files(&path));
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

/// Names the book quotes that are neither facts nor used by any lesson's
/// code: tools it mentions, and rustdoc's attribute.
const MENTIONED_ONLY: &[&str] = &["compile_fail", "spawn_local", "blocking_recv"];

/// What a chapter may quote as `snake_case`: the facts the lessons declare
/// and the identifiers their code (and the shared crate's) uses.
pub struct Known {
    pub facts: BTreeSet<String>,
    pub identifiers: BTreeSet<String>,
}

impl Known {
    /// `facts` are what the lessons' binaries declare (`--describe`); the
    /// identifiers are read from the lessons' and the kit's code.
    pub fn gather(root: &Path, lesson_dirs: &[&Path], facts: BTreeSet<String>) -> Known {
        let mut identifiers = BTreeSet::new();
        let mut dirs: Vec<std::path::PathBuf> =
            lesson_dirs.iter().map(|d| d.to_path_buf()).collect();
        dirs.push(root.join("shared"));
        for dir in &dirs {
            for file in rust_files(dir) {
                let Ok(source) = std::fs::read_to_string(&file) else {
                    continue;
                };
                identifiers.extend(code_identifiers(&source));
            }
        }
        identifiers.extend(MENTIONED_ONLY.iter().map(|n| n.to_string()));
        Known { facts, identifiers }
    }

    /// The chapter's quoted names that are neither a declared fact nor
    /// anything the code uses.
    pub fn unknown(&self, text: &str) -> Vec<(usize, String)> {
        quoted_names(text)
            .into_iter()
            .filter(|(_, name)| !self.facts.contains(name) && !self.identifiers.contains(name))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE: &str = "All four keep the heartbeat within a tick or so and the cores \
        nearly always busy, with never more jobs at once than cores.";

    #[test]
    fn a_paragraph_said_twice_is_found_even_with_a_figure_changed() {
        let twice = ONE.replace("within a tick", "within two ticks");
        let text = format!("# T\n\n{ONE}\n\nSomething else entirely, said once.\n\n{twice}\n");
        let found = repeats(&text);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!((found[0].0, found[0].1), (3, 7));
    }

    #[test]
    fn different_paragraphs_code_and_short_lines_are_not_repeats() {
        let text = format!(
            "{ONE}\n\n```rust\n{ONE}\n```\n\nPut it back afterwards.\n\nPut it back afterwards.\n\n\
             The rayon pool has one thread per core and takes jobs from a queue of its own.\n"
        );
        assert!(repeats(&text).is_empty(), "{:?}", repeats(&text));
    }

    #[test]
    fn paragraphs_join_their_lines_and_skip_headings_and_includes() {
        let text =
            "# Title\n\nOne line\nand the next.\n{{#include x.rs:a}}\n![img](a.svg)\nLast.\n";
        assert_eq!(
            paragraphs(text),
            [
                (3, "One line and the next.".to_string()),
                (7, "Last.".to_string())
            ]
        );
    }

    #[test]
    fn the_labels_of_collapsed_blocks_are_not_prose() {
        let summary = "<summary>Solution: the fix for `close` (open it after you have tried the exercise)</summary>";
        let text = format!(
            "<details>\n{summary}\n\nInside.\n\n</details>\n\n<details>\n{summary}\n\n</details>\n"
        );
        assert_eq!(paragraphs(&text), [(4, "Inside.".to_string())]);
        assert!(repeats(&text).is_empty());
    }

    #[test]
    fn quoted_snake_case_names_are_found_outside_code_blocks() {
        let text = "`report_ratio` is 0 and `x` and `Sleep` and `join_all`.\n\
                    ```rust\nlet `not_this` = 1;\n```\n`a_b_2` ends `_private` `a__b`";
        let names: Vec<String> = quoted_names(text).into_iter().map(|(_, n)| n).collect();
        assert_eq!(names, ["report_ratio", "join_all", "a_b_2"]);
    }

    #[test]
    fn identifiers_leave_out_comments_and_strings() {
        let src = r##"
            // old_fact in a comment
            /* block_comment_fact */
            let quote = '"'; let q2 = '\''; fn f<'a>(x: &'a str) {}
            let s = "narration names gone_fact";
            let r = r#"raw "gone_too" here"#;
            tokio::task::spawn_blocking(move || x);
            facts.the("report_ratio");
        "##;
        let ids = code_identifiers(src);
        for present in ["spawn_blocking", "tokio", "quote", "q2", "a"] {
            assert!(ids.contains(present), "{present} is code");
        }
        for absent in [
            "old_fact",
            "block_comment_fact",
            "gone_fact",
            "gone_too",
            "report_ratio",
        ] {
            assert!(!ids.contains(absent), "{absent} is not code");
        }
    }

    #[test]
    fn a_quoted_name_nobody_declares_or_uses_is_unknown() {
        let known = Known {
            facts: ["report_ratio".to_string()].into(),
            identifiers: ["join_all".to_string()].into(),
        };
        let text = "`report_ratio` and `join_all` but `rayon_threads_ratio`.";
        assert_eq!(
            known.unknown(text),
            [(1, "rayon_threads_ratio".to_string())]
        );
    }
}

//! The book: checking that it cannot drift from the code, drawing its
//! timelines from real runs, and building it with mdBook.

use crate::Failure;
use crate::lessons::{Expect, Lesson, Variant, Workspace};
use crate::prose;
use shared::grade::Judgement;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The mdBook release the book is written for.
pub const MDBOOK_VERSION: &str = "0.5.4";

/// Folder (under `book/src`) of files that `cargo xtask book` writes.
pub const GENERATED: &str = "timelines";

/// One `{{#include ...}}` (or `{{#rustdoc_include ...}}`) in a chapter.
#[derive(Debug, PartialEq, Eq)]
pub struct Include {
    pub chapter: PathBuf,
    pub line: usize,
    pub path: String,
    pub anchor: Option<String>,
}

/// Finds every include directive in `text`.
pub fn includes(chapter: &Path, text: &str) -> Vec<Include> {
    let mut found = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let mut rest = line;
        while let Some(start) = rest.find("{{#") {
            let after = &rest[start + 3..];
            let Some(end) = after.find("}}") else { break };
            let directive = after[..end].trim();
            rest = &after[end + 2..];
            let target = directive
                .strip_prefix("include ")
                .or_else(|| directive.strip_prefix("rustdoc_include "));
            let Some(target) = target else { continue };
            let target = target.trim();
            let (path, selector) = match target.split_once(':') {
                Some((p, s)) => (p, Some(s)),
                None => (target, None),
            };
            // `file:10`, `file:2:10` and `file::10` select lines, not anchors.
            let anchor = selector
                .filter(|s| !s.is_empty() && !s.chars().all(|c| c.is_ascii_digit() || c == ':'))
                .map(str::to_string);
            found.push(Include {
                chapter: chapter.to_path_buf(),
                line: i + 1,
                path: path.to_string(),
                anchor,
            });
        }
    }
    found
}

fn has_anchor(text: &str, anchor: &str) -> bool {
    let marks = |tag: &str| {
        text.lines().any(|l| {
            l.split_once(tag)
                .is_some_and(|(_, name)| name.trim().trim_end_matches("*/").trim() == anchor)
        })
    };
    marks("ANCHOR:") && marks("ANCHOR_END:")
}

/// The chapters SUMMARY.md links to, relative to `book/src`.
pub fn summary_chapters(summary: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in summary.lines() {
        let mut rest = line;
        while let Some(open) = rest.find("](") {
            let after = &rest[open + 2..];
            let Some(close) = after.find(')') else { break };
            let link = &after[..close];
            if !link.is_empty() {
                out.push(link.to_string());
            }
            rest = &after[close + 1..];
        }
    }
    out
}

/// Everything wrong with the book's links to the code. `book_src` is
/// `book/src`; `lessons` are the workspace's lessons; `facts`, the facts
/// their binaries say they measure (`--describe`), when they have been
/// built: only then are the names a chapter quotes checked too.
pub fn check_sources(
    book_src: &Path,
    lessons: &[Lesson],
    facts: Option<&BTreeSet<String>>,
) -> Vec<String> {
    let mut problems = Vec::new();
    let summary = match std::fs::read_to_string(book_src.join("SUMMARY.md")) {
        Ok(s) => s,
        Err(e) => return vec![format!("cannot read book/src/SUMMARY.md: {e}")],
    };
    let chapters = summary_chapters(&summary);
    let root = book_src.parent().and_then(Path::parent).unwrap_or(book_src);
    let lesson_dirs: Vec<&Path> = lessons.iter().map(|l| l.dir.as_path()).collect();
    let known = facts.map(|facts| prose::Known::gather(root, &lesson_dirs, facts.clone()));
    for lesson in lessons {
        if !chapters.iter().any(|c| c == &lesson.chapter) {
            problems.push(format!(
                "book/src/SUMMARY.md has no chapter for {} (its manifest names {})",
                lesson.id, lesson.chapter
            ));
        }
    }
    for chapter in &chapters {
        let path = book_src.join(chapter);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(_) => {
                problems.push(format!(
                    "book/src/SUMMARY.md links to {chapter}, which does not exist"
                ));
                continue;
            }
        };
        for inc in includes(Path::new(chapter), &text) {
            if inc.path.starts_with(&format!("{GENERATED}/")) {
                continue; // written by `cargo xtask book`
            }
            let dir = path.parent().unwrap_or(book_src);
            let target = dir.join(&inc.path);
            let where_ = format!("book/src/{}:{}", chapter, inc.line);
            match std::fs::read_to_string(&target) {
                Err(_) => problems.push(format!(
                    "{where_} includes {}, which does not exist",
                    inc.path
                )),
                Ok(code) => {
                    if let Some(anchor) = &inc.anchor {
                        if !has_anchor(&code, anchor) {
                            problems.push(format!(
                                "{where_} includes anchor '{anchor}' of {}, which has no ANCHOR: {anchor} ... ANCHOR_END: {anchor}",
                                inc.path
                            ));
                        }
                    }
                }
            }
        }
        if let Some(lesson) = lessons.iter().find(|l| &l.chapter == chapter) {
            let dir = path.parent().unwrap_or(book_src);
            problems.extend(check_lesson_chapter(chapter, dir, &text, lesson));
        }
        for (first, second, similarity) in prose::repeats(&text) {
            problems.push(format!(
                "book/src/{chapter}:{second} says again what line {first} says ({:.0}% the same): keep one",
                similarity * 100.0
            ));
        }
        for (line, name) in known.iter().flat_map(|k| k.unknown(&text)) {
            problems.push(format!(
                "book/src/{chapter}:{line} quotes `{name}`, which is no fact a scenario reports and nothing the code uses"
            ));
        }
    }
    problems
}

/// A lesson chapter pastes no Rust: every Rust block is an include; it
/// shows no fix before its exercise, except folded away (see
/// [`fixes_before_exercise`]); and it shows at least one timeline from a
/// real run. `dir` is the chapter's folder, which its includes start from.
fn check_lesson_chapter(chapter: &str, dir: &Path, text: &str, lesson: &Lesson) -> Vec<String> {
    let mut problems = fixes_before_exercise(chapter, dir, text);
    let mut in_rust = None;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if let Some(fence) = trimmed.strip_prefix("```") {
            match in_rust {
                Some(_) => in_rust = None,
                None if fence.starts_with("rust") => in_rust = Some(i + 1),
                None => {
                    // Skip to the end of a non-Rust block.
                    in_rust = Some(0);
                }
            }
            continue;
        }
        if let Some(start) = in_rust {
            if start > 0 && !trimmed.is_empty() && !trimmed.starts_with("{{#") {
                problems.push(format!(
                    "book/src/{chapter}:{}: Rust code pasted into a lesson chapter; include it from {} by anchor instead",
                    i + 1,
                    lesson.id
                ));
                in_rust = Some(0);
            }
        }
    }
    if !lesson.exercises.is_empty() {
        if !text.lines().any(|l| l.trim() == "## Exercise") {
            problems.push(format!(
                "book/src/{chapter} has no \"## Exercise\" section, though {} has exercises",
                lesson.id
            ));
        }
        let command = format!("cargo xtask try {}", lesson.id);
        if !text.contains(&command) {
            problems.push(format!(
                "book/src/{chapter} never shows `{command}`, the command that judges its exercises"
            ));
        }
    }
    let svg = format!("{GENERATED}/{}-", lesson.id);
    if !text.contains(&svg) {
        problems.push(format!(
            "book/src/{chapter} shows no timeline ({svg}<scenario>-<variant>.svg)"
        ));
    }
    problems
}

/// What of one source file shows a fix: all of it, or some of its anchors.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct FixedParts {
    pub whole_file: bool,
    pub anchors: BTreeSet<String>,
}

/// The fixed pieces of a lesson's source file `path` (its `code`), which a
/// chapter must not show before its exercise. An anchor is *fixed* when
///
/// 1. its name starts with `fixed` (`fixed`, `fixed_close`,
///    `fixed_hit_scope`); or
/// 2. its `ANCHOR:` line lies inside a `mod fixed { ... }` block, whatever
///    its name (lesson 07's `spawn_blocking`, lesson 10's `reader_seam`);
///    or
/// 3. it declares an item that a `mod fixed` block re-exports (`pub use`)
///    (lesson 03's `timer_delay` and `trigger`, which declare the
///    `TimerDelay` and `Trigger` that its `mod fixed` names); or
/// 4. its file is itself a fixed piece: a file named `fixed.rs`, or any file
///    in a folder named `fixed` (`src/bin/fixed.rs`, `src/fixed/mod.rs`).
///    Then the whole file, and every anchor in it, is fixed.
///
/// Everything else is not: the harness, the broken pieces (in `mod broken`,
/// named `broken_*`), and the lesson's shared machinery. The code is
/// rustfmt-formatted, so a `mod fixed {` block ends at the first line that
/// is a lone `}` indented as the `mod` line is.
pub fn fixed_parts(path: &Path, code: &str) -> FixedParts {
    let whole_file = path.file_name().is_some_and(|n| n == "fixed.rs")
        || path
            .parent()
            .is_some_and(|dir| dir.components().any(|c| c.as_os_str() == "fixed"));
    let lines: Vec<&str> = code.lines().collect();
    // Line ranges of `mod fixed { ... }` blocks, and the names they re-export.
    let mut blocks = Vec::new();
    let mut exported = BTreeSet::new();
    for (start, line) in lines.iter().enumerate() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let Some(m) = words.iter().position(|w| *w == "mod") else {
            continue;
        };
        let opens = words.get(m + 1) == Some(&"fixed") && words.get(m + 2) == Some(&"{")
            || words.get(m + 1) == Some(&"fixed{");
        if !opens || !words[..m].iter().all(|w| w.starts_with("pub")) {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let end = lines[start + 1..]
            .iter()
            .position(|l| l.trim() == "}" && l.len() - l.trim_start().len() == indent)
            .map_or(lines.len(), |i| start + 1 + i);
        blocks.push(start..end);
        let body = lines[start + 1..end].join("\n");
        // Only re-exports (`pub use`): a plain `use` imports a helper.
        for statement in body.split(';') {
            let Some((_, used)) = statement.split_once("pub use ") else {
                continue;
            };
            let is_ident = |c: char| c.is_alphanumeric() || c == '_';
            let mut rest = used;
            while let Some(start) = rest.find(is_ident) {
                let tail = &rest[start..];
                let end = tail.find(|c: char| !is_ident(c)).unwrap_or(tail.len());
                let (ident, after) = tail.split_at(end);
                // Skip path segments (`super::`) and the `as` of a rename.
                if !after.starts_with("::") && !["self", "super", "crate", "as"].contains(&ident) {
                    exported.insert(ident.to_string());
                }
                rest = after;
            }
        }
    }
    let in_block = |i: usize| blocks.iter().any(|b| b.contains(&i));
    let declares = |region: &[&str]| {
        exported.iter().any(|name| {
            region.iter().any(|l| {
                [
                    "struct", "enum", "fn", "trait", "type", "union", "const", "static",
                ]
                .iter()
                .any(|kw| {
                    let needle = format!("{kw} {name}");
                    l.match_indices(&needle).any(|(at, _)| {
                        let before = l[..at].chars().next_back();
                        let after = l[at + needle.len()..].chars().next();
                        !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
                            && !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
                    })
                })
            })
        })
    };
    let mut anchors = BTreeSet::new();
    for (i, line) in lines.iter().enumerate() {
        let Some((_, name)) = line.split_once("ANCHOR:") else {
            continue;
        };
        let name = name.trim().trim_end_matches("*/").trim();
        let end_mark = format!("ANCHOR_END: {name}");
        let end = lines[i + 1..]
            .iter()
            .position(|l| l.contains(&end_mark))
            .map_or(lines.len(), |e| i + 1 + e);
        if whole_file || name.starts_with("fixed") || in_block(i) || declares(&lines[i..end]) {
            anchors.insert(name.to_string());
        }
    }
    FixedParts {
        whole_file,
        anchors,
    }
}

/// Whether a generated file (see [`generated_references`]) shows a fixed
/// run: a fixed variant's timeline (`lesson-05-report-fixed.svg`,
/// `lesson-05-report-fixed-interval.svg`), or the lesson's table of facts,
/// which has a row per fixed run, named after its piece.
pub fn shows_fixed_run(reference: &str) -> bool {
    let name = reference.rsplit('/').next().unwrap_or(reference);
    name.ends_with("-facts.md")
        || name
            .strip_suffix(".svg")
            .is_some_and(|stem| stem.ends_with("-fixed") || stem.contains("-fixed-"))
}

/// Everything of the fix that comes before the chapter's `## Exercise`
/// heading without being folded away inside a `<details>` block, where a
/// learner would read the answer before trying: an include of a fixed piece
/// (see [`fixed_parts`]), or a timeline or table of a fixed run (see
/// [`shows_fixed_run`]). `dir` is the chapter's folder, which its include
/// paths start from.
pub fn fixes_before_exercise(chapter: &str, dir: &Path, text: &str) -> Vec<String> {
    let Some(exercise) = text.lines().position(|l| l.trim() == "## Exercise") else {
        return Vec::new(); // a missing section is reported on its own
    };
    // `shown[i]`: line i (from 0) is in plain view before the exercise.
    let mut depth = 0usize;
    let shown: Vec<bool> = text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            depth += l.matches("<details").count();
            let inside = depth > 0;
            depth = depth.saturating_sub(l.matches("</details>").count());
            i < exercise && !inside
        })
        .collect();
    let mut found: Vec<(usize, String)> = Vec::new();
    for inc in includes(Path::new(chapter), text) {
        if !shown[inc.line - 1] || inc.path.starts_with(&format!("{GENERATED}/")) {
            continue;
        }
        let Ok(code) = std::fs::read_to_string(dir.join(&inc.path)) else {
            continue; // reported as a missing file
        };
        let fixed = fixed_parts(Path::new(&inc.path), &code);
        match &inc.anchor {
            Some(anchor) if fixed.anchors.contains(anchor) => found.push((
                inc.line,
                format!("includes the fixed anchor '{anchor}' of {}", inc.path),
            )),
            None if fixed.whole_file => {
                found.push((inc.line, format!("includes the fixed file {}", inc.path)));
            }
            _ => {}
        }
    }
    for (i, line) in text.lines().enumerate() {
        for reference in generated_references(line) {
            if shown[i] && shows_fixed_run(&reference) {
                let what = if reference.ends_with(".md") {
                    "whose rows name the fixed runs"
                } else {
                    "a fixed run's timeline"
                };
                found.push((i + 1, format!("shows {reference}, {what},")));
            }
        }
    }
    found.sort();
    found
        .into_iter()
        .map(|(line, what)| {
            format!(
                "book/src/{chapter}:{line} {what} before the \"## Exercise\" heading (line {}): move it after the exercise, inside a collapsed <details> block, so the learner tries before seeing the answer",
                exercise + 1
            )
        })
        .collect()
}

/// The generated files a chapter refers to (timelines and fact tables).
pub fn generated_references(text: &str) -> Vec<String> {
    let needle = format!("{GENERATED}/");
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find(&needle) {
        let tail = &rest[i..];
        let end = tail
            .find(|c: char| c == ')' || c == '}' || c == '"' || c.is_whitespace())
            .unwrap_or(tail.len());
        out.push(tail[..end].to_string());
        rest = &tail[end..];
    }
    out
}

/// The SVG of one run: `lesson-05-report-fixed.svg`, or with the
/// piece when a variant has several: `lesson-05-report-fixed-interval.svg`.
pub fn svg_name(lesson: &Lesson, scenario: &str, variant: &Variant, piece: &str) -> String {
    if piece.is_empty() {
        format!("{}-{scenario}-{}.svg", lesson.id, variant.name())
    } else {
        format!("{}-{scenario}-{}-{piece}.svg", lesson.id, variant.name())
    }
}

/// The quiz made from a lesson's predictions: `lesson-05-predictions.toml`.
pub fn predictions_quiz_name(lesson: &Lesson) -> String {
    format!("{}-predictions.toml", lesson.id)
}

/// A lesson's predictions as an mdbook-quiz file: for each scenario, a
/// multiple-choice question about its broken program, whose answer the
/// manifest's reader has already held to the broken claim.
pub fn predictions_quiz(lesson: &Lesson) -> String {
    let s = |text: &str| serde_json::to_string(text).expect("a string serialises");
    let mut out = format!(
        "# Made by `cargo xtask book` from the predictions in {}'s manifest.\n",
        lesson.id
    );
    for scenario in &lesson.scenarios {
        let Some(p) = &scenario.prediction else {
            continue;
        };
        let (_, right) = p.right();
        let distractors: Vec<String> = p
            .answers
            .iter()
            .filter(|a| !a.right)
            .map(|a| s(&a.say))
            .collect();
        out.push_str(&format!(
            "\n[[questions]]\nid = {}\ntype = \"MultipleChoice\"\nprompt.prompt = {}\nprompt.distractors = [{}]\nanswer.answer = {}\ncontext = {}\n",
            s(&format!("{}-{}-predict", lesson.id, scenario.name)),
            s(&format!(
                "Scenario `{}`, the broken program. {}",
                scenario.name, p.question
            )),
            distractors.join(", "),
            s(&right.say),
            s(&format!("{} {}", right.why, p.timeline)),
        ));
        if !p.timeline_wrong.is_empty() {
            let wrong: Vec<String> = p.timeline_wrong.iter().map(|t| s(t)).collect();
            // "In the timeline, the producer finishes..." reads as the
            // answer by its form alone: the answer says what is seen, as
            // the distractors do.
            let seen = p.timeline.strip_prefix("In the timeline, ").map_or_else(
                || p.timeline.clone(),
                |rest| {
                    let mut c = rest.chars();
                    c.next()
                        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                        .unwrap_or_default()
                },
            );
            out.push_str(&format!(
                "\n[[questions]]\nid = {}\ntype = \"MultipleChoice\"\nprompt.prompt = {}\nprompt.distractors = [{}]\nanswer.answer = {}\ncontext = {}\n",
                s(&format!("{}-{}-timeline", lesson.id, scenario.name)),
                s(&format!(
                    "Scenario `{}`, the broken program: what will its timeline show?",
                    scenario.name
                )),
                wrong.join(", "),
                s(&seen),
                s(&right.why),
            ));
        }
    }
    out
}

pub fn facts_name(lesson: &Lesson) -> String {
    format!("{}-facts.md", lesson.id)
}

/// One row of a lesson's table of measured facts.
pub fn facts_row(scenario: &str, label: &str, expect: &Expect, j: &Judgement) -> String {
    let verdict = if j.skipped() {
        "skipped on this machine"
    } else if j.ok() {
        "as predicted"
    } else {
        "**not as predicted**"
    };
    format!(
        "| {scenario} | {label} | {} | {} | {verdict} |",
        expect.describe().replace('|', "\\|"),
        j.observed_summary(expect).replace('|', "\\|"),
    )
}

pub const FACTS_HEADER: &str = "| scenario | variant | the lesson predicts | measured when this book was built | verdict |\n|---|---|---|---|---|";

/// A table of every fact one scenario's runs measured, fact by fact: the
/// numbers behind the verdicts. `runs` are (label, facts) in run order.
pub fn all_facts_table(scenario: &str, runs: &[(String, Vec<(String, f64)>)]) -> String {
    use shared::view::number::format_value;
    let mut names: Vec<&String> = runs
        .iter()
        .flat_map(|(_, f)| f.iter().map(|(n, _)| n))
        .collect();
    let mut seen = std::collections::HashSet::new();
    names.retain(|n| seen.insert(*n));
    let value = |facts: &[(String, f64)], name: &str| {
        facts
            .iter()
            .find(|(n, _)| n == name)
            .map_or_else(|| "·".to_string(), |(_, v)| format_value(*v))
    };
    let header: Vec<&str> = runs.iter().map(|(l, _)| l.as_str()).collect();
    let mut out = format!(
        "\n**Every fact measured in the `{scenario}` scenario:**\n\n| fact | {} |\n|---|{}\n",
        header.join(" | "),
        "---:|".repeat(runs.len())
    );
    for name in names {
        let cells: Vec<String> = runs.iter().map(|(_, f)| value(f, name)).collect();
        out.push_str(&format!("| `{name}` | {} |\n", cells.join(" | ")));
    }
    out
}

/// The oldest mdBook the book builds with.
pub const MDBOOK_MIN: (u32, u32, u32) = (0, 5, 0);

/// `mdbook v0.4.52` → (0, 4, 52).
pub fn parse_mdbook_version(text: &str) -> Option<(u32, u32, u32)> {
    let v = text
        .trim()
        .strip_prefix("mdbook")?
        .trim()
        .trim_start_matches('v');
    let mut parts = v.split(['.', '-', '+']).map(|p| p.parse::<u32>());
    Some((
        parts.next()?.ok()?,
        parts.next()?.ok()?,
        parts.next()?.ok()?,
    ))
}

fn version_of(exe: &Path) -> Option<String> {
    let out = Command::new(exe).arg("--version").output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The mdbook to use: one already installed, if it is recent enough, or the
/// project's own copy under `target/tools`, installed (after saying so) the
/// first time. An mdbook of the learner's is never replaced.
pub fn mdbook(ws: &Workspace) -> Result<PathBuf, Failure> {
    let ours = ws.target_dir.join("tools").join("bin").join("mdbook");
    let candidates = [
        PathBuf::from("mdbook"),
        cargo_home().map_or_else(|| PathBuf::from("mdbook"), |h| h.join("bin").join("mdbook")),
        ours.clone(),
    ];
    let (a, b, c) = MDBOOK_MIN;
    let mut too_old = None;
    for candidate in &candidates {
        let Some(text) = version_of(candidate) else {
            continue;
        };
        match parse_mdbook_version(&text) {
            Some(v) if v >= MDBOOK_MIN => {
                println!("Using {text} ({}).", candidate.display());
                return Ok(candidate.clone());
            }
            _ => {
                too_old.get_or_insert(format!("{text} ({})", candidate.display()));
            }
        }
    }
    if let Some(old) = &too_old {
        println!("Found {old}, but the book needs mdbook {a}.{b}.{c} or newer; it stays as it is.");
    } else {
        println!("mdbook is not installed.");
    }
    install_tool(
        ws,
        "mdbook",
        MDBOOK_VERSION,
        &["--no-default-features", "--features", "search"],
        "This downloads it from crates.io once and takes a minute or two",
        &format!("install mdbook {a}.{b}.{c} or newer yourself"),
    )?;
    if version_of(&ours).is_none() {
        return Err(Failure::new(format!(
            "`cargo install mdbook --version {MDBOOK_VERSION}` left no working mdbook in {}",
            ours.display()
        )));
    }
    Ok(ours)
}

/// The mdbook-quiz the book's quizzes are made with.
pub const MDBOOK_QUIZ_VERSION: &str = "0.5.0";

/// The folder to put first on mdbook's `PATH` so that it finds
/// `mdbook-quiz` 0.5 (its preprocessor for the quizzes): none when the one
/// already on `PATH` will do, otherwise the project's own copy under
/// `target/tools`, installed (after saying so) the first time.
pub fn mdbook_quiz(ws: &Workspace) -> Result<Option<PathBuf>, Failure> {
    let bin = ws.target_dir.join("tools").join("bin");
    let ours = bin.join("mdbook-quiz");
    let fits = |exe: &Path| {
        version_of(exe).is_some_and(|v| {
            v.trim()
                .strip_prefix("mdbook-quiz")
                .is_some_and(|n| n.trim().starts_with("0.5."))
        })
    };
    if fits(Path::new("mdbook-quiz")) {
        return Ok(None);
    }
    if fits(&ours) {
        return Ok(Some(bin));
    }
    println!("The book's quizzes need mdbook-quiz {MDBOOK_QUIZ_VERSION}.");
    install_tool(
        ws,
        "mdbook-quiz",
        MDBOOK_QUIZ_VERSION,
        &[],
        "This downloads it from crates.io once and takes a few minutes",
        &format!("install mdbook-quiz {MDBOOK_QUIZ_VERSION} yourself"),
    )?;
    if !fits(&ours) {
        return Err(Failure::new(format!(
            "`cargo install mdbook-quiz --version {MDBOOK_QUIZ_VERSION}` left no working mdbook-quiz in {}",
            ours.display()
        )));
    }
    Ok(Some(bin))
}

/// Installs `name` at `version` for this project only, into
/// `target/tools`, after saying so (`takes`: how long it takes). `yourself`
/// says what to do instead if it fails (offline, say).
fn install_tool(
    ws: &Workspace,
    name: &str,
    version: &str,
    extra: &[&str],
    takes: &str,
    yourself: &str,
) -> Result<(), Failure> {
    let root_text = ws.target_dir.join("tools").display().to_string();
    let mut args = vec!["install", name, "--version", version, "--locked"];
    args.extend_from_slice(extra);
    args.extend(["--root", root_text.as_str()]);
    println!(
        "Installing {name} {version} for this project only, into {root_text}, with:\n  cargo {}\n{takes}; nothing else of yours changes.",
        args.join(" ")
    );
    let status = Command::new(crate::lessons::cargo())
        .args(&args)
        .status()
        .map_err(|e| Failure::new(format!("could not run cargo install: {e}")))?;
    if crate::process::interrupted() {
        return Err(Failure::interrupted());
    }
    if !status.success() {
        return Err(Failure::new(format!(
            "`cargo install {name} --version {version}` failed; cargo's messages above say why (offline? {yourself} and run this again)"
        )));
    }
    Ok(())
}

fn cargo_home() -> Option<PathBuf> {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
}

/// Checks every lesson chapter's generated references exist.
pub fn check_generated(book_src: &Path, ws: &Workspace) -> Vec<String> {
    let mut problems = Vec::new();
    for lesson in &ws.lessons {
        let Ok(text) = std::fs::read_to_string(book_src.join(&lesson.chapter)) else {
            continue;
        };
        for reference in generated_references(&text) {
            if !book_src.join(&reference).exists() {
                problems.push(format!(
                    "book/src/{} refers to {reference}, which no real run produced (is the scenario or variant named right?)",
                    lesson.chapter
                ));
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn include_directives_are_found_with_their_anchors() {
        let text = "intro\n```rust\n{{#include ../../lessons/a/src/lib.rs:block_on}}\n```\n{{#include x.rs}} and {{#include y.rs:3:9}} {{#rustdoc_include z.rs:anchor}}\n{{#title no}}";
        let found = includes(Path::new("ch.md"), text);
        let summary: Vec<(usize, &str, Option<&str>)> = found
            .iter()
            .map(|i| (i.line, i.path.as_str(), i.anchor.as_deref()))
            .collect();
        assert_eq!(
            summary,
            [
                (3, "../../lessons/a/src/lib.rs", Some("block_on")),
                (5, "x.rs", None),
                (5, "y.rs", None),
                (5, "z.rs", Some("anchor")),
            ]
        );
    }

    #[test]
    fn anchors_need_a_start_and_an_end() {
        let code = "// ANCHOR: here\nfn f() {}\n// ANCHOR_END: here\n// ANCHOR: half\n";
        assert!(has_anchor(code, "here"));
        assert!(!has_anchor(code, "half"));
        assert!(!has_anchor(code, "her"));
    }

    #[test]
    fn summary_links_are_listed() {
        let summary =
            "# Summary\n[Intro](introduction.md)\n- [One](lesson-01.md)\n  - [Sub](a/b.md)\n";
        assert_eq!(
            summary_chapters(summary),
            ["introduction.md", "lesson-01.md", "a/b.md"]
        );
    }

    #[test]
    fn the_facts_table_lists_each_fact_once_with_every_run() {
        let runs = vec![
            ("broken".to_string(), vec![("polls".to_string(), 1.0)]),
            (
                "fixed (a)".to_string(),
                vec![("polls".to_string(), 2.0), ("cpu".to_string(), 0.25)],
            ),
            ("fixed (b)".to_string(), vec![("polls".to_string(), 3.0)]),
        ];
        let table = all_facts_table("delay", &runs);
        assert!(
            table.contains("| fact | broken | fixed (a) | fixed (b) |"),
            "{table}"
        );
        assert!(table.contains("| `polls` | 1 | 2 | 3 |"), "{table}");
        assert!(table.contains("| `cpu` | · | 0.25 | · |"), "{table}");
        assert_eq!(table.matches("`polls`").count(), 1);
    }

    #[test]
    fn mdbook_versions_are_read_and_compared() {
        assert_eq!(parse_mdbook_version("mdbook v0.5.4"), Some((0, 5, 4)));
        assert_eq!(parse_mdbook_version("mdbook v0.4.52\n"), Some((0, 4, 52)));
        assert_eq!(
            parse_mdbook_version("mdbook 0.4.40-alpha"),
            Some((0, 4, 40))
        );
        assert_eq!(parse_mdbook_version("something else"), None);
        assert!(parse_mdbook_version("mdbook v0.4.52").unwrap() < MDBOOK_MIN);
        assert!(parse_mdbook_version("mdbook v0.5.0").unwrap() >= MDBOOK_MIN);
    }

    #[test]
    fn generated_references_are_found() {
        let text = "![t](timelines/lesson-01-orders-broken.svg)\n{{#include timelines/lesson-01-facts.md}}";
        assert_eq!(
            generated_references(text),
            [
                "timelines/lesson-01-orders-broken.svg",
                "timelines/lesson-01-facts.md"
            ]
        );
    }

    #[test]
    fn the_predictions_quiz_of_every_lesson_is_well_formed() {
        let ws = Workspace::load().expect("cargo metadata works in tests");
        for lesson in &ws.lessons {
            let text = predictions_quiz(lesson);
            let quiz: toml::Table = toml::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
            let questions = quiz["questions"].as_array().expect("questions");
            assert!(
                questions.len() > lesson.scenarios.len(),
                "{}: a timeline question too",
                lesson.id
            );
            for q in questions {
                let answer = q["answer"]["answer"].as_str().expect("an answer");
                assert!(!answer.starts_with("In the timeline"), "{answer}");
                let distractors = q["prompt"]["distractors"].as_array().expect("distractors");
                assert!(distractors.len() >= 2);
                assert!(distractors.iter().all(|d| d.as_str() != Some(answer)));
            }
        }
    }

    #[test]
    fn the_readme_lists_every_lesson() {
        let ws = Workspace::load().expect("cargo metadata works in tests");
        let readme = std::fs::read_to_string(ws.root.join("README.md")).unwrap();
        for lesson in &ws.lessons {
            let row = format!("| {} | {} |", lesson.id, lesson.title);
            assert!(
                readme.contains(&row),
                "README.md's lesson table lacks: {row}"
            );
        }
    }

    /// A lesson's source, for the tests: a harness anchor, a broken piece,
    /// fixed pieces named and unnamed, and a fixed type declared outside
    /// `mod fixed` and re-exported by it.
    const LESSON_SRC: &str = "\
// ANCHOR: harness
pub fn harness() {}
// ANCHOR_END: harness
// ANCHOR: waiter
pub struct Waiter;
// ANCHOR_END: waiter
pub mod broken {
    // ANCHOR: broken_close
    pub fn close() { let _ = format!(\"{}\", 1); }
    // ANCHOR_END: broken_close
}
pub mod fixed {
    pub use super::Waiter as Reply;
    // ANCHOR: fixed_close
    pub fn close() {}
    // ANCHOR_END: fixed_close
    // ANCHOR: seam
    pub fn seam() {
        if true {
        }
    }
    // ANCHOR_END: seam
}
// ANCHOR: after
pub fn after() {}
// ANCHOR_END: after
";

    #[test]
    fn fixed_anchors_are_the_fixes_by_name_by_module_and_by_reexport() {
        let parts = fixed_parts(Path::new("src/lib.rs"), LESSON_SRC);
        assert!(!parts.whole_file);
        let names: Vec<&str> = parts.anchors.iter().map(String::as_str).collect();
        assert_eq!(names, ["fixed_close", "seam", "waiter"]);
        let file = fixed_parts(
            Path::new("src/bin/fixed.rs"),
            "// ANCHOR: main\n// ANCHOR_END: main\n",
        );
        assert!(file.whole_file);
        assert!(file.anchors.contains("main"));
        assert!(fixed_parts(Path::new("src/fixed/mod.rs"), "").whole_file);
        assert!(!fixed_parts(Path::new("src/bin/broken.rs"), "").whole_file);
    }

    /// A scratch book: `lessons/l/src/lib.rs` holds [`LESSON_SRC`]; the
    /// chapter `book/src/ch.md` includes from it.
    fn scratch_book(name: &str) -> PathBuf {
        let root = std::env::temp_dir().join(format!("xtask-book-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("lessons/l/src")).unwrap();
        std::fs::create_dir_all(root.join("book/src")).unwrap();
        std::fs::write(root.join("lessons/l/src/lib.rs"), LESSON_SRC).unwrap();
        root
    }

    fn fixes_in(name: &str, chapter: &str) -> Vec<String> {
        let root = scratch_book(name);
        let problems = fixes_before_exercise("ch.md", &root.join("book/src"), chapter);
        let _ = std::fs::remove_dir_all(&root);
        problems
    }

    const INC: &str = "{{#include ../../lessons/l/src/lib.rs:";

    #[test]
    fn a_fix_shown_before_the_exercise_is_named_with_its_line() {
        let chapter = format!(
            "# L\n\n```rust\n{INC}broken_close}}}}\n```\n\n```rust\n{INC}fixed_close}}}}\n```\n\n## Exercise\n\nTry it.\n"
        );
        let problems = fixes_in("before", &chapter);
        assert_eq!(problems.len(), 1, "{problems:?}");
        let p = &problems[0];
        assert!(p.starts_with("book/src/ch.md:8 includes the fixed anchor 'fixed_close' of ../../lessons/l/src/lib.rs before the \"## Exercise\" heading (line 11)"), "{p}");
        assert!(p.contains("<details>"), "{p}");
        // An unnamed piece of `mod fixed` and a re-exported type count too;
        // the harness does not.
        let chapter = format!(
            "```rust\n{INC}seam}}}}\n{INC}waiter}}}}\n{INC}harness}}}}\n```\n## Exercise\n"
        );
        let problems = fixes_in("unnamed", &chapter);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems[0].contains(":2 includes the fixed anchor 'seam'"),
            "{problems:?}"
        );
        assert!(
            problems[1].contains(":3 includes the fixed anchor 'waiter'"),
            "{problems:?}"
        );
    }

    #[test]
    fn a_fixed_run_shown_before_the_exercise_is_named_too() {
        assert!(shows_fixed_run("timelines/lesson-05-report-fixed.svg"));
        assert!(shows_fixed_run(
            "timelines/lesson-05-report-fixed-interval.svg"
        ));
        assert!(shows_fixed_run("timelines/lesson-05-facts.md"));
        assert!(!shows_fixed_run("timelines/lesson-05-report-broken.svg"));
        let chapter = "![broken](timelines/l-x-broken.svg)\n![fixed](timelines/l-x-fixed-a.svg)\n\n{{#include timelines/l-facts.md}}\n## Exercise\n![fixed](timelines/l-x-fixed.svg)\n";
        let problems = fixes_in("runs", chapter);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems[0].starts_with(
                "book/src/ch.md:2 shows timelines/l-x-fixed-a.svg, a fixed run's timeline, before"
            ),
            "{problems:?}"
        );
        assert!(
            problems[1].starts_with("book/src/ch.md:4 shows timelines/l-facts.md"),
            "{problems:?}"
        );
    }

    #[test]
    fn a_fix_folded_away_or_after_the_exercise_passes() {
        let folded = format!(
            "# L\n\n<details>\n<summary>Solution: the fix (open it after you have tried the exercise)</summary>\n\n```rust\n{INC}fixed_close}}}}\n```\n\n</details>\n\n## Exercise\n"
        );
        assert_eq!(fixes_in("folded", &folded), Vec::<String>::new());
        let after = format!("# L\n\n## Exercise\n\n```rust\n{INC}fixed_close}}}}\n```\n");
        assert_eq!(fixes_in("after", &after), Vec::<String>::new());
        // Once the block closes, the fold ends.
        let reopened = format!(
            "<details>\n\n{INC}after}}}}\n\n</details>\n\n{INC}fixed_close}}}}\n## Exercise\n"
        );
        assert_eq!(fixes_in("reopened", &reopened).len(), 1);
    }

    /// The definition against the real lessons: it catches the fixes that
    /// are not named `fixed_*`, and no broken piece or harness.
    #[test]
    fn fixed_anchors_of_the_real_lessons() {
        let ws = Workspace::load().expect("cargo metadata works in tests");
        let mut fixed = BTreeSet::new();
        let mut all = BTreeSet::new();
        for lesson in &ws.lessons {
            let mut stack = vec![lesson.dir.join("src")];
            while let Some(dir) = stack.pop() {
                for entry in std::fs::read_dir(&dir).unwrap() {
                    let path = entry.unwrap().path();
                    if path.is_dir() {
                        stack.push(path);
                        continue;
                    }
                    let code = std::fs::read_to_string(&path).unwrap();
                    let parts = fixed_parts(&path, &code);
                    for name in parts.anchors {
                        fixed.insert(format!("{}:{name}", lesson.id));
                    }
                    for line in code.lines() {
                        if let Some((_, name)) = line.split_once("ANCHOR:") {
                            all.insert(format!("{}:{}", lesson.id, name.trim()));
                        }
                    }
                }
            }
        }
        for named in all
            .iter()
            .filter(|a| a.split(':').nth(1).unwrap().starts_with("fixed"))
        {
            assert!(fixed.contains(named), "{named} is not caught");
        }
        for unnamed in [
            "lesson-03:timer_delay",
            "lesson-03:trigger",
            "lesson-07:spawn_blocking",
            "lesson-07:block_in_place",
            "lesson-07:rayon_spawn",
            "lesson-07:par_iter",
            "lesson-10:reader_seam",
            "lesson-10:middle",
            "lesson-10:writer_seam",
            "lesson-10:shutdown",
        ] {
            assert!(
                fixed.contains(unnamed),
                "{unnamed} is not caught: {fixed:?}"
            );
        }
        for not_fixed in [
            "lesson-01:block_on",
            "lesson-03:executor",
            "lesson-03:count_polls",
            "lesson-03:moved",
            "lesson-07:current_thread",
            "lesson-09:worker_loop",
        ] {
            assert!(all.contains(not_fixed), "{not_fixed} is no anchor any more");
            assert!(!fixed.contains(not_fixed), "{not_fixed} is caught as fixed");
        }
        let broken: Vec<&String> = fixed.iter().filter(|a| a.contains(":broken")).collect();
        assert!(
            broken.is_empty(),
            "broken anchors caught as fixed: {broken:?}"
        );
    }

    /// The real book against the real lessons: renaming an anchor in a
    /// lesson without updating its chapter fails here, naming both; so does
    /// a chapter that shows a fix before its exercise. Every chapter passes
    /// every check but the quoted names (see below).
    #[test]
    fn the_book_includes_only_code_that_exists_and_covers_every_lesson() {
        let ws = Workspace::load().expect("cargo metadata works in tests");
        // The quoted names are checked by `cargo xtask book`, which builds
        // the lessons to learn their facts.
        let problems = check_sources(&ws.root.join("book").join("src"), &ws.lessons, None);
        assert!(
            problems.is_empty(),
            "the book has drifted from the code:\n  {}",
            problems.join("\n  ")
        );
    }
}

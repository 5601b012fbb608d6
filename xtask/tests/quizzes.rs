//! The book's quizzes cannot lie.
//!
//! Every chapter ends with a quiz (mdbook-quiz's format, in
//! `book/quizzes/lesson-NN.toml`). This test reads each one and:
//!
//! - for a question that shows a program (a multiple-choice question with
//!   a ```` ```rust ```` block in its prompt: what happens when it runs?),
//!   builds the program with the lesson and its dependencies, in a crate of
//!   its own under `target/snippets`, runs it, and compares what happened
//!   with the answer: the output in its ```` ```text ```` block, or "It does
//!   not compile." with the error code its explanation names. No
//!   distractor may show the real output.
//! - for every question, checks the form mdbook-quiz needs: an id of its
//!   own (so building the book never rewrites the file), a prompt, an
//!   answer, and an explanation (`context`); a multiple-choice answer that
//!   is not among its distractors.
//!
//! (mdbook-quiz's own "Tracing" questions are checked by mdbook-quiz with a
//! plain `rustc` of the 2015 edition and no crates, which cannot build an
//! `async` program; so the programs here are in multiple-choice questions,
//! checked by this test instead.)
//!
//! The questions about what the lesson's own broken programs do are not in
//! these files: `cargo xtask book` makes them from each scenario's
//! prediction, which the manifest's reader holds to the broken claim.

mod common;

use common::{compile_bins, packages, run, workspace};
use serde::Deserialize;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Quiz {
    questions: Vec<Question>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Question {
    id: Option<String>,
    #[serde(rename = "type")]
    kind: String,
    prompt: toml::Table,
    answer: toml::Table,
    context: Option<String>,
}

/// A program a Tracing question shows, and what the quiz says it does.
struct Traced {
    at: String,
    name: String,
    program: String,
    compiles: bool,
    stdout: Option<String>,
    /// The explanation, which names the error code of a program that
    /// does not compile.
    context: String,
    /// The outputs the distractors show.
    wrong_outputs: Vec<String>,
    /// The answer says it panics (after printing `stdout`, if any).
    panics: bool,
}

/// The text of the first ```` ```lang ```` block in `markdown`.
fn block(markdown: &str, lang: &str) -> Option<String> {
    let fence = format!("```{lang}\n");
    let start = markdown.find(&fence)? + fence.len();
    let end = markdown[start..].find("```")?;
    Some(markdown[start..start + end].to_string())
}

const REFUSED: &str = "It does not compile";
const PANICS: &str = "It panics";

fn text<'a>(table: &'a toml::Table, key: &str) -> Option<&'a str> {
    table.get(key).and_then(toml::Value::as_str)
}

/// What is wrong with the form of one question.
fn form_problems(q: &Question, ids: &mut BTreeSet<String>) -> Vec<String> {
    let mut wrong = Vec::new();
    match &q.id {
        Some(id) if !ids.insert(id.clone()) => {
            wrong.push(format!("a second question with id {id}"))
        }
        Some(_) => {}
        None => wrong.push("no id (mdbook-quiz would write one into the file)".into()),
    }
    if q.context.as_deref().is_none_or(|c| c.trim().is_empty()) {
        wrong.push("no context: say why the answer is the answer".into());
    }
    match q.kind.as_str() {
        "Tracing" => {
            if text(&q.prompt, "program").is_none() {
                wrong.push("a Tracing question needs prompt.program".into());
            }
            match q.answer.get("doesCompile").and_then(toml::Value::as_bool) {
                None => wrong.push("a Tracing question needs answer.doesCompile".into()),
                Some(true) if text(&q.answer, "stdout").is_none() => {
                    wrong.push("a program that compiles needs answer.stdout".into())
                }
                Some(_) => {}
            }
        }
        "MultipleChoice" => {
            let answer = text(&q.answer, "answer");
            let distractors: Vec<&str> = q
                .prompt
                .get("distractors")
                .and_then(toml::Value::as_array)
                .map(|d| d.iter().filter_map(toml::Value::as_str).collect())
                .unwrap_or_default();
            if text(&q.prompt, "prompt").is_none() || answer.is_none() {
                wrong
                    .push("a MultipleChoice question needs prompt.prompt and answer.answer".into());
            }
            if distractors.len() < 2 {
                wrong.push("give at least two distractors".into());
            }
            if answer.is_some_and(|a| distractors.contains(&a)) {
                wrong.push("the answer is also a distractor".into());
            }
        }
        "ShortAnswer" => {
            if text(&q.prompt, "prompt").is_none() || text(&q.answer, "answer").is_none() {
                wrong.push("a ShortAnswer question needs prompt.prompt and answer.answer".into());
            }
        }
        other => wrong.push(format!("unknown question type {other}")),
    }
    wrong
}

/// The error codes (`E0382`) a text names.
fn codes_in(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| {
            w.len() == 5 && w.starts_with('E') && w[1..].chars().all(|c| c.is_ascii_digit())
        })
        .map(String::from)
        .collect()
}

/// What is wrong with what a Tracing question says of its program, given
/// the codes of the errors the compiler gave and, if it was built, how its
/// run went.
fn tracing_problems(
    t: &Traced,
    errors: &[Option<String>],
    output: Option<(bool, String)>,
) -> Vec<String> {
    let compiled = errors.is_empty() && output.is_some();
    if compiled != t.compiles {
        return vec![format!(
            "it says the program {} compile, but it {}",
            if t.compiles { "does" } else { "does not" },
            if compiled { "does" } else { "does not" }
        )];
    }
    if !t.compiles {
        if t.wrong_outputs.iter().any(|d| d == REFUSED) {
            return vec!["a distractor also says it does not compile".into()];
        }
        // Not compiling for the reason the explanation gives: the code it
        // names must be one the compiler gave (a typo would give another).
        let named = codes_in(&t.context);
        let given: BTreeSet<String> = errors.iter().flatten().cloned().collect();
        if named.is_empty() {
            return vec![
                "its explanation names no error code (E0382...) for why it does not compile".into(),
            ];
        }
        if named != given {
            return vec![format!(
                "its explanation names the error codes {named:?}, the compiler gives {given:?}"
            )];
        }
        return Vec::new();
    }
    let (Some(expected), Some((ok, printed))) = (&t.stdout, output) else {
        return Vec::new();
    };
    let mut wrong = Vec::new();
    if ok == t.panics {
        wrong.push(if t.panics {
            "it says the program panics, but it ran to its end".into()
        } else {
            "the program failed when run (a panic, or a timeout)".into()
        });
    }
    if printed.trim_end() != expected.trim_end() {
        wrong.push(format!(
            "it says the program prints {:?}, but it printed {:?}",
            expected.trim_end(),
            printed.trim_end()
        ));
    }
    if t.wrong_outputs
        .iter()
        .any(|d| d.trim_end() == printed.trim_end())
    {
        wrong.push("a distractor shows what the program really prints".into());
    }
    wrong
}

/// Runs a built program, for at most 20 s.
fn run_program(exe: &Path) -> (bool, String) {
    let out = run(Command::new(exe), Duration::from_secs(20));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn every_quiz_answer_is_what_the_program_does() {
    let quizzes = workspace().join("book").join("quizzes");
    let mut wrong = Vec::new();
    let mut checked = 0;
    let mut ids = BTreeSet::new();
    for package in packages() {
        let lesson = package["name"].as_str().expect("a name").to_string();
        let path = quizzes.join(format!("{lesson}.toml"));
        let Ok(source) = std::fs::read_to_string(&path) else {
            continue;
        };
        let quiz: Quiz = match toml::from_str(&source) {
            Ok(q) => q,
            Err(e) => {
                wrong.push(format!("{}: {e}", path.display()));
                continue;
            }
        };
        let mut traced = Vec::new();
        for (i, q) in quiz.questions.iter().enumerate() {
            let at = format!("{} question {}", path.display(), i + 1);
            for p in form_problems(q, &mut ids) {
                wrong.push(format!("{at}: {p}"));
            }
            let program = text(&q.prompt, "prompt").and_then(|p| block(p, "rust"));
            if let (Some(program), "MultipleChoice") = (program, q.kind.as_str()) {
                let answer = text(&q.answer, "answer").unwrap_or_default();
                let panics = answer.starts_with(PANICS);
                let stdout = block(answer, "text").or_else(|| panics.then(String::new));
                if stdout.is_none() && !answer.starts_with(REFUSED) {
                    wrong.push(format!(
                        "{at}: the answer to a program question is its output (a ```text block), \"{PANICS}...\" or \"{REFUSED}.\""
                    ));
                }
                let wrong_outputs = q
                    .prompt
                    .get("distractors")
                    .and_then(toml::Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(toml::Value::as_str)
                    .filter_map(|d| {
                        if d.starts_with(REFUSED) {
                            Some(REFUSED.to_string())
                        } else {
                            // Only a distractor that shows an output can
                            // be compared with the real one.
                            block(d, "text")
                        }
                    })
                    .collect();
                traced.push(Traced {
                    name: format!("{}_q{}", lesson.replace('-', "_"), i + 1),
                    program,
                    compiles: stdout.is_some(),
                    panics,
                    stdout,
                    context: q.context.clone().unwrap_or_default(),
                    wrong_outputs,
                    at,
                });
            }
            checked += 1;
        }
        if traced.is_empty() {
            continue;
        }
        let bins: Vec<(String, String)> = traced
            .iter()
            .map(|t| (t.name.clone(), t.program.clone()))
            .collect();
        let compiled = compile_bins(&package, "quizzes", &bins, true);
        for t in &traced {
            let errors: Vec<Option<String>> = compiled
                .errors
                .get(&t.name)
                .map(|e| e.iter().map(|e| e.code.clone()).collect())
                .unwrap_or_default();
            let output = compiled.exes.get(&t.name).map(|exe| run_program(exe));
            for p in tracing_problems(t, &errors, output) {
                wrong.push(format!("{}: {p}", t.at));
            }
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
    println!("{checked} quiz questions checked");
}

#[test]
fn every_chapter_ends_with_its_quiz() {
    let book = workspace().join("book").join("src");
    let mut wrong = Vec::new();
    for package in packages() {
        let lesson = package["name"].as_str().expect("a name");
        let Some(chapter) = package["metadata"]["lesson"]["chapter"].as_str() else {
            continue;
        };
        let text = std::fs::read_to_string(book.join(chapter)).unwrap_or_default();
        let made = format!("{{{{#quiz timelines/{lesson}-predictions.toml}}}}");
        if !text.contains(&made) {
            wrong.push(format!("{chapter} does not include {made}"));
        }
        let own = workspace()
            .join("book")
            .join("quizzes")
            .join(format!("{lesson}.toml"));
        let written = format!("{{{{#quiz ../quizzes/{lesson}.toml}}}}");
        if !text.contains(&written) {
            wrong.push(format!("{chapter} does not include {written}"));
        }
        // At least one question shows a program from the lesson's world
        // and asks what it does.
        let quiz = std::fs::read_to_string(&own).unwrap_or_default();
        if !quiz.contains("```rust") {
            wrong.push(format!(
                "{} has no question that shows a program",
                own.display()
            ));
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

fn refused_clone(t: &Traced) -> Traced {
    Traced {
        at: t.at.clone(),
        name: t.name.clone(),
        program: t.program.clone(),
        compiles: t.compiles,
        stdout: t.stdout.clone(),
        context: t.context.clone(),
        wrong_outputs: t.wrong_outputs.clone(),
        panics: t.panics,
    }
}

#[test]
fn a_program_question_is_read_from_its_markdown() {
    let prompt = "What happens?\n\n```rust\nfn main() {}\n```\n";
    assert_eq!(block(prompt, "rust").as_deref(), Some("fn main() {}\n"));
    assert_eq!(
        block("It prints:\n\n```text\n1\n```", "text").as_deref(),
        Some("1\n")
    );
    assert_eq!(block("no code", "rust"), None);
}

#[test]
fn a_wrong_recorded_answer_is_a_problem() {
    let t = Traced {
        at: "here".into(),
        name: "x".into(),
        program: String::new(),
        compiles: true,
        stdout: Some("1\n2\n".into()),
        context: String::new(),
        wrong_outputs: vec!["2\n1\n".into()],
        panics: false,
    };
    assert!(tracing_problems(&t, &[], Some((true, "1\n2\n".into()))).is_empty());
    assert!(!tracing_problems(&t, &[], Some((true, "2\n1\n".into()))).is_empty());
    assert!(!tracing_problems(&t, &[Some("E0382".into())], None).is_empty());
    let refused = Traced {
        compiles: false,
        stdout: None,
        context: "error E0382: the waker was moved".into(),
        ..t
    };
    assert!(tracing_problems(&refused, &[Some("E0382".into())], None).is_empty());
    assert!(!tracing_problems(&refused, &[], Some((true, String::new()))).is_empty());
    // A distractor that is what really happens.
    let lying = Traced {
        wrong_outputs: vec!["2\n1\n".into()],
        stdout: Some("2\n1\n".into()),
        compiles: true,
        context: String::new(),
        ..refused_clone(&refused)
    };
    assert!(!tracing_problems(&lying, &[], Some((true, "2\n1\n".into()))).is_empty());
    // A panic, said and not said.
    let panicking = Traced {
        panics: true,
        stdout: Some(String::new()),
        compiles: true,
        wrong_outputs: vec![],
        ..refused_clone(&refused)
    };
    assert!(tracing_problems(&panicking, &[], Some((false, String::new()))).is_empty());
    assert!(!tracing_problems(&panicking, &[], Some((true, String::new()))).is_empty());
    // It fails to compile, but for another reason (a typo).
    let typo = tracing_problems(&refused, &[Some("E0425".into())], None);
    assert!(typo[0].contains("E0425"), "{typo:?}");
}

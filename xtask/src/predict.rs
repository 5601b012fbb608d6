//! Predict, then run: before a scenario's broken program first runs in
//! front of a learner, `cargo xtask run` asks what it will do, waits for
//! one key, and after the run says what was predicted and what the run
//! showed.
//!
//! It asks only when both standard input and output are a terminal, never
//! with `--no-predict`, and once per scenario: the first answer is kept in
//! the lesson's progress file (a later run has already shown the answer).

// Two libc calls: tcgetattr and tcsetattr, to read one key without Enter.
#![allow(unsafe_code)]

use crate::Failure;
use crate::lessons::{Lesson, Scenario};
use crate::progress::Progress;
use crate::ui::Paint;
use shared::contract::manifest::{Prediction, letter};
use shared::grade::{Judgement, Verdict};
use std::io::{IsTerminal, Read, Write};

/// Whether to ask: a learner is at a terminal, and did not say no.
pub fn wanted(no_predict: bool) -> bool {
    !no_predict && std::io::stdin().is_terminal() && std::io::stdout().is_terminal()
}

/// Asks `scenario`'s question if it has one that this learner has not yet
/// answered. Returns the answer chosen (by index), or `None` when nothing
/// was asked or the learner skipped it.
pub fn ask(lesson: &Lesson, scenario: &Scenario) -> Result<Option<usize>, Failure> {
    let Some(p) = &scenario.prediction else {
        return Ok(None);
    };
    if Progress::load(lesson)
        .predictions
        .contains_key(&scenario.name)
    {
        return Ok(None);
    }
    let paint = Paint::stdout();
    println!();
    println!(
        "{}",
        paint.wrap("1", &wrap(&format!("? Predict first: {}", p.question), ""))
    );
    for (i, a) in p.answers.iter().enumerate() {
        println!("{}", wrap(&format!("  {}) {}", letter(i), a.say), "     "));
    }
    let keys: String = (0..p.answers.len()).map(letter).collect();
    let chosen = loop {
        print!(
            "Press {} (Enter to skip): ",
            keys.chars()
                .map(String::from)
                .collect::<Vec<_>>()
                .join(", ")
        );
        let _ = std::io::stdout().flush();
        match read_key() {
            None | Some(b'\n' | b'\r') => {
                println!();
                println!("(skipped)");
                return Ok(None);
            }
            Some(k) => {
                println!();
                let k = (k as char).to_ascii_lowercase();
                if let Some(i) = keys.find(k) {
                    break i;
                }
            }
        }
    };
    Progress::update(lesson, |progress| {
        progress
            .predictions
            .entry(scenario.name.clone())
            .or_insert_with(|| crate::progress::Predicted {
                chose: letter(chosen).to_string(),
                right: p.answers[chosen].right,
            });
    })?;
    println!("You predicted {}). Now the run:", letter(chosen));
    Ok(Some(chosen))
}

/// After the broken run: what was predicted, what the run showed, and why.
pub fn compare(p: &Prediction, chosen: usize, j: &Judgement) {
    let paint = Paint::stdout();
    let (right, answer) = p.right();
    println!();
    let ran_as_claimed = j.verdict() == Verdict::Ok;
    let shown = p.shown_by(j);
    let mine = &p.answers[chosen];
    let you = wrap(
        &format!("You predicted {}) {}", letter(chosen), mine.say),
        "  ",
    );
    if chosen == right {
        println!("{}", paint.wrap("32", &format!("✔ {you}")));
    } else {
        println!("{}", paint.wrap("33", &format!("✘ {you}")));
        println!("{}", wrap(&format!("  Not so: {}", mine.why), "  "));
    }
    let showed = if ran_as_claimed && shown.contains(&right) {
        "The run showed"
    } else {
        // The verdict above says how this run differed from the claim.
        "The lesson claims (though this run did not show it, as its verdict says)"
    };
    println!(
        "{}",
        wrap(
            &format!("{showed} {}) {} {}", letter(right), answer.say, answer.why),
            "  "
        )
    );
    println!("{}", wrap(p.timeline.as_str(), ""));
}

/// `text` broken into lines of at most 78 characters at spaces, each line
/// after the first starting with `indent`.
fn wrap(text: &str, indent: &str) -> String {
    const WIDTH: usize = 78;
    let lead: String = text.chars().take_while(|c| c.is_whitespace()).collect();
    let mut out = String::new();
    let mut line = lead;
    let mut fresh = true;
    for word in text.split_whitespace() {
        let len = line.chars().count();
        if !fresh && len + 1 + word.chars().count() > WIDTH {
            out.push_str(&line);
            out.push('\n');
            line = indent.to_string();
            fresh = true;
        }
        if !fresh {
            line.push(' ');
        }
        line.push_str(word);
        fresh = false;
    }
    out.push_str(&line);
    out
}

/// One key from the terminal, without waiting for Enter; `None` at the end
/// of input. The terminal's line mode is restored before it returns (echo
/// stays on throughout, so a terminal left by a kill still shows typing).
fn read_key() -> Option<u8> {
    let fd = libc::STDIN_FILENO;
    // SAFETY: an all-zero termios is a valid value to be overwritten, and
    // tcgetattr only writes into it.
    let mut saved: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: `saved` is valid and writable for the call.
    let raw = unsafe { libc::tcgetattr(fd, &mut saved) } == 0;
    if raw {
        let mut one = saved;
        one.c_lflag &= !libc::ICANON;
        one.c_cc[libc::VMIN] = 1;
        one.c_cc[libc::VTIME] = 0;
        // SAFETY: `one` is a valid termios copied from the terminal's own.
        unsafe { libc::tcsetattr(fd, libc::TCSANOW, &one) };
    }
    let mut byte = [0u8; 1];
    let got = std::io::stdin().lock().read(&mut byte);
    if raw {
        // SAFETY: as above, with the settings read at the start.
        unsafe { libc::tcsetattr(fd, libc::TCSANOW, &saved) };
    }
    match got {
        Ok(1) => Some(byte[0]),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_is_wrapped_at_spaces_with_an_indent() {
        let text = format!("  a) {}", "word ".repeat(30));
        let wrapped = wrap(&text, "     ");
        let lines: Vec<&str> = wrapped.lines().collect();
        assert!(lines.len() > 1, "{wrapped}");
        assert!(lines.iter().all(|l| l.chars().count() <= 78), "{wrapped}");
        assert!(lines[0].starts_with("  a) word"), "{wrapped}");
        assert!(lines[1].starts_with("     word"), "{wrapped}");
        assert_eq!(wrap("short", ""), "short");
    }

    #[test]
    fn nothing_is_asked_with_no_predict() {
        assert!(!wanted(true));
    }
}

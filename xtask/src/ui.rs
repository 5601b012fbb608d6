//! How the runner talks: colour when the terminal wants it, arguments shown
//! safely in errors, and the labels and marks of runs and verdicts.

use crate::lessons::Variant;
use shared::grade::Verdict;
use std::io::IsTerminal;

/// An argument as an error message shows it: quoted, on one line (a
/// newline or other control character is escaped), and at most 40
/// characters (a pasted paragraph is cut, saying how long it was).
pub fn shown(arg: &str) -> String {
    const MOST: usize = 40;
    let count = arg.chars().count();
    let cut: String = arg.chars().take(MOST).collect();
    let quoted: String = cut.chars().flat_map(char::escape_debug).collect();
    if count > MOST {
        format!("'{quoted}…' ({count} characters)")
    } else {
        format!("'{quoted}'")
    }
}

/// Whether to colour what goes to stdout: only on a terminal that can
/// show colour, and never when `NO_COLOR` is set (no-color.org).
pub fn colour() -> bool {
    colour_for(
        std::io::stdout().is_terminal(),
        std::env::var_os("NO_COLOR").is_some(),
        std::env::var("TERM").ok().as_deref(),
    )
}

fn colour_for(terminal: bool, no_color: bool, term: Option<&str>) -> bool {
    terminal && !no_color && term != Some("dumb")
}

/// Colours text for stdout, or leaves it plain (see [`colour`]).
pub struct Paint {
    on: bool,
}

impl Paint {
    pub fn stdout() -> Paint {
        Paint { on: colour() }
    }

    pub fn wrap(&self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

/// The label of one run: `fixed`, `fixed (interval)`.
pub fn label(variant: &Variant, piece: &str) -> String {
    if piece.is_empty() {
        variant.name().to_string()
    } else {
        format!("{} ({piece})", variant.name())
    }
}

/// The mark and colour of a verdict.
pub fn mark(v: Verdict) -> (&'static str, &'static str) {
    match v {
        Verdict::Ok => ("✔", "32"),
        Verdict::Skipped => ("–", "33"),
        Verdict::Inconclusive => ("?", "33"),
        Verdict::Mismatch => ("✘", "31"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_only_on_a_terminal_that_wants_it() {
        assert!(colour_for(true, false, Some("xterm-256color")));
        assert!(colour_for(true, false, None));
        assert!(!colour_for(true, false, Some("dumb")));
        assert!(!colour_for(true, true, Some("xterm")));
        assert!(!colour_for(false, false, Some("xterm")));
    }

    #[test]
    fn arguments_in_errors_are_short_and_on_one_line() {
        assert_eq!(shown("5"), "'5'");
        assert_eq!(shown("5\n"), "'5\\n'");
        let long = "x".repeat(100_000);
        let s = shown(&long);
        assert!(s.len() < 80 && s.ends_with("(100000 characters)"), "{s}");
    }

    #[test]
    fn labels_name_the_piece_when_there_are_several() {
        assert_eq!(label(&Variant::Fixed, ""), "fixed");
        assert_eq!(label(&Variant::Fixed, "interval"), "fixed (interval)");
    }
}

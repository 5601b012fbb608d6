//! What a lesson binary tells the runner.
//!
//! A binary never asks the runner to read its narration. Instead it appends
//! [`Event`]s, one JSON object per line, to the file named by the environment
//! variable [`REPORT_ENV`]: timeline spans and marks as they happen, the facts
//! its harness measured, and how it ended. The runner reads the same file
//! while the child runs (so it can notice a stall) and after it exits (to
//! judge it).
//!
//! The wire format is the serde form of [`Event`], read strictly: a line
//! that is not UTF-8, not JSON, or not an event is reported as exactly that
//! ([`ReportProblem`]) and never stops the reader from going on.

use crate::event::{Event, Stall};
use crate::view::number::format_value;
use std::fmt;

/// Environment variable naming the JSON-lines report file.
pub const REPORT_ENV: &str = "LESSON_REPORT";
/// Environment variable naming the file where `--describe` writes what the
/// binary's code declares (printed when it is not set).
pub const DESCRIBE_ENV: &str = "LESSON_DESCRIBE";
/// Environment variable: milliseconds without any event before the watchdog
/// declares a stall.
pub const QUIET_ENV: &str = "LESSON_QUIET_MS";
/// Environment variable: milliseconds after which a still-running scenario is
/// stopped even if it keeps producing events.
pub const DEADLINE_ENV: &str = "LESSON_DEADLINE_MS";
/// Environment variable: set (to `1`) by `cargo xtask run --metrics`, it
/// asks a lesson that monitors its tasks to print the monitors' table.
pub const METRICS_ENV: &str = "LESSON_METRICS";
/// Exit code a lesson binary uses when its watchdog stopped it.
pub const STALL_EXIT_CODE: i32 = 3;

/// A report line that could not be read, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportProblem {
    /// The line's number, from 1.
    pub line: usize,
    pub kind: ProblemKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProblemKind {
    /// The bytes are not UTF-8 text.
    NotUtf8,
    /// Text, but not an event: serde's message and the start of the line.
    NotAnEvent { error: String, text: String },
    /// The last line has no newline: the writer stopped in the middle of it.
    Truncated { text: String },
}

impl fmt::Display for ReportProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let line = self.line;
        match &self.kind {
            ProblemKind::NotUtf8 => write!(f, "report line {line} is not UTF-8 text"),
            ProblemKind::NotAnEvent { error, text } => {
                write!(f, "report line {line} is not an event ({error}): {text}")
            }
            ProblemKind::Truncated { text } => write!(
                f,
                "report line {line} was cut off mid-write (the program stopped while writing it): {text}"
            ),
        }
    }
}

/// The start of a line, for messages: at most 80 characters.
fn excerpt(text: &str) -> String {
    let mut out: String = text.chars().take(80).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out
}

/// Reads a report as it grows, from raw bytes: complete lines become events
/// or problems; a line without its newline waits for more bytes.
#[derive(Debug, Default)]
pub struct ReportReader {
    partial: Vec<u8>,
    lines: usize,
    pub events: Vec<Event>,
    pub problems: Vec<ReportProblem>,
}

impl ReportReader {
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes the next bytes of the file; returns how many complete lines
    /// they finished (good or bad: either way the writer is alive).
    pub fn feed(&mut self, bytes: &[u8]) -> usize {
        self.partial.extend_from_slice(bytes);
        // Take every complete line, then drop them from the front at once:
        // draining line by line moves the rest each time, which is
        // quadratic in a chunk of many lines (a spinning program's report).
        let partial = std::mem::take(&mut self.partial);
        let mut start = 0;
        let mut done = 0;
        while let Some(len) = partial[start..].iter().position(|&b| b == b'\n') {
            self.take_line(&partial[start..start + len]);
            start += len + 1;
            done += 1;
        }
        self.partial = partial;
        self.partial.drain(..start);
        done
    }

    fn take_line(&mut self, bytes: &[u8]) {
        self.lines += 1;
        let line = self.lines;
        let Ok(text) = std::str::from_utf8(bytes) else {
            self.problems.push(ReportProblem {
                line,
                kind: ProblemKind::NotUtf8,
            });
            return;
        };
        let text = text.trim_end_matches('\r');
        if text.trim().is_empty() {
            return;
        }
        match Event::parse(text) {
            Ok(event) => self.events.push(event),
            Err(error) => self.problems.push(ReportProblem {
                line,
                kind: ProblemKind::NotAnEvent {
                    error,
                    text: excerpt(text),
                },
            }),
        }
    }

    /// The writer is gone: a line still waiting for its newline was cut off.
    pub fn finish(mut self) -> (Report, Vec<ReportProblem>) {
        if !self.partial.iter().all(u8::is_ascii_whitespace) {
            self.lines += 1;
            let text = excerpt(&String::from_utf8_lossy(&self.partial));
            self.problems.push(ReportProblem {
                line: self.lines,
                kind: ProblemKind::Truncated { text },
            });
        }
        (
            Report {
                events: self.events,
            },
            self.problems,
        )
    }
}

/// Everything a report file said, gathered.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Report {
    pub events: Vec<Event>,
}

impl Report {
    /// Reads a whole report, with whatever problems its lines had.
    pub fn read(bytes: &[u8]) -> (Report, Vec<ReportProblem>) {
        let mut reader = ReportReader::new();
        reader.feed(bytes);
        reader.finish()
    }

    /// The facts, in the order first reported; a fact reported twice keeps its
    /// last value.
    pub fn facts(&self) -> Vec<(String, f64)> {
        let mut facts: Vec<(String, f64)> = Vec::new();
        for e in &self.events {
            if let Event::Fact { name, value } = e {
                match facts.iter_mut().find(|(n, _)| n == name) {
                    Some(slot) => slot.1 = *value,
                    None => facts.push((name.clone(), *value)),
                }
            }
        }
        facts
    }

    pub fn fact(&self, name: &str) -> Option<f64> {
        self.facts()
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }

    pub fn stall(&self) -> Option<&Stall> {
        self.events.iter().find_map(|e| match e {
            Event::Stall(s) => Some(s),
            _ => None,
        })
    }

    pub fn panic_message(&self) -> Option<&str> {
        self.events.iter().find_map(|e| match e {
            Event::Panic { message } => Some(message.as_str()),
            _ => None,
        })
    }

    pub fn skipped(&self) -> Option<&str> {
        self.events.iter().find_map(|e| match e {
            Event::Skip { reason } => Some(reason.as_str()),
            _ => None,
        })
    }

    pub fn ended(&self) -> bool {
        self.events.iter().any(|e| matches!(e, Event::End { .. }))
    }

    /// What makes the report unfit to judge as a whole: an event after the
    /// run's end, a second start, or a second value for a fact its harness
    /// sets once (`live` names the facts that may grow as they are
    /// measured). The recorder writes none of these; a line added by
    /// anyone else could override what the harness measured.
    pub fn closing_problems(&self, live: &[String]) -> Vec<String> {
        let mut problems = Vec::new();
        let mut starts = 0;
        let mut seen: Vec<(&str, f64)> = Vec::new();
        for (i, event) in self.events.iter().enumerate() {
            match event {
                Event::Start { .. } => {
                    starts += 1;
                    if starts == 2 {
                        problems.push(format!("the report starts a second run (event {})", i + 1));
                    }
                }
                Event::End { .. } => {
                    let after = self.events.len() - i - 1;
                    if after > 0 {
                        problems.push(format!(
                            "the report has {after} event{} after the run's end: nothing may be added once the harness has finished",
                            if after == 1 { "" } else { "s" }
                        ));
                    }
                    break;
                }
                Event::Fact { name, value } if !live.iter().any(|l| l == name) => {
                    match seen.iter().find(|(n, _)| n == name) {
                        Some((_, first)) if !same(*first, *value) => problems.push(format!(
                            "fact {name} is reported twice ({} and then {}), but its harness measures it once",
                            format_value(*first),
                            format_value(*value)
                        )),
                        Some(_) => {}
                        None => seen.push((name, *value)),
                    }
                }
                _ => {}
            }
        }
        problems
    }
}

/// Two fact values are the same value (NaN included).
fn same(a: f64, b: f64) -> bool {
    a == b || (a.is_nan() && b.is_nan())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::tests::every_kind;

    fn lines(events: &[Event]) -> String {
        events.iter().map(|e| e.to_line() + "\n").collect()
    }

    #[test]
    fn a_report_gathers_facts_stall_panic_skip_and_end() {
        let mut events = every_kind();
        events.push(Event::Fact {
            name: "ratio".into(),
            value: 0.5,
        });
        let (report, problems) = Report::read(lines(&events).as_bytes());
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(report.facts(), vec![("ratio".to_string(), 0.5)]);
        assert_eq!(report.fact("ratio"), Some(0.5));
        assert_eq!(report.fact("missing"), None);
        assert_eq!(report.stall().unwrap().after_ms, 2000);
        assert_eq!(report.panic_message(), Some("boom"));
        assert_eq!(report.skipped(), Some("needs 2 cores"));
        assert!(report.ended());
    }

    #[test]
    fn nan_and_infinite_facts_arrive_as_what_they_are_not_as_missing() {
        for value in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let line = Event::Fact {
                name: "ratio".into(),
                value,
            }
            .to_line();
            assert!(!line.contains("null"), "{line}");
            let (report, problems) = Report::read(format!("{line}\n").as_bytes());
            assert!(problems.is_empty());
            let got = report.fact("ratio").expect("reported");
            assert_eq!(got.is_nan(), value.is_nan());
            if !value.is_nan() {
                assert_eq!(got, value);
            }
        }
        assert_eq!(format_value(f64::NAN), "NaN");
        assert_eq!(format_value(f64::INFINITY), "∞");
    }

    #[test]
    fn invalid_utf8_is_named_and_the_lines_after_it_are_still_read() {
        let mut bytes = lines(&every_kind()[..1]).into_bytes();
        bytes.extend_from_slice(b"{\"t\":\"mark\",\"text\":\"\xff\xfe\"}\n");
        bytes.extend_from_slice(lines(&[Event::End { elapsed_us: 1 }]).as_bytes());
        let mut reader = ReportReader::new();
        assert_eq!(reader.feed(&bytes), 3, "three complete lines: progress");
        let (report, problems) = reader.finish();
        assert_eq!(report.events.len(), 2);
        assert!(report.ended(), "the line after the bad one was read");
        assert_eq!(
            problems,
            [ReportProblem {
                line: 2,
                kind: ProblemKind::NotUtf8
            }]
        );
        assert_eq!(problems[0].to_string(), "report line 2 is not UTF-8 text");
    }

    #[test]
    fn a_truncated_last_line_is_reported_as_cut_off_and_a_bad_line_as_not_an_event() {
        let good = Event::End { elapsed_us: 1 }.to_line();
        let (report, problems) = Report::read(format!("{good}\n{{\"t\":\"fa").as_bytes());
        assert_eq!(report.events.len(), 1);
        assert!(matches!(problems[0].kind, ProblemKind::Truncated { .. }));
        assert!(
            problems[0].to_string().contains("cut off"),
            "{}",
            problems[0]
        );

        let (report, problems) = Report::read(format!("{{\"t\":\"nope\"}}\n{good}\n").as_bytes());
        assert_eq!(report.events.len(), 1);
        assert_eq!(problems.len(), 1);
        assert!(problems[0].to_string().contains("not an event"));
    }

    #[test]
    fn a_line_split_across_reads_waits_for_its_newline() {
        let line = Event::End { elapsed_us: 7 }.to_line() + "\n";
        let (a, b) = line.as_bytes().split_at(10);
        let mut reader = ReportReader::new();
        assert_eq!(reader.feed(a), 0);
        assert_eq!(reader.feed(b), 1);
        assert_eq!(reader.events, [Event::End { elapsed_us: 7 }]);
    }

    #[test]
    fn a_chunk_of_many_lines_is_read_in_one_pass() {
        // A spinning program writes hundreds of thousands of lines, and a
        // read can bring megabytes at once. Taking lines from the front one
        // by one moved the rest each time: 56 s for 300,000 lines, and
        // about ten minutes for these million, far past the limit below.
        // One pass takes a few seconds in a debug build.
        let mut bytes = Event::End { elapsed_us: 7 }.to_line().into_bytes();
        bytes.push(b'\n');
        let mut bytes = bytes.repeat(1_000_000);
        let tail = Event::End { elapsed_us: 8 }.to_line() + "\n";
        let (head, rest) = tail.as_bytes().split_at(5);
        bytes.extend_from_slice(head);
        let rest = rest.to_vec();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = ReportReader::new();
            let first = reader.feed(&bytes);
            let second = reader.feed(&rest);
            let _ = tx.send((
                first,
                second,
                reader.events.len(),
                reader.events.last().cloned(),
            ));
        });
        let (first, second, events, last) = rx
            .recv_timeout(std::time::Duration::from_secs(120))
            .expect("a million lines read within two minutes");
        assert_eq!((first, second, events), (1_000_000, 1, 1_000_001));
        assert_eq!(last, Some(Event::End { elapsed_us: 8 }));
    }

    fn fact(name: &str, value: f64) -> Event {
        Event::Fact {
            name: name.into(),
            value,
        }
    }

    fn start() -> Event {
        every_kind().remove(0)
    }

    #[test]
    fn a_report_closed_by_its_end_has_no_closing_problems() {
        let report = Report {
            events: vec![
                start(),
                fact("ratio", 1.0),
                fact("count", 1.0),
                fact("count", 2.0),
                Event::End { elapsed_us: 5 },
            ],
        };
        assert!(report.closing_problems(&["count".into()]).is_empty());
    }

    #[test]
    fn an_event_after_the_end_is_a_closing_problem() {
        let report = Report {
            events: vec![
                start(),
                fact("ratio", 0.1),
                Event::End { elapsed_us: 5 },
                fact("ratio", 1.0),
            ],
        };
        let problems = report.closing_problems(&[]);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].contains("1 event after the run's end"),
            "{problems:?}"
        );
    }

    #[test]
    fn a_fact_set_twice_is_a_closing_problem_unless_it_is_live() {
        let report = Report {
            events: vec![
                start(),
                fact("ratio", 0.1),
                fact("ratio", 0.1),
                fact("ratio", 1.0),
                Event::End { elapsed_us: 5 },
            ],
        };
        let problems = report.closing_problems(&[]);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("fact ratio is reported twice (0.1 and then 1)"));
        assert!(report.closing_problems(&["ratio".into()]).is_empty());
    }

    #[test]
    fn a_second_start_is_a_closing_problem() {
        let report = Report {
            events: vec![start(), start(), Event::End { elapsed_us: 5 }],
        };
        assert!(report.closing_problems(&[])[0].contains("second run"));
    }
}

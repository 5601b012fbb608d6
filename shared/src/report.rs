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

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// Environment variable naming the JSON-lines report file.
pub const REPORT_ENV: &str = "LESSON_REPORT";
/// Environment variable: milliseconds without any event before the watchdog
/// declares a stall.
pub const QUIET_ENV: &str = "LESSON_QUIET_MS";
/// Environment variable: milliseconds after which a still-running scenario is
/// stopped even if it keeps producing events.
pub const DEADLINE_ENV: &str = "LESSON_DEADLINE_MS";
/// Exit code a lesson binary uses when its watchdog stopped it.
pub const STALL_EXIT_CODE: i32 = 3;

/// What a span of time on one thread was.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SpanKind {
    /// A future's `poll` was running.
    Poll,
    /// A call that blocks the thread (marked by the lesson) was running.
    Block,
}

/// A stretch of time one thread spent on one task.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Span {
    pub task: String,
    pub lane: u32,
    pub kind: SpanKind,
    pub start_us: u64,
    pub end_us: u64,
    /// Polls merged into this span (back-to-back polls of one task on one
    /// thread are drawn as one bar). Zero for a `Block` span.
    pub polls: u32,
    /// Whether the last poll in the span returned `Ready`.
    pub ready: bool,
    /// For a `Block` span: what blocked ("std::thread::sleep").
    #[serde(default)]
    pub note: Option<String>,
}

/// A moment worth pointing at: a lock taken, a timer fired, a future dropped.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mark {
    /// The task being polled when the mark was made, if any.
    #[serde(default)]
    pub task: Option<String>,
    pub lane: u32,
    pub at_us: u64,
    pub text: String,
}

/// Why the watchdog stopped a program.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StallReason {
    /// No event for the quiet period: nothing is making progress.
    Quiet,
    /// Still busy at the deadline, but never finished.
    Deadline,
}

/// A poll that started and never returned: its thread is stuck inside it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Blocked {
    pub task: String,
    pub lane: u32,
    pub since_us: u64,
}

/// A task that returned `Pending` and has not been polled since.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Waiting {
    pub task: String,
    pub polls: u32,
    /// When its last poll ended (`None` if it was never polled).
    #[serde(default)]
    pub last_poll_us: Option<u64>,
    /// When its waker was called since that poll, if it was: woken, yet
    /// never polled again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub woken_us: Option<u64>,
}

/// A task's waker was called, and later the task was polled: the link
/// between the wake-up and the poll it caused. Wakes a task gives itself
/// inside a poll that is polled again at once are not recorded one by one
/// (a spinning future would make thousands).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Wake {
    /// The task that was woken.
    pub task: String,
    /// The thread that called the waker.
    pub from_lane: u32,
    /// The task being polled on that thread when it did, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_task: Option<String>,
    pub woken_us: u64,
    /// The thread that polled the task next, and when that poll began.
    pub lane: u32,
    pub polled_us: u64,
}

/// The picture at the moment the watchdog gave up.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stall {
    pub reason: StallReason,
    pub at_us: u64,
    /// How long nothing happened (for `Quiet`) or how long it ran (for
    /// `Deadline`), in milliseconds.
    pub after_ms: u64,
    pub blocked: Vec<Blocked>,
    pub waiting: Vec<Waiting>,
}

/// One line of a report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "lowercase", deny_unknown_fields)]
pub enum Event {
    Start {
        lesson: String,
        scenario: String,
        variant: String,
        /// Which implementation of the variant ran, when it has several.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        piece: String,
    },
    Lane {
        id: u32,
        name: String,
    },
    Span(Span),
    Mark(Mark),
    Wake(Wake),
    /// Tasks whose label starts with `prefix` belong to the group `name`
    /// ("job " → "CPU jobs"): the timeline gives them one letter and colour.
    Group {
        prefix: String,
        name: String,
    },
    /// A fact the lesson's harness measured. Not-a-number and infinite
    /// values travel as the strings `"NaN"`, `"inf"` and `"-inf"`.
    Fact {
        name: String,
        #[serde(with = "any_f64")]
        value: f64,
    },
    /// The harness did not run the claim on this machine, and says why
    /// ("needs at least 2 cores").
    Skip {
        reason: String,
    },
    Stall(Stall),
    Panic {
        message: String,
    },
    End {
        elapsed_us: u64,
    },
}

/// JSON has no NaN or infinity; a fact that is one must not turn into
/// `null` and read as "not reported".
mod any_f64 {
    use super::*;

    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        if v.is_finite() {
            s.serialize_f64(*v)
        } else if v.is_nan() {
            s.serialize_str("NaN")
        } else if *v > 0.0 {
            s.serialize_str("inf")
        } else {
            s.serialize_str("-inf")
        }
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Wire {
        Number(f64),
        Text(String),
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        match Wire::deserialize(d)? {
            Wire::Number(v) => Ok(v),
            Wire::Text(t) => match t.as_str() {
                "NaN" => Ok(f64::NAN),
                "inf" => Ok(f64::INFINITY),
                "-inf" => Ok(f64::NEG_INFINITY),
                other => Err(serde::de::Error::custom(format!(
                    "a fact's value must be a number, \"NaN\", \"inf\" or \"-inf\", not \"{other}\""
                ))),
            },
        }
    }
}

impl Event {
    /// The event as one line of JSON (without the newline).
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).expect("every event serialises")
    }

    /// Reads one report line.
    pub fn parse(line: &str) -> Result<Event, String> {
        serde_json::from_str(line).map_err(|e| e.to_string())
    }
}

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
        let mut done = 0;
        while let Some(end) = self.partial.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.partial.drain(..=end).collect();
            self.take_line(&line[..line.len() - 1]);
            done += 1;
        }
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
                        problems.push(format!(
                            "the report starts a second run (event {})",
                            i + 1
                        ));
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

/// Formats a fact's value the way people write numbers: `3`, `0.25`, `10.4`,
/// with about three significant digits.
pub fn format_value(v: f64) -> String {
    format_digits(v, 3)
}

fn format_digits(v: f64, significant: usize) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "∞".into() } else { "-∞".into() };
    }
    if v.fract() == 0.0 && v.abs() < 1e15 {
        return format!("{}", v as i64);
    }
    let magnitude = if v == 0.0 {
        0
    } else {
        v.abs().log10().floor() as i32
    };
    let decimals = (significant as i32 - 1 - magnitude).max(0) as usize;
    let text = format!("{v:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// Formats `v` with enough digits that it never reads as equal to one of
/// `limits` when it is not: "0.9899" beside a bound of 0.99, never "0.99".
pub fn format_beside(v: f64, limits: &[f64]) -> String {
    for digits in 3..=15 {
        let text = format_digits(v, digits);
        let clashes = limits
            .iter()
            .any(|&l| l != v && (text == format_digits(l, digits) || text == format_value(l)));
        if !clashes {
            return text;
        }
    }
    format!("{v:e}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_kind() -> Vec<Event> {
        vec![
            Event::Start {
                lesson: "lesson-01".into(),
                scenario: "orders".into(),
                variant: "broken".into(),
                piece: String::new(),
            },
            Event::Start {
                lesson: "lesson-05".into(),
                scenario: "report".into(),
                variant: "fixed".into(),
                piece: "interval".into(),
            },
            Event::Lane {
                id: 0,
                name: "main".into(),
            },
            Event::Span(Span {
                task: "order 1".into(),
                lane: 0,
                kind: SpanKind::Poll,
                start_us: 10,
                end_us: 250,
                polls: 3,
                ready: true,
                note: None,
            }),
            Event::Span(Span {
                task: "order 2".into(),
                lane: 0,
                kind: SpanKind::Block,
                start_us: 300,
                end_us: 900,
                polls: 0,
                ready: false,
                note: Some("std::thread::sleep".into()),
            }),
            Event::Mark(Mark {
                task: None,
                lane: 0,
                at_us: 5,
                text: "lock taken".into(),
            }),
            Event::Wake(Wake {
                task: "order 1".into(),
                from_lane: 1,
                from_task: Some("timer".into()),
                woken_us: 400,
                lane: 0,
                polled_us: 420,
            }),
            Event::Group {
                prefix: "job ".into(),
                name: "CPU jobs".into(),
            },
            Event::Fact {
                name: "ratio".into(),
                value: 0.25,
            },
            Event::Skip {
                reason: "needs 2 cores".into(),
            },
            Event::Stall(Stall {
                reason: StallReason::Quiet,
                at_us: 2_000_000,
                after_ms: 2000,
                blocked: vec![Blocked {
                    task: "b".into(),
                    lane: 0,
                    since_us: 7,
                }],
                waiting: vec![
                    Waiting {
                        task: "a".into(),
                        polls: 1,
                        last_poll_us: None,
                        woken_us: None,
                    },
                    Waiting {
                        task: "c".into(),
                        polls: 2,
                        last_poll_us: Some(30),
                        woken_us: Some(40),
                    },
                ],
            }),
            Event::Panic {
                message: "boom".into(),
            },
            Event::End { elapsed_us: 99 },
        ]
    }

    fn lines(events: &[Event]) -> String {
        events.iter().map(|e| e.to_line() + "\n").collect()
    }

    #[test]
    fn every_event_survives_a_round_trip_through_json() {
        for event in every_kind() {
            let line = event.to_line();
            assert_eq!(Event::parse(&line).unwrap(), event, "line: {line}");
        }
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
        assert!(problems[0].contains("1 event after the run's end"), "{problems:?}");
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

    #[test]
    fn unknown_fields_are_not_events() {
        assert!(Event::parse(r#"{"t":"lane","id":1,"name":"x","colour":"red"}"#).is_err());
        assert!(Event::parse(r#"{"t":"fact","name":"x","value":"lots"}"#).is_err());
    }

    #[test]
    fn values_are_printed_the_way_people_write_them() {
        assert_eq!(format_value(3.0), "3");
        assert_eq!(format_value(0.25), "0.25");
        assert_eq!(format_value(10.43), "10.4");
        assert_eq!(format_value(0.8), "0.8");
        assert_eq!(format_value(0.001234), "0.00123");
        assert_eq!(format_value(1234.4), "1234");
        assert_eq!(format_value(0.0), "0");
    }

    #[test]
    fn a_value_beside_its_bound_shows_the_digits_that_differ() {
        assert_eq!(format_beside(0.98999, &[0.99, 1.5]), "0.98999");
        assert_eq!(format_beside(0.9899, &[0.99]), "0.9899");
        assert_eq!(format_beside(0.5, &[0.99]), "0.5");
        assert_eq!(format_beside(1.1000001, &[1.1]), "1.1000001");
        assert_eq!(format_beside(0.99, &[0.99]), "0.99");
    }
}

//! What a lesson binary tells the runner.
//!
//! A binary never asks the runner to read its narration. Instead it appends
//! [`Event`]s, one JSON object per line, to the file named by the environment
//! variable [`REPORT_ENV`]: timeline spans and marks as they happen, the facts
//! it measured, and how it ended. The runner reads the same file while the
//! child runs (so it can notice a stall) and after it exits (to judge it).

use serde_json::{Map, Value, json};
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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpanKind {
    /// A future's `poll` was running.
    Poll,
    /// A call that blocks the thread (marked by the lesson) was running.
    Block,
}

/// A stretch of time one thread spent on one task.
#[derive(Clone, Debug, PartialEq)]
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
    pub note: Option<String>,
}

/// A moment worth pointing at: a lock taken, a timer fired, a future dropped.
#[derive(Clone, Debug, PartialEq)]
pub struct Mark {
    /// The task being polled when the mark was made, if any.
    pub task: Option<String>,
    pub lane: u32,
    pub at_us: u64,
    pub text: String,
}

/// Why the watchdog stopped a program.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StallReason {
    /// No event for the quiet period: nothing is making progress.
    Quiet,
    /// Still busy at the deadline, but never finished.
    Deadline,
}

/// A poll that started and never returned: its thread is stuck inside it.
#[derive(Clone, Debug, PartialEq)]
pub struct Blocked {
    pub task: String,
    pub lane: u32,
    pub since_us: u64,
}

/// A task that returned `Pending` and has not been polled since.
#[derive(Clone, Debug, PartialEq)]
pub struct Waiting {
    pub task: String,
    pub polls: u32,
    /// When its last poll ended (`None` if it was never polled).
    pub last_poll_us: Option<u64>,
}

/// The picture at the moment the watchdog gave up.
#[derive(Clone, Debug, PartialEq)]
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
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    Start {
        lesson: String,
        scenario: String,
        variant: String,
    },
    Lane {
        id: u32,
        name: String,
    },
    Span(Span),
    Mark(Mark),
    Fact {
        name: String,
        value: f64,
    },
    Stall(Stall),
    Panic {
        message: String,
    },
    End {
        elapsed_us: u64,
    },
}

/// A report line that could not be understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(pub String);

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bad report line: {}", self.0)
    }
}

impl std::error::Error for ParseError {}

impl Event {
    /// The event as one JSON object (one line of a report).
    pub fn to_json(&self) -> Value {
        match self {
            Event::Start {
                lesson,
                scenario,
                variant,
            } => json!({"t": "start", "lesson": lesson, "scenario": scenario, "variant": variant}),
            Event::Lane { id, name } => json!({"t": "lane", "id": id, "name": name}),
            Event::Span(s) => json!({
                "t": "span",
                "task": s.task,
                "lane": s.lane,
                "kind": match s.kind { SpanKind::Poll => "poll", SpanKind::Block => "block" },
                "start_us": s.start_us,
                "end_us": s.end_us,
                "polls": s.polls,
                "ready": s.ready,
                "note": s.note,
            }),
            Event::Mark(m) => json!({
                "t": "mark", "task": m.task, "lane": m.lane, "at_us": m.at_us, "text": m.text,
            }),
            Event::Fact { name, value } => json!({"t": "fact", "name": name, "value": value}),
            Event::Stall(s) => json!({
                "t": "stall",
                "reason": match s.reason { StallReason::Quiet => "quiet", StallReason::Deadline => "deadline" },
                "at_us": s.at_us,
                "after_ms": s.after_ms,
                "blocked": s.blocked.iter().map(|b| json!({
                    "task": b.task, "lane": b.lane, "since_us": b.since_us,
                })).collect::<Vec<_>>(),
                "waiting": s.waiting.iter().map(|w| json!({
                    "task": w.task, "polls": w.polls, "last_poll_us": w.last_poll_us,
                })).collect::<Vec<_>>(),
            }),
            Event::Panic { message } => json!({"t": "panic", "message": message}),
            Event::End { elapsed_us } => json!({"t": "end", "elapsed_us": elapsed_us}),
        }
    }

    /// Reads one report line.
    pub fn parse(line: &str) -> Result<Event, ParseError> {
        let value: Value =
            serde_json::from_str(line).map_err(|e| ParseError(format!("{e}: {line}")))?;
        Event::from_json(&value).ok_or_else(|| ParseError(line.to_string()))
    }

    fn from_json(v: &Value) -> Option<Event> {
        let o = v.as_object()?;
        let event = match str_field(o, "t")? {
            "start" => Event::Start {
                lesson: str_field(o, "lesson")?.to_string(),
                scenario: str_field(o, "scenario")?.to_string(),
                variant: str_field(o, "variant")?.to_string(),
            },
            "lane" => Event::Lane {
                id: u32::try_from(u64_field(o, "id")?).ok()?,
                name: str_field(o, "name")?.to_string(),
            },
            "span" => Event::Span(Span {
                task: str_field(o, "task")?.to_string(),
                lane: u32::try_from(u64_field(o, "lane")?).ok()?,
                kind: match str_field(o, "kind")? {
                    "poll" => SpanKind::Poll,
                    "block" => SpanKind::Block,
                    _ => return None,
                },
                start_us: u64_field(o, "start_us")?,
                end_us: u64_field(o, "end_us")?,
                polls: u32::try_from(u64_field(o, "polls")?).ok()?,
                ready: o.get("ready")?.as_bool()?,
                note: opt_str(o, "note"),
            }),
            "mark" => Event::Mark(Mark {
                task: opt_str(o, "task"),
                lane: u32::try_from(u64_field(o, "lane")?).ok()?,
                at_us: u64_field(o, "at_us")?,
                text: str_field(o, "text")?.to_string(),
            }),
            "fact" => Event::Fact {
                name: str_field(o, "name")?.to_string(),
                value: o.get("value")?.as_f64()?,
            },
            "stall" => Event::Stall(Stall {
                reason: match str_field(o, "reason")? {
                    "quiet" => StallReason::Quiet,
                    "deadline" => StallReason::Deadline,
                    _ => return None,
                },
                at_us: u64_field(o, "at_us")?,
                after_ms: u64_field(o, "after_ms")?,
                blocked: o
                    .get("blocked")?
                    .as_array()?
                    .iter()
                    .map(|b| {
                        let b = b.as_object()?;
                        Some(Blocked {
                            task: str_field(b, "task")?.to_string(),
                            lane: u32::try_from(u64_field(b, "lane")?).ok()?,
                            since_us: u64_field(b, "since_us")?,
                        })
                    })
                    .collect::<Option<_>>()?,
                waiting: o
                    .get("waiting")?
                    .as_array()?
                    .iter()
                    .map(|w| {
                        let w = w.as_object()?;
                        Some(Waiting {
                            task: str_field(w, "task")?.to_string(),
                            polls: u32::try_from(u64_field(w, "polls")?).ok()?,
                            last_poll_us: w.get("last_poll_us").and_then(Value::as_u64),
                        })
                    })
                    .collect::<Option<_>>()?,
            }),
            "panic" => Event::Panic {
                message: str_field(o, "message")?.to_string(),
            },
            "end" => Event::End {
                elapsed_us: u64_field(o, "elapsed_us")?,
            },
            _ => return None,
        };
        Some(event)
    }
}

fn str_field<'a>(o: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    o.get(key)?.as_str()
}

fn opt_str(o: &Map<String, Value>, key: &str) -> Option<String> {
    o.get(key).and_then(Value::as_str).map(str::to_string)
}

fn u64_field(o: &Map<String, Value>, key: &str) -> Option<u64> {
    o.get(key)?.as_u64()
}

/// Everything a report file said, gathered.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Report {
    pub events: Vec<Event>,
}

impl Report {
    /// Parses a whole report. A torn last line (the writer was killed
    /// mid-write) is ignored; any other bad line is an error.
    pub fn parse(text: &str) -> Result<Report, ParseError> {
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        let mut events = Vec::with_capacity(lines.len());
        for (i, line) in lines.iter().enumerate() {
            match Event::parse(line) {
                Ok(e) => events.push(e),
                Err(_) if i + 1 == lines.len() && !text.ends_with('\n') => {}
                Err(e) => return Err(e),
            }
        }
        Ok(Report { events })
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

    pub fn ended(&self) -> bool {
        self.events.iter().any(|e| matches!(e, Event::End { .. }))
    }
}

/// Formats a fact's value the way people write numbers: `3`, `0.25`, `10.4`.
pub fn format_value(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else {
        let digits = if v.abs() >= 10.0 { 1 } else { 2 };
        let text = format!("{v:.digits$}");
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    }
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
            Event::Fact {
                name: "ratio".into(),
                value: 0.25,
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
                waiting: vec![Waiting {
                    task: "a".into(),
                    polls: 1,
                    last_poll_us: None,
                }],
            }),
            Event::Panic {
                message: "boom".into(),
            },
            Event::End { elapsed_us: 99 },
        ]
    }

    #[test]
    fn every_event_survives_a_round_trip_through_json() {
        for event in every_kind() {
            let line = event.to_json().to_string();
            assert_eq!(Event::parse(&line).unwrap(), event, "line: {line}");
        }
    }

    #[test]
    fn a_report_gathers_facts_stall_panic_and_end() {
        let text: String = every_kind()
            .iter()
            .chain(
                [Event::Fact {
                    name: "ratio".into(),
                    value: 0.5,
                }]
                .iter(),
            )
            .map(|e| e.to_json().to_string() + "\n")
            .collect();
        let report = Report::parse(&text).unwrap();
        assert_eq!(report.facts(), vec![("ratio".to_string(), 0.5)]);
        assert_eq!(report.fact("ratio"), Some(0.5));
        assert_eq!(report.fact("missing"), None);
        assert_eq!(report.stall().unwrap().after_ms, 2000);
        assert_eq!(report.panic_message(), Some("boom"));
        assert!(report.ended());
    }

    #[test]
    fn a_torn_last_line_is_ignored_but_a_bad_middle_line_is_not() {
        let good = Event::End { elapsed_us: 1 }.to_json().to_string();
        let torn = format!("{good}\n{{\"t\":\"fa");
        assert_eq!(Report::parse(&torn).unwrap().events.len(), 1);
        let bad = format!("{{\"t\":\"nope\"}}\n{good}\n");
        assert!(Report::parse(&bad).is_err());
    }

    #[test]
    fn values_are_printed_the_way_people_write_them() {
        assert_eq!(format_value(3.0), "3");
        assert_eq!(format_value(0.25), "0.25");
        assert_eq!(format_value(10.43), "10.4");
        assert_eq!(format_value(0.8), "0.8");
        assert_eq!(format_value(0.001), "0");
        assert_eq!(format_value(1234.4), "1234");
    }
}

//! The words every part of the kit speaks: the events of a recording.
//!
//! The recorder makes them, the report carries them to the runner one JSON
//! object per line, the timeline draws them, and the trace export turns them
//! into Chrome Trace Events. This module depends on nothing else in the
//! kit, so all of them can depend on it.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// One event of every kind, for round trips.
    pub(crate) fn every_kind() -> Vec<Event> {
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

    #[test]
    fn every_event_survives_a_round_trip_through_json() {
        for event in every_kind() {
            let line = event.to_line();
            assert_eq!(Event::parse(&line).unwrap(), event, "line: {line}");
        }
    }

    #[test]
    fn unknown_fields_are_not_events() {
        assert!(Event::parse(r#"{"t":"lane","id":1,"name":"x","colour":"red"}"#).is_err());
        assert!(Event::parse(r#"{"t":"fact","name":"x","value":"lots"}"#).is_err());
    }
}

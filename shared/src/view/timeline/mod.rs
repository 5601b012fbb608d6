//! Draws what the recorder saw: one lane per thread, time across.
//!
//! This file holds the model: a [`Timeline`] built from a recording's
//! events, with its rows, tasks and groups. The same model renders as text
//! for the terminal (`text.rs`, [`Timeline::ascii`]), as SVG for the book
//! (`svg.rs`, [`Timeline::svg`]), and as an account of a stall in words
//! (`stall.rs`, [`Timeline::describe_stall`]). Each task gets a letter (in
//! text) and a colour (in SVG); a long run of one letter is one task
//! holding its thread, and interleaved letters are tasks taking turns.

mod groups;
mod stall;
mod svg;
mod text;

use groups::{assign_groups, fold_rows};

use crate::event::{Event, Mark, Span, SpanKind, Stall, StallReason, Wake};
use crate::view::number::format_value;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The note on a span drawn for a poll that never returned.
pub const STUCK: &str = "stuck: this poll never returned";

/// Columns of time in the terminal chart.
pub const CHART_WIDTH: usize = 60;

/// One letter per group; in the text chart a capital means "polled most of
/// this column" and the small letter "polled briefly", so only letters with
/// two cases (and then digits) are used.
const SYMBOLS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const PALETTE: &[&str] = &[
    "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1", "#76b7b2", "#edc948", "#9c755f",
    "#ff9da7", "#86bcb6", "#d37295", "#a0cbe8",
];

/// What one task did over the run.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskSummary {
    pub label: String,
    /// The task's group's letter.
    pub symbol: char,
    pub polls: u32,
    pub busy_us: u64,
    pub longest_us: u64,
    pub blocked_us: u64,
    /// Wake-ups linked to the poll they caused.
    pub wakes: u32,
    /// The longest wait from a wake-up to the poll it caused.
    pub worst_wake_us: u64,
    /// Index into [`Timeline::groups`].
    pub group: usize,
}

/// Tasks drawn as one: every task of a named group (a scenario's "CPU
/// jobs"), or one task on its own.
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    pub name: String,
    pub symbol: char,
    pub colour: &'static str,
    pub members: usize,
    /// Whether a scenario named the group (or it was formed because there
    /// were more tasks than letters).
    pub named: bool,
}

/// One row of the chart: a thread, or a band of threads with the same name
/// (`blocking pool ×24`).
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub name: String,
    pub lanes: Vec<u32>,
}

/// Threads with the same name fold into one band when there are at least
/// this many of them.
const FOLD_AT: usize = 4;

/// Everything needed to draw one run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Timeline {
    /// Threads that did something, by lane id.
    pub lanes: Vec<(u32, String)>,
    /// How the threads are drawn: one row each, or folded into bands.
    pub rows: Vec<Row>,
    pub spans: Vec<Span>,
    pub marks: Vec<Mark>,
    /// Wake-ups, each linked to the poll it caused.
    pub wakes: Vec<Wake>,
    pub tasks: Vec<TaskSummary>,
    pub groups: Vec<Group>,
    pub stall: Option<Stall>,
    pub end_us: u64,
}

impl Timeline {
    /// The timeline of a recording: its threads, bars, marks, wake-ups
    /// and tasks, from the events in any order.
    pub fn from_events(events: &[Event]) -> Timeline {
        let raw = Raw::read(events);
        let lanes = raw.used_lanes();
        let stuck_lanes: Vec<u32> = raw
            .stall
            .as_ref()
            .map(|s: &Stall| s.blocked.iter().map(|b| b.lane).collect())
            .unwrap_or_default();
        let rows = fold_rows(&lanes, &stuck_lanes);
        let mut tasks = summarize_tasks(&raw.spans, &raw.wakes);
        let groups = assign_groups(&mut tasks, &raw.prefixes);
        Timeline {
            lanes,
            rows,
            spans: raw.spans,
            marks: raw.marks,
            wakes: raw.wakes,
            tasks,
            groups,
            stall: raw.stall,
            end_us: raw.end_us,
        }
    }

    /// No poll and no mark was recorded.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty() && self.marks.is_empty()
    }

    fn task(&self, label: &str) -> Option<&TaskSummary> {
        self.tasks.iter().find(|t| t.label == label)
    }

    fn symbol(&self, label: &str) -> char {
        self.task(label).map_or('?', |t| t.symbol)
    }

    fn colour(&self, label: &str) -> &'static str {
        self.task(label)
            .and_then(|t| self.groups.get(t.group))
            .map_or(PALETTE[0], |g| g.colour)
    }

    /// How many lanes were inside a poll at the same moment, at most.
    pub fn busy_lanes_at_once(&self) -> usize {
        let mut edges: Vec<(u64, i32, u32)> = Vec::new();
        for s in self.spans.iter().filter(|s| s.kind == SpanKind::Poll) {
            edges.push((s.start_us, 1, s.lane));
            edges.push((s.end_us.max(s.start_us + 1), -1, s.lane));
        }
        edges.sort_by_key(|&(t, d, _)| (t, d));
        let mut per_lane: BTreeMap<u32, i32> = BTreeMap::new();
        let mut best = 0;
        for (_, d, lane) in edges {
            *per_lane.entry(lane).or_default() += d;
            best = best.max(per_lane.values().filter(|&&n| n > 0).count());
        }
        best
    }

    fn lane_name(&self, id: u32) -> &str {
        self.lanes
            .iter()
            .find(|(l, _)| *l == id)
            .map_or("?", |(_, n)| n.as_str())
    }
}

/// A recording's events sorted by kind, before anything is worked out.
#[derive(Default)]
struct Raw {
    names: BTreeMap<u32, String>,
    spans: Vec<Span>,
    marks: Vec<Mark>,
    wakes: Vec<Wake>,
    prefixes: Vec<(String, String)>,
    stall: Option<Stall>,
    end_us: u64,
}

impl Raw {
    fn read(events: &[Event]) -> Raw {
        let mut raw = Raw::default();
        for e in events {
            match e {
                Event::Lane { id, name } => {
                    raw.names.insert(*id, name.clone());
                }
                Event::Span(s) => {
                    raw.end_us = raw.end_us.max(s.end_us);
                    raw.spans.push(s.clone());
                }
                Event::Mark(m) => {
                    raw.end_us = raw.end_us.max(m.at_us);
                    raw.marks.push(m.clone());
                }
                Event::Wake(w) => {
                    raw.end_us = raw.end_us.max(w.polled_us);
                    raw.wakes.push(w.clone());
                }
                Event::Group { prefix, name } => raw.prefixes.push((prefix.clone(), name.clone())),
                Event::Stall(s) => {
                    raw.end_us = raw.end_us.max(s.at_us);
                    // A poll that never returned is drawn up to the stall.
                    raw.spans.extend(s.blocked.iter().map(|b| Span {
                        task: b.task.clone(),
                        lane: b.lane,
                        kind: SpanKind::Poll,
                        start_us: b.since_us,
                        end_us: s.at_us,
                        polls: 1,
                        ready: false,
                        note: Some(STUCK.into()),
                    }));
                    raw.stall = Some(s.clone());
                }
                Event::End { elapsed_us } => raw.end_us = raw.end_us.max(*elapsed_us),
                _ => {}
            }
        }
        raw.spans.sort_by_key(|s| (s.start_us, s.end_us));
        raw.marks.sort_by_key(|m| m.at_us);
        raw.wakes.sort_by_key(|w| (w.woken_us, w.polled_us));
        raw
    }

    /// The threads that did something, with their names, by id.
    fn used_lanes(&self) -> Vec<(u32, String)> {
        let mut used: Vec<u32> = self
            .spans
            .iter()
            .map(|s| s.lane)
            .chain(self.marks.iter().map(|m| m.lane))
            .chain(self.wakes.iter().flat_map(|w| [w.from_lane, w.lane]))
            // A lane named during the run, even if nothing traced ran on it.
            .chain(self.names.keys().copied())
            .collect();
        used.sort_unstable();
        used.dedup();
        used.into_iter()
            .map(|id| {
                let name = self
                    .names
                    .get(&id)
                    .cloned()
                    .unwrap_or_else(|| format!("thread {id}"));
                (id, name)
            })
            .collect()
    }
}

/// What each task did, in the order tasks first appear.
fn summarize_tasks(spans: &[Span], wakes: &[Wake]) -> Vec<TaskSummary> {
    let mut tasks: Vec<TaskSummary> = Vec::new();
    for s in spans {
        let i = match tasks.iter().position(|t| t.label == s.task) {
            Some(i) => i,
            None => {
                tasks.push(TaskSummary {
                    label: s.task.clone(),
                    symbol: '?',
                    polls: 0,
                    busy_us: 0,
                    longest_us: 0,
                    blocked_us: 0,
                    wakes: 0,
                    worst_wake_us: 0,
                    group: 0,
                });
                tasks.len() - 1
            }
        };
        let t = &mut tasks[i];
        let d = s.end_us.saturating_sub(s.start_us);
        match s.kind {
            SpanKind::Poll => {
                t.polls += s.polls;
                t.busy_us += d;
                // A merged span may hold many polls; its length is then
                // an upper bound for the longest one.
                if s.polls == 1 {
                    t.longest_us = t.longest_us.max(d);
                }
            }
            SpanKind::Block => t.blocked_us += d,
        }
    }
    for w in wakes {
        if let Some(t) = tasks.iter_mut().find(|t| t.label == w.task) {
            t.wakes += 1;
            t.worst_wake_us = t.worst_wake_us.max(w.polled_us.saturating_sub(w.woken_us));
        }
    }
    tasks
}

fn summarize_notes(blocks: &[&Span]) -> String {
    let mut counts: Vec<(String, usize, u64)> = Vec::new();
    for b in blocks {
        let note = b.note.clone().unwrap_or_else(|| "blocking call".into());
        let d = b.end_us - b.start_us;
        match counts.iter_mut().find(|(n, _, _)| *n == note) {
            Some(c) => {
                c.1 += 1;
                c.2 += d;
            }
            None => counts.push((note, 1, d)),
        }
    }
    counts
        .into_iter()
        .map(|(n, c, d)| format!("{n} ×{c}, {}", ms(d)))
        .collect::<Vec<_>>()
        .join("; ")
}

/// A duration in microseconds, short: `0 ms`, `40 µs`, `12.5 ms`, `1003 ms`.
pub fn ms(us: u64) -> String {
    let v = us as f64 / 1000.0;
    if us == 0 {
        "0 ms".into()
    } else if us < 1000 {
        format!("{us} µs")
    } else if v >= 100.0 {
        format!("{v:.0} ms")
    } else {
        format!("{v:.1} ms")
    }
}

fn secs(ms: u64) -> String {
    format!("{} s", format_value(ms as f64 / 1000.0))
}

/// Events for the tests of every part of the timeline.
#[cfg(test)]
pub(super) mod tests_support {
    use crate::event::{Event, Span, SpanKind};

    pub(crate) fn span(task: &str, lane: u32, start: u64, end: u64) -> Event {
        Event::Span(Span {
            task: task.into(),
            lane,
            kind: SpanKind::Poll,
            start_us: start,
            end_us: end,
            polls: 1,
            ready: false,
            note: None,
        })
    }

    pub(crate) fn lanes() -> Vec<Event> {
        vec![
            Event::Lane {
                id: 0,
                name: "main".into(),
            },
            Event::Lane {
                id: 1,
                name: "worker".into(),
            },
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::tests_support::{lanes, span};
    use super::*;

    #[test]
    fn a_wake_up_is_drawn_as_a_link_and_its_wait_summed_up() {
        let mut events = lanes();
        events.push(span("waiter", 0, 0, 10));
        events.push(span("timer", 1, 40_000, 40_050));
        events.push(Event::Wake(Wake {
            task: "waiter".into(),
            from_lane: 1,
            from_task: Some("timer".into()),
            woken_us: 40_020,
            lane: 0,
            polled_us: 43_020,
        }));
        events.push(span("waiter", 0, 43_020, 43_040));
        let tl = Timeline::from_events(&events);
        let text = tl.ascii(40);
        assert!(
            text.contains("waiter: 2 polls")
                && text.contains("woken 1×, longest wait for a poll 3.0 ms"),
            "{text}"
        );
        let svg = tl.svg("wake");
        assert_eq!(svg.matches(r#"<g class="wake""#).count(), 1, "{svg}");
        assert!(svg.contains("waiter woken at 40.0 ms by timer; polled 3.0 ms later"));
        assert!(svg.contains("a waker called → the poll it caused"));
    }
    #[test]
    fn parallel_lanes_are_counted() {
        let mut events = lanes();
        events.push(span("a", 0, 0, 100));
        events.push(span("b", 1, 50, 150));
        events.push(span("c", 0, 200, 300));
        assert_eq!(Timeline::from_events(&events).busy_lanes_at_once(), 2);
        let mut serial = lanes();
        serial.push(span("a", 0, 0, 100));
        serial.push(span("b", 1, 100, 200));
        assert_eq!(Timeline::from_events(&serial).busy_lanes_at_once(), 1);
    }
    #[test]
    fn an_empty_run_says_so() {
        let tl = Timeline::from_events(&[]);
        assert!(tl.is_empty());
        assert!(tl.ascii(40).contains("nothing was polled"));
        assert!(tl.svg("empty").contains("nothing was polled"));
    }
}

//! Draws what the recorder saw: one lane per thread, time across.
//!
//! This file holds the model: a [`Timeline`] built from a recording's
//! events, with its rows, tasks and groups. The same model renders as text
//! for the terminal (`text.rs`, [`Timeline::ascii`]), as SVG for the book
//! (`svg.rs`, [`Timeline::svg`]), and as an account of a stall in words
//! (`stall.rs`, [`Timeline::describe_stall`]). Each task gets a letter (in
//! text) and a colour (in SVG); a long run of one letter is one task
//! holding its thread, and interleaved letters are tasks taking turns.

mod stall;
mod svg;
mod text;

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

/// `job 12` → `job`: the name tasks share when numbered.
fn without_number(label: &str) -> &str {
    let base = label
        .trim_end_matches(|c: char| c.is_ascii_digit())
        .trim_end_matches(['#', ' ']);
    if base.is_empty() { label } else { base }
}

fn symbol(i: usize) -> char {
    SYMBOLS.get(i).map_or('?', |b| *b as char)
}

impl Timeline {
    pub fn from_events(events: &[Event]) -> Timeline {
        let mut names = BTreeMap::new();
        let mut spans = Vec::new();
        let mut marks = Vec::new();
        let mut wakes = Vec::new();
        let mut prefixes: Vec<(String, String)> = Vec::new();
        let mut stall = None;
        let mut end_us = 0;
        for e in events {
            match e {
                Event::Lane { id, name } => {
                    names.insert(*id, name.clone());
                }
                Event::Span(s) => {
                    end_us = end_us.max(s.end_us);
                    spans.push(s.clone());
                }
                Event::Mark(m) => {
                    end_us = end_us.max(m.at_us);
                    marks.push(m.clone());
                }
                Event::Wake(w) => {
                    end_us = end_us.max(w.polled_us);
                    wakes.push(w.clone());
                }
                Event::Group { prefix, name } => prefixes.push((prefix.clone(), name.clone())),
                Event::Stall(s) => {
                    end_us = end_us.max(s.at_us);
                    // A poll that never returned is drawn up to the stall.
                    for b in &s.blocked {
                        spans.push(Span {
                            task: b.task.clone(),
                            lane: b.lane,
                            kind: SpanKind::Poll,
                            start_us: b.since_us,
                            end_us: s.at_us,
                            polls: 1,
                            ready: false,
                            note: Some(STUCK.into()),
                        });
                    }
                    stall = Some(s.clone());
                }
                Event::End { elapsed_us } => end_us = end_us.max(*elapsed_us),
                _ => {}
            }
        }
        spans.sort_by_key(|s| (s.start_us, s.end_us));
        marks.sort_by_key(|m| m.at_us);
        wakes.sort_by_key(|w| (w.woken_us, w.polled_us));
        let mut used: Vec<u32> = spans
            .iter()
            .map(|s| s.lane)
            .chain(marks.iter().map(|m| m.lane))
            .chain(wakes.iter().flat_map(|w| [w.from_lane, w.lane]))
            .collect();
        used.sort_unstable();
        used.dedup();
        let lanes: Vec<(u32, String)> = used
            .into_iter()
            .map(|id| {
                let name = names
                    .get(&id)
                    .cloned()
                    .unwrap_or_else(|| format!("thread {id}"));
                (id, name)
            })
            .collect();
        let stuck_lanes: Vec<u32> = stall
            .as_ref()
            .map(|s: &Stall| s.blocked.iter().map(|b| b.lane).collect())
            .unwrap_or_default();
        let rows = fold_rows(&lanes, &stuck_lanes);

        let mut tasks: Vec<TaskSummary> = Vec::new();
        for s in &spans {
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
        for w in &wakes {
            if let Some(t) = tasks.iter_mut().find(|t| t.label == w.task) {
                t.wakes += 1;
                t.worst_wake_us = t.worst_wake_us.max(w.polled_us.saturating_sub(w.woken_us));
            }
        }
        let groups = assign_groups(&mut tasks, &prefixes);
        Timeline {
            lanes,
            rows,
            spans,
            marks,
            wakes,
            tasks,
            groups,
            stall,
            end_us,
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

    fn group_of(&self, label: &str) -> Option<usize> {
        self.task(label).map(|t| t.group)
    }

    /// What a group did, added up over its tasks: polls, time polled, the
    /// longest poll, time blocked, wake-ups and the worst wait for a poll.
    fn group_totals(&self, g: usize) -> TaskSummary {
        let mut total = TaskSummary {
            label: self.groups[g].name.clone(),
            symbol: self.groups[g].symbol,
            polls: 0,
            busy_us: 0,
            longest_us: 0,
            blocked_us: 0,
            wakes: 0,
            worst_wake_us: 0,
            group: g,
        };
        for t in self.tasks.iter().filter(|t| t.group == g) {
            total.polls += t.polls;
            total.busy_us += t.busy_us;
            total.longest_us = total.longest_us.max(t.longest_us);
            total.blocked_us += t.blocked_us;
            total.wakes += t.wakes;
            total.worst_wake_us = total.worst_wake_us.max(t.worst_wake_us);
        }
        total
    }

    /// The legend's words for group `g`: its name, then what it did.
    fn group_text(&self, g: usize, long: bool) -> String {
        let group = &self.groups[g];
        let t = self.group_totals(g);
        let who = if group.named || group.members > 1 {
            format!(
                "{} ({} task{})",
                group.name,
                group.members,
                if group.members == 1 { "" } else { "s" }
            )
        } else {
            group.name.clone()
        };
        if t.polls == 0 {
            return format!("{who}: blocked its thread for {}", ms(t.blocked_us));
        }
        let mut line = format!(
            "{who}: {} poll{}",
            t.polls,
            if t.polls == 1 { "" } else { "s" }
        );
        if long {
            let _ = write!(line, ", {} polled", ms(t.busy_us));
            if t.longest_us >= 1_000 {
                let _ = write!(line, ", longest {}", ms(t.longest_us));
            }
        }
        if t.blocked_us > 0 {
            let _ = write!(line, ", {} blocked", ms(t.blocked_us));
        }
        if t.wakes > 0 && long {
            let _ = write!(
                line,
                ", woken {}×, longest wait for a poll {}",
                t.wakes,
                ms(t.worst_wake_us)
            );
        } else if t.wakes > 0 {
            let _ = write!(
                line,
                ", woken {}×, worst wait {}",
                t.wakes,
                ms(t.worst_wake_us)
            );
        }
        line
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

/// One row per thread, except that threads sharing a name (`blocking
/// pool`, `blocking pool #2`, ...) fold into one band when there are
/// `FOLD_AT` or more of them, unless one of them is stuck.
fn fold_rows(lanes: &[(u32, String)], stuck: &[u32]) -> Vec<Row> {
    let base = |name: &str| name.split(" #").next().unwrap_or(name).to_string();
    let mut rows: Vec<Row> = Vec::new();
    for (id, name) in lanes {
        let family: Vec<u32> = lanes
            .iter()
            .filter(|(_, n)| base(n) == base(name))
            .map(|(i, _)| *i)
            .collect();
        let fold = family.len() >= FOLD_AT && !family.iter().any(|l| stuck.contains(l));
        if !fold {
            rows.push(Row {
                name: name.clone(),
                lanes: vec![*id],
            });
        } else if family[0] == *id {
            rows.push(Row {
                name: format!("{} ×{}", base(name), family.len()),
                lanes: family,
            });
        }
    }
    rows
}

/// Puts each task in a group: the first named group whose prefix its label
/// starts with, or a group of its own. With more groups than letters, the
/// unnamed tasks are grouped by their label without its number.
fn assign_groups(tasks: &mut [TaskSummary], prefixes: &[(String, String)]) -> Vec<Group> {
    let named = |label: &str| {
        prefixes
            .iter()
            .find(|(p, _)| label.starts_with(p.as_str()))
            .map(|(_, n)| n.clone())
    };
    let mut keys: Vec<(String, bool)> = tasks
        .iter()
        .map(|t| match named(&t.label) {
            Some(n) => (n, true),
            None => (t.label.clone(), false),
        })
        .collect();
    let distinct = |keys: &[(String, bool)]| {
        let mut k: Vec<&String> = keys.iter().map(|(k, _)| k).collect();
        k.sort();
        k.dedup();
        k.len()
    };
    if distinct(&keys) > 26 {
        for (key, is_named) in keys.iter_mut() {
            if !*is_named {
                let base = without_number(key).to_string();
                *is_named = base != *key;
                *key = base;
            }
        }
    }
    let mut groups: Vec<Group> = Vec::new();
    for (t, (key, is_named)) in tasks.iter_mut().zip(keys) {
        let i = match groups.iter().position(|g| g.name == key) {
            Some(i) => i,
            None => {
                let i = groups.len();
                groups.push(Group {
                    name: key,
                    symbol: symbol(i),
                    colour: PALETTE[i % PALETTE.len()],
                    members: 0,
                    named: false,
                });
                i
            }
        };
        let g = &mut groups[i];
        g.members += 1;
        g.named |= is_named;
        t.group = i;
        t.symbol = g.symbol;
    }
    groups
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
    fn many_numbered_tasks_share_a_letter_and_named_groups_are_listed_once() {
        let mut events = lanes();
        for i in 0..40u64 {
            events.push(span(&format!("job {i}"), 0, i * 1000, i * 1000 + 900));
        }
        events.push(span("heartbeat", 1, 0, 10));
        let tl = Timeline::from_events(&events);
        assert_eq!(tl.groups.len(), 2, "{:?}", tl.groups);
        let text = tl.ascii(40);
        assert!(text.contains("job (40 tasks): 40 polls"), "{text}");

        let mut named = vec![Event::Group {
            prefix: "job ".into(),
            name: "CPU jobs".into(),
        }];
        named.extend(lanes());
        named.push(span("job 1", 0, 0, 10));
        named.push(span("job 2", 0, 10, 20));
        named.push(span("heartbeat", 1, 0, 10));
        let tl = Timeline::from_events(&named);
        let svg = tl.svg("groups");
        assert!(svg.contains("CPU jobs (2 tasks): 2 polls"), "{svg}");
        assert_eq!(tl.colour("job 1"), tl.colour("job 2"));
        assert_ne!(tl.colour("job 1"), tl.colour("heartbeat"));
    }
    #[test]
    fn threads_with_one_name_fold_into_a_band_that_counts_the_busy_ones() {
        let mut events = Vec::new();
        for lane in 0..5u32 {
            let name = if lane == 0 {
                "blocking pool".to_string()
            } else {
                format!("blocking pool #{}", lane + 1)
            };
            events.push(Event::Lane { id: lane, name });
            // Three threads busy in the first half, one in the second.
            let (start, end) = if lane < 3 {
                (0, 50_000)
            } else {
                (50_000, 100_000)
            };
            if lane < 4 {
                events.push(span("hashing", lane, start, end));
            }
        }
        let tl = Timeline::from_events(&events);
        assert_eq!(tl.rows.len(), 1, "{:?}", tl.rows);
        let text = tl.ascii(20);
        let band = text
            .lines()
            .find(|l| l.contains("blocking pool ×4"))
            .unwrap();
        assert!(band.contains("3333333333111111111"), "{text}");
        assert!(tl.svg("band").contains(r#"fill-opacity="0.25""#));
    }
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

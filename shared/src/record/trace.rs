//! Recordings as Chrome Trace Event JSON, the format Perfetto
//! (<https://ui.perfetto.dev>) and `chrome://tracing` open, and
//! `tracing-chrome` writes.
//!
//! Each run is a process, each thread a row of it. A poll is a complete
//! event (`"ph": "X"`), a blocking call too (in category `blocking`), a
//! mark an instant event, and a wake-up an arrow: a flow (`"s"` then `"f"`)
//! from a zero-length `wake` slice on the waking thread to the poll it
//! caused.

use crate::event::{Event, SpanKind};
use crate::view::timeline::STUCK;
use serde_json::{Value, json};
use std::collections::HashMap;

/// One run to put in a trace: its name (`lesson-05 · report · broken`) and
/// its events.
pub struct Run<'a> {
    pub name: String,
    pub events: &'a [Event],
}

/// The trace of `runs`, each as its own process.
pub fn chrome_trace(runs: &[Run<'_>]) -> Value {
    let mut out = Vec::new();
    let mut flow_id = 0u64;
    for (i, run) in runs.iter().enumerate() {
        let pid = i as u64 + 1;
        out.push(json!({
            "name": "process_name", "ph": "M", "pid": pid, "tid": 0,
            "args": { "name": run.name },
        }));
        out.push(json!({
            "name": "process_sort_index", "ph": "M", "pid": pid, "tid": 0,
            "args": { "sort_index": pid },
        }));
        for event in run.events {
            match event {
                Event::Lane { id, name } => out.push(json!({
                    "name": "thread_name", "ph": "M", "pid": pid, "tid": id,
                    "args": { "name": name },
                })),
                Event::Span(s) => {
                    let (name, cat, args) = match s.kind {
                        SpanKind::Poll => (
                            s.task.clone(),
                            "poll",
                            json!({ "polls": s.polls, "ready": s.ready }),
                        ),
                        SpanKind::Block => (
                            s.note.clone().unwrap_or_else(|| "blocking call".into()),
                            "blocking",
                            json!({ "task": s.task }),
                        ),
                    };
                    out.push(json!({
                        "name": name, "cat": cat, "ph": "X", "pid": pid, "tid": s.lane,
                        "ts": s.start_us, "dur": s.end_us.saturating_sub(s.start_us),
                        "args": args,
                    }));
                }
                Event::Mark(m) => out.push(json!({
                    "name": m.text, "cat": "mark", "ph": "i", "s": "t",
                    "pid": pid, "tid": m.lane, "ts": m.at_us,
                    "args": { "task": m.task },
                })),
                Event::Wake(w) => {
                    flow_id += 1;
                    let by = w.from_task.as_deref().unwrap_or("no task");
                    out.push(json!({
                        "name": format!("wake {}", w.task), "cat": "wake", "ph": "X",
                        "pid": pid, "tid": w.from_lane, "ts": w.woken_us, "dur": 0,
                        "args": { "by": by, "waited_us": w.polled_us.saturating_sub(w.woken_us) },
                    }));
                    out.push(json!({
                        "name": "wake", "cat": "wake", "ph": "s", "id": flow_id,
                        "pid": pid, "tid": w.from_lane, "ts": w.woken_us,
                    }));
                    out.push(json!({
                        "name": "wake", "cat": "wake", "ph": "f", "bp": "e", "id": flow_id,
                        "pid": pid, "tid": w.lane, "ts": w.polled_us,
                    }));
                }
                Event::Stall(stall) => {
                    for b in &stall.blocked {
                        out.push(json!({
                            "name": b.task, "cat": "poll", "ph": "X", "pid": pid, "tid": b.lane,
                            "ts": b.since_us, "dur": stall.at_us.saturating_sub(b.since_us),
                            "args": { "note": STUCK },
                        }));
                    }
                    out.push(json!({
                        "name": "the watchdog stopped the program", "cat": "mark", "ph": "i",
                        "s": "p", "pid": pid, "tid": 0, "ts": stall.at_us,
                    }));
                }
                _ => {}
            }
        }
    }
    json!({ "traceEvents": out, "displayTimeUnit": "ms" })
}

fn field<'a>(e: &'a Value, key: &str) -> Option<&'a Value> {
    e.get(key)
}

fn num(e: &Value, key: &str) -> Option<u64> {
    field(e, key).and_then(Value::as_u64)
}

/// What is wrong with `trace` as the trace of `runs`: every recorded poll
/// and blocking call must appear exactly once with its thread, start and
/// duration, and every flow must start and end inside an event that exists
/// on its thread. Empty when all is well.
pub fn check(trace: &Value, runs: &[Run<'_>]) -> Vec<String> {
    let mut problems = Vec::new();
    let Some(events) = trace.get("traceEvents").and_then(Value::as_array) else {
        return vec!["the trace has no traceEvents array".into()];
    };
    for (i, e) in events.iter().enumerate() {
        let ph = field(e, "ph").and_then(Value::as_str);
        let has_time = num(e, "ts").is_some();
        if ph.is_none() || num(e, "pid").is_none() || num(e, "tid").is_none() {
            problems.push(format!("event {i} lacks ph, pid or tid: {e}"));
        } else if ph != Some("M") && !has_time {
            problems.push(format!("event {i} has no timestamp: {e}"));
        }
    }
    let slices = Slices::of(events);
    problems.extend(spans_missing(&slices, runs));
    problems.extend(flows_broken(events, &slices));
    problems
}

/// The trace's slices (`ph: "X"`), indexed: a recording may hold hundreds
/// of thousands of polls, so nothing here compares each with each.
struct Slices<'a> {
    /// (pid, tid, ts, dur, name) → how many slices are exactly that.
    exact: HashMap<(u64, u64, u64, u64, &'a str), usize>,
    /// Per (pid, tid): the slices' (start, end) sorted by start, with the
    /// latest end so far, to tell whether a moment is inside any of them.
    spans: HashMap<(u64, u64), Vec<(u64, u64)>>,
}

impl<'a> Slices<'a> {
    fn of(events: &'a [Value]) -> Slices<'a> {
        let mut exact: HashMap<(u64, u64, u64, u64, &str), usize> = HashMap::new();
        let mut spans: HashMap<(u64, u64), Vec<(u64, u64)>> = HashMap::new();
        for e in events {
            if field(e, "ph").and_then(Value::as_str) != Some("X") {
                continue;
            }
            let (Some(pid), Some(tid), Some(ts), Some(dur)) =
                (num(e, "pid"), num(e, "tid"), num(e, "ts"), num(e, "dur"))
            else {
                continue;
            };
            let name = field(e, "name").and_then(Value::as_str).unwrap_or("");
            *exact.entry((pid, tid, ts, dur, name)).or_default() += 1;
            spans.entry((pid, tid)).or_default().push((ts, ts + dur));
        }
        for list in spans.values_mut() {
            list.sort_unstable();
            let mut latest = 0;
            for slot in list.iter_mut() {
                latest = latest.max(slot.1);
                slot.1 = latest;
            }
        }
        Slices { exact, spans }
    }

    /// Whether moment `ts` on thread (`pid`, `tid`) is inside some slice.
    fn inside(&self, pid: u64, tid: u64, ts: u64) -> bool {
        let Some(list) = self.spans.get(&(pid, tid)) else {
            return false;
        };
        // The last slice that starts at or before `ts`; the latest end of it
        // and all before it says whether any of them reaches `ts`.
        let n = list.partition_point(|&(start, _)| start <= ts);
        n > 0 && list[n - 1].1 >= ts
    }
}

/// Each recorded poll and blocking call must be exactly one slice.
fn spans_missing(slices: &Slices<'_>, runs: &[Run<'_>]) -> Vec<String> {
    let mut problems = Vec::new();
    for (i, run) in runs.iter().enumerate() {
        let pid = i as u64 + 1;
        for event in run.events {
            let Event::Span(s) = event else { continue };
            let name = match s.kind {
                SpanKind::Poll => s.task.clone(),
                SpanKind::Block => s.note.clone().unwrap_or_else(|| "blocking call".into()),
            };
            let key = (
                pid,
                u64::from(s.lane),
                s.start_us,
                s.end_us - s.start_us,
                name.as_str(),
            );
            let found = slices.exact.get(&key).copied().unwrap_or(0);
            if found != 1 {
                problems.push(format!(
                    "{}: the {} of {} at {} µs on thread {} appears {found} times, not once",
                    run.name,
                    if s.kind == SpanKind::Poll {
                        "poll"
                    } else {
                        "blocking call"
                    },
                    s.task,
                    s.start_us,
                    s.lane
                ));
            }
        }
    }
    problems
}

/// Each flow (a wake-up's arrow) starts once, ends once, and both its ends
/// are inside a slice.
fn flows_broken(events: &[Value], slices: &Slices<'_>) -> Vec<String> {
    let mut problems = Vec::new();
    let mut starts: HashMap<Option<u64>, Vec<&Value>> = HashMap::new();
    let mut ends: HashMap<Option<u64>, Vec<&Value>> = HashMap::new();
    for e in events {
        match field(e, "ph").and_then(Value::as_str) {
            Some("s") => starts.entry(num(e, "id")).or_default().push(e),
            Some("f") => ends.entry(num(e, "id")).or_default().push(e),
            _ => {}
        }
    }
    for (id, list) in &starts {
        for s in list {
            let matching = ends.get(id).map_or(&[][..], Vec::as_slice);
            if matching.len() != 1 {
                problems.push(format!("flow {id:?} has {} ends, not one", matching.len()));
                continue;
            }
            for end in [*s, matching[0]] {
                let (Some(pid), Some(tid), Some(ts)) =
                    (num(end, "pid"), num(end, "tid"), num(end, "ts"))
                else {
                    continue; // reported above
                };
                if !slices.inside(pid, tid, ts) {
                    problems.push(format!(
                        "flow {id:?} ends at {ts} µs on thread {tid}, inside no event there"
                    ));
                }
            }
        }
    }
    for id in ends.keys() {
        if !starts.contains_key(id) {
            problems.push(format!("flow {id:?} ends but never starts"));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Blocked, Mark, Span, Stall, StallReason, Wake};

    fn span(task: &str, lane: u32, start: u64, end: u64, kind: SpanKind) -> Event {
        Event::Span(Span {
            task: task.into(),
            lane,
            kind,
            start_us: start,
            end_us: end,
            polls: 1,
            ready: false,
            note: (kind == SpanKind::Block).then(|| "std::thread::sleep".into()),
        })
    }

    fn recording() -> Vec<Event> {
        vec![
            Event::Lane {
                id: 0,
                name: "main".into(),
            },
            Event::Lane {
                id: 1,
                name: "timer".into(),
            },
            span("waiter", 0, 0, 10, SpanKind::Poll),
            span("sleeper", 1, 5, 40_000, SpanKind::Block),
            Event::Wake(Wake {
                task: "waiter".into(),
                from_lane: 1,
                from_task: None,
                woken_us: 40_000,
                lane: 0,
                polled_us: 40_100,
            }),
            span("waiter", 0, 40_100, 40_130, SpanKind::Poll),
            Event::Mark(Mark {
                task: Some("waiter".into()),
                lane: 0,
                at_us: 40_120,
                text: "done".into(),
            }),
            Event::Stall(Stall {
                reason: StallReason::Quiet,
                at_us: 2_000_000,
                after_ms: 2000,
                blocked: vec![Blocked {
                    task: "stuck".into(),
                    lane: 1,
                    since_us: 50_000,
                }],
                waiting: vec![],
            }),
        ]
    }

    #[test]
    fn a_recording_becomes_a_trace_that_passes_its_own_check() {
        let events = recording();
        let runs = [Run {
            name: "lesson-00 · s · broken".into(),
            events: &events,
        }];
        let trace = chrome_trace(&runs);
        let text = serde_json::to_string(&trace).unwrap();
        let parsed: Value = serde_json::from_str(&text).expect("the trace is JSON");
        assert_eq!(check(&parsed, &runs), Vec::<String>::new());
        let all = parsed["traceEvents"].as_array().unwrap();
        let count = |ph: &str| all.iter().filter(|e| e["ph"] == ph).count();
        assert_eq!(count("s"), 1);
        assert_eq!(count("f"), 1);
        assert_eq!(count("i"), 2, "the mark and the watchdog's stop");
        // Three spans, the stuck poll and the zero-length wake slice.
        assert_eq!(count("X"), 5);
        assert!(text.contains(r#""name":"thread_name""#) && text.contains("timer"));
    }

    #[test]
    fn the_check_finds_a_missing_poll_and_a_dangling_flow() {
        let events = recording();
        let runs = [Run {
            name: "r".into(),
            events: &events,
        }];
        let mut trace = chrome_trace(&runs);
        let all = trace["traceEvents"].as_array_mut().unwrap();
        // Lose the second poll of "waiter": the flow's end has nothing to
        // land in, and the poll is missing.
        all.retain(|e| !(e["name"] == "waiter" && e["ts"] == 40_100));
        let problems = check(&trace, &runs);
        assert!(
            problems
                .iter()
                .any(|p| p.contains("waiter at 40100 µs on thread 0 appears 0 times")),
            "{problems:?}"
        );
        assert!(
            problems.iter().any(|p| p.contains("inside no event")),
            "{problems:?}"
        );
        let mut broken = chrome_trace(&runs);
        broken["traceEvents"]
            .as_array_mut()
            .unwrap()
            .retain(|e| e["ph"] != "f");
        assert!(
            check(&broken, &runs)
                .iter()
                .any(|p| p.contains("has 0 ends"))
        );
    }

    #[test]
    fn each_run_is_a_process_of_its_own() {
        let events = recording();
        let runs = [
            Run {
                name: "broken".into(),
                events: &events,
            },
            Run {
                name: "fixed".into(),
                events: &events,
            },
        ];
        let trace = chrome_trace(&runs);
        assert_eq!(check(&trace, &runs), Vec::<String>::new());
        let names: Vec<&str> = trace["traceEvents"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["name"] == "process_name")
            .map(|e| e["args"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["broken", "fixed"]);
    }
}

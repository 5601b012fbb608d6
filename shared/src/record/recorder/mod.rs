//! Records what happens while a lesson runs: every poll of every traced
//! future, blocking calls, marks and facts.
//!
//! A lesson wraps each task's future with [`traced`]; the wrapper notes the
//! thread, start and end of every `poll`. Back-to-back polls of one task on
//! one thread are merged into one span (a future that wakes itself is polled
//! thousands of times), keeping the count. Events are kept in memory for the
//! final picture and streamed to the report file by the watchdog thread.
//!
//! Here: the recorder's state and what the harness and the watchdog ask of
//! it. `traced.rs` holds the wrapper that records polls and wake-ups;
//! `lane.rs` the threads' lanes.

mod lane;
#[cfg(test)]
mod tests;
mod traced;

pub use traced::{TraceExt, Traced, traced};

use crate::event::{Blocked, Event, Mark, Span, SpanKind, Stall, StallReason, Waiting};
use lane::{current_task, lane, lane_name};
use std::collections::{HashMap, HashSet, VecDeque};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};
use std::time::Instant;

/// Polls of one task on one thread closer together than this are drawn as
/// one bar.
const MERGE_GAP_US: u64 = 50;

/// The note on a poll that had not ended when its run did.
pub const STILL_IN_POLL: &str = "still in this poll when the run ended";

static NEXT_TASK: AtomicU64 = AtomicU64::new(1);

struct TaskState {
    label: Arc<str>,
    polls: u32,
    in_poll: Option<(u32, u64)>,
    last_poll_end: Option<u64>,
    last_lane: Option<u32>,
    /// Its poll in progress was already recorded, cut short by a panic.
    cut_short: bool,
    /// The first wake-up since the last poll: when, from which thread, and
    /// by which task.
    woken: Option<(u64, u32, Option<Arc<str>>)>,
}

struct State {
    origin: Instant,
    running: bool,
    events: Vec<Event>,
    /// Per lane, the latest poll span, still open to merging.
    pending: HashMap<u32, Span>,
    tasks: HashMap<u64, TaskState>,
    seen_lanes: HashSet<u32>,
    last_activity_us: u64,
    /// Marks recorded in this run so far; past [`FIRST_MARKS`], only the
    /// last [`LAST_MARKS`] are kept (here), and the rest counted.
    marks: usize,
    late_marks: VecDeque<Mark>,
    marks_not_shown: u64,
}

/// A run keeps its first this many marks...
const FIRST_MARKS: usize = 500;
/// ...and its last this many: a program that marks in a loop (a report made
/// on every poll) still runs in a second or two, and says how many it made.
const LAST_MARKS: usize = 500;

impl State {
    fn now_us(&self) -> u64 {
        self.origin.elapsed().as_micros() as u64
    }

    fn touch(&mut self, lane: Option<u32>) -> u64 {
        let now = self.now_us();
        self.last_activity_us = now;
        if let Some(lane) = lane {
            if self.seen_lanes.insert(lane) {
                self.events.push(Event::Lane {
                    id: lane,
                    name: lane_name(lane),
                });
            }
        }
        now
    }

    /// Puts the last marks kept back among the events, after a line that
    /// says how many were left out: at the end of a run.
    fn settle_marks(&mut self) {
        if self.marks_not_shown > 0 {
            let first = self.late_marks.front().cloned();
            if let Some(first) = first {
                self.events.push(Event::Mark(Mark {
                    task: None,
                    lane: first.lane,
                    at_us: first.at_us,
                    text: format!(
                        "… {} more marks not shown (a run keeps its first {FIRST_MARKS} and its last {LAST_MARKS})",
                        self.marks_not_shown
                    ),
                }));
            }
        }
        let late: Vec<Mark> = self.late_marks.drain(..).collect();
        self.events.extend(late.into_iter().map(Event::Mark));
        self.marks_not_shown = 0;
    }

    fn seal(&mut self) {
        let mut pending: Vec<Span> = self.pending.drain().map(|(_, s)| s).collect();
        pending.sort_by_key(|s| s.start_us);
        self.events.extend(pending.into_iter().map(Event::Span));
    }

    /// The events not yet written to the report, taken out (no copy).
    fn unflushed(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    fn all_events(&self) -> Vec<Event> {
        let mut events = self.events.clone();
        let mut pending: Vec<&Span> = self.pending.values().collect();
        pending.sort_by_key(|s| s.start_us);
        events.extend(pending.into_iter().cloned().map(Event::Span));
        events
    }
}

/// The events already taken out of the state and written (if there is a
/// report file).
#[derive(Default)]
struct Written {
    file: Option<BufWriter<File>>,
    events: Vec<Event>,
}

impl Written {
    fn write(&mut self, fresh: Vec<Event>) {
        if let Some(file) = self.file.as_mut() {
            for event in &fresh {
                // A report that cannot be written is not worth crashing the
                // lesson over: the runner will say the report is missing.
                let _ = writeln!(file, "{}", event.to_line());
            }
            let _ = file.flush();
        }
        self.events.extend(fresh);
    }
}

/// Collects one run's events. Lessons use the process-wide one through the
/// free functions of this module; tests make their own.
///
/// Recording must not slow down what it records: a poll takes the state
/// lock only to note a few numbers. Writing the report (serialising and
/// file I/O) happens under the sink lock alone, so a thread that records
/// never waits for the disk. Lock order: `sink`, then `state`.
pub struct Recorder {
    state: Mutex<State>,
    /// The report file, and the events already written to it. Held while
    /// events are written, which keeps them in order when two threads
    /// flush at once.
    sink: Mutex<Written>,
    /// Whether traced futures see a waker that records its wake-ups.
    track_wakes: AtomicBool,
}

impl Default for Recorder {
    fn default() -> Self {
        Self::new()
    }
}

impl Recorder {
    pub fn new() -> Self {
        Recorder {
            state: Mutex::new(State {
                origin: Instant::now(),
                running: false,
                events: Vec::new(),
                pending: HashMap::new(),
                tasks: HashMap::new(),
                seen_lanes: HashSet::new(),
                last_activity_us: 0,
                marks: 0,
                late_marks: VecDeque::new(),
                marks_not_shown: 0,
            }),
            sink: Mutex::new(Written::default()),
            track_wakes: AtomicBool::new(true),
        }
    }

    /// Turns the recording of wake-ups on or off (it is on by default); for
    /// measuring what it costs.
    pub fn set_wake_tracking(&self, on: bool) {
        self.track_wakes.store(on, Ordering::Relaxed);
    }

    /// Gives every task whose label starts with `prefix` one letter and one
    /// colour on the timeline, named `name` in its legend: for scenarios
    /// with many tasks doing the same thing. Call it after the run begins.
    pub fn group(&self, prefix: &str, name: &str) {
        let mut s = self.lock();
        s.events.push(Event::Group {
            prefix: prefix.into(),
            name: name.into(),
        });
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn written(&self) -> MutexGuard<'_, Written> {
        self.sink.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Writes the events not yet written to the report file (if there is
    /// one). Only taking them out happens under the state lock.
    fn flush(&self) {
        let mut written = self.written();
        let fresh = self.lock().unflushed();
        written.write(fresh);
    }

    /// Every event of the run so far, in order, with the spans still open
    /// to merging.
    fn everything(&self) -> Vec<Event> {
        let written = self.written();
        let s = self.lock();
        let mut events = written.events.clone();
        events.extend(s.all_events());
        events
    }

    /// Starts a fresh run: time zero is now, earlier events are forgotten.
    pub fn begin(
        &self,
        lesson: &str,
        scenario: &str,
        variant: &str,
        piece: &str,
        sink: Option<File>,
    ) {
        let mut written = self.written();
        if let Some(file) = sink {
            written.file = Some(BufWriter::new(file));
        }
        written.events.clear();
        drop(written);
        let mut s = self.lock();
        s.origin = Instant::now();
        s.running = true;
        s.events.clear();
        s.pending.clear();
        s.tasks.clear();
        s.seen_lanes.clear();
        s.last_activity_us = 0;
        s.marks = 0;
        s.late_marks.clear();
        s.marks_not_shown = 0;
        s.events.push(Event::Start {
            lesson: lesson.into(),
            scenario: scenario.into(),
            variant: variant.into(),
            piece: piece.into(),
        });
        drop(s);
        self.flush();
    }

    /// Ends the run and returns every event it recorded. Whatever happens
    /// after this (a thread of the run still going) is not recorded: the
    /// report ends with its `End`.
    pub fn finish(&self) -> Vec<Event> {
        {
            let mut s = self.lock();
            s.seal();
            let elapsed_us = s.now_us();
            // A poll still going (a thread stuck in it, left behind) is
            // recorded up to here, so the trace shows where it is.
            let mut open: Vec<Span> = s
                .tasks
                .values()
                .filter_map(|t| {
                    t.in_poll.map(|(lane, since)| Span {
                        task: t.label.to_string(),
                        lane,
                        kind: SpanKind::Poll,
                        start_us: since,
                        end_us: elapsed_us,
                        polls: 1,
                        ready: false,
                        note: Some(STILL_IN_POLL.into()),
                    })
                })
                .collect();
            open.sort_by_key(|sp| sp.start_us);
            s.events.extend(open.into_iter().map(Event::Span));
            s.settle_marks();
            s.events.push(Event::End { elapsed_us });
            s.running = false;
        }
        self.flush();
        self.written().events.clone()
    }

    pub fn is_running(&self) -> bool {
        self.lock().running
    }

    /// Microseconds since the run began.
    pub fn now_us(&self) -> u64 {
        self.lock().now_us()
    }

    /// Microseconds since anything was last recorded.
    pub fn quiet_us(&self) -> u64 {
        let s = self.lock();
        s.now_us().saturating_sub(s.last_activity_us)
    }

    /// Moves finished spans to the event list and writes new events to the
    /// report file. The watchdog calls this every few milliseconds.
    pub fn tick(&self) {
        self.lock().seal();
        self.flush();
    }

    /// Every event so far, including spans still open to merging.
    pub fn snapshot(&self) -> Vec<Event> {
        self.everything()
    }

    /// Records a measured fact for the runner. Reporting the same name again
    /// replaces the value. Only a harness reports facts, through the
    /// contract's `Facts`, which decides what may be reported.
    pub(crate) fn fact(&self, name: &str, value: f64) {
        let mut s = self.lock();
        if !s.running {
            return;
        }
        s.touch(None);
        s.events.push(Event::Fact {
            name: name.into(),
            value,
        });
    }

    /// Records that the harness skipped its claim on this machine.
    pub(crate) fn skip(&self, reason: &str) {
        let mut s = self.lock();
        if !s.running {
            return;
        }
        s.touch(None);
        s.events.push(Event::Skip {
            reason: reason.into(),
        });
    }

    /// Records a moment on the current thread, attributed to the task being
    /// polled (if any).
    /// Records this lane's name now, if a run is going, so that the
    /// timeline draws its row even if it never polls anything traced.
    fn announce_lane(&self, lane: u32) {
        let mut s = self.lock();
        if s.running && !s.seen_lanes.contains(&lane) {
            s.touch(Some(lane));
        }
    }

    pub fn mark(&self, text: &str) {
        let lane = lane();
        let task = current_task();
        let mut s = self.lock();
        if !s.running {
            return;
        }
        let at_us = s.touch(Some(lane));
        let mark = Mark {
            task: task.map(|t| t.to_string()),
            lane,
            at_us,
            text: text.into(),
        };
        s.marks += 1;
        if s.marks <= FIRST_MARKS {
            s.events.push(Event::Mark(mark));
            return;
        }
        if s.late_marks.len() == LAST_MARKS {
            s.late_marks.pop_front();
            s.marks_not_shown += 1;
        }
        s.late_marks.push_back(mark);
    }

    /// Runs `f`, a call that blocks the thread, and records it as a blocking
    /// span so the timeline can show it.
    pub fn blocking<R>(&self, note: &str, f: impl FnOnce() -> R) -> R {
        let lane = lane();
        // Outside any task, the call itself names its bar.
        let task = current_task().map_or_else(|| note.to_string(), |t| t.to_string());
        let start_us = self.lock().touch(Some(lane));
        let out = f();
        let mut s = self.lock();
        if !s.running {
            return out;
        }
        let end_us = s.touch(Some(lane));
        s.events.push(Event::Span(Span {
            task,
            lane,
            kind: SpanKind::Block,
            start_us,
            end_us,
            polls: 0,
            ready: false,
            note: Some(note.into()),
        }));
        out
    }

    /// Records a panic's message (called from the panic hook). Never blocks:
    /// if the recorder is busy the message is only printed, not recorded.
    pub fn panic(&self, message: &str) {
        // Another thread (the watchdog, say) may hold the lock for a
        // moment: wait a little for it, but never for ever, since this
        // thread may be the one holding it.
        let give_up = Instant::now() + std::time::Duration::from_millis(200);
        let mut s = loop {
            match self.state.try_lock() {
                Ok(g) => break g,
                Err(std::sync::TryLockError::Poisoned(e)) => break e.into_inner(),
                Err(std::sync::TryLockError::WouldBlock) if Instant::now() < give_up => {
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
                Err(std::sync::TryLockError::WouldBlock) => return,
            }
        };
        s.events.push(Event::Panic {
            message: message.into(),
        });
        // The polls this thread is inside end here, in the panic: record
        // them now, since the report may be read before they unwind.
        let lane = lane::this_lane();
        let now = s.now_us();
        let mut cut = Vec::new();
        for t in s.tasks.values_mut() {
            if let Some((l, since)) = t.in_poll.filter(|(l, _)| Some(*l) == lane) {
                t.in_poll = None;
                t.cut_short = true;
                cut.push(Span {
                    task: t.label.to_string(),
                    lane: l,
                    kind: SpanKind::Poll,
                    start_us: since,
                    end_us: now,
                    polls: 1,
                    ready: false,
                    note: Some("panicked in this poll".into()),
                });
            }
        }
        s.seal();
        cut.sort_by_key(|sp| sp.start_us);
        s.events.extend(cut.into_iter().map(Event::Span));
        drop(s);
        // The report's writer may be busy for a moment (the watchdog
        // writing): wait for it a little, never for ever from a panic.
        let mut written = loop {
            match self.sink.try_lock() {
                Ok(g) => break g,
                Err(std::sync::TryLockError::Poisoned(e)) => break e.into_inner(),
                Err(std::sync::TryLockError::WouldBlock) if Instant::now() < give_up => {
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
                Err(std::sync::TryLockError::WouldBlock) => return,
            }
        };
        let fresh = self.lock().unflushed();
        written.write(fresh);
    }

    /// Records that the run stalled, with who was stuck in a poll and who was
    /// waiting for a wake-up, and returns every event so far.
    pub fn stall(&self, reason: StallReason, after_ms: u64) -> (Stall, Vec<Event>) {
        let mut s = self.lock();
        s.seal();
        let at_us = s.now_us();
        let mut blocked: Vec<Blocked> = s
            .tasks
            .values()
            .filter_map(|t| {
                t.in_poll.map(|(lane, since_us)| Blocked {
                    task: t.label.to_string(),
                    lane,
                    since_us,
                })
            })
            .collect();
        blocked.sort_by(|a, b| (a.since_us, &a.task).cmp(&(b.since_us, &b.task)));
        let mut waiting: Vec<Waiting> = s
            .tasks
            .values()
            .filter(|t| t.in_poll.is_none())
            .map(|t| Waiting {
                task: t.label.to_string(),
                polls: t.polls,
                last_poll_us: t.last_poll_end,
                woken_us: t.woken.as_ref().map(|w| w.0),
            })
            .collect();
        waiting.sort_by(|a, b| (a.last_poll_us, &a.task).cmp(&(b.last_poll_us, &b.task)));
        let stall = Stall {
            reason,
            at_us,
            after_ms,
            blocked,
            waiting,
        };
        s.settle_marks();
        s.events.push(Event::Stall(stall.clone()));
        s.running = false;
        drop(s);
        self.flush();
        (stall, self.written().events.clone())
    }
}

static GLOBAL: LazyLock<Recorder> = LazyLock::new(Recorder::new);

/// The process-wide recorder that lesson binaries use.
pub fn global() -> &'static Recorder {
    &GLOBAL
}

/// Names this thread's lane on the timeline (`blocking pool`, `worker 2`),
/// unless it already has one (threads of the same name are numbered `#2`,
/// `#3`...), and, during a run, draws its row even if nothing traced ever
/// runs on it: an idle worker is part of the story.
pub fn name_lane(name: &str) {
    lane::name_lane(name);
    global().announce_lane(lane());
}

/// Puts a mark on the timeline: a moment worth pointing at.
pub fn mark(text: &str) {
    global().mark(text);
}

/// Draws every task whose label starts with `prefix` as one group named
/// `name` (see [`Recorder::group`]).
pub fn group(prefix: &str, name: &str) {
    global().group(prefix, name);
}

/// Runs a call that blocks the thread and shows it on the timeline.
pub fn blocking<R>(note: &str, f: impl FnOnce() -> R) -> R {
    global().blocking(note, f)
}

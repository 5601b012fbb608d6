//! Records what happens while a lesson runs: every poll of every traced
//! future, blocking calls, marks and facts.
//!
//! A lesson wraps each task's future with [`traced`]; the wrapper notes the
//! thread, start and end of every `poll`. Back-to-back polls of one task on
//! one thread are merged into one span (a future that wakes itself is polled
//! thousands of times), keeping the count. Events are kept in memory for the
//! final picture and streamed to the report file by the watchdog thread.

use crate::event::{Blocked, Event, Mark, Span, SpanKind, Stall, StallReason, Waiting, Wake};
use pin_project_lite::pin_project;
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::future::Future;
use std::io::{BufWriter, Write};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, Weak};
use std::task::{Context, Poll, Waker};
use std::time::Instant;

/// Polls of one task on one thread closer together than this are drawn as
/// one bar.
const MERGE_GAP_US: u64 = 50;

static LANE_NAMES: Mutex<Vec<String>> = Mutex::new(Vec::new());
static NEXT_TASK: AtomicU64 = AtomicU64::new(1);

thread_local! {
    static LANE: Cell<Option<u32>> = const { Cell::new(None) };
    /// The traced tasks being polled on this thread, innermost last.
    static CURRENT: RefCell<Vec<Arc<str>>> = const { RefCell::new(Vec::new()) };
}

/// This thread's lane: a small number, the same for the thread's whole life.
fn lane() -> u32 {
    lane_named(None)
}

/// Names this thread's lane on the timeline (`blocking pool`, say), unless
/// it already has one. Threads of the same name are numbered `#2`, `#3`...
pub fn name_lane(name: &str) {
    lane_named(Some(name));
}

fn lane_named(name: Option<&str>) -> u32 {
    LANE.with(|cell| {
        if let Some(id) = cell.get() {
            return id;
        }
        let thread = std::thread::current();
        let base = name.or(thread.name()).unwrap_or("thread").to_string();
        let mut names = LANE_NAMES.lock().unwrap_or_else(|e| e.into_inner());
        // The id is the name's index, taken under the same lock.
        let id = names.len() as u32;
        let same = names
            .iter()
            .filter(|n| n.split(" #").next() == Some(base.as_str()))
            .count();
        let name = if same == 0 {
            base
        } else {
            format!("{base} #{}", same + 1)
        };
        names.push(name);
        cell.set(Some(id));
        id
    })
}

fn lane_name(id: u32) -> String {
    LANE_NAMES
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(id as usize)
        .cloned()
        .unwrap_or_else(|| format!("thread {id}"))
}

fn current_task() -> Option<Arc<str>> {
    CURRENT.with(|c| c.borrow().last().cloned())
}

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
}

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
    /// replaces the value. Only a harness reports facts, through
    /// [`crate::contract::lesson::Facts`].
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
    pub fn mark(&self, text: &str) {
        let lane = lane();
        let task = current_task();
        let mut s = self.lock();
        if !s.running {
            return;
        }
        let at_us = s.touch(Some(lane));
        s.events.push(Event::Mark(Mark {
            task: task.map(|t| t.to_string()),
            lane,
            at_us,
            text: text.into(),
        }));
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
        let lane = LANE.with(Cell::get);
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
        s.events.push(Event::Stall(stall.clone()));
        s.running = false;
        drop(s);
        self.flush();
        (stall, self.written().events.clone())
    }

    fn register(&self, label: Arc<str>) -> u64 {
        let id = NEXT_TASK.fetch_add(1, Ordering::Relaxed);
        self.lock().tasks.insert(
            id,
            TaskState {
                label,
                polls: 0,
                in_poll: None,
                last_poll_end: None,
                last_lane: None,
                cut_short: false,
                woken: None,
            },
        );
        id
    }

    fn poll_started(&self, id: u64, label: &Arc<str>) -> (u32, u64) {
        let lane = lane();
        CURRENT.with(|c| c.borrow_mut().push(label.clone()));
        let mut s = self.lock();
        if !s.running {
            return (lane, 0);
        }
        let start = s.touch(Some(lane));
        let mut wake = None;
        if let Some(t) = s.tasks.get_mut(&id) {
            t.in_poll = Some((lane, start));
            if let Some((woken_us, from_lane, from_task)) = t.woken.take() {
                // A task that woke itself and is polled again at once, on
                // the same thread, is drawn as one bar: no link to draw.
                let again_at_once = from_task.as_deref() == Some(&**label)
                    && t.last_lane == Some(lane)
                    && t.last_poll_end
                        .is_some_and(|end| start <= end + MERGE_GAP_US);
                if !again_at_once {
                    wake = Some(Wake {
                        task: label.to_string(),
                        from_lane,
                        from_task: from_task.map(|t| t.to_string()),
                        woken_us,
                        lane,
                        polled_us: start,
                    });
                }
            }
        }
        if let Some(wake) = wake {
            s.events.push(Event::Wake(wake));
        }
        (lane, start)
    }

    /// A traced task's waker was called, on this thread.
    fn woken(&self, id: u64) {
        let lane = lane();
        let by = current_task();
        let mut s = self.lock();
        if !s.running || !s.tasks.contains_key(&id) {
            return; // finished, or from an earlier run
        }
        let now = s.touch(Some(lane));
        if let Some(t) = s.tasks.get_mut(&id) {
            // The first wake-up counts: the wait for a poll starts there.
            t.woken.get_or_insert((now, lane, by));
        }
    }

    fn poll_ended(&self, id: u64, label: &Arc<str>, lane: u32, start_us: u64, ready: bool) {
        CURRENT.with(|c| {
            c.borrow_mut().pop();
        });
        let mut s = self.lock();
        if !s.running {
            return;
        }
        let end_us = s.touch(Some(lane));
        if let Some(t) = s.tasks.get_mut(&id).filter(|t| t.cut_short) {
            // A panic recorded this poll already; this is its unwinding.
            t.cut_short = false;
            return;
        }
        if ready {
            s.tasks.remove(&id);
        } else if let Some(t) = s.tasks.get_mut(&id) {
            t.polls += 1;
            t.in_poll = None;
            t.last_poll_end = Some(end_us);
            t.last_lane = Some(lane);
        }
        // Most polls extend the bar before them: only a new bar needs a
        // copy of the label.
        match s.pending.get_mut(&lane) {
            Some(p) if *p.task == **label && start_us <= p.end_us + MERGE_GAP_US => {
                p.end_us = end_us;
                p.polls += 1;
                p.ready = ready;
            }
            _ => {
                let span = Span {
                    task: label.to_string(),
                    lane,
                    kind: SpanKind::Poll,
                    start_us,
                    end_us,
                    polls: 1,
                    ready,
                    note: None,
                };
                if let Some(old) = s.pending.insert(lane, span) {
                    s.events.push(Event::Span(old));
                }
            }
        }
    }

    fn dropped(&self, id: u64, label: &Arc<str>, polled: bool) {
        let mut s = self.lock();
        if s.tasks.remove(&id).is_none() || !s.running {
            return; // it finished, or the run was restarted or is over
        }
        let lane = lane();
        let at_us = s.touch(Some(lane));
        let text = if polled {
            format!("{label}: dropped while pending (cancelled)")
        } else {
            format!("{label}: dropped without ever being polled")
        };
        s.events.push(Event::Mark(Mark {
            task: current_task().map(|t| t.to_string()),
            lane,
            at_us,
            text,
        }));
    }

    /// Wraps `fut` so that every poll of it is recorded here under `label`.
    pub fn traced<F: Future>(&'static self, label: impl Into<String>, fut: F) -> Traced<F> {
        let label: Arc<str> = Arc::from(label.into());
        let id = self.register(label.clone());
        Traced {
            inner: fut,
            rec: self,
            id,
            label,
            polled: false,
            quiet_drop: false,
            probe: None,
        }
    }

    fn forget(&self, id: u64) {
        self.lock().tasks.remove(&id);
    }
}

pin_project! {
    /// A future that records each of its polls. Made by [`traced`].
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Traced<F> {
        #[pin]
        inner: F,
        rec: &'static Recorder,
        id: u64,
        label: Arc<str>,
        polled: bool,
        quiet_drop: bool,
        // Our waker that wraps the task's, while anyone still holds it. A
        // weak reference: a strong one would make the future keep its own
        // task alive, and a task nobody wakes would never be freed.
        probe: Option<Weak<WakeProbe>>,
    }

    impl<F> PinnedDrop for Traced<F> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if *this.quiet_drop {
                this.rec.forget(*this.id);
            } else {
                this.rec.dropped(*this.id, this.label, *this.polled);
            }
        }
    }
}

impl<F> Traced<F> {
    /// The label this future's polls are recorded under.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Do not mark this future's cancellation: for background tasks (a
    /// heartbeat) that are always stopped that way.
    pub fn cancelled_quietly(mut self) -> Self {
        self.quiet_drop = true;
        self
    }
}

/// Ends a poll's record even if the inner poll panics.
struct PollRecord<'a> {
    rec: &'a Recorder,
    id: u64,
    label: &'a Arc<str>,
    lane: u32,
    start_us: u64,
    ready: bool,
}

impl Drop for PollRecord<'_> {
    fn drop(&mut self) {
        self.rec
            .poll_ended(self.id, self.label, self.lane, self.start_us, self.ready);
    }
}

impl<F: Future> Future for Traced<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        *this.polled = true;
        let (lane, start_us) = this.rec.poll_started(*this.id, this.label);
        let mut record = PollRecord {
            rec: this.rec,
            id: *this.id,
            label: this.label,
            lane,
            start_us,
            ready: false,
        };
        let out = if this.rec.track_wakes.load(Ordering::Relaxed) {
            // Hand the future a waker that notes each wake-up, then calls the
            // task's. The same one as last time while something keeps it
            // (a timer, a channel) and the task's waker has not changed.
            let kept = this.probe.as_ref().and_then(Weak::upgrade);
            let probe = match kept {
                Some(p) if p.theirs.will_wake(cx.waker()) => p,
                _ => {
                    let p = Arc::new(WakeProbe {
                        theirs: cx.waker().clone(),
                        rec: this.rec,
                        id: *this.id,
                    });
                    *this.probe = Some(Arc::downgrade(&p));
                    p
                }
            };
            let ours = Waker::from(probe);
            this.inner.poll(&mut Context::from_waker(&ours))
        } else {
            this.inner.poll(cx)
        };
        record.ready = out.is_ready();
        out
    }
}

/// The waker a traced future sees: it records the wake-up, then wakes the
/// task the way the task's own waker would.
struct WakeProbe {
    theirs: Waker,
    rec: &'static Recorder,
    id: u64,
}

impl std::task::Wake for WakeProbe {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.rec.woken(self.id);
        self.theirs.wake_by_ref();
    }
}

static GLOBAL: LazyLock<Recorder> = LazyLock::new(Recorder::new);

/// The process-wide recorder that lesson binaries use.
pub fn global() -> &'static Recorder {
    &GLOBAL
}

/// Wraps `fut` so that the timeline shows each of its polls under `label`.
pub fn traced<F: Future>(label: impl Into<String>, fut: F) -> Traced<F> {
    global().traced(label, fut)
}

/// Adds `.traced("label")` to every future.
pub trait TraceExt: Future + Sized {
    fn traced(self, label: impl Into<String>) -> Traced<Self> {
        traced(label, self)
    }
}

impl<F: Future> TraceExt for F {}

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

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Waker;

    /// Returns `Pending` (waking itself) `n` times, then `Ready`.
    struct YieldTimes(u32);

    impl Future for YieldTimes {
        type Output = ();
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            if self.0 == 0 {
                return Poll::Ready(());
            }
            self.0 -= 1;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }

    /// Counts the wake-ups of the task a future is polled by.
    struct Count(std::sync::atomic::AtomicU32);

    impl Count {
        fn wakes(&self) -> u32 {
            self.0.load(Ordering::SeqCst)
        }
    }

    impl std::task::Wake for Count {
        fn wake(self: Arc<Self>) {
            self.wake_by_ref();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn counting_waker() -> (Arc<Count>, Waker) {
        let count = Arc::new(Count(std::sync::atomic::AtomicU32::new(0)));
        (count.clone(), Waker::from(count))
    }

    fn recorder() -> &'static Recorder {
        let rec: &'static Recorder = Box::leak(Box::new(Recorder::new()));
        rec.begin("test", "scenario", "fixed", "", None);
        rec
    }

    fn spans(events: &[Event]) -> Vec<&Span> {
        events
            .iter()
            .filter_map(|e| match e {
                Event::Span(s) => Some(s),
                _ => None,
            })
            .collect()
    }

    fn marks(events: &[Event]) -> Vec<&str> {
        events
            .iter()
            .filter_map(|e| match e {
                Event::Mark(m) => Some(m.text.as_str()),
                _ => None,
            })
            .collect()
    }

    fn wakes(events: &[Event]) -> Vec<&Wake> {
        events
            .iter()
            .filter_map(|e| match e {
                Event::Wake(w) => Some(w),
                _ => None,
            })
            .collect()
    }

    /// Pending until `open` is set; keeps the waker it was given last and
    /// says whether it was the same as the one before.
    struct Gate {
        open: Arc<AtomicBool>,
        waker: Arc<Mutex<Option<Waker>>>,
        same_waker_each_time: Arc<AtomicBool>,
    }

    impl Future for Gate {
        type Output = ();
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            let mut slot = self.waker.lock().unwrap();
            if let Some(old) = slot.as_ref() {
                if !old.will_wake(cx.waker()) {
                    self.same_waker_each_time.store(false, Ordering::SeqCst);
                }
            }
            *slot = Some(cx.waker().clone());
            if self.open.load(Ordering::SeqCst) {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        }
    }

    fn gate() -> (Gate, Arc<AtomicBool>, Arc<Mutex<Option<Waker>>>) {
        let open = Arc::new(AtomicBool::new(false));
        let waker = Arc::new(Mutex::new(None));
        let g = Gate {
            open: open.clone(),
            waker: waker.clone(),
            same_waker_each_time: Arc::new(AtomicBool::new(true)),
        };
        (g, open, waker)
    }

    #[test]
    fn a_wake_from_another_thread_is_linked_to_the_poll_it_caused() {
        let rec = recorder();
        let (g, open, waker) = gate();
        let same = g.same_waker_each_time.clone();
        let mut fut = Box::pin(rec.traced("waiter", g));
        let (count, task_waker) = counting_waker();
        let mut cx = Context::from_waker(&task_waker);
        assert!(fut.as_mut().poll(&mut cx).is_pending());
        assert!(fut.as_mut().poll(&mut cx).is_pending());
        std::thread::Builder::new()
            .name("opener".into())
            .spawn(move || {
                open.store(true, Ordering::SeqCst);
                waker.lock().unwrap().take().unwrap().wake();
            })
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(count.wakes(), 1, "the task's own waker was called");
        assert!(fut.as_mut().poll(&mut cx).is_ready());
        assert!(same.load(Ordering::SeqCst), "one waker, kept across polls");
        let events = rec.finish();
        let found = wakes(&events);
        assert_eq!(found.len(), 1, "{found:?}");
        let w = found[0];
        assert_eq!(w.task, "waiter");
        assert_eq!(w.from_task, None);
        assert_ne!(w.from_lane, w.lane, "woken from the opener's thread");
        assert!(w.polled_us >= w.woken_us);
        let lane_named_opener = events.iter().any(
            |e| matches!(e, Event::Lane { id, name } if *id == w.from_lane && name == "opener"),
        );
        assert!(lane_named_opener);
    }

    #[test]
    fn a_task_that_wakes_itself_and_is_polled_at_once_makes_no_links() {
        let rec = recorder();
        let mut fut = Box::pin(rec.traced("spinner", YieldTimes(1000)));
        let (count, task_waker) = counting_waker();
        let mut cx = Context::from_waker(&task_waker);
        while fut.as_mut().poll(&mut cx).is_pending() {}
        assert_eq!(count.wakes(), 1000, "every wake reached the task");
        let events = rec.finish();
        // Polls closer than 50 µs are "at once": only a thread taken away
        // between two polls (a busy machine) can make a link, and then only
        // a few of the thousand.
        let links = wakes(&events).len();
        assert!(links < 100, "{links} links for 1000 self-wakes");
    }

    #[test]
    fn a_task_woken_but_never_polled_again_says_so_in_a_stall() {
        let rec = recorder();
        let (g, _open, waker) = gate();
        let mut fut = Box::pin(rec.traced("forgotten", g));
        let mut cx = Context::from_waker(Waker::noop());
        assert!(fut.as_mut().poll(&mut cx).is_pending());
        waker.lock().unwrap().take().unwrap().wake();
        let (stall, _) = rec.stall(StallReason::Quiet, 2000);
        let w = stall
            .waiting
            .iter()
            .find(|w| w.task == "forgotten")
            .unwrap();
        assert!(w.woken_us.is_some());
        drop(fut);
    }

    #[test]
    fn a_traced_future_does_not_keep_its_own_task_alive() {
        // A task that owns its future, and a waker that owns the task, as
        // in lesson 03's executor. Nobody keeps the waker: the task must go.
        struct Task {
            fut: Mutex<Option<Pin<Box<dyn Future<Output = ()> + Send>>>>,
        }
        impl std::task::Wake for Task {
            fn wake(self: Arc<Self>) {}
        }
        let rec = recorder();
        let (g, _open, slot) = gate();
        let task = Arc::new(Task {
            fut: Mutex::new(Some(Box::pin(rec.traced("forgetful", async move {
                // Polls the gate, then forgets the waker it stored.
                let mut g = std::pin::pin!(g);
                std::future::poll_fn(|cx| {
                    let out = g.as_mut().poll(cx);
                    slot.lock().unwrap().take();
                    out
                })
                .await
            })))),
        });
        {
            let waker = Waker::from(task.clone());
            let mut cx = Context::from_waker(&waker);
            let mut fut = task.fut.lock().unwrap();
            let pending = fut.as_mut().unwrap().as_mut().poll(&mut cx);
            assert!(pending.is_pending());
        }
        let weak = Arc::downgrade(&task);
        drop(task);
        assert!(weak.upgrade().is_none(), "the task was freed");
        let marks: Vec<String> = marks(&rec.finish()).into_iter().map(String::from).collect();
        assert_eq!(marks, ["forgetful: dropped while pending (cancelled)"]);
    }

    #[test]
    fn a_poll_that_panics_is_recorded_once_with_its_wake_up() {
        let rec = recorder();
        let (g, open, waker) = gate();
        let fut = Box::pin(rec.traced("doomed", async move {
            g.await;
            // What the panic hook does, then the panic itself.
            rec.panic("boom");
            panic!("boom");
        }));
        let (_count, task_waker) = counting_waker();
        let mut fut = std::panic::AssertUnwindSafe(fut);
        let mut cx = Context::from_waker(&task_waker);
        assert!(fut.0.as_mut().poll(&mut cx).is_pending());
        open.store(true, Ordering::SeqCst);
        waker.lock().unwrap().take().unwrap().wake();
        let unwound = std::panic::catch_unwind(move || {
            let mut cx = Context::from_waker(&task_waker);
            let _ = fut.0.as_mut().poll(&mut cx);
        });
        assert!(unwound.is_err());
        let events = rec.finish();
        let polls: Vec<&Span> = spans(&events)
            .into_iter()
            .filter(|s| s.task == "doomed")
            .collect();
        let total: u32 = polls.iter().map(|s| s.polls).sum();
        assert_eq!(total, 2, "recorded once each, not twice: {polls:?}");
        assert!(
            polls
                .iter()
                .any(|s| s.note.as_deref() == Some("panicked in this poll"))
        );
        let w = wakes(&events);
        assert_eq!(w.len(), 1);
        let landed = polls
            .iter()
            .any(|s| s.start_us <= w[0].polled_us && w[0].polled_us <= s.end_us);
        assert!(landed, "the wake-up's poll is recorded");
    }

    #[test]
    fn without_wake_tracking_the_future_gets_the_tasks_own_waker() {
        let rec = recorder();
        rec.set_wake_tracking(false);
        let (g, _open, waker) = gate();
        let mut fut = Box::pin(rec.traced("plain", g));
        let (_count, task_waker) = counting_waker();
        let mut cx = Context::from_waker(&task_waker);
        assert!(fut.as_mut().poll(&mut cx).is_pending());
        assert!(
            waker
                .lock()
                .unwrap()
                .as_ref()
                .unwrap()
                .will_wake(&task_waker)
        );
    }

    #[test]
    fn back_to_back_polls_merge_into_one_span_that_counts_them() {
        let rec = recorder();
        let mut fut = Box::pin(rec.traced("spinner", YieldTimes(4)));
        let mut cx = Context::from_waker(Waker::noop());
        while fut.as_mut().poll(&mut cx).is_pending() {}
        drop(fut);
        let events = rec.finish();
        let spans = spans(&events);
        let total: u32 = spans.iter().map(|s| s.polls).sum();
        assert_eq!(total, 5, "four Pending polls and one Ready poll");
        assert!(spans.iter().all(|s| s.task == "spinner"));
        assert!(spans.last().unwrap().ready);
        assert!(
            marks(&events).is_empty(),
            "a finished future is not 'dropped'"
        );
    }

    #[test]
    fn dropping_a_future_is_marked_with_whether_it_was_ever_polled() {
        let rec = recorder();
        drop(rec.traced("lazy", YieldTimes(1)));
        let mut started = Box::pin(rec.traced("started", YieldTimes(3)));
        let mut cx = Context::from_waker(Waker::noop());
        assert!(started.as_mut().poll(&mut cx).is_pending());
        drop(started);
        let marks_seen: Vec<String> = marks(&rec.finish()).into_iter().map(String::from).collect();
        assert_eq!(
            marks_seen,
            [
                "lazy: dropped without ever being polled",
                "started: dropped while pending (cancelled)"
            ]
        );
    }

    #[test]
    fn marks_and_blocking_calls_name_the_task_being_polled() {
        let rec = recorder();
        let mut fut = Box::pin(rec.traced(
            "worker",
            std::future::poll_fn(|_| {
                rec.mark("lock taken");
                rec.blocking("std::thread::sleep", || {
                    std::thread::sleep(std::time::Duration::from_millis(2))
                });
                Poll::Ready(())
            }),
        ));
        let mut cx = Context::from_waker(Waker::noop());
        assert!(fut.as_mut().poll(&mut cx).is_ready());
        let events = rec.finish();
        let mark = events
            .iter()
            .find_map(|e| match e {
                Event::Mark(m) => Some(m),
                _ => None,
            })
            .unwrap();
        assert_eq!(mark.task.as_deref(), Some("worker"));
        let block = spans(&events)
            .into_iter()
            .find(|s| s.kind == SpanKind::Block)
            .unwrap();
        assert_eq!(block.task, "worker");
        assert!(block.end_us - block.start_us >= 2_000);
        assert_eq!(block.note.as_deref(), Some("std::thread::sleep"));
    }

    #[test]
    fn a_stall_names_the_stuck_poll_and_the_task_nobody_woke() {
        let rec = recorder();
        // "sleeper" returns Pending once and is never polled again.
        let mut sleeper = Box::pin(rec.traced("sleeper", YieldTimes(1)));
        let mut cx = Context::from_waker(Waker::noop());
        assert!(sleeper.as_mut().poll(&mut cx).is_pending());
        // "stuck" is inside a poll when the stall is taken.
        let (tx, rx) = std::sync::mpsc::channel();
        let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            let mut stuck = Box::pin(rec.traced(
                "stuck",
                std::future::poll_fn(move |_| {
                    tx.send(()).unwrap();
                    go_rx.recv().unwrap();
                    Poll::Ready(())
                }),
            ));
            let mut cx = Context::from_waker(Waker::noop());
            let _ = stuck.as_mut().poll(&mut cx);
        });
        rx.recv().unwrap();
        let (stall, events) = rec.stall(StallReason::Quiet, 2000);
        go_tx.send(()).unwrap();
        thread.join().unwrap();
        assert_eq!(stall.blocked.len(), 1);
        assert_eq!(stall.blocked[0].task, "stuck");
        assert_eq!(stall.waiting.len(), 1);
        assert_eq!(stall.waiting[0].task, "sleeper");
        assert_eq!(stall.waiting[0].polls, 1);
        assert!(events.iter().any(|e| matches!(e, Event::Stall(_))));
        assert!(!rec.is_running());
    }

    #[test]
    fn the_report_file_receives_every_event_as_json_lines() {
        let path = std::env::temp_dir().join(format!("recorder-test-{}.jsonl", std::process::id()));
        let rec: &'static Recorder = Box::leak(Box::new(Recorder::new()));
        rec.begin("l", "s", "broken", "", Some(File::create(&path).unwrap()));
        rec.fact("answer", 42.0);
        rec.mark("hello");
        rec.tick();
        let early = std::fs::read_to_string(&path).unwrap();
        assert!(
            early.contains("\"answer\""),
            "facts are streamed before the end"
        );
        rec.finish();
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        let events: Vec<Event> = text
            .lines()
            .map(|l| Event::parse(l).expect("every line is an event"))
            .collect();
        assert!(events.iter().any(
            |e| matches!(e, Event::Fact { name, value } if name == "answer" && *value == 42.0)
        ));
        assert!(matches!(events.last(), Some(Event::End { .. })));
    }

    #[test]
    fn threads_get_distinct_lane_names() {
        let a = std::thread::Builder::new()
            .name("same-name".into())
            .spawn(|| (lane(), lane_name(lane())))
            .unwrap()
            .join()
            .unwrap();
        let b = std::thread::Builder::new()
            .name("same-name".into())
            .spawn(|| (lane(), lane_name(lane())))
            .unwrap()
            .join()
            .unwrap();
        assert_ne!(a.0, b.0);
        assert_ne!(a.1, b.1);
        assert!(a.1.starts_with("same-name") && b.1.starts_with("same-name"));
    }
}

//! Tracing a future: every poll of it, and every wake-up of its task,
//! noted in a [`Recorder`].

use super::lane::{current_task, lane, pop_current, push_current};
use super::{MERGE_GAP_US, NEXT_TASK, Recorder, TaskState, global};
use crate::event::{Event, Mark, Span, SpanKind, Wake};
use pin_project_lite::pin_project;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll, Waker};

impl Recorder {
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
        push_current(label.clone());
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
        pop_current();
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
            format!(
                "{label}: dropped while pending (cancelled, or freed with nothing left to wake it)"
            )
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

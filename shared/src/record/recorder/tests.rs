//! The recorder's tests: merging, wake-up links, panics, stalls, the
//! report file, lanes.

use super::lane::{lane, lane_name};
use super::*;
use crate::event::Wake;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

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
    let lane_named_opener = events
        .iter()
        .any(|e| matches!(e, Event::Lane { id, name } if *id == w.from_lane && name == "opener"));
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
    assert_eq!(
        marks,
        ["forgetful: dropped while pending (cancelled, or freed with nothing left to wake it)"]
    );
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
            "started: dropped while pending (cancelled, or freed with nothing left to wake it)"
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
    assert!(
        events.iter().any(
            |e| matches!(e, Event::Fact { name, value } if name == "answer" && *value == 42.0)
        )
    );
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

#[test]
fn a_run_that_marks_in_a_loop_keeps_its_first_and_last_marks_and_counts_the_rest() {
    let rec = recorder();
    for i in 0..100_000 {
        rec.mark(&format!("report {i}"));
    }
    let events = rec.finish();
    let texts = marks(&events);
    assert_eq!(texts.len(), 500 + 1 + 500, "first, a count, last");
    assert_eq!(texts[0], "report 0");
    assert_eq!(texts[499], "report 499");
    assert!(
        texts[500].starts_with("… 99000 more marks not shown"),
        "{}",
        texts[500]
    );
    assert_eq!(texts[501], "report 99500");
    assert_eq!(texts[1000], "report 99999");
}

#[test]
fn a_poll_still_going_when_the_run_ends_is_recorded_up_to_the_end() {
    let rec = recorder();
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
    let events = rec.finish();
    go_tx.send(()).unwrap();
    thread.join().unwrap();
    let open: Vec<&Span> = spans(&events)
        .into_iter()
        .filter(|s| s.note.as_deref() == Some(STILL_IN_POLL))
        .collect();
    assert_eq!(open.len(), 1, "{events:?}");
    assert_eq!(open[0].task, "stuck");
    let end = events.iter().find_map(|e| match e {
        Event::End { elapsed_us } => Some(*elapsed_us),
        _ => None,
    });
    assert_eq!(Some(open[0].end_us), end);
    // The poll's own end, after the run, adds nothing.
    assert_eq!(rec.snapshot().len(), events.len());
}

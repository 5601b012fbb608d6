//! The broken half of the sleep claims. It really sleeps (one second), since
//! std::thread::sleep knows nothing of tokio's clock, and asserts only
//! orderings and lower bounds, which hold on any machine. It reads the
//! recorder, so it is the only test in this file (its own process).

use lesson_06::sleep::{self, Shape};
use lesson_06::{NAP, NAPPERS, broken, runtime};
use shared::event::{Event, Span, SpanKind};
use shared::lesson::Facts;

fn napper_polls() -> Vec<Span> {
    let mut spans: Vec<Span> = shared::record::recorder::global()
        .snapshot()
        .into_iter()
        .filter_map(|e| match e {
            Event::Span(s) if s.kind == SpanKind::Poll && s.task.starts_with("napper") => Some(s),
            _ => None,
        })
        .collect();
    spans.sort_by_key(|s| s.start_us);
    spans
}

#[test]
fn waits_that_block_the_thread_run_one_after_another() {
    shared::record::recorder::global().begin(lesson_06::LESSON, "sleep", "test", "", None);
    let facts = Facts::for_test(&sleep::SPEC);
    let ten = Shape {
        name: "ten waits of 100 ms".into(),
        lengths: vec![NAP; NAPPERS as usize],
    };
    runtime().block_on(sleep::measure(&facts, &[ten], broken::nap));
    assert_eq!(facts.get("naps_at_once"), Some(1.0 / f64::from(NAPPERS)));
    assert!(facts.get("elapsed_ratio").unwrap() >= f64::from(NAPPERS));
    assert!(facts.get("longest_poll_ratio").unwrap() >= 1.0);
    if sleep::can_tell_blocking() {
        assert!(
            facts.get("asleep_share").unwrap() > 0.5,
            "{:?}",
            facts.values()
        );
    }
    let polls = napper_polls();
    assert_eq!(
        polls.len(),
        NAPPERS as usize,
        "one poll each: no napper ever paused"
    );
    assert!(polls.iter().all(|p| p.ready));
    for pair in polls.windows(2) {
        assert!(
            pair[1].start_us >= pair[0].end_us,
            "{} started before {} ended",
            pair[1].task,
            pair[0].task
        );
    }
    for p in &polls {
        assert!(p.end_us - p.start_us >= NAP.as_micros() as u64);
    }
}

//! The grader of the `uneven` scenario judges fetch stages between the
//! lesson's reader and its scoring, under the workloads drawn for this run
//! (the seed is printed when a test fails): the lesson's broken and fixed
//! stages, the untouched exercise, other fixes written differently, and
//! wrong fixes. What it judges is counted as it happens (fetches started
//! behind a slow one, how far past the oldest record, how many at once,
//! records held, order, scores, polls); the runtime's busy share and the
//! longest hold are times, judged here only loosely.

use lesson_10::{Fetching, UnevenShape, broken_stage, fixed_stage, uneven};
use shared::grade::{Grader, Observed};
use shared::lesson::Facts;
use shared::work::shape::{Rng, seed};

#[allow(dead_code)]
#[path = "fixtures/pipeline/bug_asks_again_and_again.rs"]
mod bug_asks_again_and_again;
#[allow(dead_code)]
#[path = "fixtures/pipeline/bug_buffered_window.rs"]
mod bug_buffered_window;
#[allow(dead_code)]
#[path = "fixtures/pipeline/bug_no_window.rs"]
mod bug_no_window;
#[allow(dead_code)]
#[path = "fixtures/pipeline/bug_reads_everything_first.rs"]
mod bug_reads_everything_first;
#[allow(dead_code)]
#[path = "fixtures/pipeline/bug_unordered.rs"]
mod bug_unordered;
#[allow(dead_code)]
#[path = "fixtures/pipeline/fix_ordered_with_permits.rs"]
mod fix_ordered_with_permits;
#[allow(dead_code)]
#[path = "fixtures/pipeline/fix_tasks_in_a_queue.rs"]
mod fix_tasks_in_a_queue;
#[allow(dead_code)]
#[path = "../exercise/start/pipeline.rs"]
mod start;

/// The facts counted as they happen.
const COUNTS: &[&str] = &[
    "window_use",
    "reach_ratio",
    "in_flight_ratio",
    "held_ratio",
    "lost",
    "out_of_order",
    "wrong_results",
    "stage_polls",
    "threads_left",
];

fn staged(stage: impl AsyncFn(Fetching)) -> Facts {
    let facts = Facts::for_test(&uneven::SPEC);
    let shapes = UnevenShape::draw(&mut Rng::for_scenario(uneven::SPEC.name));
    uneven::measure(&facts, &shapes, stage);
    facts
}

fn grader() -> Grader {
    Grader::new(env!("CARGO_MANIFEST_DIR"), &uneven::SPEC).only(COUNTS)
}

fn get(facts: &Facts, name: &str) -> f64 {
    facts
        .get(name)
        .unwrap_or_else(|| panic!("{name} was measured (seed {})", seed()))
}

fn done() -> Observed {
    Observed::Completes
}

#[test]
fn every_correct_stage_is_judged_fixed() {
    for (what, facts) in [
        ("the reference fix", staged(fixed_stage::fetch_in_order)),
        (
            "tasks in a queue, a semaphore",
            staged(fix_tasks_in_a_queue::fetch_in_order),
        ),
        (
            "FuturesOrdered with permits",
            staged(fix_ordered_with_permits::fetch_in_order),
        ),
    ] {
        grader().assert_fixed(what, done(), &facts);
        // Loosely, on what a busy machine does not stretch: no poll holds
        // the runtime's thread for 100 ms, and the runtime parks.
        let (held, busy) = (get(&facts, "longest_hold"), get(&facts, "runtime_busy"));
        assert!(
            held < 10.0 && busy < 0.8,
            "{what}: held {held} ticks, busy {busy} (seed {})",
            seed()
        );
    }
}

#[test]
fn buffered_is_judged_the_bug() {
    for (what, facts) in [
        (
            "the lesson's broken stage",
            staged(broken_stage::fetch_in_order),
        ),
        ("the untouched exercise", staged(start::fetch_in_order)),
    ] {
        grader().assert_bug(what, done(), &facts);
        assert_eq!(
            grader().diagnoses(done(), &facts),
            ["waits-behind-the-slow-one"],
            "{what}"
        );
    }
}

#[test]
fn every_wrong_stage_is_judged_not_fixed_and_named() {
    for (what, facts, ids) in [
        (
            "buffered(window)",
            staged(bug_buffered_window::fetch_in_order),
            &["too-many-fetches"][..],
        ),
        (
            "buffer_unordered",
            staged(bug_unordered::fetch_in_order),
            &["out-of-order"],
        ),
        (
            "a reorder buffer with no window",
            staged(bug_no_window::fetch_in_order),
            &["past-the-window"],
        ),
        (
            "every record taken first",
            staged(bug_reads_everything_first::fetch_in_order),
            &["holds-too-much"],
        ),
        (
            "asks again and again",
            staged(bug_asks_again_and_again::fetch_in_order),
            &["asks-again"],
        ),
    ] {
        grader().assert_diagnosed(what, done(), &facts, ids);
    }
}

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
#[path = "fixtures/pipeline/bug_busywork_fetches.rs"]
mod bug_busywork_fetches;
#[allow(dead_code)]
#[path = "fixtures/pipeline/bug_decoy_fetches.rs"]
mod bug_decoy_fetches;
#[allow(dead_code)]
#[path = "fixtures/pipeline/bug_hoards_records.rs"]
mod bug_hoards_records;
#[allow(dead_code)]
#[path = "fixtures/pipeline/bug_no_window.rs"]
mod bug_no_window;
#[allow(dead_code)]
#[path = "fixtures/pipeline/bug_polled_once_then_parked.rs"]
mod bug_polled_once_then_parked;
#[allow(dead_code)]
#[path = "fixtures/pipeline/bug_polls_on_a_timer.rs"]
mod bug_polls_on_a_timer;
#[allow(dead_code)]
#[path = "fixtures/pipeline/bug_reads_everything_first.rs"]
mod bug_reads_everything_first;
#[allow(dead_code)]
#[path = "fixtures/pipeline/bug_spawns_the_tail.rs"]
mod bug_spawns_the_tail;
#[allow(dead_code)]
#[path = "fixtures/pipeline/bug_spins_on_a_thread_kept_from_the_first_run.rs"]
mod bug_spins_on_a_thread_kept_from_the_first_run;
#[allow(dead_code)]
#[path = "fixtures/pipeline/bug_spins_on_a_thread_made_first.rs"]
mod bug_spins_on_a_thread_made_first;
#[allow(dead_code)]
#[path = "fixtures/pipeline/bug_spins_on_its_own_thread.rs"]
mod bug_spins_on_its_own_thread;
#[allow(dead_code)]
#[path = "fixtures/pipeline/bug_spins_on_rayons_pool.rs"]
mod bug_spins_on_rayons_pool;
#[allow(dead_code)]
#[path = "fixtures/pipeline/bug_unordered.rs"]
mod bug_unordered;
#[allow(dead_code)]
#[path = "fixtures/pipeline/bug_unordered_reorder_no_window.rs"]
mod bug_unordered_reorder_no_window;
#[allow(dead_code)]
#[path = "fixtures/pipeline/fix_ordered_with_permits.rs"]
mod fix_ordered_with_permits;
#[allow(dead_code)]
#[path = "fixtures/pipeline/fix_semaphore_buffered.rs"]
mod fix_semaphore_buffered;
#[allow(dead_code)]
#[path = "fixtures/pipeline/fix_tasks_in_a_queue.rs"]
mod fix_tasks_in_a_queue;
#[allow(dead_code)]
#[path = "../exercise/start/pipeline.rs"]
mod start;

/// The facts counted as they happen, and `window_use`, a count of fetches
/// driven while a slow one ran, which a very busy machine can lower for a
/// fix too (the quick fetches cost more beside the slow one).
const COUNTS: &[&str] = &[
    "window_use",
    "reach_ratio",
    "in_flight_ratio",
    "held_ratio",
    "lost",
    "out_of_order",
    "wrong_results",
    "stage_polls",
    "idle_polls",
    "extra_fetches",
    "handed_late",
    "threads_busy",
    "threads_left",
];

/// One stage at a time: `threads_busy` counts every thread the process
/// starts while a stage runs, so another test's threads would count too.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn staged(stage: impl AsyncFn(Fetching)) -> Facts {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let facts = Facts::for_test(&uneven::SPEC);
    let shapes = UnevenShape::draw(&mut Rng::for_scenario(uneven::SPEC.name));
    uneven::measure(&facts, &shapes, stage);
    facts
}

fn grader() -> Grader {
    Grader::new(env!("CARGO_MANIFEST_DIR"), &uneven::SPEC).only(COUNTS)
}

/// Judges a correct stage as the runner does: every count exactly; and
/// `window_use`, if it misses, against the lesson's own fix measured again
/// at once (a miss of both is a busy machine, not a wrong stage).
fn assert_fixed_unless_busy(what: &str, facts: &Facts) {
    let counted: Vec<&str> = COUNTS
        .iter()
        .copied()
        .filter(|&f| f != "window_use")
        .collect();
    Grader::new(env!("CARGO_MANIFEST_DIR"), &uneven::SPEC)
        .only(&counted)
        .assert_fixed(what, done(), facts);
    let used = get(facts, "window_use");
    if used < 0.5 {
        let again = get(&staged(fixed_stage::fetch_in_order), "window_use");
        assert!(
            again < 0.75,
            "{what}: window_use {used}, while the lesson's own fix, measured again, gave {again} (seed {})",
            seed()
        );
        eprintln!(
            "{what}: window_use {used}, and the lesson's own fix {again}: the machine is busy"
        );
    }
}

/// The diagnoses shown, but the one that rests on `window_use`, which a
/// busy machine can add.
fn diagnoses_but_timing(facts: &Facts) -> Vec<String> {
    grader()
        .diagnoses(done(), facts)
        .into_iter()
        .filter(|d| d != "waits-behind-the-slow-one")
        .collect()
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
        (
            "buffered(window) with permits held while fetching",
            staged(fix_semaphore_buffered::fetch_in_order),
        ),
    ] {
        assert_fixed_unless_busy(what, &facts);
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
        grader().assert_not_fixed(what, done(), &facts);
        assert_eq!(
            diagnoses_but_timing(&facts),
            ids,
            "{what}: the diagnoses shown (facts: {:?}, seed {})",
            facts.values(),
            seed()
        );
    }
}

/// Wrong stages that once passed: each is judged not fixed, and the
/// diagnosis aimed at its mechanism is among those shown (on a busy
/// machine `window_use` may add its own).
#[test]
fn every_hole_the_adversary_found_is_closed() {
    for (what, facts, id) in [
        (
            "decoy fetches of made-up records",
            staged(bug_decoy_fetches::fetch_in_order),
            "fetches-for-nothing",
        ),
        (
            "idle slots filled with made-up fetches",
            staged(bug_busywork_fetches::fetch_in_order),
            "fetches-for-nothing",
        ),
        (
            "fetches polled once, then parked",
            staged(bug_polled_once_then_parked::fetch_in_order),
            "waits-behind-the-slow-one",
        ),
        (
            "polled on a 1 ms timer",
            staged(bug_polls_on_a_timer::fetch_in_order),
            "polled-on-a-timer",
        ),
        (
            "a spin on a thread of its own",
            staged(bug_spins_on_its_own_thread::fetch_in_order),
            "spins-elsewhere",
        ),
        (
            "a spin on a thread of rayon's pool",
            staged(bug_spins_on_rayons_pool::fetch_in_order),
            "spins-elsewhere",
        ),
        (
            "a spin on a thread made before the harness began",
            {
                bug_spins_on_a_thread_made_first::start_the_thread();
                staged(bug_spins_on_a_thread_made_first::fetch_in_order)
            },
            "spins-elsewhere",
        ),
        (
            "a spin on a thread the first workload made and kept",
            staged(bug_spins_on_a_thread_kept_from_the_first_run::fetch_in_order),
            "spins-elsewhere",
        ),
        (
            "the tail spawned as the input ends",
            staged(bug_spawns_the_tail::fetch_in_order),
            "works-after-returning",
        ),
        (
            "every record taken into a queue of its own",
            staged(bug_hoards_records::fetch_in_order),
            "holds-too-much",
        ),
        (
            "buffer_unordered and a reorder map, no window",
            staged(bug_unordered_reorder_no_window::fetch_in_order),
            "past-the-window",
        ),
    ] {
        grader().assert_not_fixed(what, done(), &facts);
        let shown = grader().diagnoses(done(), &facts);
        assert!(
            shown.iter().any(|s| s == id),
            "{what}: {id} among {shown:?} (facts: {:?}, seed {})",
            facts.values(),
            seed()
        );
    }
}

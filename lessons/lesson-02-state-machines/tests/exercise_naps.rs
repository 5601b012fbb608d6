//! The `naps` grader grades, under paused tokio time: the clock moves only
//! when every task is waiting, so the counts and ratios are exact on any
//! machine. A run that never ends is stopped by a timeout of paused time.
//! Every program is judged under the shapes of several seeds.
//!
//! The wrong programs that block the thread (`std::thread::sleep`) are
//! judged too: a blocking sleep does not move paused time, but the longest
//! poll is measured in real time, and a sleep lasts at least what it asked
//! for on any machine.

use lesson_02::{broken, fixed, naps};
use shared::grade::{Grader, Observed, observe_within};
use shared::lesson::Facts;
use shared::work::shape::Rng;
use std::future::Future;
use std::time::Duration;

#[allow(dead_code)]
#[path = "fixtures/naps/bug_block_on_in_poll.rs"]
mod bug_block_on_in_poll;
#[allow(dead_code)]
#[path = "fixtures/naps/bug_last_number_only.rs"]
mod bug_last_number_only;
#[allow(dead_code)]
#[path = "fixtures/naps/bug_naps_at_once.rs"]
mod bug_naps_at_once;
#[allow(dead_code)]
#[path = "fixtures/naps/bug_noop_waker.rs"]
mod bug_noop_waker;
#[allow(dead_code)]
#[path = "fixtures/naps/bug_one_nap_kept.rs"]
mod bug_one_nap_kept;
#[allow(dead_code)]
#[path = "fixtures/naps/bug_short_sleep_in_every_poll.rs"]
mod bug_short_sleep_in_every_poll;
#[allow(dead_code)]
#[path = "fixtures/naps/bug_sleep_when_made.rs"]
mod bug_sleep_when_made;
#[allow(dead_code)]
#[path = "fixtures/naps/bug_spin_on_a_noop_waker.rs"]
mod bug_spin_on_a_noop_waker;
#[allow(dead_code)]
#[path = "fixtures/naps/bug_stored_but_replaced.rs"]
mod bug_stored_but_replaced;
#[allow(dead_code)]
#[path = "fixtures/naps/bug_thread_sleep.rs"]
mod bug_thread_sleep;
#[allow(dead_code)]
#[path = "fixtures/naps/bug_thread_sleep_first.rs"]
mod bug_thread_sleep_first;
#[allow(dead_code)]
#[path = "fixtures/naps/bug_two_naps_whatever_the_count.rs"]
mod bug_two_naps_whatever_the_count;
#[allow(dead_code)]
#[path = "fixtures/naps/fix_async_block.rs"]
mod fix_async_block;
#[allow(dead_code)]
#[path = "fixtures/naps/fix_enum_states.rs"]
mod fix_enum_states;
#[allow(dead_code)]
#[path = "fixtures/naps/fix_poll_fn.rs"]
mod fix_poll_fn;
#[allow(dead_code)]
#[path = "../exercise/start/naps.rs"]
mod start;

/// How long a run may take, in paused time, before it counts as hanging:
/// far more than the naps of both shapes.
const LIMIT: Duration = Duration::from_secs(6);

const SEEDS: [u64; 3] = [2, 31, 777];

async fn measured<N: Future<Output = u64> + 'static>(
    seed: u64,
    make: fn(u32) -> N,
) -> (Observed, Facts) {
    let facts = Facts::for_test(&naps::SPEC);
    let shapes = naps::shapes(&mut Rng::new(seed));
    let observed = match tokio::time::timeout(LIMIT, naps::measure(&facts, &shapes, make)).await {
        Ok(_) => Observed::Completes,
        Err(_) => Observed::timed_out(LIMIT),
    };
    (observed, facts)
}

#[test]
fn shapes_ask_for_counts_that_no_one_number_fits() {
    for seed in 0..50 {
        let shapes = naps::shapes(&mut Rng::new(seed));
        let (beside, alone) = (&shapes[0], &shapes[1]);
        assert!(beside.heartbeat.is_some() && beside.machines.len() == 1);
        assert!((3..=4).contains(&beside.machines[0].len()));
        assert!(alone.heartbeat.is_none() && (2..=3).contains(&alone.machines.len()));
        assert_eq!(alone.machines[0].len(), 2);
        for shape in &shapes {
            assert_eq!(shape.machines.len(), shape.values.len());
            for (m, v) in shape.machines.iter().zip(&shape.values) {
                assert!((2..=4).contains(&m.len()) && m.len() == v.len());
                assert!(m.iter().all(|d| (30..=60).contains(&d.as_millis())));
                assert!(v.iter().all(|n| (1..=999_999).contains(n)));
            }
        }
    }
    // The numbers change from seed to seed.
    let values = |seed| naps::shapes(&mut Rng::new(seed))[0].values.clone();
    assert_ne!(values(1), values(2));
}

/// Every fact but `held_ratio`, the wall time of the longest poll: a busy
/// test machine can pause a thread in the middle of a poll, and stretch
/// it. The time a poll spends asleep or computing is not stretched so.
fn but_wall_time(grader: &Grader) -> Grader {
    let facts: Vec<&str> = naps::SPEC
        .facts
        .iter()
        .map(|f| f.name)
        .filter(|&n| n != "held_ratio")
        .collect();
    grader.only(&facts)
}

#[tokio::test(start_paused = true)]
async fn the_naps_grader_tells_every_fix_from_every_form_of_the_bug() {
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &naps::SPEC);
    let fixes = but_wall_time(&grader);
    for seed in SEEDS {
        let (o, f) = measured(seed, fixed::naps).await;
        assert_eq!(f.get("elapsed_ratio"), Some(1.0), "naps back to back");
        assert_eq!(f.get("naps_started"), Some(1.0));
        assert_eq!(f.get("naps_done"), Some(1.0));
        assert_eq!(f.get("wrong_totals"), Some(0.0));
        // Made (no poll), then one poll to start each machine and one at
        // each nap's end, besides the heartbeat's ticks: 1 + 1/count per
        // nap, at most 1.5.
        assert!(f.get("polls_per_nap").unwrap() <= 1.5, "{f:?}");
        fixes.assert_fixed("the reference fix", o, &f);
        for (what, (o, f)) in [
            ("an async fn", measured(seed, fix_async_block::naps).await),
            (
                "an enum of states",
                measured(seed, fix_enum_states::naps).await,
            ),
            (
                "poll_fn over a closure's state",
                measured(seed, fix_poll_fn::naps).await,
            ),
        ] {
            fixes.assert_fixed(what, o, &f);
        }

        let (o, f) = measured(seed, broken::naps).await;
        // A nap per heartbeat tick (every 5 to 15 ms for 6 s), each thrown
        // away: hundreds of naps for the few due.
        assert!(f.get("naps_started").unwrap() >= 100.0, "{f:?}");
        grader.assert_bug("the reference bug", o, &f);
        let (o, f) = measured(seed, start::naps).await;
        grader.assert_bug("the untouched exercise", o.clone(), &f);
        grader.assert_diagnosed("the untouched exercise", o, &f, &["nap-remade"]);
        let (o, f) = measured(seed, bug_stored_but_replaced::naps).await;
        let what = "a nap stored but replaced on every poll";
        grader.assert_bug(what, o.clone(), &f);
        grader.assert_diagnosed(what, o, &f, &["nap-remade"]);

        let (o, f) = measured(seed, bug_one_nap_kept::naps).await;
        assert!(f.get("naps_done").unwrap() <= 0.5, "{f:?}");
        assert!(f.get("wrong_totals").unwrap() >= 1.0, "{f:?}");
        grader.assert_diagnosed("one nap kept for every turn", o, &f, &["too-few-naps"]);
        let (o, f) = measured(seed, bug_two_naps_whatever_the_count::naps).await;
        assert!(f.get("short_machines").unwrap() >= 1.0, "{f:?}");
        grader.assert_diagnosed("two naps whatever the count", o, &f, &["too-few-naps"]);
        let (o, f) = measured(seed, bug_last_number_only::naps).await;
        assert_eq!(f.get("naps_done"), Some(1.0), "the naps are right");
        assert_eq!(f.get("elapsed_ratio"), Some(1.0), "{f:?}");
        grader.assert_diagnosed("the last number only", o, &f, &["wrong-total"]);
        let (o, f) = measured(seed, bug_naps_at_once::naps).await;
        assert!(
            f.get("naps_done").unwrap() < 1.0,
            "the later naps began too soon"
        );
        assert_eq!(f.get("wrong_totals"), Some(0.0), "the total is right");
        grader.assert_diagnosed("naps at once", o, &f, &["too-soon"]);
        // Beside the heartbeat this one finishes; alone, nothing polls it
        // again, and the harness gives up on it after four times its naps.
        let (o, f) = measured(seed, bug_noop_waker::naps).await;
        let what = "a nap polled with a waker that does nothing";
        assert!(f.get("elapsed_ratio").unwrap() >= 4.0, "{what}: {f:?}");
        assert!(f.get("naps_done").unwrap() < 1.0, "{what}: {f:?}");
        grader.assert_diagnosed(what, o, &f, &["nobody-wakes"]);
    }
}

#[tokio::test(start_paused = true)]
async fn a_machine_that_needs_the_heartbeat_finishes_beside_it_and_not_alone() {
    let shapes = naps::shapes(&mut Rng::new(SEEDS[0]));
    let facts = Facts::for_test(&naps::SPEC);
    let shown = naps::measure(&facts, &shapes, bug_noop_waker::naps).await;
    assert_eq!(
        shown[0].done, shown[0].due,
        "beside the heartbeat: {shown:?}"
    );
    assert!(shown[0].elapsed_ratio < 2.0, "{shown:?}");
    assert_eq!(shown[1].done, 0, "alone: {shown:?}");
}

#[tokio::test(start_paused = true)]
async fn the_totals_are_checked_against_the_naps_numbers() {
    // A machine that takes its naps right but adds one to its total: only
    // the harness's record of the numbers tells it from a fix.
    fn off_by_one(count: u32) -> impl Future<Output = u64> {
        let inner = fixed::naps(count);
        async move { inner.await + 1 }
    }
    let (_, f) = measured(SEEDS[1], off_by_one).await;
    assert_eq!(f.get("naps_done"), Some(1.0));
    let machines: usize = naps::shapes(&mut Rng::new(SEEDS[1]))
        .iter()
        .map(|s| s.machines.len())
        .sum();
    assert_eq!(f.get("wrong_totals"), Some(machines as f64));
}

#[tokio::test(start_paused = true)]
async fn blocking_the_thread_is_caught_by_the_longest_poll() {
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &naps::SPEC);
    for seed in SEEDS {
        // No nap at all: none done, and a poll of 90 ms or more, more than
        // any nap.
        let (o, f) = measured(seed, bug_thread_sleep::naps).await;
        assert_eq!(f.get("naps_done"), Some(0.0));
        assert!(f.get("held_ratio").unwrap() >= 1.5, "{f:?}");
        grader.assert_diagnosed(
            "std::thread::sleep instead of naps",
            o,
            &f,
            &["thread-held"],
        );
        // The right naps after a 60 ms sleep: only the hold gives it away.
        let (o, f) = measured(seed, bug_thread_sleep_first::naps).await;
        assert_eq!(f.get("naps_done"), Some(1.0));
        assert_eq!(f.get("wrong_totals"), Some(0.0));
        assert!(f.get("held_ratio").unwrap() >= 1.0, "{f:?}");
        grader
            .only(&["held_ratio"])
            .assert_not_fixed("a sleep before the naps", o, &f);
        // A 50 ms sleep in the function that makes the machine: the making
        // is timed like a poll.
        let (o, f) = measured(seed, bug_sleep_when_made::naps).await;
        assert_eq!(f.get("naps_done"), Some(1.0));
        assert!(f.get("held_ratio").unwrap() >= 50.0 / 60.0, "{f:?}");
        grader
            .only(&["held_ratio"])
            .assert_not_fixed("a sleep while the machine is made", o, &f);
        // 10 ms asleep in every poll: too short for `held_ratio`'s bound,
        // not for the time asleep (measured on Linux only).
        let (o, f) = measured(seed, bug_short_sleep_in_every_poll::naps).await;
        assert_eq!(f.get("naps_done"), Some(1.0));
        if cfg!(target_os = "linux") {
            assert!(f.get("poll_asleep_ratio").unwrap() >= 10.0 / 60.0, "{f:?}");
            grader.only(&["poll_asleep_ratio"]).assert_not_fixed(
                "a short sleep in every poll",
                o,
                &f,
            );
        }
    }
}

#[test]
fn a_machine_that_wakes_itself_on_every_poll_is_caught_by_its_polls() {
    // It never waits, so paused time would never move: real time, then.
    // However busy the machine, a spin is polled hundreds of times in the
    // shortest nap, and a correct machine under two times per nap.
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &naps::SPEC);
    let facts = Facts::for_test(&naps::SPEC);
    let shapes = naps::shapes(&mut Rng::new(SEEDS[2]));
    lesson_02::timer_runtime().block_on(naps::measure(
        &facts,
        &shapes,
        bug_spin_on_a_noop_waker::naps,
    ));
    assert_eq!(facts.get("naps_done"), Some(1.0), "{facts:?}");
    assert_eq!(facts.get("wrong_totals"), Some(0.0), "{facts:?}");
    assert!(facts.get("polls_per_nap").unwrap() > 20.0, "{facts:?}");
    let what = "a nap polled with a no-op waker, the task woken on every poll";
    let polls = grader.only(&["polls_per_nap"]);
    polls.assert_not_fixed(what, Observed::Completes, &facts);
    // On real time a busy machine may also stop the thread in the middle of
    // a poll long enough to show as held: `spins` must be there, not alone.
    let shown = polls.diagnoses(Observed::Completes, &facts);
    assert!(shown.iter().any(|d| d == "spins"), "{what}: {shown:?}");
}

#[test]
fn block_on_inside_poll_never_lets_the_nap_end() {
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &naps::SPEC);
    let facts = Facts::for_test(&naps::SPEC);
    let theirs = facts.clone();
    // The thread stays blocked inside poll for good; it is left behind.
    let observed = observe_within(Duration::from_millis(1500), move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        let shapes = naps::shapes(&mut Rng::new(SEEDS[1]));
        runtime.block_on(naps::measure(&theirs, &shapes, bug_block_on_in_poll::naps));
    });
    assert!(matches!(observed, Observed::Hangs { .. }), "{observed:?}");
    grader.assert_not_fixed("block_on inside poll", observed, &facts);
}

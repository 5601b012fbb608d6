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
#[path = "fixtures/naps/bug_clock_thread_per_poll.rs"]
mod bug_clock_thread_per_poll;
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
#[path = "fixtures/naps/bug_one_clock_thread.rs"]
mod bug_one_clock_thread;
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
#[path = "fixtures/naps/bug_slow_clock.rs"]
mod bug_slow_clock;
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
        // A short nap and a long one, 12 ms apart at least.
        let mut first: Vec<u128> = alone.machines[0].iter().map(|d| d.as_millis()).collect();
        first.sort();
        assert!((30..=38).contains(&first[0]) && (50..=60).contains(&first[1]));
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
        // Each nap polled the moment its timer woke it, and never before.
        assert_eq!(f.get("late_ratio"), Some(0.0), "{f:?}");
        assert_eq!(f.get("unwoken_polls"), Some(0.0), "{f:?}");
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
            assert_eq!(f.get("late_ratio"), Some(0.0), "{what}: {f:?}");
            assert_eq!(f.get("unwoken_polls"), Some(0.0), "{what}: {f:?}");
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

/// A machine that polls its nap with a no-op waker and has one thread at a
/// time wake its task `PERIOD` ms after each `Pending`: polled on a clock.
struct OnAClock<const PERIOD: u64> {
    left: u32,
    total: u64,
    current: Option<std::pin::Pin<Box<lesson_02::Nap>>>,
    armed: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl<const PERIOD: u64> Future for OnAClock<PERIOD> {
    type Output = u64;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<u64> {
        use std::sync::atomic::Ordering::SeqCst;
        use std::task::{Context, Poll, Waker};
        let this = &mut *self;
        while this.left > 0 {
            let current = this
                .current
                .get_or_insert_with(|| Box::pin(lesson_02::nap()));
            match current
                .as_mut()
                .poll(&mut Context::from_waker(Waker::noop()))
            {
                Poll::Pending => {
                    if !this.armed.swap(true, SeqCst) {
                        let (armed, w) = (this.armed.clone(), cx.waker().clone());
                        std::thread::spawn(move || {
                            std::thread::sleep(Duration::from_millis(PERIOD));
                            armed.store(false, SeqCst);
                            w.wake();
                        });
                    }
                    return Poll::Pending;
                }
                Poll::Ready(value) => {
                    this.current = None;
                    this.total += value;
                    this.left -= 1;
                }
            }
        }
        Poll::Ready(this.total)
    }
}

fn on_a_clock<const PERIOD: u64>(count: u32) -> OnAClock<PERIOD> {
    OnAClock {
        left: count,
        total: 0,
        current: None,
        armed: Default::default(),
    }
}

/// Measures `make` on real time (the clock threads sleep in real time).
fn measured_on_real_time<N: Future<Output = u64> + 'static>(
    seed: u64,
    make: fn(u32) -> N,
) -> Facts {
    let facts = Facts::for_test(&naps::SPEC);
    let shapes = naps::shapes(&mut Rng::new(seed));
    lesson_02::timer_runtime().block_on(naps::measure(&facts, &shapes, make));
    facts
}

#[test]
fn a_machine_polled_on_a_clock_fails_at_any_period() {
    // Polled on a clock instead of on the nap's wake-up, a machine either
    // polls a nap before its timer woke it (a clock faster than the long
    // nap of the first machine alone) or notices the short nap's end 12 ms
    // late or more, a third of it (a slower clock). Each period takes its
    // naps right, and fails on the clock's facts alone.
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &naps::SPEC);
    let clock = grader.only(&["polls_per_nap", "late_ratio", "unwoken_polls"]);
    let check = |what: &str, f: Facts| {
        assert_eq!(f.get("naps_done"), Some(1.0), "{what}: {f:?}");
        assert_eq!(f.get("wrong_totals"), Some(0.0), "{what}: {f:?}");
        clock.assert_not_fixed(what, Observed::Completes, &f);
        let shown = grader.diagnoses(Observed::Completes, &f);
        assert!(
            shown
                .iter()
                .any(|d| ["spins", "polled-on-a-clock", "noticed-late"].contains(&d.as_str())),
            "{what}: {shown:?} {f:?}"
        );
        f
    };
    let seed = SEEDS[0];
    check(
        "a clock of 5 ms",
        measured_on_real_time(seed, on_a_clock::<5>),
    );
    check(
        "a clock of 15 ms",
        measured_on_real_time(seed, on_a_clock::<15>),
    );
    check(
        "a clock of 30 ms",
        measured_on_real_time(seed, on_a_clock::<30>),
    );
    check(
        "a clock of 45 ms",
        measured_on_real_time(seed, on_a_clock::<45>),
    );
    let f = check(
        "a clock of 62 ms",
        measured_on_real_time(seed, on_a_clock::<62>),
    );
    // Never early, so only late.
    assert_eq!(f.get("unwoken_polls"), Some(0.0), "{f:?}");
    assert!(f.get("late_ratio").unwrap() >= 0.3, "{f:?}");
    // The learner's programs, and a clock slower than any nap.
    let f = check(
        "a clock thread per poll",
        measured_on_real_time(seed, bug_clock_thread_per_poll::naps),
    );
    assert!(f.get("unwoken_polls").unwrap() >= 1.0, "{f:?}");
    let f = check(
        "one clock thread at a time",
        measured_on_real_time(seed, bug_one_clock_thread::naps),
    );
    assert!(f.get("unwoken_polls").unwrap() >= 1.0, "{f:?}");
    let f = measured_on_real_time(seed, bug_slow_clock::naps);
    let f = check("a clock slower than any nap", f);
    assert!(f.get("late_ratio").unwrap() >= 0.3, "{f:?}");
}

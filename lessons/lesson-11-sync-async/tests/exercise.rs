//! The graders of lesson 11 grade the untouched exercises, the lesson's
//! fixes, other fixes written differently, and other forms of each bug,
//! each measured by the same harness in real time (the harnesses build
//! their own runtimes, and the libraries under them run on real clocks),
//! on a thread of its own, so that a panic is seen with its message.
//!
//! What is counted (wrong answers, runtimes left running, readings lost or
//! saved wrongly) is judged exactly, as the runner judges it. The times the
//! app's thread was held are judged by their lower bounds where a program
//! holds it (a blocking wait lasts at least as long as what it waits for,
//! on any machine), and loosely for the fixes, which hold it for
//! microseconds: `cargo xtask check` and `fixtures` judge them by the
//! manifest's bounds.

use lesson_11::{
    CALL_MIN, CLOSE_MIN, Catalog, Ledger, PAUSE_MIN, Rates, Reading, SAVE_MAX, Store, TICK, broken,
    fixed, nested, no_reactor, reopen,
};
use shared::grade::{Grader, Observed, observe_within};
use shared::lesson::{Facts, Spec};
use shared::work::shape::seed;
use std::time::Duration;

#[allow(dead_code)]
#[path = "fixtures/nested/bug_block_in_place.rs"]
mod bug_block_in_place;
#[allow(dead_code)]
#[path = "fixtures/no-reactor/bug_block_in_place.rs"]
mod bug_block_in_place_no_reactor;
#[allow(dead_code)]
#[path = "fixtures/no-reactor/bug_block_on_each.rs"]
mod bug_block_on_each;
#[allow(dead_code)]
#[path = "fixtures/drop-runtime/bug_close_not_awaited.rs"]
mod bug_close_not_awaited;
#[allow(dead_code)]
#[path = "fixtures/drop-runtime/bug_detached_close_thread.rs"]
mod bug_detached_close_thread;
#[allow(dead_code)]
#[path = "fixtures/drop-runtime/bug_dropped_in_a_poll.rs"]
mod bug_dropped_in_a_poll;
#[allow(dead_code)]
#[path = "fixtures/drop-runtime/bug_forgotten.rs"]
mod bug_forgotten;
#[allow(dead_code)]
#[path = "fixtures/nested/bug_futures_block_on.rs"]
mod bug_futures_block_on_nested;
#[allow(dead_code)]
#[path = "fixtures/no-reactor/bug_futures_block_on.rs"]
mod bug_futures_block_on_no_reactor;
#[allow(dead_code)]
#[path = "fixtures/no-reactor/bug_handle_spawn.rs"]
mod bug_handle_spawn;
#[allow(dead_code)]
#[path = "fixtures/no-reactor/bug_handle_taken_late.rs"]
mod bug_handle_taken_late;
#[allow(dead_code)]
#[path = "fixtures/nested/bug_handle_taken_late.rs"]
mod bug_handle_taken_late_nested;
#[allow(dead_code)]
#[path = "fixtures/drop-runtime/bug_joined_close_thread.rs"]
mod bug_joined_close_thread;
#[allow(dead_code)]
#[path = "fixtures/drop-runtime/bug_last_close_in_background.rs"]
mod bug_last_close_in_background;
#[allow(dead_code)]
#[path = "fixtures/drop-runtime/bug_last_close_not_awaited.rs"]
mod bug_last_close_not_awaited;
#[allow(dead_code)]
#[path = "fixtures/no-reactor/bug_latest_only.rs"]
mod bug_latest_only;
#[allow(dead_code)]
#[path = "fixtures/drop-runtime/bug_looks_at_the_close_every_20ms.rs"]
mod bug_looks_at_the_close_every_20ms;
#[allow(dead_code)]
#[path = "fixtures/nested/bug_looks_every_20ms.rs"]
mod bug_looks_every_20ms;
#[allow(dead_code)]
#[path = "fixtures/no-reactor/bug_looks_every_millisecond.rs"]
mod bug_looks_every_millisecond;
#[allow(dead_code)]
#[path = "fixtures/nested/bug_looks_seldom.rs"]
mod bug_looks_seldom;
#[allow(dead_code)]
#[path = "fixtures/drop-runtime/bug_one_connection_for_all.rs"]
mod bug_one_connection_for_all;
#[allow(dead_code)]
#[path = "fixtures/nested/bug_only_moved_to_the_pool.rs"]
mod bug_only_moved_to_the_pool;
#[allow(dead_code)]
#[path = "fixtures/no-reactor/bug_saver_runtime_never_ends.rs"]
mod bug_saver_runtime_never_ends;
#[allow(dead_code)]
#[path = "fixtures/drop-runtime/bug_shutdown_background.rs"]
mod bug_shutdown_background;
#[allow(dead_code)]
#[path = "fixtures/nested/bug_sleeps_between_looks.rs"]
mod bug_sleeps_between_looks;
#[allow(dead_code)]
#[path = "fixtures/nested/bug_spin_in_a_task.rs"]
mod bug_spin_in_a_task;
#[allow(dead_code)]
#[path = "fixtures/no-reactor/bug_spinning_receiver.rs"]
mod bug_spinning_receiver;
#[allow(dead_code)]
#[path = "fixtures/nested/bug_spins_on_is_finished.rs"]
mod bug_spins_on_is_finished;
#[allow(dead_code)]
#[path = "fixtures/nested/bug_stale_price.rs"]
mod bug_stale_price;
#[allow(dead_code)]
#[path = "fixtures/no-reactor/bug_std_channel_in_a_task.rs"]
mod bug_std_channel_in_a_task;
#[allow(dead_code)]
#[path = "fixtures/no-reactor/bug_task_keeps_a_sender.rs"]
mod bug_task_keeps_a_sender;
#[allow(dead_code)]
#[path = "fixtures/nested/bug_thread_joined.rs"]
mod bug_thread_joined;
#[allow(dead_code)]
#[path = "fixtures/no-reactor/bug_timer_made_on_the_driver.rs"]
mod bug_timer_made_on_the_driver;
#[allow(dead_code)]
#[path = "fixtures/no-reactor/bug_try_current.rs"]
mod bug_try_current;
#[allow(dead_code)]
#[path = "fixtures/no-reactor/bug_unbounded_channel.rs"]
mod bug_unbounded_channel;
#[allow(dead_code)]
#[path = "fixtures/drop-runtime/bug_waits_out_the_close.rs"]
mod bug_waits_out_the_close;
#[allow(dead_code)]
#[path = "fixtures/drop-runtime/fix_close_awaited_at_the_next_open.rs"]
mod fix_close_awaited_at_the_next_open;
#[allow(dead_code)]
#[path = "fixtures/nested/fix_futures_block_on_in_the_pool.rs"]
mod fix_futures_block_on_in_the_pool;
#[allow(dead_code)]
#[path = "fixtures/nested/fix_rates_over_a_channel.rs"]
mod fix_rates_over_a_channel;
#[allow(dead_code)]
#[path = "fixtures/no-reactor/fix_saver_thread.rs"]
mod fix_saver_thread;
#[allow(dead_code)]
#[path = "fixtures/no-reactor/fix_semaphore_and_chain.rs"]
mod fix_semaphore_and_chain;
#[allow(dead_code)]
#[path = "fixtures/nested/fix_thread_and_oneshot.rs"]
mod fix_thread_and_oneshot;
#[allow(dead_code)]
#[path = "fixtures/drop-runtime/fix_thread_and_oneshot_close.rs"]
mod fix_thread_and_oneshot_close;
#[allow(dead_code)]
#[path = "../exercise/start/drop-runtime.rs"]
mod start_drop_runtime;
#[allow(dead_code)]
#[path = "../exercise/start/nested.rs"]
mod start_nested;
#[allow(dead_code)]
#[path = "../exercise/start/no-reactor.rs"]
mod start_no_reactor;

/// Long enough for any run here; a run still going after it hangs.
const LIMIT: Duration = Duration::from_secs(30);
/// For a run that is expected to hang: every fix ends well before.
const HANG: Duration = Duration::from_secs(3);
/// Looser than the manifest, in 10 ms ticks: a fix holds the app's thread
/// for microseconds at a time by its own doing (computing, or asleep in a
/// blocking call), and a busy machine does not make that 100 ms...
const FIX_HOLDS_LESS: f64 = 10.0;
/// ...nor keep its runtime from parking for most of the time. (The
/// heartbeat's lateness is wall-clock time, which a busy machine
/// stretches: a machine at load 8 paused a thread for over 300 ms.)
const FIX_BUSY_LESS: f64 = 0.5;

/// One test, one measurement at a time: `threads_left` counts the threads
/// that a run started and left, and another test would start and end
/// threads of its own meanwhile (libtest starts a thread for each test as
/// another ends).
#[test]
fn the_graders_judge_every_fix_fixed_and_every_form_of_the_bug_not_fixed() {
    the_nested_grader_judges_every_fix_fixed();
    the_nested_grader_judges_every_form_of_the_bug_not_fixed();
    the_drop_runtime_grader_judges_every_fix_fixed();
    the_drop_runtime_grader_judges_every_form_of_the_bug_not_fixed();
    the_no_reactor_grader_judges_every_fix_fixed();
    the_no_reactor_grader_judges_every_form_of_the_bug_not_fixed();
}

/// The facts of a run's threads, judged exactly where the system lists
/// them (Linux); 0 elsewhere.
fn with_threads<'a>(exact: &[&'a str]) -> Vec<&'a str> {
    let mut exact = exact.to_vec();
    if cfg!(target_os = "linux") {
        exact.push("threads_left");
    }
    exact
}

fn grader(spec: &'static Spec) -> Grader {
    Grader::new(env!("CARGO_MANIFEST_DIR"), spec)
}

fn get(facts: &Facts, name: &str) -> f64 {
    facts
        .get(name)
        .unwrap_or_else(|| panic!("{name} was measured (seed {})", seed()))
}

/// A fix: judged on the exact facts as the runner judges it, and on the
/// app's thread loosely.
fn assert_fixed(spec: &'static Spec, exact: &[&str], what: &str, o: Observed, f: &Facts) {
    grader(spec).only(exact).assert_fixed(what, o, f);
    let (held, busy) = (get(f, "longest_hold"), get(f, "app_busy"));
    assert!(
        held < FIX_HOLDS_LESS && busy < FIX_BUSY_LESS,
        "{what}: held the app's thread {held} ticks at once, runtime busy {busy} of the time (seed {})",
        seed()
    );
}

/// A program that holds the app's thread for at least `at_least` ticks at
/// once: judged not fixed on every fact, the timing ones included, since
/// no machine makes a blocking wait shorter than what it waits for.
fn assert_holds(spec: &'static Spec, what: &str, o: Observed, f: &Facts, at_least: f64) {
    grader(spec).assert_not_fixed(what, o.clone(), f);
    assert_eq!(o, Observed::Completes, "{what}");
    let held = get(f, "longest_hold").max(get(f, "heartbeat_lateness"));
    assert!(
        held >= at_least,
        "{what}: the app's thread was held {held} ticks, expected at least {at_least} (seed {})",
        seed()
    );
}

fn ticks(d: Duration) -> f64 {
    d.as_secs_f64() / TICK.as_secs_f64()
}

/// A program whose spin keeps the app's runtime from parking, in a task of
/// its own where no poll count sees it: judged on the counts as a fix, and
/// not fixed by `app_busy`, which a busy machine does not lower (a spin
/// that is not running is still not parked).
fn assert_keeps_busy(spec: &'static Spec, exact: &[&str], what: &str, o: Observed, f: &Facts) {
    assert_eq!(o, Observed::Completes, "{what}");
    grader(spec).only(exact).assert_fixed(what, o.clone(), f);
    grader(spec)
        .only(&["app_busy"])
        .assert_not_fixed(what, o, f);
}

// --------------------------------------------------------------- nested --

fn quoted<Q>(limit: Duration, quote: Q) -> (Observed, Facts)
where
    Q: AsyncFn(Catalog, Rates, u32) -> u64 + Send + 'static,
{
    let facts = Facts::for_test(&nested::SPEC);
    let theirs = facts.clone();
    let observed = observe_within(limit, move || nested::measure(&theirs, quote));
    (observed, facts)
}

/// A fix gets three tries at its exact facts: a look with nothing new can
/// come from a busy machine (wake-ups that a loaded runtime delivers late
/// and apart), so `*_looks` is a timing fact; a loop looks in every call.
fn within_three_tries(
    spec: &'static Spec,
    exact: &[&str],
    run: &dyn Fn() -> (Observed, Facts),
) -> (Observed, Facts) {
    let mut r = run();
    for _ in 0..2 {
        if grader(spec)
            .only(exact)
            .against_fixed(r.0.clone(), &r.1)
            .ok()
        {
            break;
        }
        r = run();
    }
    r
}

fn the_nested_grader_judges_every_fix_fixed() {
    let exact = with_threads(&["wrong_answers", "quote_polls", "quote_looks"]);
    let fixed_ = |what, run: &dyn Fn() -> (Observed, Facts)| {
        let (o, f) = within_three_tries(&nested::SPEC, &exact, run);
        assert_fixed(&nested::SPEC, &exact, what, o, &f)
    };
    fixed_("the reference fix", &|| quoted(LIMIT, fixed::quote));
    fixed_("a thread and a oneshot channel", &|| {
        quoted(LIMIT, fix_thread_and_oneshot::quote)
    });
    fixed_("the rates asked by quote, over a channel", &|| {
        quoted(LIMIT, fix_rates_over_a_channel::quote)
    });
    fixed_("futures' block_on inside the entered handle", &|| {
        quoted(LIMIT, fix_futures_block_on_in_the_pool::quote)
    });
}

fn the_nested_grader_judges_every_form_of_the_bug_not_fixed() {
    let g = grader(&nested::SPEC);
    for (what, run) in [
        ("the reference bug", quoted(LIMIT, broken::quote)),
        ("the untouched exercise", quoted(LIMIT, start_nested::quote)),
    ] {
        let (o, f) = run;
        assert_eq!(g.diagnoses(o.clone(), &f), ["runtime-in-runtime"], "{what}");
        g.assert_bug(what, o, &f);
    }
    // The callback runs on the library's thread, which knows no runtime.
    for (what, run) in [
        (
            "the call moved to the blocking pool, and nothing else",
            quoted(LIMIT, bug_only_moved_to_the_pool::quote),
        ),
        (
            "Handle::current() in the callback",
            quoted(LIMIT, bug_handle_taken_late_nested::quote),
        ),
    ] {
        let (o, f) = run;
        assert!(
            matches!(&o, Observed::Panics(m) if m.contains("there is no reactor running")),
            "{what}: {o:?}"
        );
        assert_eq!(g.diagnoses(o.clone(), &f), ["no-reactor"], "{what}");
        g.assert_not_fixed(what, o, &f);
    }
    let (o, f) = quoted(LIMIT, bug_block_in_place::quote);
    assert!(
        matches!(&o, Observed::Panics(m) if m.contains("multi-threaded runtime")),
        "{o:?}"
    );
    assert_eq!(
        g.diagnoses(o.clone(), &f),
        ["block-in-place"],
        "block_in_place, on a current-thread runtime"
    );
    g.assert_not_fixed("block_in_place, on a current-thread runtime", o, &f);

    // The app's thread blocked until the price comes, and the price waits
    // for a rate that only the app's thread can answer.
    for (what, run) in [
        (
            "futures' block_on on the app's thread",
            quoted(HANG, bug_futures_block_on_nested::quote),
        ),
        ("a thread, joined", quoted(HANG, bug_thread_joined::quote)),
    ] {
        let (o, f) = run;
        assert!(matches!(o, Observed::Hangs { .. }), "{what}: {o:?}");
        assert_eq!(g.diagnoses(o.clone(), &f), ["deadlock"], "{what}");
        g.assert_not_fixed(what, o, &f);
    }

    let (o, f) = quoted(LIMIT, bug_stale_price::quote);
    assert!(
        g.diagnoses(o.clone(), &f).is_empty(),
        "a price from the last call"
    );
    g.assert_not_fixed("a price from the last call", o, &f);
    assert!(get(&f, "wrong_answers") >= 1.0);

    // Waiting for the call's thread by looking again and again: counted,
    // the right prices, far too many polls.
    let (o, f) = quoted(LIMIT, bug_spins_on_is_finished::quote);
    g.only(&["wrong_answers", "quote_polls"]).assert_not_fixed(
        "is_finished and yield, again and again",
        o,
        &f,
    );
    assert!(get(&f, "quote_polls") > 100.0, "{f:?}");
    // The same with a 5 ms blocking sleep before each look: asleep for the
    // calls' time, at least 100 ms each (seen as sleep on Linux).
    let (o, f) = quoted(LIMIT, bug_sleeps_between_looks::quote);
    assert_eq!(get(&f, "wrong_answers"), 0.0);
    if cfg!(target_os = "linux") {
        assert_eq!(
            g.diagnoses(o.clone(), &f),
            ["checks-in-a-loop"],
            "a blocking sleep between looks"
        );
        g.assert_not_fixed("a blocking sleep between looks", o, &f);
        assert!(get(&f, "quote_asleep") >= ticks(CALL_MIN), "{f:?}");
    }
    // Looking on tokio's timer: the runtime parks between looks, and the
    // polls are few; the looks come with nothing new. A longer period
    // makes fewer looks, and the price is noticed late (lateness that only
    // grows on a busy machine).
    let (o, f) = quoted(LIMIT, bug_looks_every_20ms::quote);
    assert_eq!(get(&f, "wrong_answers"), 0.0);
    assert_eq!(
        g.diagnoses(o.clone(), &f),
        ["checks-in-a-loop"],
        "a look every 20 ms"
    );
    g.only(&["quote_looks"])
        .assert_not_fixed("a look every 20 ms", o, &f);
    let (o, f) = quoted(LIMIT, bug_looks_seldom::quote);
    assert_eq!(get(&f, "wrong_answers"), 0.0);
    g.only(&["quote_late"])
        .assert_not_fixed("a look every 70 ms", o, &f);
    // The spin in a task of its own: quote awaits, the task keeps the
    // app's thread busy.
    let (o, f) = quoted(LIMIT, bug_spin_in_a_task::quote);
    assert_keeps_busy(
        &nested::SPEC,
        &["wrong_answers", "quote_polls"],
        "a task that spins on is_finished",
        o,
        &f,
    );
}

// ----------------------------------------------------------- drop-runtime --

/// The `drop-runtime` exercise, judged on the `reopen` scenario.
fn served<B>(balances: B) -> (Observed, Facts)
where
    B: AsyncFn(Ledger, Vec<u32>) -> Vec<u64> + Send + 'static,
{
    let facts = Facts::for_test(&reopen::SPEC);
    let theirs = facts.clone();
    let observed = observe_within(LIMIT, move || reopen::measure(&theirs, balances));
    (observed, facts)
}

fn the_drop_runtime_grader_judges_every_fix_fixed() {
    let exact = with_threads(&[
        "wrong_answers",
        "opened_while_closing",
        "runtimes_left_running",
        "balances_polls",
        "balances_looks",
    ]);
    let fixed_ = |what, run: &dyn Fn() -> (Observed, Facts)| {
        let (o, f) = within_three_tries(&reopen::SPEC, &exact, run);
        assert_fixed(&reopen::SPEC, &exact, what, o, &f)
    };
    fixed_("the reference fix", &|| served(fixed::reopening_balances));
    fixed_(
        "dropped on a plain thread, its end sent on a oneshot",
        &|| served(fix_thread_and_oneshot_close::balances),
    );
    fixed_("the close awaited just before the next open", &|| {
        served(fix_close_awaited_at_the_next_open::balances)
    });
}

fn the_drop_runtime_grader_judges_every_form_of_the_bug_not_fixed() {
    let g = grader(&reopen::SPEC);
    // Closes not waited for: no panic, and the ledger's record says so.
    for (what, (o, f)) in [
        ("the reference bug", served(broken::reopening_balances)),
        (
            "the untouched exercise",
            served(start_drop_runtime::balances),
        ),
        (
            "shutdown_background, as the chapter shows it",
            served(bug_shutdown_background::balances),
        ),
        (
            "spawn_blocking, not awaited",
            served(bug_close_not_awaited::balances),
        ),
        (
            "a plain thread nobody waits for",
            served(bug_detached_close_thread::balances),
        ),
    ] {
        assert_eq!(o, Observed::Completes, "{what}");
        assert_eq!(get(&f, "wrong_answers"), 0.0, "{what}");
        assert!(get(&f, "opened_while_closing") >= 1.0, "{what}: {f:?}");
        assert_eq!(
            g.diagnoses(o.clone(), &f),
            ["opened-while-closing"],
            "{what}"
        );
        g.assert_bug(what, o, &f);
    }

    let (o, f) = served(bug_dropped_in_a_poll::balances);
    assert_eq!(
        g.diagnoses(o.clone(), &f),
        ["dropped-in-async"],
        "dropped in the request"
    );
    g.assert_not_fixed("dropped in the request", o, &f);

    // The last close left to run on after the request returns, in the
    // background or on a thread nobody awaits: every other close awaited.
    for (what, (o, f)) in [
        (
            "the last close in the background",
            served(bug_last_close_in_background::balances),
        ),
        (
            "the last close not awaited",
            served(bug_last_close_not_awaited::balances),
        ),
    ] {
        assert_eq!(get(&f, "opened_while_closing"), 0.0, "{what}: {f:?}");
        assert!(get(&f, "returned_while_closing") >= 1.0, "{what}: {f:?}");
        assert_eq!(
            g.diagnoses(o.clone(), &f),
            ["returned-while-closing"],
            "{what}"
        );
        g.only(&["returned_while_closing"])
            .assert_not_fixed(what, o, &f);
    }

    let (o, f) = served(bug_one_connection_for_all::balances);
    assert_eq!(
        g.diagnoses(o.clone(), &f),
        ["spent"],
        "one connection for the whole request"
    );
    g.assert_not_fixed("one connection for the whole request", o, &f);

    let (o, f) = served(bug_forgotten::balances);
    assert_eq!(g.diagnoses(o.clone(), &f), ["left-running"], "forgotten");
    g.assert_not_fixed("forgotten", o, &f);
    assert!(
        get(&f, "runtimes_left_running") >= 12.0,
        "two or more a request"
    );

    // Waiting for the close on the app's thread: at least the close's time.
    let (o, f) = served(bug_joined_close_thread::balances);
    assert_eq!(get(&f, "opened_while_closing"), 0.0);
    assert_holds(
        &reopen::SPEC,
        "dropped on a thread, joined",
        o,
        &f,
        ticks(CLOSE_MIN),
    );

    // A set wait long enough for any close: none overlaps, each opens late
    // (and the last close, not waited for, runs on after the request).
    let (o, f) = served(bug_waits_out_the_close::balances);
    assert_eq!(get(&f, "opened_while_closing"), 0.0);
    assert!(get(&f, "reopen_late") > 0.06, "{f:?}");
    assert_eq!(
        g.diagnoses(o.clone(), &f),
        ["returned-while-closing", "waits-a-set-time"],
        "a set wait after shutdown_background"
    );
    g.only(&["reopen_late"])
        .assert_not_fixed("a set wait after shutdown_background", o, &f);

    // Looking at the closing thread on tokio's timer: few polls, little
    // time asleep, but looks with nothing new.
    let (o, f) = served(bug_looks_at_the_close_every_20ms::balances);
    assert_eq!(get(&f, "wrong_answers"), 0.0);
    assert_eq!(get(&f, "opened_while_closing"), 0.0);
    assert_eq!(
        g.diagnoses(o.clone(), &f),
        ["looks-again"],
        "a look at the close every 20 ms"
    );
    g.only(&["balances_looks"])
        .assert_not_fixed("a look at the close every 20 ms", o, &f);
}

// ------------------------------------------------------------- no-reactor --

fn driven<M, C>(on_reading: M) -> (Observed, Facts)
where
    M: Fn(Store) -> C + Send + 'static,
    C: FnMut(Reading) + Send + 'static,
{
    let facts = Facts::for_test(&no_reactor::SPEC);
    let theirs = facts.clone();
    let observed = observe_within(LIMIT, move || no_reactor::measure(&theirs, on_reading));
    (observed, facts)
}

/// The facts a fix gets exactly right on any machine: counts and order.
const NO_REACTOR_EXACT: [&str; 6] = [
    "readings_lost",
    "wrong_saves",
    "out_of_order",
    "saves_at_once",
    "most_waiting",
    "tasks_left",
];

fn the_no_reactor_grader_judges_every_fix_fixed() {
    let exact = with_threads(&NO_REACTOR_EXACT);
    let fixed_ =
        |what, (o, f): (Observed, Facts)| assert_fixed(&no_reactor::SPEC, &exact, what, o, &f);
    fixed_("the reference fix", driven(fixed::on_reading));
    fixed_(
        "a std channel and a saving thread",
        driven(fix_saver_thread::on_reading),
    );
    fixed_(
        "a task per save, chained, and a semaphore",
        driven(fix_semaphore_and_chain::on_reading),
    );
}

fn the_no_reactor_grader_judges_every_form_of_the_bug_not_fixed() {
    let g = grader(&no_reactor::SPEC);
    for (what, run) in [
        ("the reference bug", driven(broken::on_reading)),
        (
            "the untouched exercise",
            driven(start_no_reactor::on_reading),
        ),
        (
            "Handle::current on the driver's thread",
            driven(bug_handle_taken_late::on_reading),
        ),
        (
            "a timer made on the driver's thread",
            driven(bug_timer_made_on_the_driver::on_reading),
        ),
        (
            "futures' block_on on the driver's thread",
            driven(bug_futures_block_on_no_reactor::on_reading),
        ),
    ] {
        let (o, f) = run;
        assert_eq!(g.diagnoses(o.clone(), &f), ["no-reactor"], "{what}");
        g.assert_bug(what, o, &f);
    }
    let (o, f) = driven(bug_block_in_place_no_reactor::on_reading);
    assert_eq!(
        g.diagnoses(o.clone(), &f),
        ["block-in-place"],
        "block_in_place on a current-thread runtime"
    );
    g.assert_not_fixed("block_in_place on a current-thread runtime", o, &f);

    let (o, f) = driven(bug_try_current::on_reading);
    assert_eq!(
        g.diagnoses(o.clone(), &f),
        ["readings-lost"],
        "no runtime, no save"
    );
    g.assert_not_fixed("no runtime, no save", o, &f);
    assert!(get(&f, "readings_lost") >= 1.0);
    let (o, f) = driven(bug_latest_only::on_reading);
    assert!(
        g.diagnoses(o.clone(), &f)
            .iter()
            .any(|d| d == "readings-lost"),
        "a watch channel, latest value only"
    );
    g.assert_not_fixed("a watch channel, latest value only", o, &f);
    assert!(get(&f, "readings_lost") >= 1.0, "bursts overwrite readings");

    // The chapter's old fix: a task per reading. The saves overlap, and
    // the longer ones of a burst finish last.
    let (o, f) = driven(bug_handle_spawn::on_reading);
    assert_eq!(
        g.diagnoses(o.clone(), &f),
        ["saves-at-once"],
        "a task per reading"
    );
    g.only(&["saves_at_once", "out_of_order"])
        .assert_not_fixed("a task per reading", o, &f);

    let (o, f) = driven(bug_unbounded_channel::on_reading);
    assert_eq!(
        g.diagnoses(o.clone(), &f),
        ["no-backpressure"],
        "an unbounded channel"
    );
    g.only(&["most_waiting"])
        .assert_not_fixed("an unbounded channel", o.clone(), &f);
    g.only(&[
        "readings_lost",
        "wrong_saves",
        "out_of_order",
        "saves_at_once",
        "tasks_left",
    ])
    .assert_fixed("an unbounded channel", o, &f);

    // Every callback waits for a save, 4 ms at least, whatever the machine.
    let (o, f) = driven(bug_block_on_each::on_reading);
    assert_eq!(
        g.diagnoses(o.clone(), &f),
        ["driver-held"],
        "Handle::block_on for each save"
    );
    g.only(&["driver_held"])
        .assert_not_fixed("Handle::block_on for each save", o.clone(), &f);
    g.only(&NO_REACTOR_EXACT)
        .assert_fixed("Handle::block_on for each save", o, &f);

    let (o, f) = driven(bug_task_keeps_a_sender::on_reading);
    assert_eq!(
        g.diagnoses(o.clone(), &f),
        ["left-running"],
        "a task that keeps a sender"
    );
    g.only(&["tasks_left"])
        .assert_not_fixed("a task that keeps a sender", o.clone(), &f);
    g.only(&[
        "readings_lost",
        "wrong_saves",
        "out_of_order",
        "saves_at_once",
        "most_waiting",
    ])
    .assert_fixed("a task that keeps a sender", o, &f);

    // Between two bursts the blocking `recv` holds the app's thread for
    // the pause, less the saves of a burst (at most 12) and a tick.
    let (o, f) = driven(bug_std_channel_in_a_task::on_reading);
    assert_holds(
        &no_reactor::SPEC,
        "a std channel received in a task",
        o,
        &f,
        ticks(PAUSE_MIN.saturating_sub(SAVE_MAX * 12 + TICK)),
    );

    // A std channel taken with try_recv and yield: every reading saved, in
    // order, and the app's thread kept busy for the whole run.
    let (o, f) = driven(bug_spinning_receiver::on_reading);
    assert_keeps_busy(
        &no_reactor::SPEC,
        &NO_REACTOR_EXACT,
        "a receiving task that spins on try_recv",
        o,
        &f,
    );
    // A std channel looked at every millisecond, asleep on tokio's timer
    // between looks: the runtime parks, but each reading that comes while
    // nothing is to be done waits for the next look (later, not sooner,
    // on a busy machine).
    let (o, f) = driven(bug_looks_every_millisecond::on_reading);
    let said = g.diagnoses(o.clone(), &f);
    assert!(
        said == ["looks-again"] || said == ["wakes-while-idle"],
        "a look every millisecond: {said:?} {f:?}"
    );
    g.only(&["save_late", "idle_wake_ups"]).assert_not_fixed(
        "a look every millisecond",
        o.clone(),
        &f,
    );
    g.only(&NO_REACTOR_EXACT)
        .assert_fixed("a look every millisecond", o, &f);

    // The saver on a thread and a runtime of its own, which never end:
    // nothing left on the app's runtime, a thread left per workload.
    let (o, f) = driven(bug_saver_runtime_never_ends::on_reading);
    g.only(&NO_REACTOR_EXACT)
        .assert_fixed("a saving thread that never ends", o.clone(), &f);
    if cfg!(target_os = "linux") {
        assert_eq!(
            g.diagnoses(o.clone(), &f),
            ["threads-left"],
            "a saving thread that never ends"
        );
        g.only(&["threads_left"])
            .assert_not_fixed("a saving thread that never ends", o, &f);
    }
}

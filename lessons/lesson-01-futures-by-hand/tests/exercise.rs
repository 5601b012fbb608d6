//! The grader grades. The `orders` scenario: the lesson's broken and fixed
//! ways of taking orders, under the services of several seeds. The `pass`
//! scenario, the one the exercise is judged by: the untouched exercise,
//! the lesson's two pieces, other correct passes written differently, and
//! the wrong ones, each run through the same harness in real time on the
//! services of two seeds, and judged against the manifest's claims.
//!
//! Of the `pass` facts, the counts (dishes cooked, dropped unpolled, lists
//! out of order, polls after `Ready`, the most polls of a dish) are exact
//! on any machine and judge every run. Of the timing facts, only what
//! holds on any machine is asserted: dishes cooked one after another take
//! their times added up, and a poll that waits for dishes lasts as long.

use lesson_01::orders::{self, Service};
use lesson_01::pass::{self, Served};
use lesson_01::{Dish, Kitchen, broken, dishes_in_turn, fixed};
use shared::grade::{Grader, Observed, observe_within};
use shared::lesson::Facts;
use shared::work::shape::Rng;
use std::future::Future;
use std::time::Duration;

#[allow(dead_code)]
#[path = "../exercise/start/orders.rs"]
mod start;

#[allow(dead_code)]
#[path = "fixtures/orders/fix_futures_unordered.rs"]
mod fix_futures_unordered;
#[allow(dead_code)]
#[path = "fixtures/orders/fix_poll_fn.rs"]
mod fix_poll_fn;
#[allow(dead_code)]
#[path = "fixtures/orders/fix_retain_mut.rs"]
mod fix_retain_mut;

#[allow(dead_code)]
#[path = "fixtures/orders/bug_block_on_in_poll.rs"]
mod bug_block_on_in_poll;
#[allow(dead_code)]
#[path = "fixtures/orders/bug_clock_every_15_ms.rs"]
mod bug_clock_every_15_ms;
#[allow(dead_code)]
#[path = "fixtures/orders/bug_clock_every_25_ms.rs"]
mod bug_clock_every_25_ms;
#[allow(dead_code)]
#[path = "fixtures/orders/bug_first_out_only.rs"]
mod bug_first_out_only;
#[allow(dead_code)]
#[path = "fixtures/orders/bug_in_turn.rs"]
mod bug_in_turn;
#[allow(dead_code)]
#[path = "fixtures/orders/bug_join_all.rs"]
mod bug_join_all;
#[allow(dead_code)]
#[path = "fixtures/orders/bug_polls_finished_again.rs"]
mod bug_polls_finished_again;
#[allow(dead_code)]
#[path = "fixtures/orders/bug_slow_clock.rs"]
mod bug_slow_clock;
#[allow(dead_code)]
#[path = "fixtures/orders/bug_sorted_tickets.rs"]
mod bug_sorted_tickets;
#[allow(dead_code)]
#[path = "fixtures/orders/bug_wakes_itself.rs"]
mod bug_wakes_itself;

/// Seeds to judge under: each picks other orders, and other counts.
const SEEDS: [u64; 4] = [1, 7, 42, 2024];

fn measured(services: &[Service], take_orders: fn(&Kitchen)) -> Facts {
    let facts = Facts::for_test(&orders::SPEC);
    orders::measure(&facts, services, Duration::ZERO, take_orders);
    facts
}

#[test]
fn services_differ_in_count_and_contents_from_seed_to_seed() {
    let all: Vec<Vec<Service>> = SEEDS
        .iter()
        .map(|&s| orders::services(&mut Rng::new(s)))
        .collect();
    for services in &all {
        let [lunch, dinner] = &services[..] else {
            panic!("two services")
        };
        assert!((2..=4).contains(&lunch.orders.len()));
        assert!((5..=7).contains(&dinner.orders.len()));
    }
    assert_ne!(all[0], all[1], "another seed, other orders");
    assert_eq!(all[0], orders::services(&mut Rng::new(SEEDS[0])));
}

#[test]
fn the_orders_grader_tells_the_lessons_fixes_from_its_bug() {
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &orders::SPEC);
    for seed in SEEDS {
        let services = orders::services(&mut Rng::new(seed));
        let total: usize = services.iter().map(|s| s.orders.len()).sum();
        for (what, take) in [
            ("awaited in turn", fixed::cook_in_turn as fn(&Kitchen)),
            ("joined", fixed::cook_joined),
        ] {
            let facts = measured(&services, take);
            assert_eq!(
                facts.get("polls"),
                Some(4.0 * total as f64),
                "{what}: three Pending and one Ready per order"
            );
            grader.assert_fixed(what, Observed::Completes, &facts);
        }
        let facts = measured(&services, broken::take_orders);
        grader.assert_bug("the reference bug", Observed::Completes, &facts);
    }
}

#[test]
fn a_pass_service_never_lists_its_dishes_in_the_order_they_are_ready() {
    for seed in 0..50 {
        let services = pass::services(&mut Rng::new(seed));
        let [lunch, dinner] = &services[..] else {
            panic!("two services")
        };
        assert!((3..=4).contains(&lunch.dishes.len()), "{services:?}");
        assert!((5..=7).contains(&dinner.dishes.len()), "{services:?}");
        for s in &services {
            let mut times: Vec<Duration> = s.dishes.iter().map(|d| d.1).collect();
            assert_eq!(times[0], s.longest(), "the first on the pad is the longest");
            let sum: Duration = times.iter().sum();
            assert!(
                sum.as_secs_f64() >= 1.66 * s.longest().as_secs_f64(),
                "{s:?}"
            );
            times.sort();
            assert!(
                times
                    .windows(2)
                    .all(|w| w[1] - w[0] >= Duration::from_millis(5)),
                "{s:?}"
            );
        }
    }
    assert_ne!(
        pass::services(&mut Rng::new(1)),
        pass::services(&mut Rng::new(2))
    );
}

type Run = Box<dyn FnOnce() -> (Observed, Facts) + Send>;

fn in_pass<P: Future<Output = Vec<u32>> + 'static>(seed: u64, make: fn(Vec<Dish>) -> P) -> Run {
    Box::new(move || {
        let facts = Facts::for_test(&pass::SPEC);
        let theirs = facts.clone();
        let services = pass::services(&mut Rng::new(seed));
        let observed = observe_within(Duration::from_secs(5), move || {
            let _: Vec<Served> = pass::measure(&theirs, &services, make);
        });
        (observed, facts)
    })
}

#[test]
fn the_pass_grader_tells_every_fix_from_every_wrong_pass() {
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &pass::SPEC);
    let counts = grader.only(&[
        "cooked_ratio",
        "never_polled",
        "wrong_lists",
        "polled_after_ready",
        "poll_ratio",
        "unwoken_polls",
    ]);
    for seed in [3, 11] {
        // Every run at once, each on threads of its own.
        let runs: Vec<(&str, Run)> = vec![
            ("the reference fix", in_pass(seed, fixed::pass)),
            (
                "a FuturesUnordered",
                in_pass(seed, fix_futures_unordered::pass),
            ),
            ("a poll_fn", in_pass(seed, fix_poll_fn::pass)),
            ("retain_mut", in_pass(seed, fix_retain_mut::pass)),
            ("the untouched exercise", in_pass(seed, start::pass)),
            ("the lesson's dishes in turn", in_pass(seed, dishes_in_turn)),
            (
                "each dish awaited in turn",
                in_pass(seed, bug_in_turn::pass),
            ),
            ("join_all", in_pass(seed, bug_join_all::pass)),
            (
                "finished dishes polled again",
                in_pass(seed, bug_polls_finished_again::pass),
            ),
            (
                "a pass that wakes itself",
                in_pass(seed, bug_wakes_itself::pass),
            ),
            (
                "block_on inside poll",
                in_pass(seed, bug_block_on_in_poll::pass),
            ),
            (
                "the first dish out only",
                in_pass(seed, bug_first_out_only::pass),
            ),
            ("sorted tickets", in_pass(seed, bug_sorted_tickets::pass)),
        ];
        let started: Vec<_> = runs
            .into_iter()
            .map(|(what, r)| (what, std::thread::spawn(r)))
            .collect();
        for (what, t) in started {
            let (o, f) = t.join().expect("the harness does not panic");
            match what {
                "the reference fix" | "a FuturesUnordered" | "a poll_fn" | "retain_mut" => {
                    assert!(f.get("elapsed_ratio").unwrap() >= 1.0, "{what}: {f:?}");
                    counts.assert_fixed(what, o, &f);
                }
                "the untouched exercise" => {
                    assert_eq!(f.get("cooked_ratio"), Some(0.0), "{f:?}");
                    counts.assert_diagnosed(what, o, &f, &["never-polled"]);
                }
                "the lesson's dishes in turn" | "each dish awaited in turn" => {
                    // A sleep lasts at least what it asked: exact enough.
                    grader.assert_bug(what, o.clone(), &f);
                    // With every run at once, a loaded machine may also make
                    // a dish's wake-up noticed late: `noticed-late` may join.
                    let shown = grader.diagnoses(o, &f);
                    assert!(
                        shown.iter().any(|d| d == "one-after-another"),
                        "{what}: {shown:?}"
                    );
                }
                "join_all" | "sorted tickets" => {
                    assert!(f.get("wrong_lists").unwrap() >= 1.0, "{what}: {f:?}");
                    // With every run at once, a loaded machine may stretch
                    // a service past 1.5 times its longest dish: a timing
                    // diagnosis may join, `pad-order` must be there.
                    counts.assert_not_fixed(what, o.clone(), &f);
                    let shown = counts.diagnoses(o, &f);
                    assert!(shown.iter().any(|d| d == "pad-order"), "{what}: {shown:?}");
                }
                "finished dishes polled again" => {
                    counts.assert_diagnosed(what, o, &f, &["polled-after-ready"]);
                }
                "a pass that wakes itself" => {
                    assert!(f.get("poll_ratio").unwrap() > 10.0, "{f:?}");
                    counts.assert_diagnosed(what, o, &f, &["polled-too-often"]);
                }
                "block_on inside poll" => {
                    assert!(f.get("held_ratio").unwrap() >= 1.0, "{f:?}");
                    grader.assert_diagnosed(what, o, &f, &["held-the-thread"]);
                }
                "the first dish out only" => {
                    assert!(f.get("cooked_ratio").unwrap() < 0.5, "{f:?}");
                    counts.assert_diagnosed(what, o, &f, &["not-all-cooked"]);
                }
                _ => unreachable!("{what}"),
            }
        }
    }
}

/// A pass that polls its dishes with a no-op waker and has a thread wake
/// its task `PERIOD` ms after each `Pending`: polled on a clock.
struct OnAClock<const PERIOD: u64> {
    dishes: Vec<Option<Dish>>,
    tickets: Vec<u32>,
}

impl<const PERIOD: u64> Future for OnAClock<PERIOD> {
    type Output = Vec<u32>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Vec<u32>> {
        use std::task::{Context, Poll, Waker};
        let this = &mut *self;
        let mut noop = Context::from_waker(Waker::noop());
        for slot in this.dishes.iter_mut() {
            if let Some(dish) = slot
                && let Poll::Ready(n) = std::pin::Pin::new(dish).poll(&mut noop)
            {
                this.tickets.push(n);
                *slot = None;
            }
        }
        if this.dishes.iter().all(Option::is_none) {
            return Poll::Ready(std::mem::take(&mut this.tickets));
        }
        let w = cx.waker().clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(PERIOD));
            w.wake();
        });
        Poll::Pending
    }
}

fn on_a_clock<const PERIOD: u64>(dishes: Vec<Dish>) -> OnAClock<PERIOD> {
    OnAClock {
        dishes: dishes.into_iter().map(Some).collect(),
        tickets: Vec::new(),
    }
}

#[test]
fn a_pass_polled_on_a_clock_fails_at_any_period() {
    // Polled on a clock instead of on the dishes' wake-ups, a pass is
    // either polled when no dish came out (a fast clock) or finds dishes
    // ready late (a slow one). Each is judged on those facts alone, one
    // run at a time.
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &pass::SPEC);
    let clock = grader.only(&["unwoken_polls", "late_ratio", "poll_ratio"]);
    for seed in [3, 11] {
        let runs: Vec<(&str, Run)> = vec![
            ("a clock of 2 ms", in_pass(seed, on_a_clock::<2>)),
            ("a clock of 8 ms", in_pass(seed, on_a_clock::<8>)),
            ("a clock of 5 ms", in_pass(seed, on_a_clock::<5>)),
            ("a clock of 10 ms", in_pass(seed, on_a_clock::<10>)),
            ("a clock of 12 ms", in_pass(seed, on_a_clock::<12>)),
            ("a clock of 15 ms", in_pass(seed, on_a_clock::<15>)),
            ("a clock of 20 ms", in_pass(seed, on_a_clock::<20>)),
            ("a clock of 25 ms", in_pass(seed, on_a_clock::<25>)),
            ("a clock of 35 ms", in_pass(seed, on_a_clock::<35>)),
            ("a clock of 50 ms", in_pass(seed, on_a_clock::<50>)),
            ("a clock of 70 ms", in_pass(seed, on_a_clock::<70>)),
            (
                "the learner's 15 ms",
                in_pass(seed, bug_clock_every_15_ms::pass),
            ),
            (
                "the learner's 25 ms",
                in_pass(seed, bug_clock_every_25_ms::pass),
            ),
            (
                "a clock slower than any dish",
                in_pass(seed, bug_slow_clock::pass),
            ),
        ];
        for (what, run) in runs {
            let (o, f) = run();
            assert_eq!(f.get("cooked_ratio"), Some(1.0), "{what}: {f:?}");
            clock.assert_not_fixed(what, o.clone(), &f);
            if what.starts_with("a clock of") {
                // A diagnosis needs a clear margin: a clock of some period
                // may be just past both bounds, and named by the facts alone.
                continue;
            }
            let shown = grader.diagnoses(o, &f);
            assert!(
                shown.iter().any(|d| {
                    ["polled-too-often", "polled-on-a-clock", "noticed-late"].contains(&d.as_str())
                }),
                "{what}: {shown:?} {f:?}"
            );
        }
    }
}

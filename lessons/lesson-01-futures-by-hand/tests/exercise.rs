//! The grader grades: the untouched exercise, the lesson's own fixes, other
//! correct fixes written differently, and other forms of the bug, each run
//! through the same harness and judged against the manifest's claims,
//! under the services of several seeds (the orders change with each).

use lesson_01::orders::{self, Service};
use lesson_01::{Kitchen, broken, fixed};
use shared::grade::{Grader, Observed};
use shared::lesson::Facts;
use shared::work::shape::Rng;
use std::time::Duration;

#[allow(dead_code, clippy::let_underscore_future)]
#[path = "../exercise/start/orders.rs"]
mod start;

#[allow(dead_code)]
#[path = "fixtures/orders/fix_block_on_each.rs"]
mod fix_block_on_each;
#[allow(dead_code)]
#[path = "fixtures/orders/fix_futures_unordered.rs"]
mod fix_futures_unordered;
#[allow(dead_code)]
#[path = "fixtures/orders/fix_poll_by_hand.rs"]
mod fix_poll_by_hand;

#[allow(dead_code, clippy::let_underscore_future)]
#[path = "fixtures/orders/bug_first_only.rs"]
mod bug_first_only;
#[allow(dead_code)]
#[path = "fixtures/orders/bug_first_three.rs"]
mod bug_first_three;
#[allow(dead_code)]
#[path = "fixtures/orders/bug_kept_in_a_vec.rs"]
mod bug_kept_in_a_vec;
#[allow(dead_code)]
#[path = "fixtures/orders/bug_made_up_orders.rs"]
mod bug_made_up_orders;
#[allow(dead_code)]
#[path = "fixtures/orders/bug_polled_once.rs"]
mod bug_polled_once;
#[allow(dead_code)]
#[path = "fixtures/orders/bug_same_order_again.rs"]
mod bug_same_order_again;

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
        let mut numbers: Vec<u32> = services
            .iter()
            .flat_map(|s| s.orders.iter().map(|o| o.number))
            .collect();
        numbers.sort_unstable();
        numbers.dedup();
        assert_eq!(numbers.len(), lunch.orders.len() + dinner.orders.len());
    }
    assert_ne!(all[0], all[1], "another seed, other orders");
    assert_eq!(all[0], orders::services(&mut Rng::new(SEEDS[0])));
}

#[test]
fn the_grader_tells_every_fix_from_every_form_of_the_bug() {
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &orders::SPEC);
    let done = || Observed::Completes;
    for seed in SEEDS {
        let services = orders::services(&mut Rng::new(seed));
        for (what, take) in [
            (
                "the reference fix, awaited in turn",
                fixed::cook_in_turn as fn(&Kitchen),
            ),
            ("the reference fix, joined", fixed::cook_joined),
            ("block_on for each order", fix_block_on_each::take_orders),
            ("polling by hand", fix_poll_by_hand::take_orders),
            ("FuturesUnordered", fix_futures_unordered::take_orders),
        ] {
            let facts = measured(&services, take);
            let total: usize = services.iter().map(|s| s.orders.len()).sum();
            assert_eq!(
                facts.get("polls"),
                Some(4.0 * total as f64),
                "{what}: three Pending and one Ready per order"
            );
            grader.assert_fixed(what, done(), &facts);
        }
        for (what, take) in [
            ("the untouched exercise", start::take_orders as fn(&Kitchen)),
            ("the reference bug", broken::take_orders),
            (
                "futures kept in a Vec, never polled",
                bug_kept_in_a_vec::take_orders,
            ),
        ] {
            let facts = measured(&services, take);
            grader.assert_bug(what, done(), &facts);
            grader.assert_diagnosed(what, done(), &facts, &["never-polled"]);
        }
        for (what, take, wrong) in [
            (
                "only the first order awaited",
                bug_first_only::take_orders as fn(&Kitchen),
                false,
            ),
            (
                "the first three orders joined",
                bug_first_three::take_orders,
                false,
            ),
            (
                "each order polled once",
                bug_polled_once::take_orders,
                false,
            ),
            (
                "the first order cooked again and again",
                bug_same_order_again::take_orders,
                true,
            ),
            (
                "orders of its own, not the pad's",
                bug_made_up_orders::take_orders,
                true,
            ),
        ] {
            let facts = measured(&services, take);
            assert!(facts.get("cooked_ratio").unwrap() < 1.0, "{what}");
            assert_eq!(
                facts.get("wrong_dishes").unwrap() > 0.0,
                wrong,
                "{what}: {facts:?}"
            );
            let diagnosis = match (what, wrong) {
                ("only the first order awaited", _) => "never-polled",
                (_, true) => "wrong-dishes",
                (_, false) => "not-to-the-end",
            };
            grader.assert_diagnosed(what, done(), &facts, &[diagnosis]);
        }
    }
}

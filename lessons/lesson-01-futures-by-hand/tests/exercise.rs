//! The grader grades: the untouched exercise, the lesson's own fixes, other
//! correct fixes written differently, and other forms of the bug, each run
//! through the same harness and judged against the manifest's claims.

use lesson_01::{Kitchen, broken, fixed, orders};
use shared::grade::{Grader, Observed};
use shared::lesson::Facts;

#[allow(dead_code, clippy::let_underscore_future)]
#[path = "../exercise/start/orders.rs"]
mod start;

#[allow(dead_code)]
#[path = "fixtures/orders/fix_block_on_each.rs"]
mod fix_block_on_each;
#[allow(dead_code)]
#[path = "fixtures/orders/fix_join3.rs"]
mod fix_join3;
#[allow(dead_code)]
#[path = "fixtures/orders/fix_poll_by_hand.rs"]
mod fix_poll_by_hand;

#[allow(dead_code, clippy::let_underscore_future)]
#[path = "fixtures/orders/bug_first_only.rs"]
mod bug_first_only;
#[allow(dead_code)]
#[path = "fixtures/orders/bug_kept_in_a_vec.rs"]
mod bug_kept_in_a_vec;

fn measured(take_orders: fn(&Kitchen)) -> Facts {
    let facts = Facts::for_test(&orders::SPEC);
    orders::measure(&facts, take_orders);
    facts
}

#[test]
fn the_grader_tells_every_fix_from_every_form_of_the_bug() {
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &orders::SPEC);
    let done = || Observed::Completes;
    for (what, take) in [
        (
            "the reference fix, awaited in turn",
            fixed::cook_in_turn as fn(&Kitchen),
        ),
        ("the reference fix, joined", fixed::cook_joined),
        ("block_on for each order", fix_block_on_each::take_orders),
        ("polling by hand", fix_poll_by_hand::take_orders),
        ("join3", fix_join3::take_orders),
    ] {
        grader.assert_fixed(what, done(), &measured(take));
    }
    for (what, take) in [
        ("the untouched exercise", start::take_orders as fn(&Kitchen)),
        ("the reference bug", broken::take_orders),
        (
            "futures kept in a Vec, never polled",
            bug_kept_in_a_vec::take_orders,
        ),
    ] {
        grader.assert_bug(what, done(), &measured(take));
    }
    grader.assert_not_fixed(
        "only the first order awaited",
        done(),
        &measured(bug_first_only::take_orders),
    );
}

//! A client whose poll runs a second executor (`futures::executor::block_on`)
//! on the harness's runtime of 2 threads, in real time. A file of its own:
//! the hung thread is left behind, spinning (tokio's budget for the task is
//! spent, and each of its futures wakes the nested executor again at once),
//! until the test process ends.

use lesson_08::requests;
use shared::grade::{Grader, Observed, observe_within};
use shared::lesson::Facts;
use shared::work::shape::Rng;
use std::time::Duration;

#[allow(dead_code)]
#[path = "fixtures/backpressure/bug_nested_block_on.rs"]
mod bug_nested_block_on;

#[test]
fn a_block_on_of_its_own_in_the_client_s_poll_hangs() {
    let facts = Facts::for_test(&requests::SPEC);
    let theirs = facts.clone();
    let o = observe_within(Duration::from_secs(10), move || {
        let mut rng = Rng::new(8);
        let shapes = requests::shapes(&mut rng);
        lesson_08::requests_runtime().block_on(requests::measure(
            &theirs,
            &shapes,
            &mut rng,
            bug_nested_block_on::ask_all,
        ));
    });
    assert!(matches!(o, Observed::Hangs { .. }), "{o:?}");
    Grader::new(env!("CARGO_MANIFEST_DIR"), &requests::SPEC).assert_not_fixed(
        "a block_on of its own in the client's poll",
        o,
        &facts,
    );
}

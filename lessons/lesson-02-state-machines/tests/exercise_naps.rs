//! The `naps` grader grades, under paused tokio time: the clock moves only
//! when every task is waiting, so the counts and ratios are exact on any
//! machine. A run that never ends is stopped by a timeout of paused time.

use lesson_02::{broken, fixed, naps};
use shared::grade::{Grader, Observed};
use shared::lesson::Facts;
use std::future::Future;
use std::time::Duration;

#[allow(dead_code)]
#[path = "fixtures/naps/bug_one_nap.rs"]
mod bug_one_nap;
#[allow(dead_code)]
#[path = "fixtures/naps/bug_stored_but_replaced.rs"]
mod bug_stored_but_replaced;
#[allow(dead_code)]
#[path = "fixtures/naps/fix_async_block.rs"]
mod fix_async_block;
#[allow(dead_code)]
#[path = "fixtures/naps/fix_count_and_slot.rs"]
mod fix_count_and_slot;
#[allow(dead_code)]
#[path = "../exercise/start/naps.rs"]
mod start;

/// How long a run may take, in paused time, before it counts as hanging:
/// a hundred times the two naps.
const LIMIT: Duration = Duration::from_secs(6);

async fn measured<N: Future<Output = ()>>(naps: N) -> (Observed, Facts) {
    let facts = Facts::for_test(&naps::SPEC);
    let observed = match tokio::time::timeout(LIMIT, naps::measure(&facts, naps)).await {
        Ok(_) => Observed::Completes,
        Err(_) => Observed::timed_out(LIMIT),
    };
    (observed, facts)
}

#[tokio::test(start_paused = true)]
async fn the_naps_grader_tells_every_fix_from_every_form_of_the_bug() {
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &naps::SPEC);
    let (o, f) = measured(fixed::TwoNaps::Start).await;
    assert_eq!(f.get("elapsed_ratio"), Some(1.0), "two naps, back to back");
    assert_eq!(f.get("naps_started"), Some(2.0));
    grader.assert_fixed("the reference fix", o, &f);
    let (o, f) = measured(fix_async_block::two_naps()).await;
    grader.assert_fixed("an async block", o, &f);
    let (o, f) = measured(fix_count_and_slot::two_naps()).await;
    grader.assert_fixed("a count and a slot", o, &f);

    let (o, f) = measured(broken::TwoNaps::First).await;
    // One nap per heartbeat tick (every 10 ms for 6 s), each thrown away.
    assert!(f.get("naps_started").unwrap() >= 500.0, "{f:?}");
    grader.assert_bug("the reference bug", o, &f);
    let (o, f) = measured(start::two_naps()).await;
    grader.assert_bug("the untouched exercise", o, &f);
    let (o, f) = measured(bug_stored_but_replaced::two_naps()).await;
    grader.assert_bug("a nap stored but replaced on every poll", o, &f);
    let (o, f) = measured(bug_one_nap::two_naps()).await;
    grader.assert_not_fixed("one nap instead of two", o, &f);
}

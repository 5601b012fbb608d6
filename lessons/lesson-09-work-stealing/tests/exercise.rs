//! The grader of lesson 09 judges each policy in both scenarios, on what
//! the runtime counts: polls before the outside task's first turn, and
//! steals. (`cargo xtask check` also judges the workers' busy time.)

use lesson_09::runtime::Policy;
use lesson_09::{broken, fairness, fixed, stealing};
use shared::grade::{Grader, Observed};
use shared::lesson::Facts;

#[allow(dead_code)]
#[path = "fixtures/policy/bug_fair_but_never_steals.rs"]
mod bug_fair_but_never_steals;
#[allow(dead_code)]
#[path = "fixtures/policy/bug_steals_but_local_first.rs"]
mod bug_steals_but_local_first;
#[allow(dead_code)]
#[path = "fixtures/policy/fix_global_first_always.rs"]
mod fix_global_first_always;
#[allow(dead_code)]
#[path = "fixtures/policy/fix_steal_before_global.rs"]
mod fix_steal_before_global;
#[allow(dead_code)]
#[path = "../exercise/start/policy.rs"]
mod start;

struct Judged {
    fairness: Facts,
    stealing: Facts,
}

fn judged(policy: Policy) -> Judged {
    let f = Facts::for_test(&fairness::SPEC);
    fairness::measure(&f, policy);
    let s = Facts::for_test(&stealing::SPEC);
    stealing::measure(&s, policy);
    Judged {
        fairness: f,
        stealing: s,
    }
}

#[test]
fn the_grader_tells_every_fix_from_every_form_of_the_bug() {
    let fair = Grader::new(env!("CARGO_MANIFEST_DIR"), &fairness::SPEC);
    let steal = Grader::new(env!("CARGO_MANIFEST_DIR"), &stealing::SPEC).only(&["tasks_stolen"]);
    let done = || Observed::Completes;

    for (what, policy) in [
        ("the reference fix", fixed::work_stealing as Policy),
        (
            "the global queue first, always",
            fix_global_first_always::pick,
        ),
        (
            "every 31st pick, stealing first",
            fix_steal_before_global::pick,
        ),
    ] {
        let j = judged(policy);
        fair.assert_fixed(what, done(), &j.fairness);
        steal.assert_fixed(what, done(), &j.stealing);
    }

    let j = judged(broken::local_first);
    fair.assert_bug("local first", done(), &j.fairness);
    let j = judged(broken::no_stealing);
    steal.assert_bug("no stealing", done(), &j.stealing);

    let j = judged(start::pick);
    fair.assert_bug("the untouched exercise (fairness)", done(), &j.fairness);
    steal.assert_bug("the untouched exercise (stealing)", done(), &j.stealing);

    let j = judged(bug_steals_but_local_first::pick);
    fair.assert_bug("stealing, but local first", done(), &j.fairness);
    steal.assert_fixed("stealing, but local first", done(), &j.stealing);

    let j = judged(bug_fair_but_never_steals::pick);
    fair.assert_fixed("fair, but never stealing", done(), &j.fairness);
    steal.assert_bug("fair, but never stealing", done(), &j.stealing);
}

//! The `size` grader grades, in a binary of its own with a single test so
//! that no other test's allocations (or resident memory) are counted with
//! the handlers': the untouched exercise, the lesson's fix, other fixes
//! written differently, and other forms of the bug, each measured by the
//! same harness.

use lesson_02::size::Round;
use lesson_02::{Backend, Reply, broken, fixed, size};
use shared::grade::{Grader, Observed};
use shared::lesson::Facts;
use std::future::Future;

#[allow(dead_code)]
#[path = "fixtures/size/bug_boxed_but_kept.rs"]
mod bug_boxed_but_kept;
#[allow(dead_code)]
#[path = "fixtures/size/bug_buffer_kept_aside.rs"]
mod bug_buffer_kept_aside;
#[allow(dead_code)]
#[path = "fixtures/size/bug_first_part_only.rs"]
mod bug_first_part_only;
#[allow(dead_code)]
#[path = "fixtures/size/bug_read_after_the_wait.rs"]
mod bug_read_after_the_wait;
#[allow(dead_code)]
#[path = "fixtures/size/bug_reply_before_the_backend.rs"]
mod bug_reply_before_the_backend;
#[allow(dead_code)]
#[path = "fixtures/size/bug_request_boxed.rs"]
mod bug_request_boxed;
#[allow(dead_code)]
#[allow(clippy::large_futures)]
#[path = "fixtures/size/bug_scope_ended_only.rs"]
mod bug_scope_ended_only;
#[allow(dead_code)]
#[path = "fixtures/size/bug_static_pool.rs"]
mod bug_static_pool;
#[allow(dead_code)]
#[path = "fixtures/size/bug_usual_bytes.rs"]
mod bug_usual_bytes;
#[allow(dead_code)]
#[path = "fixtures/size/bug_vec_kept.rs"]
mod bug_vec_kept;
#[allow(dead_code)]
#[path = "fixtures/size/bug_wrong_reply.rs"]
mod bug_wrong_reply;
#[allow(dead_code)]
// Its helper awaits `receive` in place, itself boxed or spawned.
#[allow(clippy::large_futures)]
#[path = "fixtures/size/fix_boxed_helper.rs"]
mod fix_boxed_helper;
#[allow(dead_code)]
#[path = "fixtures/size/fix_parts_into_a_vec.rs"]
mod fix_parts_into_a_vec;
#[allow(dead_code)]
// Its helper awaits `receive` in place, itself boxed or spawned.
#[allow(clippy::large_futures)]
#[path = "fixtures/size/fix_receive_in_a_task.rs"]
mod fix_receive_in_a_task;
#[allow(dead_code)]
#[allow(clippy::large_futures)]
#[path = "../exercise/start/size.rs"]
mod start;

/// Fewer handlers than the real run, in two rounds of their own salts:
/// the sizes do not depend on how many.
const ROUNDS: [Round; 2] = [
    Round {
        handlers: 150,
        salt: 0x5eed_0001,
    },
    Round {
        handlers: 300,
        salt: 0x5eed_0002,
    },
];

fn measured<F, Fut>(handle: F) -> Facts
where
    F: Fn(u32, Backend) -> Fut,
    Fut: Future<Output = Reply> + Send + 'static,
{
    let facts = Facts::for_test(&size::SPEC);
    let parked = size::measure(&facts, &ROUNDS, handle);
    for (p, r) in parked.iter().zip(ROUNDS) {
        assert_eq!(p.replies, r.handlers, "every handler replies");
    }
    facts
}

#[test]
fn the_size_grader_tells_every_fix_from_every_form_of_the_bug() {
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &size::SPEC);
    let done = || Observed::Completes;
    grader.assert_fixed("the reference fix", done(), &measured(fixed::handle));
    grader.assert_fixed(
        "receive in a task of its own",
        done(),
        &measured(fix_receive_in_a_task::handle),
    );
    grader.assert_fixed(
        "the parts read into a Vec, in a block",
        done(),
        &measured(fix_parts_into_a_vec::handle),
    );
    grader.assert_fixed(
        "a boxed helper that gives the checksum",
        done(),
        &measured(fix_boxed_helper::handle),
    );

    let f = measured(start::handle);
    grader.assert_bug("the untouched exercise", done(), &f);
    grader.assert_diagnosed("the untouched exercise", done(), &f, &["big-state"]);
    grader.assert_bug("the reference bug", done(), &measured(broken::handle));
    // The chapter's cure for a big local, alone: the waiting state is
    // small, the receiving one is not.
    let f = measured(bug_scope_ended_only::handle);
    assert!(f.get("future_bytes").unwrap() >= 16384.0, "{f:?}");
    assert!(f.get("bytes_per_task").unwrap() >= 16384.0, "{f:?}");
    grader.assert_bug("the request's scope ended, receive inline", done(), &f);
    grader.assert_diagnosed(
        "the request's scope ended, receive inline",
        done(),
        &f,
        &["big-state"],
    );
    let f = measured(bug_boxed_but_kept::handle);
    assert!(f.get("future_bytes").unwrap() >= 16384.0, "{f:?}");
    grader.assert_diagnosed(
        "receive boxed, the request kept",
        done(),
        &f,
        &["big-state"],
    );
    grader.assert_diagnosed(
        "a Vec kept across the await",
        done(),
        &measured(bug_vec_kept::handle),
        &["kept-elsewhere"],
    );
    grader.assert_diagnosed(
        "the request boxed and kept",
        done(),
        &measured(bug_request_boxed::handle),
        &["kept-elsewhere"],
    );
    let f = measured(bug_wrong_reply::handle);
    assert_eq!(f.get("wrong_replies"), Some(450.0), "{f:?}");
    grader.assert_not_fixed("a handler that forgets the checksum", done(), &f);
    let f = measured(bug_usual_bytes::handle);
    assert_eq!(f.get("wrong_replies"), Some(450.0), "{f:?}");
    grader.assert_not_fixed("a checksum of the usual bytes", done(), &f);
    let f = measured(bug_first_part_only::handle);
    assert!(f.get("wrong_replies").unwrap() >= 200.0, "{f:?}");
    assert!(f.get("unread_requests").unwrap() >= 200.0, "{f:?}");
    grader.assert_diagnosed("the first part only", done(), &f, &["unread"]);
    let f = measured(bug_reply_before_the_backend::handle);
    assert_eq!(f.get("early_replies"), Some(450.0), "{f:?}");
    grader.assert_not_fixed("a reply before the backend answers", done(), &f);
    let f = measured(bug_buffer_kept_aside::handle);
    assert!(f.get("future_bytes").unwrap() <= 1024.0, "{f:?}");
    assert!(f.get("bytes_per_task").unwrap() >= 16384.0, "{f:?}");
    grader.assert_diagnosed(
        "the request kept in a Vec beside the task",
        done(),
        &f,
        &["kept-elsewhere"],
    );
    let f = measured(bug_read_after_the_wait::handle);
    assert_eq!(f.get("unread_requests"), Some(450.0), "{f:?}");
    assert_eq!(f.get("wrong_replies"), Some(0.0), "{f:?}");
    grader.assert_diagnosed(
        "the request received only after the wait",
        done(),
        &f,
        &["unread"],
    );

    // A static array the allocator never sees: small future, small heap,
    // and a request's bytes (4 to 16 KiB) written into it for every
    // waiting handler. Resident memory is the whole process's: this binary
    // runs nothing else meanwhile (one test), so nothing else grows it.
    let f = measured(bug_static_pool::handle);
    assert!(f.get("future_bytes").unwrap() <= 1024.0, "{f:?}");
    assert!(f.get("bytes_per_task").unwrap() <= 1024.0, "{f:?}");
    assert_eq!(f.get("wrong_replies"), Some(0.0), "{f:?}");
    if cfg!(target_os = "linux") {
        assert!(f.get("resident_per_task").unwrap() >= 4096.0, "{f:?}");
        grader.only(&["resident_per_task"]).assert_not_fixed(
            "the requests kept in a static array",
            done(),
            &f,
        );
    }
}

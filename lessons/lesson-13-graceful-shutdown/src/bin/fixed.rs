//! Lesson 13, fixed: stop accepting, let the work accepted finish, and wait
//! for it with a deadline; written twice (a token tree and a TaskTracker; a
//! watch channel and a JoinSet).
//! Run it with `cargo xtask run lesson-13 --fixed`.

use lesson_13::{fixed, shutdown};
use shared::lesson::Variant;
use std::process::ExitCode;

fn main() -> ExitCode {
    shared::lesson::main(
        lesson_13::LESSON,
        Variant::Fixed,
        vec![shutdown::SPEC.with(vec![
            shutdown::piece("tracker", fixed::serve).note(
                "The token stopped the accept loop; the queue closed behind it, the workers emptied it, and the tracker said when all were done.",
            ),
            shutdown::piece("watch", fixed::serve_watch).note(
                "The watch channel stopped the accept loop; the JoinSet said when every task was done.",
            ),
        ])],
    )
}

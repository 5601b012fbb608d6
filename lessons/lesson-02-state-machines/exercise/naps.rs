//! Lesson 02 · exercise `naps`: a state machine that finishes.
//!
//! `TwoNaps` is a future written by hand: it should take a nap (`nap()`;
//! the harness picks how long each nap lasts), then another, and be done.
//! Polled beside a heartbeat that ticks every few milliseconds, it never
//! finishes. Make it finish after its two naps, one after the other, then
//! run
//!
//!     cargo xtask try lesson-02 naps
//!
//! `nap()` returns a `lesson_02::Nap`, the harness's future around a tokio
//! `Sleep`; like a `Sleep`, a `Nap` is not `Unpin`. Polling takes a
//! `Pin<&mut Nap>`, so a nap kept in a struct, to be polled again by a
//! later poll, must be kept pinned: a `Pin<Box<Nap>>` (`Box::pin(nap())`,
//! polled with `.as_mut().poll(cx)`), or a field reached by pin projection
//! (lesson 03 shows it, with `pin-project-lite`).
//!
//! Stuck? `cargo xtask hint lesson-02 naps`. Start over: `cargo xtask reset lesson-02 naps`.

use lesson_02::nap;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// TODO: this should nap twice and then be ready.
pub enum TwoNaps {
    First,
    Second,
    Done,
}

impl Future for TwoNaps {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            match *self {
                TwoNaps::First | TwoNaps::Second => {
                    let mut this_nap = Box::pin(nap());
                    if this_nap.as_mut().poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                    *self = match *self {
                        TwoNaps::First => TwoNaps::Second,
                        _ => TwoNaps::Done,
                    };
                }
                TwoNaps::Done => return Poll::Ready(()),
            }
        }
    }
}

/// The future the harness runs.
pub fn two_naps() -> TwoNaps {
    TwoNaps::First
}

// Leave this as it is: it hands your `two_naps` to the lesson's harness.
fn main() -> std::process::ExitCode {
    lesson_02::naps::exercise(two_naps)
}

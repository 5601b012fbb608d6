//! Lesson 02 · exercise `naps`: a state machine that takes its naps.
//!
//! `Naps` is written by hand. It should do what this `async fn` does:
//!
//!     async fn naps(count: u32) -> u64 {
//!         let mut total = 0;
//!         for _ in 0..count {
//!             total += nap().await;
//!         }
//!         total
//!     }
//!
//! The harness picks the count, each nap's length and the number it gives
//! when the program runs. Polled beside a heartbeat that ticks every few
//! milliseconds, this machine never finishes. Make it take its `count` naps
//! one after the other and return their numbers added up, keeping it a
//! state machine written by hand (the point is to keep, yourself, what the
//! compiler would keep for you), then run
//!
//!     cargo xtask try lesson-02 naps
//!
//! `nap()` returns a `lesson_02::Nap`: a future whose output is a `u64`,
//! the harness's wrapper around a tokio `Sleep`. Like a `Sleep`, a `Nap` is
//! not `Unpin`. Polling takes a `Pin<&mut Nap>`, so a nap kept in a struct,
//! to be polled again by a later poll, must be kept pinned: a
//! `Pin<Box<Nap>>` (`Box::pin(nap())`, polled with `.as_mut().poll(cx)`).
//!
//! Stuck? `cargo xtask hint lesson-02 naps`. Start over: `cargo xtask reset lesson-02 naps`.

use lesson_02::nap;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// TODO: this should take `count` naps, one after the other, and return
/// their numbers added up.
pub struct Naps {
    left: u32,
    total: u64,
}

impl Future for Naps {
    type Output = u64;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u64> {
        while self.left > 0 {
            let mut this_nap = Box::pin(nap());
            match this_nap.as_mut().poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(value) => {
                    self.total += value;
                    self.left -= 1;
                }
            }
        }
        Poll::Ready(self.total)
    }
}

/// The machine the harness runs, for `count` naps.
pub fn naps(count: u32) -> Naps {
    Naps {
        left: count,
        total: 0,
    }
}

// Leave this as it is: it hands your `naps` to the lesson's harness.
fn main() -> std::process::ExitCode {
    lesson_02::naps::exercise(naps)
}

//! What the recorder costs per poll, with and without recording wake-ups.
//!
//! Run it in release mode: `cargo run --release -p shared --example recorder_cost`.
//! It polls a future a million times by hand (no runtime) and prints the
//! time per poll for a plain future, a traced one without wake tracking,
//! and a traced one with it, both for a future that is woken from outside
//! and for one that wakes itself on every poll.

use shared::record::recorder::Recorder;
use std::future::Future;
use std::hint::black_box;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

const POLLS: u32 = 1_000_000;

/// Pending `POLLS` times, then ready; wakes itself each time if `wake`.
struct Countdown {
    left: u32,
    wake: bool,
}

impl Future for Countdown {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.left == 0 {
            return Poll::Ready(());
        }
        self.left -= 1;
        if self.wake {
            cx.waker().wake_by_ref();
        }
        Poll::Pending
    }
}

fn drive<F: Future>(fut: F) -> f64 {
    let mut fut = Box::pin(fut);
    let mut cx = Context::from_waker(Waker::noop());
    let start = Instant::now();
    while black_box(fut.as_mut().poll(&mut cx)).is_pending() {}
    start.elapsed().as_nanos() as f64 / f64::from(POLLS)
}

fn main() {
    let rec: &'static Recorder = Box::leak(Box::new(Recorder::new()));
    let countdown = |wake| Countdown { left: POLLS, wake };
    println!("ns per poll, best of 5 runs of {POLLS} polls (release build: use --release)");
    println!(
        "{:<28} {:>12} {:>16}",
        "", "woken by others", "wakes itself"
    );
    let best = |f: &dyn Fn(bool) -> f64, wake| (0..5).map(|_| f(wake)).fold(f64::MAX, f64::min);
    let rows: [(&str, &dyn Fn(bool) -> f64); 3] = [
        ("plain future", &|wake| drive(countdown(wake))),
        ("traced, wakes not recorded", &|wake| {
            rec.begin("cost", "polls", "fixed", "", None);
            rec.set_wake_tracking(false);
            let ns = drive(rec.traced("countdown", countdown(wake)));
            rec.finish();
            ns
        }),
        ("traced, wakes recorded", &|wake| {
            rec.begin("cost", "polls", "fixed", "", None);
            rec.set_wake_tracking(true);
            let ns = drive(rec.traced("countdown", countdown(wake)));
            rec.finish();
            ns
        }),
    ];
    for (name, f) in rows {
        println!(
            "{name:<28} {:>12.1} {:>16.1}",
            best(f, false),
            best(f, true)
        );
    }
}

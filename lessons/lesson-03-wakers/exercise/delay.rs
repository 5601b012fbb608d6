//! The spin, a wrong fix: waking itself on every poll makes the delay
//! finish, but only by being polled over and over, keeping a core busy.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

pub struct MyDelay {
    deadline: Instant,
}

impl Future for MyDelay {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.deadline {
            Poll::Ready(())
        } else {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

pub fn delay(duration: Duration) -> MyDelay {
    MyDelay {
        deadline: Instant::now() + duration,
    }
}

fn main() -> std::process::ExitCode {
    lesson_03::exercise(delay)
}

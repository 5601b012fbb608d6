# use lesson_03::TimerDelay;
# use std::future::Future;
# use std::time::Duration;
/// Accepts only a future that may be moved between polls.
fn needs_unpin(_: impl Future + Unpin) {}

async fn count_letters(delay: TimerDelay, word: String) -> usize {
    let borrowed = &word; // points at `word`, in the same future
    delay.await;
    borrowed.len()
}

// error[E0277]: `{async fn body of count_letters()}` cannot be unpinned
needs_unpin(count_letters(TimerDelay::new(Duration::from_secs(1)), "pin".to_string()));

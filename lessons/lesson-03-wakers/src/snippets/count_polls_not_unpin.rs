# use lesson_03::CountPolls;
# use std::future::Future;
fn needs_unpin(_: impl Future + Unpin) {}

async fn answer() -> u32 {
    42
}

// `pin_project!` made `CountPolls` `Unpin` only when its `#[pin]` field is.
// error[E0277]: `{async fn body of answer()}` cannot be unpinned
needs_unpin(CountPolls::new(answer(), |_| {}));

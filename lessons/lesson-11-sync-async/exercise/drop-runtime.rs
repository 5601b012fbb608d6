//! Lesson 11 · exercise `drop-runtime`: a runtime dropped in async code.
//!
//! `balances` opens a ledger connection, which owns a runtime, and asks it
//! for some balances. When the connection is dropped at the end, on the
//! app's runtime thread, tokio panics: "Cannot drop a runtime in a context
//! where blocking is not allowed". Get the balances without that panic, and
//! without leaving a runtime running for every request, then run
//!
//!     cargo xtask try lesson-11 drop-runtime
//!
//! Stuck? `cargo xtask hint lesson-11 drop-runtime`. Start over: `cargo xtask reset lesson-11 drop-runtime`.

use lesson_11::Ledger;

/// TODO: the connection's runtime must not be dropped on this thread.
pub async fn balances(ledger: Ledger, accounts: Vec<u32>) -> Vec<u64> {
    let connection = ledger.connect();
    let mut found = Vec::with_capacity(accounts.len());
    for account in accounts {
        found.push(connection.balance(account).await);
    }
    found
}

// Leave this as it is: it hands your `balances` to the lesson's harness.
fn main() -> std::process::ExitCode {
    lesson_11::drop_runtime::exercise(balances)
}

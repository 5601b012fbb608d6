//! Lesson 11 · exercise `drop-runtime`: a connection closed, then reopened.
//!
//! `balances` asks the ledger for some balances. A connection (which owns a
//! runtime) answers 3 balances at most, so the request opens one for each
//! few accounts. The ledger lets a request have one connection at a time,
//! and counts one open until its close (100 to 140 ms) is over. This code
//! does not panic: it shuts each connection down in the background, and
//! opens the next one while the last is still closing. Fix that, then run
//!
//!     cargo xtask try lesson-11 drop-runtime
//!
//! Stuck? `cargo xtask hint lesson-11 drop-runtime`. Start over: `cargo xtask reset lesson-11 drop-runtime`.

use lesson_11::{Ledger, PER_CONNECTION};

/// TODO: each connection's close must be over before the next `connect`,
/// and the last before `balances` returns; the app's thread (this one)
/// must not wait for a close.
pub async fn balances(ledger: Ledger, accounts: Vec<u32>) -> Vec<u64> {
    let mut found = Vec::with_capacity(accounts.len());
    for few in accounts.chunks(PER_CONNECTION) {
        let connection = ledger.connect();
        for &account in few {
            found.push(connection.balance(account).await);
        }
        connection.shutdown_background();
    }
    found
}

// Leave this as it is: it hands your `balances` to the lesson's harness.
fn main() -> std::process::ExitCode {
    lesson_11::reopen::exercise(balances)
}

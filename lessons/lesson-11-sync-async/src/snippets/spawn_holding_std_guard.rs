# use std::sync::{Arc, Mutex};
# let runtime = tokio::runtime::Runtime::new().unwrap();
# runtime.block_on(async {
let log = Arc::new(Mutex::new(Vec::new()));
let writer = log.clone();
// error: future cannot be sent between threads safely
// (note: future is not `Send` as this value is used across an await)
tokio::spawn(async move {
    let mut lines = writer.lock().unwrap();
    lines.push("started");
    tokio::task::yield_now().await; // `lines` still holds the lock here
    lines.push("done");
});
# });

# use std::sync::{Arc, Mutex};
# use std::time::Duration;
# let runtime = tokio::runtime::Runtime::new().unwrap();
# runtime.block_on(async {
let hits = Arc::new(Mutex::new(0));
// error: future cannot be sent between threads safely
// (note: future is not `Send` as this value is used across an await)
tokio::spawn(async move {
    let mut count = hits.lock().unwrap();
    *count += 1;
    tokio::time::sleep(Duration::from_millis(20)).await; // guard still held
});
# });

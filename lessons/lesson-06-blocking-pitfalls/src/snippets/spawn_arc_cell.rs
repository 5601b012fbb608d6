# use std::cell::Cell;
# use std::sync::Arc;
# let runtime = tokio::runtime::Runtime::new().unwrap();
# runtime.block_on(async {
let hits = Arc::new(Cell::new(0_u64));
let counter = hits.clone();
// error: future cannot be sent between threads safely
// (help: the trait `Sync` is not implemented for `Cell<u64>`)
tokio::spawn(async move { counter.set(counter.get() + 1) });
# });

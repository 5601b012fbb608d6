# use std::rc::Rc;
# let runtime = tokio::runtime::Runtime::new().unwrap();
# runtime.block_on(async {
// error: future cannot be sent between threads safely
// (note: future is not `Send` as this value is used across an await)
tokio::spawn(async {
    let names = Rc::new(vec!["ada", "grace"]);
    tokio::task::yield_now().await; // `names` is still alive here
    println!("{} names", names.len());
});
# });

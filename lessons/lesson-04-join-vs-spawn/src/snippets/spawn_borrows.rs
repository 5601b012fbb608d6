# let runtime = tokio::runtime::Runtime::new().unwrap();
# runtime.block_on(async {
let orders = vec![1, 2, 3];
// error[E0373]: async block may outlive the current function, but it
// borrows `orders`, which is owned by the current function
let task = tokio::spawn(async { orders.len() });
task.await.unwrap();
# });

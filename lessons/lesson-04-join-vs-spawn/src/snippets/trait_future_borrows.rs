# use std::future::Future;
trait Todos {
    // `Send`, but not `'static`: the future may still borrow `self`.
    fn todo(&self, id: u32) -> impl Future<Output = u32> + Send;
}

fn spawn_one<A: Todos>(api: &A) -> tokio::task::JoinHandle<u32> {
    // error[E0521]: borrowed data escapes outside of function
    tokio::spawn(api.todo(1))
}

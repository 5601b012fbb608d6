# use std::future::Future;
trait Todos {
    // A plain `impl Future`: nothing promises it may change threads.
    fn todo(&self, id: u32) -> impl Future<Output = u32>;
}

fn spawn_one<A: Todos>(api: &A) -> tokio::task::JoinHandle<u32> {
    // error[E0277]: `impl Future<Output = u32>` cannot be sent between
    // threads safely
    tokio::spawn(api.todo(1))
}

# use std::time::Duration;
# let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
# runtime.block_on(async {
let mut report = tokio::time::sleep(Duration::from_millis(100));
loop {
    tokio::select! {
        // error[E0277]: `PhantomPinned` cannot be unpinned
        () = &mut report => break,
    }
}
# });

# use std::sync::Arc;
# use std::task::{Wake, Waker};
# struct Nobody;
# impl Wake for Nobody {
#     fn wake(self: Arc<Self>) {}
# }
let waker = Waker::from(Arc::new(Nobody));
waker.wake_by_ref(); // borrows: the waker is still ours
waker.wake(); // consumes it
// error[E0382]: borrow of moved value: `waker`
waker.wake_by_ref();

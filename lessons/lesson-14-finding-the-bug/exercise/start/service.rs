//! Lesson 14 · exercise `service`: find the bug in a service you did not
//! write.
//!
//! TODO: users say this service is mostly quick, but now and then a
//! request that should come straight from the cache takes as long as a
//! trip to the store. Nothing in the logs. Find where the time goes (the
//! task monitors' table: `LESSON_METRICS=1 cargo xtask try lesson-14`; the
//! trace: `cargo xtask try lesson-14 --trace`), fix it where it is, keep
//! every answer right, then run
//!
//!     cargo xtask try lesson-14
//!
//! Stuck? `cargo xtask hint lesson-14`. Start over: `cargo xtask reset lesson-14`.

use lesson_14::{App, AuditEvent, QUEUE_MOST, Request, Service, rank_off_thread, write_all};
use std::sync::Mutex;
use tokio::sync::mpsc;

pub struct Shop {
    events: mpsc::Sender<AuditEvent>,
    queue: Mutex<Option<mpsc::Receiver<AuditEvent>>>,
}

impl Service for Shop {
    fn start(_: &App) -> Self {
        let (events, queue) = mpsc::channel(QUEUE_MOST);
        Shop {
            events,
            queue: Mutex::new(Some(queue)),
        }
    }

    async fn handle(&self, app: &App, request: Request) -> u64 {
        let key = request.key();
        let _ = self.events.send(request.into_event()).await;
        if let Some(value) = app.cache().get(key) {
            return value;
        }
        let value = app.store().load(key).await;
        app.cache().put(key, value);
        warm_neighbour(app, key);
        value
    }

    async fn refresh(&self, app: &App) {
        rank_off_thread(app).await;
    }

    async fn audit(&self, app: &App) {
        let queue = self.queue.lock().unwrap().take();
        write_all(app, queue).await;
    }
}

/// Misses come in runs: keep the next key warm in the cache.
fn warm_neighbour(app: &App, key: u64) {
    let next = key + 1;
    if app.cache().get(next).is_none() {
        app.cache().put(next, app.store().fetch(next));
    }
}

// Leave this as it is: it hands your service to the lesson's harness.
fn main() -> std::process::ExitCode {
    lesson_14::exercise::<Shop>()
}

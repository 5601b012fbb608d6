//! Names for the threads a tokio runtime starts, so that the timeline says
//! what each one is.
//!
//! tokio gives every thread it starts one name (`tokio-runtime-worker`, or
//! the builder's `thread_name`): the worker threads that poll tasks and the
//! threads of its blocking pool that run `spawn_blocking` jobs alike. A
//! timeline that showed a learner's `spawn_blocking` job on a "worker"
//! would tell them the job held a worker. tokio starts a multi-threaded
//! runtime's workers first, as its first threads, when the runtime is built
//! (each worker runs on a thread of the blocking pool), and every thread
//! after them is a blocking-pool thread. So counting the threads as they
//! are started tells the two apart, once the workers have taken their
//! places: a new thread takes whatever task is first in the pool's queue,
//! so a blocking job spawned while a worker thread is still starting could
//! land on that thread. [`multi_thread`] therefore waits, after building,
//! until every worker has parked once (its first act with nothing to do).
//!
//! ```
//! let mut builder = tokio::runtime::Builder::new_multi_thread();
//! let runtime = shared::record::threads::multi_thread(&mut builder, "worker", 2).unwrap();
//! let (task, job) = runtime.block_on(async {
//!     let task = tokio::spawn(async { std::thread::current().name().map(String::from) });
//!     let job = tokio::task::spawn_blocking(|| std::thread::current().name().map(String::from));
//!     (task.await.unwrap(), job.await.unwrap())
//! });
//! assert_eq!(task.as_deref(), Some("worker"));
//! assert_eq!(job.as_deref(), Some("blocking pool"));
//! ```

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// What the timeline calls a thread of tokio's blocking pool.
pub const BLOCKING_POOL: &str = "blocking pool";

/// Names the threads `builder`'s runtime will start: the first `workers`
/// are its worker threads, named `worker` (the timeline numbers them `#2`,
/// `#3`...), and every later one is a thread of its blocking pool, named
/// [`BLOCKING_POOL`]. For a multi-threaded runtime, `workers` is also the
/// number of worker threads it gets; a current-thread runtime starts no
/// worker (it runs on the thread that calls `block_on`), so pass 0.
///
/// After `block_in_place`, a thread of the blocking pool takes over the
/// worker's queues and polls its tasks: the timeline shows such polls on a
/// `blocking pool` row, which is where tokio runs them.
pub fn name_threads<'b>(
    builder: &'b mut tokio::runtime::Builder,
    worker: &str,
    workers: usize,
) -> &'b mut tokio::runtime::Builder {
    if workers > 0 {
        builder.worker_threads(workers);
    }
    let started = Arc::new(AtomicUsize::new(0));
    let worker = worker.to_string();
    builder.thread_name_fn(move || {
        if started.fetch_add(1, Ordering::SeqCst) < workers {
            worker.clone()
        } else {
            BLOCKING_POOL.to_string()
        }
    })
}

/// Builds a multi-threaded runtime with `workers` worker threads named
/// `worker` and its blocking pool's threads named [`BLOCKING_POOL`] (see
/// [`name_threads`]), and returns it once every worker thread has parked
/// once, so that each name is the thread's role (or after 2 s, if a
/// machine is that busy). It sets the builder's park hook.
pub fn multi_thread(
    builder: &mut tokio::runtime::Builder,
    worker: &str,
    workers: usize,
) -> std::io::Result<tokio::runtime::Runtime> {
    multi_thread_parking(builder, worker, workers, || {})
}

/// [`multi_thread`], with `on_park` called too each time a worker thread
/// parks (goes idle), before it parks.
pub fn multi_thread_parking(
    builder: &mut tokio::runtime::Builder,
    worker: &str,
    workers: usize,
    on_park: impl Fn() + Send + Sync + 'static,
) -> std::io::Result<tokio::runtime::Runtime> {
    let workers = workers.max(1);
    let started: Arc<(Mutex<HashSet<std::thread::ThreadId>>, Condvar)> = Arc::default();
    let seen = started.clone();
    name_threads(builder, worker, workers).on_thread_park(move || {
        on_park();
        let (set, parked) = &*seen;
        let mut set = set.lock().unwrap_or_else(|e| e.into_inner());
        if set.insert(std::thread::current().id()) {
            parked.notify_all();
        }
    });
    let runtime = builder.build()?;
    let (set, parked) = &*started;
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut set = set.lock().unwrap_or_else(|e| e.into_inner());
    while set.len() < workers {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        set = parked
            .wait_timeout(set, left)
            .unwrap_or_else(|e| e.into_inner())
            .0;
    }
    drop(set);
    Ok(runtime)
}

/// How many worker threads tokio gives a multi-threaded runtime by default:
/// the `TOKIO_WORKER_THREADS` environment variable if it is set to a
/// number, otherwise the number of cores.
pub fn default_workers() -> usize {
    std::env::var("TOKIO_WORKER_THREADS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name() -> Option<String> {
        std::thread::current().name().map(String::from)
    }

    #[test]
    fn a_current_thread_runtime_s_blocking_jobs_run_on_the_blocking_pool() {
        let mut builder = tokio::runtime::Builder::new_current_thread();
        name_threads(&mut builder, "worker", 0);
        let runtime = builder.build().unwrap();
        let names = runtime.block_on(async {
            let jobs: Vec<_> = (0..3)
                .map(|_| {
                    tokio::task::spawn_blocking(|| {
                        std::thread::sleep(std::time::Duration::from_millis(20));
                        name()
                    })
                })
                .collect();
            let mut names = Vec::new();
            for job in jobs {
                names.push(job.await.unwrap());
            }
            names
        });
        assert!(
            names.iter().all(|n| n.as_deref() == Some(BLOCKING_POOL)),
            "{names:?}"
        );
    }

    #[test]
    fn blocking_jobs_spawned_at_once_never_land_on_a_worker_s_thread() {
        for _ in 0..30 {
            let mut builder = tokio::runtime::Builder::new_multi_thread();
            let runtime = multi_thread(&mut builder, "worker", 2).unwrap();
            let names = runtime.block_on(async {
                let jobs: Vec<_> = (0..4).map(|_| tokio::task::spawn_blocking(name)).collect();
                let mut names = Vec::new();
                for job in jobs {
                    names.push(job.await.unwrap());
                }
                names
            });
            assert!(
                names.iter().all(|n| n.as_deref() == Some(BLOCKING_POOL)),
                "{names:?}"
            );
        }
    }

    #[test]
    fn a_multi_threaded_runtime_s_workers_are_its_first_threads() {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        let runtime = multi_thread(&mut builder, "tokio worker", 3).unwrap();
        let (tasks, job) = runtime.block_on(async {
            let tasks: Vec<_> = (0..12)
                .map(|_| {
                    tokio::spawn(async {
                        tokio::task::yield_now().await;
                        name()
                    })
                })
                .collect();
            let mut names = Vec::new();
            for t in tasks {
                names.push(t.await.unwrap());
            }
            (names, tokio::task::spawn_blocking(name).await.unwrap())
        });
        assert!(
            tasks.iter().all(|n| n.as_deref() == Some("tokio worker")),
            "{tasks:?}"
        );
        assert_eq!(job.as_deref(), Some(BLOCKING_POOL));
    }
}

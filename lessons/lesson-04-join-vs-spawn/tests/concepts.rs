//! More to know about joining and spawning, on paused tokio time: waits of
//! different lengths finish in a known order, at exact instants.

use futures::stream::{FuturesUnordered, StreamExt};
use lesson_04::{Api, IDS, LATENCY, Todo};
use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;
use tokio::task::{Id, JoinSet};
use tokio::time::{Instant, sleep};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// The lengths of three waits, in the order they are started.
const LENGTHS: [u64; 3] = [300, 100, 200];

/// Waits `n` ms, then says how long it waited and which task polled it
/// (`None` outside any task).
async fn wait(n: u64) -> (u64, Option<Id>) {
    sleep(ms(n)).await;
    (n, tokio::task::try_id())
}

// ANCHOR: try_join
/// Waits `n` ms, notes that it finished, then succeeds or fails.
async fn step(n: u64, fail: bool, finished: &Mutex<Vec<u64>>) -> Result<u64, String> {
    sleep(ms(n)).await;
    finished.lock().unwrap().push(n);
    if fail {
        Err(format!("failed after {n} ms"))
    } else {
        Ok(n)
    }
}

#[tokio::test(start_paused = true)]
async fn try_join_returns_the_first_error_and_drops_the_others() {
    let finished = Mutex::new(Vec::new());
    let start = Instant::now();
    let result = tokio::try_join!(
        step(300, false, &finished),
        step(100, true, &finished),
        step(200, false, &finished),
    );
    assert_eq!(result, Err("failed after 100 ms".to_string()));
    assert_eq!(start.elapsed(), ms(100), "it did not wait for the others");

    sleep(ms(1_000)).await;
    // The two slower futures were dropped when the error came: they never
    // finish, however long we wait.
    assert_eq!(*finished.lock().unwrap(), [100]);
}
// ANCHOR_END: try_join

// ANCHOR: join_all
#[tokio::test(start_paused = true)]
async fn join_all_returns_every_result_in_the_order_of_its_input() {
    let start = Instant::now();
    let done = futures::future::join_all(LENGTHS.map(wait)).await;
    let lengths: Vec<u64> = done.iter().map(|(n, _)| *n).collect();
    assert_eq!(lengths, [300, 100, 200], "input order, not finishing order");
    assert_eq!(start.elapsed(), ms(300), "together: as long as the longest");
    assert!(
        done.iter().all(|(_, polled_by)| polled_by.is_none()),
        "polled by the test's own body, which is not a spawned task"
    );
}
// ANCHOR_END: join_all

// ANCHOR: futures_unordered
#[tokio::test(start_paused = true)]
async fn futures_unordered_yields_each_result_as_it_finishes_inside_one_task() {
    let task = tokio::spawn(async {
        let start = Instant::now();
        let mut waits: FuturesUnordered<_> = LENGTHS.into_iter().map(wait).collect();
        let mut seen = Vec::new();
        while let Some((n, polled_by)) = waits.next().await {
            seen.push((n, start.elapsed(), polled_by));
        }
        seen
    });
    let the_task = task.id();
    let seen = task.await.unwrap();
    let arrivals: Vec<(u64, Duration)> = seen.iter().map(|(n, at, _)| (*n, *at)).collect();
    assert_eq!(arrivals, [(100, ms(100)), (200, ms(200)), (300, ms(300))]);
    assert!(
        seen.iter().all(|(_, _, by)| *by == Some(the_task)),
        "every wait was polled by the one task that awaited the set"
    );
}
// ANCHOR_END: futures_unordered

// ANCHOR: join_set
#[tokio::test(start_paused = true)]
async fn a_join_set_yields_each_result_as_it_finishes_from_a_task_of_its_own() {
    let start = Instant::now();
    let mut set = JoinSet::new();
    for n in LENGTHS {
        set.spawn(wait(n));
    }
    let mut seen = Vec::new();
    while let Some(done) = set.join_next_with_id().await {
        let (task, (n, polled_by)) = done.unwrap();
        assert_eq!(polled_by, Some(task), "each wait is a task of its own");
        seen.push((n, start.elapsed(), task));
    }
    let arrivals: Vec<(u64, Duration)> = seen.iter().map(|(n, at, _)| (*n, *at)).collect();
    assert_eq!(arrivals, [(100, ms(100)), (200, ms(200)), (300, ms(300))]);
    let mut tasks: Vec<Id> = seen.iter().map(|(_, _, task)| *task).collect();
    tasks.sort_unstable();
    tasks.dedup();
    assert_eq!(tasks.len(), 3, "three different tasks");
}
// ANCHOR_END: join_set

// ANCHOR: send_static
/// An API as a trait, so that code can be generic over it. Its return type
/// makes the two promises `tokio::spawn` needs.
trait Todos {
    fn todo(&self, id: u32) -> impl Future<Output = anyhow::Result<Todo>> + Send + 'static;
}

impl Todos for Api {
    fn todo(&self, id: u32) -> impl Future<Output = anyhow::Result<Todo>> + Send + 'static {
        Api::todo(self, id)
    }
}

/// Generic code knows only the trait's promises, and they are enough to
/// spawn every request as a task.
async fn fetch_spawned<A: Todos>(api: &A) -> anyhow::Result<Vec<Todo>> {
    let mut set = JoinSet::new();
    for id in IDS {
        set.spawn(api.todo(id)); // Send + 'static: spawn accepts it
    }
    let mut todos = Vec::new();
    while let Some(done) = set.join_next().await {
        todos.push(done??);
    }
    todos.sort_by_key(|t| t.id);
    Ok(todos)
}

#[tokio::test(start_paused = true)]
async fn a_send_and_static_future_from_a_trait_can_be_spawned() {
    let api = Api::fake();
    let start = Instant::now();
    let todos = fetch_spawned(&api).await.unwrap();
    assert_eq!(todos.len(), IDS.count());
    assert_eq!(start.elapsed(), LATENCY, "all ten in flight together");
    assert_eq!(api.max_in_flight(), 10);
}
// ANCHOR_END: send_static

/// `'static` at work: the request's future owns what it needs, so its task
/// still runs after the `Api` value it came from is dropped.
#[tokio::test(start_paused = true)]
async fn a_spawned_request_outlives_the_api_value_it_came_from() {
    let api = Api::fake();
    let request = tokio::spawn(Todos::todo(&api, 3));
    drop(api);
    let todo = request.await.unwrap().unwrap();
    assert_eq!(todo.id, 3);
}

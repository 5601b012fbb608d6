//! The fetch claims on paused tokio time: the fake API's "requests" sleep
//! for the latency, so elapsed times are exact on any machine.

use lesson_04::{Api, IDS, LATENCY, broken, fixed};
use tokio::time::Instant;

fn ids() -> Vec<u32> {
    IDS.collect()
}

#[tokio::test(start_paused = true)]
async fn one_after_another_takes_the_sum_of_the_latencies() {
    let start = Instant::now();
    let todos = broken::fetch_all(&Api::fake(), &ids()).await.unwrap();
    assert_eq!(start.elapsed(), LATENCY * IDS.count() as u32);
    assert_eq!(todos.len(), 10);
}

#[tokio::test(start_paused = true)]
async fn joined_takes_one_latency() {
    let start = Instant::now();
    let todos = fixed::fetch_all(&Api::fake(), &ids()).await.unwrap();
    assert_eq!(start.elapsed(), LATENCY);
    let got: Vec<u32> = todos.iter().map(|t| t.id).collect();
    assert_eq!(got, ids(), "join_all keeps the order");
}

#[tokio::test(start_paused = true)]
async fn a_join_set_takes_one_latency_too() {
    let start = Instant::now();
    let todos = fixed::fetch_all_join_set(&Api::fake(), &ids())
        .await
        .unwrap();
    assert_eq!(start.elapsed(), LATENCY);
    let got: Vec<u32> = todos.iter().map(|t| t.id).collect();
    assert_eq!(got, ids(), "sorted after arriving in any order");
}

#[test]
fn the_real_server_sends_json_that_deserializes_into_todos() {
    let server = shared::work::server::DemoServer::start(std::time::Duration::ZERO).unwrap();
    let api = lesson_04::Api::new(&server);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let todo = runtime.block_on(api.todo(3)).unwrap();
    assert_eq!(todo.id, 3);
    assert!(todo.completed, "every third todo is done");
    assert!(!todo.title.is_empty());
    assert_eq!(server.stats().served(), 1, "the server counted it");
}

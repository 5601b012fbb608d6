//! Why the lesson's client has no connection pool. A pooled connection is
//! driven by a task on the runtime that opened it. The broken pipeline makes
//! a runtime per record and drops it after the record: a request that took
//! a pooled connection from another runtime loses it when that runtime is
//! dropped, with reqwest's "dispatch task is gone". The harness turns the
//! pool off (`pool_max_idle_per_host(0)`) so that the broken design fails
//! only in the ways the lesson measures.

use shared::work::server::DemoServer;
use std::time::{Duration, Instant};

fn runtime(threads: usize) -> tokio::runtime::Runtime {
    if threads == 0 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(threads);
        b
    }
    .enable_all()
    .build()
    .expect("a runtime")
}

/// The error and its sources, as a user reads them.
fn chain(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(e) = source {
        text.push_str(&format!(": {e}"));
        source = e.source();
    }
    text
}

/// Runtime A opens a connection, which goes back to the pool with its task
/// still on A; runtime B takes it for a slow request, and A is dropped
/// while that request is at the server. B's answer: `Ok` if B opened a
/// connection of its own after all.
fn one_try(server: &DemoServer, client: &reqwest::Client) -> Result<String, reqwest::Error> {
    let a = runtime(1);
    let first = a.block_on(async {
        client
            .get(server.url("/todos/1"))
            .send()
            .await?
            .text()
            .await
    });
    assert!(first.is_ok(), "{first:?}");
    std::thread::sleep(Duration::from_millis(50));
    std::thread::scope(|s| {
        s.spawn(|| {
            let since = Instant::now();
            while server.stats().in_flight() == 0 && since.elapsed() < Duration::from_secs(5) {
                std::thread::sleep(Duration::from_millis(2));
            }
            drop(a);
        });
        runtime(0).block_on(async {
            let slow = server.url("/todos/2?delay_ms=400");
            client.get(slow).send().await?.text().await
        })
    })
}

#[test]
fn a_pooled_connection_dies_with_the_runtime_that_opened_it() {
    let server = DemoServer::start(Duration::ZERO).expect("the server starts");
    // A pooled client, as reqwest makes it by default.
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("a client");
    // A busy machine may let the connection reach the pool too late for B
    // to take it: then B opens its own and succeeds, which proves nothing,
    // and the scenario runs again.
    for _ in 0..5 {
        if let Err(error) = one_try(&server, &client) {
            let text = chain(&error);
            assert!(text.contains("dispatch task is gone"), "{text}");
            return;
        }
    }
    panic!("runtime B never took runtime A's pooled connection in five tries");
}

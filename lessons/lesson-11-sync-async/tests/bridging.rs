//! The lesson's claims about tokio, each shown directly, and the harnesses'
//! counts where they do not depend on the machine's speed.

use lesson_11::{
    CALL_MIN, Catalog, Deliveries, Ledger, RATE_ONE, Rates, Reading, Requests, Store, TICK,
};
use lesson_11::{drop_runtime, fixed, nested, no_reactor};
use shared::grade::{Observed, observe_within};
use shared::lesson::Facts;
use shared::work::shape::Rng;
use std::time::Duration;
use tokio::runtime::{Builder, Handle, Runtime};

const LIMIT: Duration = Duration::from_secs(30);

fn one_thread() -> Runtime {
    Builder::new_current_thread().enable_time().build().unwrap()
}

/// Runs `f` on a thread of its own and returns its panic message, if any.
fn panic_of(f: impl FnOnce() + Send + 'static) -> Option<String> {
    match observe_within(LIMIT, f) {
        Observed::Completes => None,
        Observed::Panics(message) => Some(message),
        other => panic!("expected it to complete or panic: {other:?}"),
    }
}

fn get(facts: &Facts, name: &str) -> f64 {
    facts
        .get(name)
        .unwrap_or_else(|| panic!("{name} was measured"))
}

#[test]
fn a_thread_that_drives_a_runtime_may_not_block_on_one() {
    let message = panic_of(|| {
        one_thread().block_on(async {
            one_thread().block_on(async {});
        })
    });
    assert!(
        message.is_some_and(|m| m.starts_with("Cannot start a runtime from within a runtime")),
        "blocking on a second runtime"
    );
    let message = panic_of(|| {
        one_thread().block_on(async {
            Handle::current().block_on(async {});
        })
    });
    assert!(
        message.is_some_and(|m| m.starts_with("Cannot start a runtime from within a runtime")),
        "blocking on the same runtime, through its handle"
    );
}

#[test]
fn a_blocking_pool_thread_or_a_plain_thread_may() {
    let app = one_thread();
    let answers = app.block_on(async {
        // A blocking-pool thread drives no runtime: a second one is fine.
        let pooled = tokio::task::spawn_blocking(|| one_thread().block_on(async { 1 }))
            .await
            .unwrap();
        // A plain thread may block on the app's runtime through its handle,
        // timers included, while this thread drives it.
        let handle = Handle::current();
        let plain = std::thread::spawn(move || {
            handle.block_on(async {
                tokio::time::sleep(Duration::from_millis(5)).await;
                2
            })
        });
        let plain = tokio::task::spawn_blocking(move || plain.join().unwrap())
            .await
            .unwrap();
        (pooled, plain)
    });
    assert_eq!(answers, (1, 2));
}

#[test]
fn a_runtime_may_be_built_in_async_code_but_not_dropped_there() {
    let message = panic_of(|| {
        one_thread().block_on(async {
            let inner = one_thread(); // building is fine...
            drop(inner); // ...dropping is not
        })
    });
    assert!(message.is_some_and(|m| {
        m.starts_with("Cannot drop a runtime in a context where blocking is not allowed")
    }),);
    let message = panic_of(|| {
        one_thread().block_on(async {
            one_thread().shutdown_background(); // does not wait: allowed
            let inner = one_thread();
            tokio::task::spawn_blocking(move || drop(inner))
                .await
                .unwrap();
        })
    });
    assert_eq!(message, None);
}

#[test]
fn a_plain_thread_finds_no_runtime_until_it_is_handed_one() {
    let message = panic_of(|| {
        tokio::spawn(async {});
    });
    assert_eq!(
        message.as_deref(),
        Some("there is no reactor running, must be called from the context of a Tokio 1.x runtime")
    );
    // The same panic from anything that looks for the runtime, a timer
    // included: it needs one when it is created, not only when awaited.
    for message in [
        panic_of(|| drop(Handle::current())),
        panic_of(|| drop(tokio::task::spawn_blocking(|| ()))),
        panic_of(|| drop(tokio::time::sleep(Duration::from_millis(1)))),
    ] {
        assert!(
            message.is_some_and(|m| m.starts_with("there is no reactor running")),
            "every one panics"
        );
    }

    let app = one_thread();
    let handle = app.handle().clone();
    let spawned = std::thread::spawn(move || {
        assert!(
            Handle::try_current().is_err(),
            "no runtime on a plain thread"
        );
        let through_handle = handle.spawn(async { 1 });
        let _entered = handle.enter(); // this thread now knows the runtime
        let through_spawn = tokio::spawn(async { 2 });
        (through_handle, through_spawn)
    })
    .join()
    .unwrap();
    let (a, b) = app.block_on(async { (spawned.0.await.unwrap(), spawned.1.await.unwrap()) });
    assert_eq!((a, b), (1, 2));
}

// ANCHOR: at_the_edge
/// A sync client made the way tokio's guide to bridging makes one: a
/// runtime built once, when the client is, and blocked on for each call.
/// Sync code calls it; no async code is around it.
struct BlockingClient {
    runtime: Runtime,
}

impl BlockingClient {
    fn new() -> BlockingClient {
        let runtime = Builder::new_current_thread().enable_time().build().unwrap();
        BlockingClient { runtime }
    }

    /// Blocks the calling thread until the answer comes.
    fn price(&self, item: u32) -> u64 {
        self.runtime.block_on(async {
            tokio::time::sleep(Duration::from_millis(1)).await; // the request
            u64::from(item) * 100 + 99
        })
    }
}
// ANCHOR_END: at_the_edge

#[test]
fn one_runtime_built_at_the_edge_serves_every_sync_call() {
    // Plain sync code, as in a sync `main`: one client, one runtime.
    let client = BlockingClient::new();
    let prices: Vec<u64> = (0..3).map(|item| client.price(item)).collect();
    assert_eq!(prices, [99, 199, 299]);
    // From a thread of its own too: the runtime is shared, not rebuilt.
    let client = std::sync::Arc::new(client);
    let shared = client.clone();
    let other = std::thread::spawn(move || shared.price(7)).join().unwrap();
    assert_eq!(other, 799);
}

#[test]
fn a_call_joined_on_the_apps_thread_holds_it_for_the_whole_call() {
    // No panic (with a rate that needs no runtime, made up, so that the
    // join does not wait for the app's thread itself); but each call held
    // the app's thread in one poll for as long as the call took, at least
    // 100 ms, and the heartbeat waited as long, less a tick.
    async fn joined(catalog: Catalog, _rates: Rates, item: u32) -> u64 {
        std::thread::spawn(move || catalog.price(item, |_| RATE_ONE))
            .join()
            .unwrap()
    }
    let facts = Facts::for_test(&nested::SPEC);
    nested::measure(&facts, joined);
    let call = CALL_MIN.as_secs_f64() / TICK.as_secs_f64();
    assert!(get(&facts, "longest_hold") >= call);
    assert!(get(&facts, "heartbeat_lateness") >= call - 1.0);
}

#[test]
fn each_dropped_connection_shuts_its_runtime_down_and_a_forgotten_one_does_not() {
    let facts = Facts::for_test(&drop_runtime::SPEC);
    drop_runtime::measure(&facts, fixed::balances);
    assert_eq!(get(&facts, "runtimes_left_running"), 0.0);
    assert_eq!(get(&facts, "wrong_answers"), 0.0);

    async fn forgotten(ledger: Ledger, accounts: Vec<u32>) -> Vec<u64> {
        let connection = ledger.connect();
        let mut found = Vec::new();
        for account in accounts {
            found.push(connection.balance(account).await);
        }
        std::mem::forget(connection);
        found
    }
    let facts = Facts::for_test(&drop_runtime::SPEC);
    drop_runtime::measure(&facts, forgotten);
    // The same workloads as the harness drew: one connection per request.
    let requests: usize = Requests::shapes(&mut Rng::for_scenario(drop_runtime::SPEC.name))
        .iter()
        .map(|shape| shape.accounts.len())
        .sum();
    assert_eq!(get(&facts, "runtimes_left_running"), requests as f64);
}

#[test]
fn a_callback_that_finds_no_runtime_and_gives_up_saves_nothing() {
    fn give_up(store: Store) -> impl FnMut(Reading) + Send + 'static {
        move |reading| {
            if let Ok(runtime) = Handle::try_current() {
                runtime.spawn(store.save(reading));
            }
        }
    }
    let facts = Facts::for_test(&no_reactor::SPEC);
    no_reactor::measure(&facts, give_up);
    let readings: usize = Deliveries::shapes(&mut Rng::for_scenario(no_reactor::SPEC.name))
        .iter()
        .map(|shape| shape.values.len())
        .sum();
    assert_eq!(get(&facts, "readings_lost"), readings as f64);
    assert_eq!(get(&facts, "wrong_saves"), 0.0);

    let facts = Facts::for_test(&no_reactor::SPEC);
    no_reactor::measure(&facts, fixed::on_reading);
    assert_eq!(get(&facts, "readings_lost"), 0.0);
    assert_eq!(get(&facts, "wrong_saves"), 0.0);
}

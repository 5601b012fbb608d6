//! The runtime's claims, proven by counting and by event order; anything
//! that could hang runs under a time limit.

use lesson_09::runtime::{self, Runtime};
use lesson_09::{broken, fairness, fixed, stealing, yield_now};
use shared::grade::{Observed, observe_within};
use shared::lesson::Facts;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(20);

fn get(facts: &Facts, name: &str) -> f64 {
    facts
        .get(name)
        .unwrap_or_else(|| panic!("{name} was measured"))
}

#[test]
fn a_local_first_worker_starves_the_global_queue_and_the_61_tick_check_does_not() {
    let facts = Facts::for_test(&fairness::SPEC);
    fairness::measure(&facts, broken::local_first);
    assert!(get(&facts, "injected_wait_polls") >= 1000.0);
    let facts = Facts::for_test(&fairness::SPEC);
    fairness::measure(&facts, fixed::work_stealing);
    assert!(get(&facts, "injected_wait_polls") <= 61.0);
}

#[test]
fn an_idle_worker_steals_from_a_full_sibling_and_one_that_cannot_does_not() {
    let facts = Facts::for_test(&stealing::SPEC);
    stealing::measure(&facts, fixed::work_stealing);
    assert!(get(&facts, "tasks_stolen") >= 1.0);
    let facts = Facts::for_test(&stealing::SPEC);
    stealing::measure(&facts, broken::no_stealing);
    assert_eq!(get(&facts, "tasks_stolen"), 0.0);
}

// ANCHOR: lost_wakeups
#[test]
fn no_wake_up_is_lost_when_many_short_tasks_wake_each_other_across_threads() {
    // 2000 tasks in a ring: each waits for its predecessor's signal, then
    // signals its successor. One lost wake-up and the ring stops: a hang.
    let observed = observe_within(LIMIT, || {
        for _ in 0..5 {
            let runtime = Runtime::new(4, fixed::work_stealing);
            let handle = runtime.handle();
            let done = runtime.block_on(async move {
                let (first_tx, mut rx) = futures::channel::oneshot::channel::<u64>();
                let mut handles = Vec::new();
                for _ in 0..2000 {
                    let (tx, next_rx) = futures::channel::oneshot::channel::<u64>();
                    let prev = std::mem::replace(&mut rx, next_rx);
                    handles.push(handle.spawn(async move {
                        let n = prev.await.expect("the predecessor signals");
                        yield_now().await;
                        let _ = tx.send(n + 1);
                    }));
                }
                first_tx.send(0).expect("the first task waits");
                rx.await.expect("the last task signals")
            });
            assert_eq!(done, 2000);
        }
    });
    assert_eq!(observed, Observed::Completes, "a wake-up was lost");
}
// ANCHOR_END: lost_wakeups

#[test]
fn a_push_wakes_a_sleeping_worker_once_not_at_every_push_while_it_gets_up() {
    // Bursts of spawns from outside, each while the workers sleep: the
    // first push of a burst wakes a worker and takes it off the count of
    // sleepers, so the pushes behind it, while it gets up, leave it be.
    // Every wake-up goes to a worker that went to sleep: never more
    // wake-ups than sleeps, whatever the timing.
    let observed = observe_within(LIMIT, || {
        let runtime = Runtime::new(2, fixed::work_stealing);
        let handle = runtime.handle();
        for _ in 0..20 {
            let asleep = Instant::now();
            while !runtime.all_parked() && asleep.elapsed() < Duration::from_secs(2) {
                std::thread::sleep(Duration::from_millis(1));
            }
            runtime.block_on(async {
                let tasks: Vec<_> = (0..500).map(|_| handle.spawn(yield_now())).collect();
                for t in tasks {
                    t.await;
                }
            });
        }
        let stats = runtime.stats();
        let (parks, wakes) = (stats.parks.load(SeqCst), stats.wakes.load(SeqCst));
        assert!(wakes >= 1, "the workers slept, and a push woke one");
        assert!(wakes <= parks, "{wakes} wake-ups for {parks} sleeps");
    });
    assert_eq!(observed, Observed::Completes);
}

#[test]
fn timers_fire_in_deadline_order_and_never_early() {
    let observed = observe_within(LIMIT, || {
        let runtime = Runtime::new(2, fixed::work_stealing);
        let handle = runtime.handle();
        let order = Arc::new(std::sync::Mutex::new(Vec::new()));
        let start = Instant::now();
        let late = runtime.block_on(async {
            let sleeps: Vec<_> = [40u64, 10, 30, 20]
                .into_iter()
                .map(|ms| {
                    let (handle, order) = (handle.clone(), order.clone());
                    let deadline = start + Duration::from_millis(ms);
                    handle.clone().spawn(async move {
                        handle.reactor().sleep_until(deadline).await;
                        let now = Instant::now();
                        order.lock().unwrap().push(ms);
                        now >= deadline
                    })
                })
                .collect();
            let mut all_on_time_or_after = true;
            for s in sleeps {
                all_on_time_or_after &= s.await;
            }
            all_on_time_or_after
        });
        assert!(late, "no timer fired before its deadline");
        assert_eq!(*order.lock().unwrap(), [10, 20, 30, 40]);
    });
    assert_eq!(observed, Observed::Completes);
}

// ANCHOR: echo
#[test]
fn an_echo_exchange_over_127_0_0_1_runs_on_the_reactor() {
    let observed = observe_within(LIMIT, || {
        let runtime = Runtime::new(2, fixed::work_stealing);
        let handle = runtime.handle();
        let echoed = runtime.block_on(async move {
            let reactor = handle.reactor().clone();
            let listener = reactor
                .listen("127.0.0.1:0".parse().unwrap())
                .expect("a local port");
            let addr = listener.local_addr().unwrap();
            let server = handle.spawn(async move {
                let conn = listener.accept().await.expect("a client");
                let mut buf = [0u8; 64];
                loop {
                    let n = conn.read(&mut buf).await.expect("reading");
                    if n == 0 {
                        return; // the client is done
                    }
                    conn.write_all(&buf[..n]).await.expect("writing");
                }
            });
            let client = reactor.connect(addr).await.expect("connected");
            let mut got = Vec::new();
            for word in ["ping", "pong", "done"] {
                client.write_all(word.as_bytes()).await.expect("sent");
                let mut buf = [0u8; 4];
                let mut read = 0;
                while read < 4 {
                    read += client.read(&mut buf[read..]).await.expect("read");
                }
                got.push(String::from_utf8_lossy(&buf).into_owned());
            }
            drop(client);
            server.await;
            got
        });
        assert_eq!(echoed, ["ping", "pong", "done"]);
    });
    assert_eq!(observed, Observed::Completes);
}
// ANCHOR_END: echo

#[test]
fn a_reader_and_a_writer_on_one_stream_each_get_their_own_wake_up() {
    // One task waits to read, another to write, on the same stream. With
    // one waker per socket the writer's waker replaces the reader's, the
    // byte that arrives wakes the writer (who still cannot write), and the
    // reader waits for ever. The reactor keeps a waker for each direction,
    // as tokio does.
    let observed = observe_within(LIMIT, || {
        let runtime = Runtime::new(2, fixed::work_stealing);
        let handle = runtime.handle();
        let (read, drained) = runtime.block_on(async move {
            let reactor = handle.reactor().clone();
            let listener = reactor
                .listen("127.0.0.1:0".parse().unwrap())
                .expect("a local port");
            let addr = listener.local_addr().unwrap();
            let client = Arc::new(reactor.connect(addr).await.expect("connected"));
            let server = listener.accept().await.expect("a client");
            let reader = {
                let client = client.clone();
                handle.spawn(async move {
                    let mut byte = [0u8; 1];
                    client.read(&mut byte).await.expect("read")
                })
            };
            // The writer sends far more than the kernel's socket buffers
            // hold, with nobody reading it yet, so it comes to wait too,
            // after the reader: its waker is the latest handed over.
            const CHUNK: usize = 1 << 16;
            const CHUNKS: usize = 1024;
            let written = Arc::new(AtomicU64::new(0));
            let writer = {
                let (client, written) = (client.clone(), written.clone());
                handle.spawn(async move {
                    for _ in 0..CHUNKS {
                        client.write_all(&[7u8; CHUNK]).await.expect("sent");
                        written.fetch_add(1, SeqCst);
                    }
                })
            };
            // Waiting: its count has not moved for 100 ms.
            let mut last = u64::MAX;
            let mut still = 0;
            while still < 10 {
                reactor.sleep(Duration::from_millis(10)).await;
                let now = written.load(SeqCst);
                still = if now == last { still + 1 } else { 0 };
                last = now;
            }
            assert!(last < CHUNKS as u64, "the writer is waiting, not done");
            server.write_all(b"!").await.expect("answered");
            let read = reader.await;
            let mut buf = vec![0u8; CHUNK];
            let mut drained = 0;
            while drained < CHUNK * CHUNKS {
                drained += server.read(&mut buf).await.expect("drained");
            }
            writer.await;
            (read, drained)
        });
        assert_eq!((read, drained), (1, 1 << 26));
    });
    assert_eq!(observed, Observed::Completes, "the reader was never woken");
}

#[test]
fn dropping_the_runtime_leaves_no_thread_behind() {
    let observed = observe_within(LIMIT, || {
        let runtime = Runtime::new(3, fixed::work_stealing);
        let handle = runtime.handle();
        let polled = Arc::new(AtomicU64::new(0));
        let p = polled.clone();
        runtime.block_on(async move {
            // One task still asleep at shutdown, its waker with the reactor.
            let reactor = handle.reactor().clone();
            drop(handle.spawn(async move { reactor.sleep(Duration::from_secs(60)).await }));
            handle
                .spawn(async move {
                    p.fetch_add(1, SeqCst);
                })
                .await;
        });
        assert_eq!(polled.load(SeqCst), 1);
        let alive = runtime.liveness();
        drop(runtime);
        assert!(
            !alive.any_thread_alive(),
            "every worker and the reactor returned"
        );
    });
    assert_eq!(observed, Observed::Completes, "dropping the runtime hung");
}

#[test]
fn a_handle_spawns_from_any_thread_into_the_global_queue() {
    let runtime = Runtime::new(2, fixed::work_stealing);
    let handle = runtime.handle();
    let from_thread = std::thread::spawn(move || handle.spawn(async { 6 * 7 }))
        .join()
        .unwrap();
    assert_eq!(runtime.block_on(from_thread), 42);
    let inside = runtime.block_on(async { runtime::handle().spawn(async { 1 }).await });
    assert_eq!(inside, 1);
}

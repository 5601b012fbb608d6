//! Lesson 08's claims, on paused tokio time or with plain threads: nothing
//! here depends on the machine's speed.

use lesson_08::{
    CAPACITY, ITEMS, JOBS, Square, WORK, ask_square, backpressure, broken, close, fixed, news,
    setting, square_worker, start_logger, start_sensor,
};
use shared::lesson::Facts;
use shared::work::shape::Rng;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};

/// Counts messages until the channel closes.
async fn count(mut rx: mpsc::Receiver<u32>) -> u32 {
    let mut n = 0;
    while rx.recv().await.is_some() {
        n += 1;
    }
    n
}

#[tokio::test(start_paused = true)]
async fn recv_returns_none_only_when_the_last_sender_is_dropped() {
    let (tx, rx) = mpsc::channel(8);
    let handler = tokio::spawn(count(rx));
    let clone = tx.clone();
    for i in 0..3 {
        tx.send(i).await.unwrap();
    }
    drop(tx);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(
        !handler.is_finished(),
        "one sender (the clone) is still alive"
    );
    drop(clone);
    assert_eq!(handler.await.unwrap(), 3);
}

#[tokio::test(start_paused = true)]
async fn the_broken_worker_never_stops_and_the_fixed_one_does_every_job() {
    let broken = tokio::time::timeout(Duration::from_secs(10), broken::job_session()).await;
    assert!(broken.is_err(), "still waiting ten seconds later");
    let facts = Facts::for_test(&close::SPEC);
    let shape = close::Shape {
        name: "the default jobs".into(),
        steps: (0..JOBS)
            .map(|i| lesson_08::Step {
                at: Duration::from_millis(5) * (i + 1),
                work: Duration::from_millis(1),
                fails: u32::from(i + 1 == JOBS) * 2,
            })
            .collect(),
        producer_ends: None,
    };
    close::measure(&facts, &[shape], fixed::job_session).await;
    assert_eq!(facts.get("jobs_done"), Some(1.0));
    assert_eq!(facts.get("lost"), Some(0.0));
}

/// Three hundred messages, 1 ms each for the consumer.
fn three_hundred() -> [backpressure::Shape; 1] {
    [backpressure::Shape {
        name: "300 messages".into(),
        work: vec![WORK; ITEMS as usize],
    }]
}

#[tokio::test(start_paused = true)]
async fn an_unbounded_channel_queues_everything_a_fast_producer_sends() {
    let facts = Facts::for_test(&backpressure::SPEC);
    backpressure::measure(&facts, &three_hundred(), &mut Rng::new(1), broken::flood).await;
    assert_eq!(facts.get("most_alive"), Some(f64::from(ITEMS)));
    assert_eq!(facts.get("lost"), Some(0.0));
}

#[tokio::test(start_paused = true)]
async fn a_bounded_channel_holds_no_more_than_its_capacity() {
    let facts = Facts::for_test(&backpressure::SPEC);
    backpressure::measure(&facts, &three_hundred(), &mut Rng::new(1), fixed::flood).await;
    let most = facts.get("most_alive").unwrap();
    // The channel's 16, and the one the producer is waiting to send.
    assert_eq!(most, (CAPACITY + 1) as f64, "full, and never fuller");
    assert_eq!(facts.get("lost"), Some(0.0));
    assert_eq!(facts.get("wrong_messages"), Some(0.0));
}

#[tokio::test]
async fn a_request_carries_a_oneshot_for_its_answer() {
    let (tx, rx) = mpsc::channel::<Square>(4);
    let worker = tokio::spawn(square_worker(rx));
    let answers = ask_three(&tx).await;
    assert_eq!(answers, [Some(1), Some(4), Some(9)]);
    drop(tx);
    worker.await.unwrap();
}

async fn ask_three(tx: &mpsc::Sender<Square>) -> [Option<u64>; 3] {
    let (a, b, c) = tokio::join!(ask_square(tx, 1), ask_square(tx, 2), ask_square(tx, 3));
    [a, b, c]
}

#[tokio::test]
async fn asking_a_worker_that_is_gone_gives_none_not_a_hang() {
    let (tx, rx) = mpsc::channel::<Square>(4);
    drop(rx);
    assert_eq!(ask_square(&tx, 7).await, None);
}

#[tokio::test]
async fn broadcast_gives_every_receiver_every_message_unless_it_lags() {
    let sender = news(4);
    let mut prompt = sender.subscribe();
    let mut slow = sender.subscribe();
    let mut seen_by_prompt = Vec::new();
    for i in 0..10 {
        sender.send(format!("news {i}")).unwrap();
        seen_by_prompt.push(prompt.recv().await.unwrap());
    }
    assert_eq!(seen_by_prompt.len(), 10, "the prompt reader saw everything");
    // The slow one never read: only the last 4 are still in the channel.
    assert_eq!(
        slow.recv().await,
        Err(broadcast::error::RecvError::Lagged(6))
    );
    assert_eq!(slow.recv().await.unwrap(), "news 6");
}

#[tokio::test]
async fn watch_keeps_only_the_latest_value() {
    let (tx, mut rx) = setting(1);
    for v in 2..=5 {
        tx.send(v).unwrap();
    }
    rx.changed().await.unwrap();
    assert_eq!(*rx.borrow_and_update(), 5, "2, 3 and 4 were never seen");
    tx.send(6).unwrap();
    rx.changed().await.unwrap();
    assert_eq!(*rx.borrow(), 6);
}

#[tokio::test]
async fn a_plain_thread_feeds_a_task_with_blocking_send() {
    let (tx, mut rx) = mpsc::channel(4);
    let sensor = start_sensor(tx, 100);
    let mut readings = Vec::new();
    while let Some(r) = rx.recv().await {
        readings.push(r);
    }
    sensor.join().unwrap();
    assert_eq!(
        readings,
        (0..100).collect::<Vec<_>>(),
        "all of them, in order"
    );
}

#[tokio::test]
async fn a_task_feeds_a_plain_thread_through_crossbeam() {
    let (tx, rx) = crossbeam_channel::unbounded();
    let logger = start_logger(rx);
    for i in 0..3 {
        tx.send(format!("line {i}")).unwrap(); // never blocks: unbounded
        tokio::task::yield_now().await;
    }
    drop(tx);
    let lines = tokio::task::spawn_blocking(move || logger.join().unwrap())
        .await
        .unwrap();
    assert_eq!(lines, ["line 0", "line 1", "line 2"]);
}

#[tokio::test]
#[should_panic(expected = "Cannot block the current thread from within a runtime")]
async fn blocking_send_inside_a_task_panics_instead_of_blocking_the_runtime() {
    let (tx, _rx) = mpsc::channel(1);
    let _ = tx.blocking_send(1);
}

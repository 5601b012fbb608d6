//! More to know about channels, on paused tokio time: `select!` over two
//! channels until both close.

use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::{sleep, timeout};

// ANCHOR: select_both
/// Takes cats and dogs as they come, from two channels, until both have
/// closed.
async fn cats_and_dogs(
    mut cats: mpsc::Receiver<&'static str>,
    mut dogs: mpsc::Receiver<&'static str>,
) -> (Vec<&'static str>, Vec<&'static str>) {
    let (mut seen_cats, mut seen_dogs) = (Vec::new(), Vec::new());
    loop {
        tokio::select! {
            // A closed channel's `None` does not match `Some(..)`: that
            // branch is disabled for the rest of this select!, and the
            // other one is still awaited.
            Some(cat) = cats.recv() => seen_cats.push(cat),
            Some(dog) = dogs.recv() => seen_dogs.push(dog),
            // Every branch disabled: both channels are closed and empty.
            else => break,
        }
    }
    (seen_cats, seen_dogs)
}

#[tokio::test(start_paused = true)]
async fn select_takes_from_both_channels_until_both_have_closed() {
    let (cat_tx, cats) = mpsc::channel(4);
    let (dog_tx, dogs) = mpsc::channel(4);
    let listener = tokio::spawn(cats_and_dogs(cats, dogs));

    for cat in ["Tom", "Felix"] {
        cat_tx.send(cat).await.unwrap();
        sleep(Duration::from_millis(10)).await;
    }
    dog_tx.send("Rex").await.unwrap();
    drop(cat_tx); // the cats' channel closes
    sleep(Duration::from_secs(1)).await;
    assert!(!listener.is_finished(), "one channel is still open");

    dog_tx.send("Lassie").await.unwrap(); // still heard after the cats closed
    drop(dog_tx); // now both have closed
    let (cats, dogs) = timeout(Duration::from_secs(1), listener)
        .await
        .expect("the loop ends once both channels have closed")
        .unwrap();
    assert_eq!(cats, ["Tom", "Felix"]);
    assert_eq!(dogs, ["Rex", "Lassie"]);
}
// ANCHOR_END: select_both

// ANCHOR: no_else
#[tokio::test]
#[should_panic(expected = "all branches are disabled and there is no else branch")]
async fn without_else_a_select_whose_branches_are_all_disabled_panics() {
    let (cat_tx, mut cats) = mpsc::channel::<&str>(1);
    let (dog_tx, mut dogs) = mpsc::channel::<&str>(1);
    drop((cat_tx, dog_tx)); // both closed: every recv() returns None
    tokio::select! {
        Some(_) = cats.recv() => {}
        Some(_) = dogs.recv() => {}
    }
}
// ANCHOR_END: no_else

// ANCHOR: biased
#[tokio::test]
async fn biased_select_tries_its_branches_from_the_top() {
    let (cat_tx, mut cats) = mpsc::channel(4);
    let (dog_tx, mut dogs) = mpsc::channel(4);
    for (cat, dog) in [("Tom", "Rex"), ("Felix", "Lassie")] {
        cat_tx.send(cat).await.unwrap();
        dog_tx.send(dog).await.unwrap();
    }
    drop((cat_tx, dog_tx));
    let mut order = Vec::new();
    loop {
        tokio::select! {
            biased; // without it, each round starts at a random branch
            Some(cat) = cats.recv() => order.push(cat),
            Some(dog) = dogs.recv() => order.push(dog),
            else => break,
        }
    }
    // Both were ready every time; the first branch won while it could.
    assert_eq!(order, ["Tom", "Felix", "Rex", "Lassie"]);
}
// ANCHOR_END: biased

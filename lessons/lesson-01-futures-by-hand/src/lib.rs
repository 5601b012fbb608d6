//! # Lesson 01: futures by hand
//!
//! A café takes orders by calling an async fn for each one. In JavaScript,
//! calling an async function starts it; in Rust it only builds a *future*: a
//! value that describes the work and does nothing until something *polls*
//! it. This crate writes the pieces by hand so nothing is hidden: a future
//! ([`YieldNow`]), the async fn that uses it ([`cook`]), and an executor
//! ([`block_on`]) that polls until the work is done.
//!
//! # Why `main` cannot be `async`
//!
//! A future runs only while something polls it, so at the bottom of every
//! program some ordinary, synchronous code must own an executor and poll
//! the top future until it is done. `main` is that code. An `async fn main`
//! would only return a future, with nobody left to poll it, and the
//! compiler refuses it:
//!
//! ```compile_fail,E0752
#![doc = include_str!("snippets/async_main.rs")]
//! ```
//!
//! `#[tokio::main]` writes the synchronous `main` for you: it builds a
//! runtime and blocks on your async body (`tests/concepts.rs` does the same
//! by hand).

use shared::TraceExt;
use shared::lesson::{Facts, Piece, Spec, Variant, fact};
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::Duration;

/// This lesson's id, `lesson-01`: its package name.
pub const LESSON: &str = env!("CARGO_PKG_NAME");

// ANCHOR: orders
/// One line on the café's order pad: a ticket number and a dish.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Order {
    pub number: u32,
    pub dish: &'static str,
}

/// What the café cooks. Each service's orders are picked from it when the
/// program runs, so no program can know them in advance.
pub const MENU: [&str; 8] = [
    "soup", "pasta", "salad", "risotto", "curry", "tart", "stew", "omelette",
];

/// Every dish goes through the same three steps.
pub const STEPS: [&str; 3] = ["chop", "cook", "plate"];
// ANCHOR_END: orders

/// How long the cook's hands are busy with one step.
pub const STEP_TIME: Duration = Duration::from_millis(12);

/// What happened in the kitchen, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Note {
    Started(u32),
    Step(u32, &'static str),
    Ready(u32),
}

/// The kitchen holds the service's order pad, and keeps a log, so the
/// harness (and the tests) can see exactly what was cooked and in which
/// order. It also counts every poll of an order's future, and notices an
/// order dropped before it was ever polled.
#[derive(Debug, Default)]
pub struct Kitchen {
    pad: Vec<Order>,
    log: RefCell<Vec<Note>>,
    served: RefCell<Vec<Order>>,
    polls: Cell<u32>,
    never_polled: Cell<u32>,
    step_time: Duration,
}

impl Kitchen {
    /// A kitchen whose order pad holds `orders`.
    pub fn new(orders: Vec<Order>) -> Kitchen {
        Kitchen {
            pad: orders,
            step_time: STEP_TIME,
            ..Kitchen::default()
        }
    }

    /// The same kitchen, with the cook's hands busy `step` per step (the
    /// tests use none: what they check does not depend on it).
    pub fn with_step_time(mut self, step: Duration) -> Kitchen {
        self.step_time = step;
        self
    }

    /// The orders on the pad: what this service must cook.
    pub fn orders(&self) -> Vec<Order> {
        self.pad.clone()
    }

    /// Polls of the futures [`place_order`] returned.
    pub fn polls(&self) -> u32 {
        self.polls.get()
    }

    /// Order futures dropped without ever being polled.
    pub fn never_polled(&self) -> u32 {
        self.never_polled.get()
    }

    pub fn log(&self) -> Vec<Note> {
        self.log.borrow().clone()
    }

    /// Orders that reached `Ready`, whatever they were.
    pub fn cooked(&self) -> usize {
        self.served.borrow().len()
    }

    /// The dishes served, in the order they were ready.
    pub fn served(&self) -> Vec<Order> {
        self.served.borrow().clone()
    }

    /// Compares what was served with the pad: how many of the pad's
    /// orders were served (each counted once), and how many dishes served
    /// were not on the pad, or were served again.
    pub fn served_against_pad(&self) -> (usize, usize) {
        let mut left = self.pad.clone();
        let mut wrong = 0;
        for dish in self.served.borrow().iter() {
            match left.iter().position(|o| o == dish) {
                Some(i) => {
                    left.swap_remove(i);
                }
                None => wrong += 1,
            }
        }
        (self.pad.len() - left.len(), wrong)
    }

    /// The order numbers of the steps, in the order they were done.
    pub fn step_order(&self) -> Vec<u32> {
        self.log
            .borrow()
            .iter()
            .filter_map(|n| match n {
                Note::Step(o, _) => Some(*o),
                _ => None,
            })
            .collect()
    }

    /// Did some order take a step while another was half done?
    pub fn interleaved(&self) -> bool {
        let steps = self.step_order();
        steps.iter().enumerate().any(|(i, &o)| {
            steps[..i].contains(&o) && steps[..i].last().is_some_and(|&prev| prev != o)
        })
    }

    fn note(&self, note: Note) {
        self.log.borrow_mut().push(note);
    }
}

// ANCHOR: yield_now
/// The smallest useful future, written by hand. The first poll answers
/// "not yet" and, before returning `Pending`, wakes its own waker: a promise
/// that someone will poll it again. The second poll answers "done".
#[derive(Debug, Default)]
pub struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref(); // "poll me again", or nobody ever will
        Poll::Pending
    }
}
// ANCHOR_END: yield_now

// ANCHOR: cook
/// Cooks one order. Between steps it yields, so that whoever polls it can
/// let another order take a turn.
pub async fn cook(kitchen: &Kitchen, order: Order) {
    kitchen.note(Note::Started(order.number));
    println!("  kitchen: starts #{} {}", order.number, order.dish);
    for step in STEPS {
        shared::work::cpu::burn(kitchen.step_time); // the cook's hands are busy
        kitchen.note(Note::Step(order.number, step));
        YieldNow::default().await; // give another order a turn
    }
    kitchen.note(Note::Ready(order.number));
    kitchen.served.borrow_mut().push(order);
    println!("  kitchen: #{} {} is ready", order.number, order.dish);
}
// ANCHOR_END: cook

// ANCHOR: place_order
/// Places an order: returns the future that will cook it. Calling this runs
/// none of `cook`'s body. (The kitchen counts the future's polls, and
/// `traced` records each one for the timeline.)
pub fn place_order(kitchen: &Kitchen, order: Order) -> impl Future<Output = ()> + '_ {
    let label = format!("order {} {}", order.number, order.dish);
    kitchen.count_polls(cook(kitchen, order)).traced(label)
}
// ANCHOR_END: place_order

/// A future that counts its polls into the kitchen.
struct Counted<'k> {
    kitchen: &'k Kitchen,
    inner: Pin<Box<dyn Future<Output = ()> + 'k>>,
    polled: bool,
}

impl Kitchen {
    fn count_polls<'k>(&'k self, future: impl Future<Output = ()> + 'k) -> Counted<'k> {
        Counted {
            kitchen: self,
            inner: Box::pin(future),
            polled: false,
        }
    }
}

impl Future for Counted<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.polled = true;
        self.kitchen.polls.set(self.kitchen.polls.get() + 1);
        self.inner.as_mut().poll(cx)
    }
}

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        if !self.polled {
            let n = &self.kitchen.never_polled;
            n.set(n.get() + 1);
        }
    }
}

// ANCHOR: block_on
/// Wakes the thread that is waiting in `block_on`.
struct ThreadWaker(Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// A complete executor for one future: poll it; if it is not done, sleep
/// until its waker is called; poll again.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let waker = Waker::from(Arc::new(ThreadWaker(thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        count_poll();
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(output) => return output,
            // If the waker was already called, park returns at once.
            Poll::Pending => thread::park(),
        }
    }
}
// ANCHOR_END: block_on

thread_local! {
    static POLLS: Cell<u32> = const { Cell::new(0) };
}

fn count_poll() {
    POLLS.with(|p| p.set(p.get() + 1));
}

/// How many times `block_on` has polled on this thread so far.
pub fn polls_made() -> u32 {
    POLLS.with(Cell::get)
}

/// The broken way: what a JavaScript programmer would write.
pub mod broken {
    use super::*;

    // ANCHOR: broken
    /// "Places" every order and walks away. Each call builds a future that
    /// is dropped at the end of its statement, never polled.
    #[expect(
        unused_must_use,
        reason = "the bug this lesson shows: futures do nothing unless polled"
    )]
    pub fn take_orders(kitchen: &Kitchen) {
        for order in kitchen.orders() {
            place_order(kitchen, order); // BROKEN: the future is dropped here
        }
    }
    // ANCHOR_END: broken
}

/// The fixed way: hand the futures to an executor.
pub mod fixed {
    use super::*;

    // ANCHOR: fixed_in_turn
    /// Awaits each order before placing the next: one after another.
    pub fn cook_in_turn(kitchen: &Kitchen) {
        block_on(async {
            for order in kitchen.orders() {
                place_order(kitchen, order).await; // FIXED: awaited
            }
        });
    }
    // ANCHOR_END: fixed_in_turn

    // ANCHOR: fixed_joined
    /// Joins them all: one future that polls each order in turn, so every
    /// order moves one step per poll. Still one thread: this is
    /// concurrency, not parallelism.
    pub fn cook_joined(kitchen: &Kitchen) {
        let orders = kitchen
            .orders()
            .into_iter()
            .map(|o| place_order(kitchen, o));
        block_on(futures::future::join_all(orders)); // FIXED: joined
    }
    // ANCHOR_END: fixed_joined
}

/// The `orders` scenario: the harness that judges any way of taking the
/// café's orders.
pub mod orders {
    use super::*;
    use shared::work::shape::{Rng, seed};
    use std::process::ExitCode;

    pub static SPEC: Spec = Spec {
        name: "orders",
        facts: &[
            fact(
                "cooked_ratio",
                "orders on the pad cooked, over orders on the pad (the lowest of the services)",
            ),
            fact("polls", "polls of the order futures"),
            fact(
                "never_polled",
                "order futures dropped without ever being polled",
            ),
            fact(
                "wrong_dishes",
                "dishes cooked that were not on the pad, or were cooked again",
            ),
        ],
    };

    /// One service: a name and the orders on its pad.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct Service {
        pub name: &'static str,
        pub orders: Vec<Order>,
    }

    /// Tonight's two services, picked by `rng`: a lunch of 2 to 4 orders
    /// and a dinner of 5 to 7, each order a ticket number no program can
    /// guess and a dish from the menu. Two counts, so that a program that
    /// counts on a number of orders fails one of them.
    pub fn services(rng: &mut Rng) -> Vec<Service> {
        let mut numbers: Vec<u32> = Vec::new();
        let mut pad = |rng: &mut Rng, n: u64| -> Vec<Order> {
            (0..n)
                .map(|_| {
                    let number = loop {
                        let n = rng.between(100, 999) as u32;
                        if !numbers.contains(&n) {
                            numbers.push(n);
                            break n;
                        }
                    };
                    let dish = MENU[rng.between(0, MENU.len() as u64 - 1) as usize];
                    Order { number, dish }
                })
                .collect()
        };
        let lunch = rng.between(2, 4);
        let dinner = rng.between(5, 7);
        vec![
            Service {
                name: "lunch",
                orders: pad(rng, lunch),
            },
            Service {
                name: "dinner",
                orders: pad(rng, dinner),
            },
        ]
    }

    /// What one service's kitchen was left with.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Served {
        pub on_pad: usize,
        pub cooked_right: usize,
        pub wrong: usize,
        pub polls: u32,
        pub never_polled: u32,
        /// Some order took a step while another was half done.
        pub interleaved: bool,
    }

    /// Hands a fresh kitchen for each service to `take_orders`, then
    /// compares what each kitchen cooked with its pad, and reads its
    /// counters.
    pub fn measure(
        facts: &Facts,
        services: &[Service],
        step_time: Duration,
        take_orders: impl Fn(&Kitchen),
    ) -> Vec<Served> {
        let served: Vec<Served> = services
            .iter()
            .map(|service| {
                shared::mark(&format!(
                    "{}: {} orders",
                    service.name,
                    service.orders.len()
                ));
                let kitchen = Kitchen::new(service.orders.clone()).with_step_time(step_time);
                take_orders(&kitchen);
                let (cooked_right, wrong) = kitchen.served_against_pad();
                Served {
                    on_pad: service.orders.len(),
                    cooked_right,
                    wrong,
                    polls: kitchen.polls(),
                    never_polled: kitchen.never_polled(),
                    interleaved: kitchen.interleaved(),
                }
            })
            .collect();
        let lowest = served
            .iter()
            .map(|s| s.cooked_right as f64 / s.on_pad.max(1) as f64)
            .fold(f64::INFINITY, f64::min);
        facts.set("cooked_ratio", lowest);
        facts.set("polls", served.iter().map(|s| s.polls).sum::<u32>());
        facts.set(
            "never_polled",
            served.iter().map(|s| s.never_polled).sum::<u32>(),
        );
        facts.set(
            "wrong_dishes",
            served.iter().map(|s| s.wrong as u32).sum::<u32>(),
        );
        served
    }

    /// [`measure`] on tonight's services, with narration.
    pub fn run(facts: &Facts, take_orders: impl Fn(&Kitchen)) {
        let services = services(&mut Rng::for_scenario(SPEC.name));
        println!(
            "Tonight's orders are picked at run time (seed {}; LESSON_SEED={} replays them):",
            seed(),
            seed()
        );
        for s in &services {
            let list: Vec<String> = s
                .orders
                .iter()
                .map(|o| format!("#{} {}", o.number, o.dish))
                .collect();
            println!(
                "  {}: {} orders: {}",
                s.name,
                s.orders.len(),
                list.join(", ")
            );
        }
        let served = measure(facts, &services, STEP_TIME, take_orders);
        for (s, got) in services.iter().zip(&served) {
            println!(
                "{}: {} of {} orders cooked as ordered, {} dishes not on the pad or cooked again; the order futures were polled {} times, and {} were dropped without a single poll.",
                s.name, got.cooked_right, got.on_pad, got.wrong, got.polls, got.never_polled
            );
        }
        if served.iter().any(|s| s.interleaved) {
            println!("The orders' steps interleaved: one thread took turns between them.");
        }
    }

    /// One way of taking the orders, for a lesson binary.
    pub fn piece<'a>(name: &'static str, take_orders: impl Fn(&Kitchen) + 'a) -> Piece<'a> {
        Piece::new(name, move |facts| run(facts, take_orders))
    }

    /// The exercise binary's `main`: judges the learner's `take_orders`.
    pub fn exercise(take_orders: fn(&Kitchen)) -> ExitCode {
        shared::lesson::main(
            LESSON,
            Variant::Exercise("orders"),
            vec![SPEC.with(vec![piece("", take_orders)])],
        )
    }
}

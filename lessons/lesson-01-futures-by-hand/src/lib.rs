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

/// The fixed way: hand the futures to an executor; and, for the dishes at
/// the pass, poll them all by hand.
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

    // ANCHOR: fixed_pass
    /// FIXED: a future that polls every unfinished dish itself, each time it
    /// is polled, handing each the same `Context`, so the oven wakes this
    /// one task when any dish is done. A finished dish is taken out of its
    /// slot and never polled again; its number goes on the list then, so
    /// the list is in the order the dishes were ready.
    pub struct Pass {
        dishes: Vec<Option<Dish>>,
        out: Vec<u32>,
    }

    pub fn pass(dishes: Vec<Dish>) -> Pass {
        Pass {
            dishes: dishes.into_iter().map(Some).collect(),
            out: Vec::new(),
        }
    }

    impl Future for Pass {
        type Output = Vec<u32>;

        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Vec<u32>> {
            let this = &mut *self; // `Pass` is `Unpin`: a plain `&mut` is fine
            for slot in this.dishes.iter_mut() {
                if let Some(dish) = slot {
                    // `Dish` is `Unpin` too, so `Pin::new` can pin it here.
                    if let Poll::Ready(number) = Pin::new(dish).poll(cx) {
                        this.out.push(number);
                        *slot = None; // done: never poll it again
                    }
                }
            }
            if this.dishes.iter().all(Option::is_none) {
                Poll::Ready(std::mem::take(&mut this.out))
            } else {
                Poll::Pending // every unfinished dish has our waker
            }
        }
    }
    // ANCHOR_END: fixed_pass
}

/// The `orders` scenario: the harness that judges any way of taking the
/// café's orders.
pub mod orders {
    use super::*;
    use shared::work::shape::{Rng, seed};

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
}

// ANCHOR: dish
/// One dish at the pass: a future that puts the dish in the oven at its
/// first poll and is ready, with its ticket number, when its cooking time is
/// up. The oven (a thread of the harness) wakes the waker of the dish's
/// latest poll then. Like every future, it does nothing until polled.
pub struct Dish {
    number: u32,
    cooking: Duration,
    state: Arc<std::sync::Mutex<DishState>>,
    counter: Arc<pass::Counter>,
}
// ANCHOR_END: dish

#[derive(Default)]
struct DishState {
    in_oven: bool,
    done: bool,
    waker: Option<Waker>,
    /// When the oven woke the waker (the dish was ready to be polled).
    woke_at: Option<std::time::Instant>,
}

impl Future for Dish {
    type Output = u32;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
        let this = self.get_mut();
        let mut state = this.state.lock().unwrap();
        this.counter.polled(this.number);
        if this.counter.is_ready(this.number) {
            // A finished future should not be polled again; the harness
            // counts it, and answers as before.
            this.counter.polled_after_ready();
            return Poll::Ready(this.number);
        }
        state.waker = Some(cx.waker().clone());
        if !state.in_oven {
            state.in_oven = true;
            let (shared, cooking) = (this.state.clone(), this.cooking);
            let counter = this.counter.clone();
            thread::spawn(move || {
                thread::sleep(cooking);
                let waker = {
                    let mut s = shared.lock().unwrap();
                    s.done = true;
                    s.woke_at = Some(std::time::Instant::now());
                    counter.oven_done();
                    s.waker.take()
                };
                if let Some(w) = waker {
                    w.wake();
                }
            });
        }
        if state.done {
            if let Some(at) = state.woke_at {
                this.counter.noticed(at.elapsed(), this.cooking);
            }
            this.counter.ready(this.number);
            return Poll::Ready(this.number);
        }
        Poll::Pending
    }
}

impl Drop for Dish {
    fn drop(&mut self) {
        if !self.state.lock().unwrap().in_oven {
            self.counter.never_polled();
        }
    }
}

// ANCHOR: in_turn
/// One dish after another: each is awaited, so the next one goes in the
/// oven only when the one before it is out. Every dish is cooked, and the
/// service takes as long as all its dishes added up.
pub async fn dishes_in_turn(dishes: Vec<Dish>) -> Vec<u32> {
    let mut out = Vec::new();
    for dish in dishes {
        out.push(dish.await); // NOT AT THE SAME TIME: one dish at a time
    }
    out
}
// ANCHOR_END: in_turn

/// The `pass` scenario: the dishes of a lunch and a dinner, each a [`Dish`]
/// future with a cooking time picked at run time, handed to one future
/// that must cook them all at once and list them as they come out.
pub mod pass {
    use super::*;
    use shared::work::shape::{Rng, seed};
    use std::process::ExitCode;
    use std::sync::Mutex;

    pub static SPEC: Spec = Spec {
        name: "pass",
        facts: &[
            fact(
                "cooked_ratio",
                "dishes cooked, over dishes on the pad (the lowest of the services)",
            ),
            fact("never_polled", "dishes dropped without ever being polled"),
            fact(
                "wrong_lists",
                "services whose list of tickets is not the order the dishes were ready in",
            ),
            fact(
                "polled_after_ready",
                "polls of a dish after it had returned Ready",
            ),
            fact(
                "poll_ratio",
                "the most polls of one dish, over the dishes of its service plus one",
            ),
            fact(
                "unwoken_polls",
                "polls of the pass, besides its first, when no dish had come out of the oven since its poll before (the most of the services)",
            ),
            fact(
                "late_ratio",
                "the longest from the oven waking a dish's waker to the poll that found it ready, over its cooking time (the most of all dishes)",
            )
            .timing(),
            fact(
                "elapsed_ratio",
                "a service's time, over its longest dish (the highest of the services)",
            )
            .timing(),
            fact(
                "held_ratio",
                "the longest one poll of the pass took, over the shortest dish",
            )
            .timing(),
        ],
    };

    /// The harness's record of one service's dishes: polls of each, the
    /// order they returned `Ready` in, and the polls that came after.
    #[derive(Debug, Default)]
    pub struct Counter {
        polls: Mutex<Vec<(u32, u32)>>,
        ready: Mutex<Vec<u32>>,
        after_ready: Mutex<u32>,
        never_polled: Mutex<u32>,
        /// Dishes the oven has finished (and woken the waker of).
        ovens_done: std::sync::atomic::AtomicU32,
        /// The latest a finished dish was found ready, over its cooking
        /// time.
        late_ratio: Mutex<f64>,
    }

    impl Counter {
        pub(crate) fn polled(&self, number: u32) {
            let mut polls = self.polls.lock().unwrap();
            match polls.iter_mut().find(|(n, _)| *n == number) {
                Some((_, p)) => *p += 1,
                None => polls.push((number, 1)),
            }
        }
        pub(crate) fn is_ready(&self, number: u32) -> bool {
            self.ready.lock().unwrap().contains(&number)
        }
        pub(crate) fn ready(&self, number: u32) {
            self.ready.lock().unwrap().push(number);
        }
        pub(crate) fn polled_after_ready(&self) {
            *self.after_ready.lock().unwrap() += 1;
        }
        pub(crate) fn never_polled(&self) {
            *self.never_polled.lock().unwrap() += 1;
        }
        pub(crate) fn oven_done(&self) {
            self.ovens_done
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
        pub(crate) fn noticed(&self, late: Duration, cooking: Duration) {
            let mut most = self.late_ratio.lock().unwrap();
            *most = most.max(late.as_secs_f64() / cooking.as_secs_f64());
        }
        /// Dishes the oven has finished so far.
        pub fn ovens_done(&self) -> u32 {
            self.ovens_done.load(std::sync::atomic::Ordering::SeqCst)
        }
        /// The latest a dish that the oven had finished was found ready by
        /// a poll, over its cooking time.
        pub fn late_ratio(&self) -> f64 {
            *self.late_ratio.lock().unwrap()
        }
        /// The tickets in the order their dishes returned `Ready`.
        pub fn ready_order(&self) -> Vec<u32> {
            self.ready.lock().unwrap().clone()
        }
        /// The most polls any one dish had.
        pub fn most_polls(&self) -> u32 {
            self.polls
                .lock()
                .unwrap()
                .iter()
                .map(|(_, p)| *p)
                .max()
                .unwrap_or(0)
        }
    }

    /// One service: its name, and each dish's ticket and cooking time.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct Service {
        pub name: &'static str,
        pub dishes: Vec<(u32, Duration)>,
    }

    impl Service {
        /// The service's dishes, as futures that report to `counter`.
        pub fn dishes(&self, counter: &Arc<Counter>) -> Vec<Dish> {
            self.dishes
                .iter()
                .map(|&(number, cooking)| Dish {
                    number,
                    cooking,
                    state: Arc::default(),
                    counter: counter.clone(),
                })
                .collect()
        }

        pub fn longest(&self) -> Duration {
            self.dishes.iter().map(|d| d.1).max().unwrap_or_default()
        }

        pub fn shortest(&self) -> Duration {
            self.dishes.iter().map(|d| d.1).min().unwrap_or_default()
        }
    }

    /// Tonight's two services, picked by `rng`: a lunch of 3 or 4 dishes of
    /// 60 to 100 ms and a dinner of 5 to 7 of 30 to 90 ms, cooking times 5
    /// ms apart at least, each with a ticket no program can guess. The
    /// first dish on each pad is its longest, so the pad's order is never
    /// the order the dishes are ready in; one after another, a service takes
    /// 1.67 times its longest dish or more.
    pub fn services(rng: &mut Rng) -> Vec<Service> {
        let mut numbers: Vec<u32> = Vec::new();
        let mut pad = |rng: &mut Rng, n: u64, steps: (u64, u64)| -> Vec<(u32, Duration)> {
            let mut times: Vec<u64> = Vec::new();
            while times.len() < n as usize {
                let t = rng.between(steps.0, steps.1) * 5;
                if !times.contains(&t) {
                    times.push(t);
                }
            }
            rng.shuffle(&mut times);
            let longest = times.iter().position(|t| t == times.iter().max().unwrap());
            times.swap(0, longest.unwrap());
            times
                .into_iter()
                .map(|t| {
                    let number = loop {
                        let n = rng.between(100, 999) as u32;
                        if !numbers.contains(&n) {
                            numbers.push(n);
                            break n;
                        }
                    };
                    (number, Duration::from_millis(t))
                })
                .collect()
        };
        let lunch = rng.between(3, 4);
        let dinner = rng.between(5, 7);
        vec![
            Service {
                name: "lunch",
                dishes: pad(rng, lunch, (12, 20)),
            },
            Service {
                name: "dinner",
                dishes: pad(rng, dinner, (6, 18)),
            },
        ]
    }

    /// A future under watch: the longest of its polls, and its polls that
    /// no dish coming out of the oven asked for.
    struct Timed<F> {
        inner: Pin<Box<F>>,
        longest: Arc<Mutex<Duration>>,
        counter: Arc<Counter>,
        /// Dishes out of the oven at the start of the poll before.
        seen: Option<u32>,
        unwoken: Arc<Mutex<u32>>,
    }

    impl<F: Future> Future for Timed<F> {
        type Output = F::Output;

        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
            // The oven counts a dish out before it wakes its waker, so a
            // poll that a dish's wake-up asked for sees one more.
            let out_now = self.counter.ovens_done();
            if self.seen == Some(out_now) {
                *self.unwoken.lock().unwrap() += 1;
            }
            self.seen = Some(out_now);
            let start = std::time::Instant::now();
            let out = self.inner.as_mut().poll(cx);
            let took = start.elapsed();
            let mut longest = self.longest.lock().unwrap();
            *longest = (*longest).max(took);
            out
        }
    }

    /// What one service was left with.
    #[derive(Clone, Debug, PartialEq)]
    pub struct Served {
        pub listed: Vec<u32>,
        pub ready_order: Vec<u32>,
        pub elapsed: Duration,
    }

    /// Hands each service's dishes to `pass`, runs the future it returns on
    /// this lesson's `block_on`, and compares the list it returns with the
    /// harness's own record. Facts are set once both services are done.
    pub fn measure<P>(facts: &Facts, services: &[Service], pass: fn(Vec<Dish>) -> P) -> Vec<Served>
    where
        P: Future<Output = Vec<u32>>,
    {
        let mut served = Vec::new();
        let (mut cooked, mut wrong, mut after, mut never) = (f64::INFINITY, 0u32, 0u32, 0u32);
        let (mut poll_ratio, mut elapsed_ratio, mut held_ratio) = (0.0f64, 0.0f64, 0.0f64);
        let (mut unwoken, mut late_ratio) = (0u32, 0.0f64);
        for service in services {
            shared::mark(&format!(
                "{}: {} dishes",
                service.name,
                service.dishes.len()
            ));
            let counter = Arc::new(Counter::default());
            let dishes = service.dishes(&counter);
            let longest = Arc::new(Mutex::new(Duration::ZERO));
            let unwoken_here = Arc::new(Mutex::new(0));
            let start = std::time::Instant::now();
            let future = pass(dishes).traced(format!("{}'s pass", service.name));
            let listed = block_on(Timed {
                inner: Box::pin(future),
                longest: longest.clone(),
                counter: counter.clone(),
                seen: None,
                unwoken: unwoken_here.clone(),
            });
            let elapsed = start.elapsed();
            let ready_order = counter.ready_order();
            let n = service.dishes.len();
            cooked = cooked.min(ready_order.len() as f64 / n as f64);
            if listed != ready_order {
                wrong += 1;
            }
            after += *counter.after_ready.lock().unwrap();
            unwoken = unwoken.max(*unwoken_here.lock().unwrap());
            late_ratio = late_ratio.max(counter.late_ratio());
            never += *counter.never_polled.lock().unwrap();
            poll_ratio = poll_ratio.max(counter.most_polls() as f64 / (n + 1) as f64);
            elapsed_ratio =
                elapsed_ratio.max(elapsed.as_secs_f64() / service.longest().as_secs_f64());
            held_ratio = held_ratio
                .max(longest.lock().unwrap().as_secs_f64() / service.shortest().as_secs_f64());
            served.push(Served {
                listed,
                ready_order,
                elapsed,
            });
        }
        facts.set("cooked_ratio", cooked);
        facts.set("never_polled", never);
        facts.set("wrong_lists", wrong);
        facts.set("polled_after_ready", after);
        facts.set("poll_ratio", poll_ratio);
        facts.set("unwoken_polls", unwoken);
        facts.set("late_ratio", late_ratio);
        facts.set("elapsed_ratio", elapsed_ratio);
        facts.set("held_ratio", held_ratio);
        served
    }

    fn tickets(list: &[u32]) -> String {
        let t: Vec<String> = list.iter().map(|n| format!("#{n}")).collect();
        if t.is_empty() {
            "nothing".to_string()
        } else {
            t.join(" ")
        }
    }

    /// [`measure`] on tonight's services, with narration.
    pub fn run<P>(facts: &Facts, pass: fn(Vec<Dish>) -> P)
    where
        P: Future<Output = Vec<u32>>,
    {
        let services = services(&mut Rng::for_scenario(SPEC.name));
        println!(
            "Tonight's dishes and cooking times are picked at run time (seed {}; LESSON_SEED={} replays them):",
            seed(),
            seed()
        );
        for s in &services {
            let list: Vec<String> = s
                .dishes
                .iter()
                .map(|(n, t)| format!("#{n} {} ms", t.as_millis()))
                .collect();
            println!("  {}: {}", s.name, list.join(", "));
        }
        println!(
            "{} gets each service's dishes, and runs on this lesson's block_on.",
            facts.The("pass")
        );
        let served = measure(facts, &services, pass);
        for (s, got) in services.iter().zip(&served) {
            println!(
                "{}: {} ms for a longest dish of {} ms; listed {}, ready in the order {}.",
                s.name,
                got.elapsed.as_millis(),
                s.longest().as_millis(),
                tickets(&got.listed),
                tickets(&got.ready_order),
            );
        }
    }

    /// One way of running the pass, for a lesson binary.
    pub fn piece<P>(name: &'static str, pass: fn(Vec<Dish>) -> P) -> Piece<'static>
    where
        P: Future<Output = Vec<u32>> + 'static,
    {
        Piece::new(name, move |facts| run(facts, pass))
    }

    /// The exercise binary's `main`: judges the learner's `pass`.
    pub fn exercise<P>(pass: fn(Vec<Dish>) -> P) -> ExitCode
    where
        P: Future<Output = Vec<u32>> + 'static,
    {
        shared::lesson::main(
            LESSON,
            Variant::Exercise("orders"),
            vec![SPEC.with(vec![piece("", pass)])],
        )
    }
}

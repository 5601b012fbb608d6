//! The `schedule` scenario, judged by the `sleep` exercise: followers on a
//! one-thread runtime each fire a list of events at planned times, beside a
//! heartbeat, under two workloads.
//!
//! Event `i` of a plan is due `offsets()[i]` after its follower started,
//! however long the events before it took. Firing an event is an `.await`
//! that takes a while (a time the harness picks for each event and does not
//! show), so a follower that waits the gap between two offsets after each
//! event falls later and later behind its plan.

use super::{TICK, say_seed};
use shared::TraceExt;
use shared::lesson::{Facts, Piece, Spec, Variant, fact};
use shared::record::held::Held;
use shared::work::heartbeat::Heartbeat;
use shared::work::shape::Rng;
use std::cell::{Cell, RefCell};
use std::process::ExitCode;
use std::time::Duration;
use tokio::time::Instant;

pub static SPEC: Spec = Spec {
    name: "schedule",
    facts: &[
        fact(
            "events_on_plan",
            "events fired once each and in order, over the events planned (1 is every one)",
        ),
        fact(
            "early_events",
            "events fired before their planned time",
        ),
        fact(
            "worst_drift",
            "the latest an event fired after its planned time, in 10 ms ticks",
        )
        .timing(),
        fact(
            "heartbeat_lateness",
            "the heartbeat's worst lateness, in 10 ms ticks",
        )
        .timing(),
        fact(
            "longest_poll_ratio",
            "the longest a follower kept the thread in one poll, over the shortest gap between two events",
        )
        .timing(),
        fact(
            "poll_asleep_ratio",
            "the longest a follower's thread slept inside one of its polls, in 10 ms ticks",
        )
        .timing(),
        fact(
            "poll_cpu_ratio",
            "the most CPU time a follower used in one poll, in 10 ms ticks",
        )
        .timing(),
        fact(
            "polls_per_event",
            "polls of the followers, per event (worst workload)",
        ),
    ],
};

/// One follower's plan: when each event is due, from the follower's start,
/// and how to fire it. Only the harness makes one.
pub struct Plan {
    offsets: Vec<Duration>,
    work: Vec<Duration>,
    fired: RefCell<Vec<(usize, Instant)>>,
}

impl Plan {
    /// When each event is due, as a time after the follower started
    /// (`follow` was first polled): growing, the first one above zero.
    pub fn offsets(&self) -> &[Duration] {
        &self.offsets
    }

    /// Fires event `event`: noted the moment this future is first polled,
    /// then it does the event's work, which takes a while (each event its
    /// own time, 10 to 20 ms).
    pub async fn fire(&self, event: usize) {
        self.fired.borrow_mut().push((event, Instant::now()));
        let work = self.work.get(event).copied().unwrap_or(TICK);
        tokio::time::sleep(work).await;
    }
}

/// One workload: a plan per follower, and how long each event's work
/// takes.
#[derive(Clone, Debug)]
pub struct Shape {
    pub name: String,
    /// Per follower, (offset, work) for each event.
    pub followers: Vec<Vec<(Duration, Duration)>>,
}

impl Shape {
    /// The shortest time between two events of a plan (or before the
    /// first).
    pub fn shortest_gap(&self) -> Duration {
        self.followers
            .iter()
            .flat_map(|events| {
                let mut previous = Duration::ZERO;
                events.iter().map(move |&(at, _)| {
                    let gap = at - previous;
                    previous = at;
                    gap
                })
            })
            .min()
            .unwrap_or(TICK)
    }

    pub fn events(&self) -> usize {
        self.followers.iter().map(Vec::len).sum()
    }
}

/// The two workloads of one run. First 3 or 4 followers, each with 7 to 10
/// events every 25 to 40 ms; then 3 to 5 followers, each with 7 to 10
/// events at uneven gaps of 25 to 50 ms (the first gap the shortest, one
/// gap at least 15 ms longer). Every event's work takes 10 to 20 ms, less
/// than any gap.
pub fn shapes(rng: &mut Rng) -> Vec<Shape> {
    let ms = Duration::from_millis;
    let plan = |rng: &mut Rng, gaps: Vec<u64>| {
        let mut at = 0;
        gaps.into_iter()
            .map(|gap| {
                at += gap;
                (ms(at), ms(rng.between(10, 20)))
            })
            .collect::<Vec<_>>()
    };
    let n = rng.between(3, 4) as usize;
    let every = rng.between(25, 40);
    let even = Shape {
        name: format!("{n} followers, an event every {every} ms"),
        followers: (0..n)
            .map(|_| {
                let events = rng.between(7, 10) as usize;
                plan(rng, vec![every; events])
            })
            .collect(),
    };
    let n = rng.between(3, 5) as usize;
    let uneven = Shape {
        name: format!("{n} followers, events 25 to 50 ms apart"),
        followers: (0..n)
            .map(|_| {
                let events = rng.between(7, 10) as usize;
                let first = rng.between(25, 32);
                let mut rest: Vec<u64> = (1..events).map(|_| rng.between(first, 50)).collect();
                rest[0] = rng.between(first + 15, 50);
                rng.shuffle(&mut rest);
                let mut gaps = vec![first];
                gaps.extend(rest);
                plan(rng, gaps)
            })
            .collect(),
    };
    vec![even, uneven]
}

/// What one workload measured.
#[derive(Clone, Debug, PartialEq)]
pub struct Measured {
    pub on_plan: usize,
    pub early: usize,
    pub worst_drift: Duration,
    pub longest_poll_ratio: f64,
    /// The longest time asleep in one poll, and the most CPU time of one
    /// poll, in ticks: a busy machine stretches neither.
    pub poll_asleep_ratio: f64,
    pub poll_cpu_ratio: f64,
    pub polls_per_event: f64,
}

/// Runs `follow` once per follower of `shape`, all joined in one task on
/// the current runtime.
pub async fn measure_shape<R>(shape: &Shape, follow: &R) -> Measured
where
    R: AsyncFn(&Plan),
{
    let plans: Vec<Plan> = shape
        .followers
        .iter()
        .map(|events| Plan {
            offsets: events.iter().map(|&(at, _)| at).collect(),
            work: events.iter().map(|&(_, work)| work).collect(),
            fired: RefCell::new(Vec::new()),
        })
        .collect();
    let starts: Vec<Cell<Option<Instant>>> = plans.iter().map(|_| Cell::new(None)).collect();
    let held = Held::new();
    let followers: futures::stream::FuturesUnordered<_> = plans
        .iter()
        .zip(&starts)
        .enumerate()
        .map(|(i, (plan, start))| {
            let held = &held;
            let label = char::from(b'A' + (i % 26) as u8);
            async move {
                start.set(Some(Instant::now()));
                held.wrap(follow(plan)).await;
            }
            .traced(format!("follower {label}"))
        })
        .collect();
    use futures::StreamExt;
    followers.collect::<Vec<()>>().await;
    let mut m = Measured {
        on_plan: 0,
        early: 0,
        worst_drift: Duration::ZERO,
        longest_poll_ratio: held.longest_ratio(shape.shortest_gap()),
        poll_asleep_ratio: held.longest_asleep_ratio(TICK),
        poll_cpu_ratio: held.longest_cpu_ratio(TICK),
        polls_per_event: held.polls() as f64 / shape.events().max(1) as f64,
    };
    for (plan, start) in plans.iter().zip(&starts) {
        let Some(start) = start.get() else { continue };
        let fired = plan.fired.borrow();
        // Once each and in order: event i is the i-th fired, and only once.
        for i in 0..plan.offsets.len() {
            let times = fired.iter().filter(|&&(e, _)| e == i).count();
            if times == 1 && fired.get(i).is_some_and(|&(e, _)| e == i) {
                m.on_plan += 1;
            }
        }
        for &(event, at) in fired.iter() {
            let Some(&offset) = plan.offsets.get(event) else {
                continue;
            };
            let due = start + offset;
            if at < due {
                m.early += 1;
            } else {
                m.worst_drift = m.worst_drift.max(at - due);
            }
        }
    }
    m
}

/// Measures every workload in turn beside a heartbeat, and sets the facts:
/// the worst of each over the workloads.
pub async fn measure<R>(facts: &Facts, shapes: &[Shape], follow: R) -> Vec<Measured>
where
    R: AsyncFn(&Plan),
{
    let heartbeat = Heartbeat::spawn(TICK);
    let mut all = Vec::new();
    for shape in shapes {
        all.push(measure_shape(shape, &follow).await);
    }
    // Give the heartbeat one more turn, so that a late tick is measured.
    tokio::time::sleep(TICK).await;
    let planned: usize = shapes.iter().map(Shape::events).sum();
    let on_plan: usize = all.iter().map(|m| m.on_plan).sum();
    facts.set("events_on_plan", on_plan as f64 / planned.max(1) as f64);
    facts.set(
        "early_events",
        all.iter().map(|m| m.early).sum::<usize>() as f64,
    );
    let drift = all.iter().map(|m| m.worst_drift).max().unwrap_or_default();
    facts.set("worst_drift", drift.as_secs_f64() / TICK.as_secs_f64());
    facts.set("heartbeat_lateness", heartbeat.worst_lateness_ratio());
    let most = |f: fn(&Measured) -> f64| all.iter().map(f).fold(0.0, f64::max);
    facts.set("longest_poll_ratio", most(|m| m.longest_poll_ratio));
    facts.set("poll_asleep_ratio", most(|m| m.poll_asleep_ratio));
    facts.set("poll_cpu_ratio", most(|m| m.poll_cpu_ratio));
    facts.set("polls_per_event", most(|m| m.polls_per_event));
    all
}

pub fn run<R>(facts: &Facts, follow: R)
where
    R: AsyncFn(&Plan),
{
    let shapes = shapes(&mut Rng::for_scenario("schedule"));
    println!(
        "{} fires each follower's events at their planned times, the followers joined",
        facts.The("`follow` function")
    );
    println!(
        "on a one-thread runtime beside a heartbeat that should tick every 10 ms, under two workloads:"
    );
    say_seed();
    let all = super::runtime().block_on(measure(facts, &shapes, follow));
    for (shape, m) in shapes.iter().zip(&all) {
        println!(
            "  {}: {} of {} events fired once and in order, {} early, the latest {} ms after its time;",
            shape.name,
            m.on_plan,
            shape.events(),
            m.early,
            m.worst_drift.as_millis()
        );
        println!(
            "    the longest poll held the thread for {:.2} of the shortest gap, and in one poll",
            m.longest_poll_ratio
        );
        println!(
            "    the thread slept up to {:.2} ticks and computed up to {:.2} ticks; {:.1} polls per event.",
            m.poll_asleep_ratio, m.poll_cpu_ratio, m.polls_per_event
        );
    }
    println!(
        "The heartbeat was up to {:.1} ticks late.",
        facts.get("heartbeat_lateness").unwrap_or(0.0)
    );
    println!(
        "(In the timeline below, \"follower A\" stands for the first follower of both workloads: its polls add up both.)"
    );
}

pub fn piece<'a, R>(name: &'static str, follow: R) -> Piece<'a>
where
    R: AsyncFn(&Plan) + 'a,
{
    Piece::new(name, move |facts| run(facts, follow))
}

/// The `sleep` exercise binary's `main`: judges the learner's `follow`.
pub fn exercise<R>(follow: R) -> ExitCode
where
    R: AsyncFn(&Plan),
{
    shared::lesson::main(
        super::LESSON,
        Variant::Exercise("sleep"),
        vec![SPEC.with(vec![piece("", follow)])],
    )
}

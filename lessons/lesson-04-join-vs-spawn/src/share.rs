//! The `share` scenario (the `cpu` exercise): CPU work over inputs the
//! caller lends (`&[Input]`), done by a plain function, not a future. The
//! results must come back in the order of the inputs, computed on several
//! threads at once, while the thread that polls `run_jobs` stays free.
//!
//! A task may outlive the call that spawned it, so it cannot borrow the
//! inputs: it needs its own. And the tools that do borrow (scoped threads,
//! rayon) make the calling thread wait, inside one poll.

use super::*;
use std::process::ExitCode;

/// One job's input. Only the harness makes them; a clone is the same job.
#[derive(Clone, Debug)]
pub struct Input {
    k: u32,
}

/// Computes the job of `input` (hashing for a few milliseconds, with no
/// `.await` anywhere) and returns its result. The harness counts every
/// run and how many run at the same moment.
pub fn compute(input: &Input) -> u64 {
    match current_batch() {
        Some(batch) => batch.run(input.k),
        // Outside the harness (in the tests), a plain job.
        None => shared::work::cpu::burn(JOB_TIME) ^ u64::from(input.k),
    }
}

/// Inputs for jobs 1 to `n`, for the tests and the book's examples.
pub fn inputs(n: u32) -> Vec<Input> {
    (1..=n).map(|k| Input { k }).collect()
}

pub static SPEC: Spec = Spec {
    name: "share",
    facts: &[
        fact(
            "most_at_once",
            "the most jobs computing at the same moment (fewest over the workloads)",
        ),
        fact(
            "overlap",
            "jobs computing at once on average while the batch ran (worst workload)",
        )
        .timing(),
        fact(
            "wrong_results",
            "results missing, wrong, or out of the order of the inputs",
        ),
        fact(
            "extra_runs",
            "jobs computed more than once",
        ),
        fact(
            "jobs_in_poll",
            "jobs computed inside a poll of run_jobs, on the thread polling it (all the workloads)",
        ),
        fact(
            "longest_asleep_ratio",
            "the longest time the thread slept inside one poll of run_jobs, over the batch's ideal time (worst workload)",
        )
        .timing(),
        fact(
            "longest_cpu_ratio",
            "the most CPU time of one poll of run_jobs, over the batch's ideal time (worst workload)",
        )
        .timing(),
        fact(
            "asleep_share",
            "the share of the batch's time the thread polling run_jobs slept inside its polls (worst workload)",
        )
        .timing(),
        fact("polls_per_job", "polls of run_jobs per job (worst workload)"),
        fact(
            "cpu_overlap",
            "the jobs' CPU time over the batch's time: cores they really had at once, on average (worst workload)",
        )
        .timing(),
        fact(
            "polls_cpu_ratio",
            "the CPU time of all the polls of run_jobs together, over the batch's ideal time (worst workload)",
        ),
        fact(
            "longest_poll_ratio",
            "the longest poll of run_jobs by the clock on the wall, over the batch's ideal time (worst workload)",
        )
        .timing(),
        fact(
            "sleeping_polls",
            "polls of run_jobs in which its thread slept (worst workload)",
        ),
        fact(
            "timer_wakes",
            "wakes of run_jobs' task by the runtime's timer, fired by a worker thread as it parked (worst workload)",
        ),
        fact(
            "threads_busy",
            "the CPU time of the threads that computed no job (but the harness's), over the jobs' CPU time per thread that computed them: about 1 for a thread that spins beside them (worst workload)",
        ),
    ],
};

/// Measures every workload on `runtime` and sets the facts.
pub fn measure<F>(
    facts: &Facts,
    runtime: &tokio::runtime::Runtime,
    shapes: &[cpu::Shape],
    rng: &mut Rng,
    run_jobs: F,
) -> Vec<cpu::Measured>
where
    F: AsyncFn(&[Input]) -> Vec<u64>,
{
    let all: Vec<cpu::Measured> = shapes
        .iter()
        .map(|shape| {
            cpu::measure_batch(
                runtime,
                shape,
                rng,
                |n| {
                    let inputs = inputs(n);
                    let run_jobs = &run_jobs;
                    async move { run_jobs(&inputs).await }
                },
                true,
            )
        })
        .collect();
    cpu::set_facts(facts, &all);
    let worst = |f: fn(&cpu::Measured) -> f64| all.iter().map(f).fold(0.0, f64::max);
    facts.set(
        "cpu_overlap",
        all.iter()
            .map(|m| m.cpu_overlap)
            .fold(f64::INFINITY, f64::min),
    );
    facts.set("polls_cpu_ratio", worst(|m| m.polls_cpu_ratio));
    facts.set("longest_poll_ratio", worst(|m| m.longest_poll_ratio));
    facts.set("sleeping_polls", worst(|m| f64::from(m.sleeping_polls)));
    facts.set("timer_wakes", worst(|m| f64::from(m.timer_wakes)));
    facts.set("threads_busy", worst(|m| m.threads_busy));
    all
}

/// [`measure`] on the multi-threaded runtime, with narration.
pub fn run<F>(facts: &Facts, run_jobs: F)
where
    F: AsyncFn(&[Input]) -> Vec<u64>,
{
    // Taken now, before run_jobs first runs (see `cores`).
    let cores = cores();
    let mut rng = Rng::for_scenario("share");
    let shapes = cpu::shapes(cores, &mut rng);
    println!(
        "CPU jobs over inputs lent to {}, first in a plain loop (the harness's own",
        facts.the("run_jobs")
    );
    println!(
        "answers), then through it, on {cores} core(s), under two workloads (seed {}; LESSON_SEED={} replays them):",
        seed(),
        seed()
    );
    let all = measure(facts, &runtime(), &shapes, &mut rng, run_jobs);
    for (shape, m) in shapes.iter().zip(&all) {
        println!(
            "  {}: {:.2} jobs computing at once on average (at best {}), at most {}; {:.2} times as fast as the loop;",
            shape.name,
            m.overlap,
            cores.min(shape.jobs() as usize),
            m.most_at_once,
            m.speedup
        );
        println!(
            "    run_jobs was polled {:.1} times per job; in its longest poll it slept {:.2} and computed {:.2} of the batch's ideal time;",
            m.polls_per_job, m.longest_asleep_ratio, m.longest_cpu_ratio
        );
        println!(
            "    {} of the jobs computed inside a poll of run_jobs, on its thread; its polls took {:.3} of the ideal time in CPU,",
            m.in_poll, m.polls_cpu_ratio
        );
        println!(
            "    the longest {:.2} by the clock; {} of them slept; the runtime's timer woke it {} times;",
            m.longest_poll_ratio, m.sleeping_polls, m.timer_wakes
        );
        println!(
            "    the jobs had {:.2} cores on average by their CPU time; threads that computed no job used {:.2} times a job thread's CPU time.",
            m.cpu_overlap, m.threads_busy
        );
    }
}

pub fn piece<'a, F>(name: &'static str, run_jobs: F) -> Piece<'a>
where
    F: AsyncFn(&[Input]) -> Vec<u64> + 'a,
{
    Piece::new(name, move |facts| run(facts, run_jobs))
}

/// The `cpu` exercise binary's `main`: judges the learner's `run_jobs`.
pub fn exercise<F>(run_jobs: F) -> ExitCode
where
    F: AsyncFn(&[Input]) -> Vec<u64>,
{
    shared::lesson::main(
        LESSON,
        Variant::Exercise("cpu"),
        vec![SPEC.with(vec![piece("", run_jobs)])],
    )
}

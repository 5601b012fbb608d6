//! The `cpu` exercise's grader (scenario `share`) grades, in a binary of
//! its own (a batch of jobs is the process's current batch while it runs):
//! the untouched exercise, the lesson's fix, other fixes written
//! differently, and other forms of the bug, under two short workloads. On
//! a test machine that may be busy, a fix is judged here only on the facts
//! that do not depend on its speed (how many jobs computed at the same
//! moment, the results in order, the runs, the polls); a form of the bug is
//! judged on what gives it away on any machine (jobs that take turns on one
//! thread never overlap; a thread that waits for a batch in one poll is
//! asleep there, where Linux tells; one that computes half a batch in one
//! poll uses its CPU time). The workloads the lesson really runs are judged
//! under real time by `cargo xtask check` and `cargo xtask fixtures`.

use lesson_04::cpu::{self, Shape};
use lesson_04::share::{self, Input};
use lesson_04::{broken, fixed};
use shared::grade::{Grader, Observed};
use shared::lesson::Facts;
use shared::work::shape::Rng;
use std::time::Duration;

#[allow(dead_code)]
#[path = "fixtures/cpu/bug_first_job_inline.rs"]
mod bug_first_job_inline;
#[allow(dead_code)]
#[path = "fixtures/cpu/bug_half_inline.rs"]
mod bug_half_inline;
#[allow(dead_code)]
#[path = "fixtures/cpu/bug_idle_priority_spin.rs"]
mod bug_idle_priority_spin;
#[allow(dead_code)]
#[path = "fixtures/cpu/bug_join_all.rs"]
mod bug_join_all;
#[allow(dead_code)]
#[path = "fixtures/cpu/bug_one_core_threads.rs"]
mod bug_one_core_threads;
#[allow(dead_code)]
#[path = "fixtures/cpu/bug_order_of_finishing.rs"]
mod bug_order_of_finishing;
#[allow(dead_code)]
#[path = "fixtures/cpu/bug_rayon.rs"]
mod bug_rayon;
#[allow(dead_code)]
#[path = "fixtures/cpu/bug_sleep_each_poll.rs"]
mod bug_sleep_each_poll;
#[allow(dead_code)]
#[path = "fixtures/cpu/bug_spin_in_slices.rs"]
mod bug_spin_in_slices;
#[allow(dead_code)]
#[path = "fixtures/cpu/bug_spin_until_finished.rs"]
mod bug_spin_until_finished;
#[allow(dead_code)]
#[path = "fixtures/cpu/bug_spinner_thread.rs"]
mod bug_spinner_thread;
#[allow(dead_code)]
#[path = "fixtures/cpu/bug_thread_scope.rs"]
mod bug_thread_scope;
#[allow(dead_code)]
#[path = "fixtures/cpu/bug_timer_checks.rs"]
mod bug_timer_checks;
#[allow(dead_code)]
#[path = "fixtures/cpu/bug_workers_pinned.rs"]
mod bug_workers_pinned;
#[allow(dead_code)]
#[path = "fixtures/cpu/fix_chunk_per_worker.rs"]
mod fix_chunk_per_worker;
#[allow(dead_code)]
#[path = "fixtures/cpu/fix_par_iter_offloaded.rs"]
mod fix_par_iter_offloaded;
#[allow(dead_code)]
#[path = "fixtures/cpu/fix_rayon_spawn_oneshot.rs"]
mod fix_rayon_spawn_oneshot;
#[allow(dead_code)]
#[path = "fixtures/cpu/fix_shared_inputs_join_set.rs"]
mod fix_shared_inputs_join_set;
#[allow(dead_code)]
#[path = "fixtures/cpu/fix_spawn_blocking.rs"]
mod fix_spawn_blocking;
#[allow(dead_code)]
#[path = "../exercise/start/cpu.rs"]
mod start;

/// Two short workloads: twelve jobs of 5 ms, and thirteen of 2 to 8 ms.
fn shapes() -> Vec<Shape> {
    let ms = Duration::from_millis;
    vec![
        Shape {
            name: "even".into(),
            lengths: vec![ms(5); 12],
        },
        Shape {
            name: "uneven".into(),
            lengths: (0..13).map(|i| ms(2 + i % 7)).collect(),
        },
    ]
}

fn measured(run_jobs: impl AsyncFn(&[Input]) -> Vec<u64>) -> Facts {
    let facts = Facts::for_test(&share::SPEC);
    let mut rng = Rng::for_scenario("share");
    share::measure(&facts, &lesson_04::runtime(), &shapes(), &mut rng, run_jobs);
    facts
}

/// Every test here takes its turn: a thread one of them leaves spinning,
/// or computing a plain loop, would be busy beside another's batch.
static ALONE: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn alone() -> std::sync::MutexGuard<'static, ()> {
    ALONE.lock().unwrap_or_else(|e| e.into_inner())
}

fn two_cores() -> bool {
    shared::work::cpu::cores() >= 2
}

#[test]
fn the_share_grader_tells_every_fix_from_every_form_of_the_bug() {
    let _alone = alone();
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &share::SPEC);
    let exact = grader.only(&[
        "most_at_once",
        "wrong_results",
        "extra_runs",
        "jobs_in_poll",
        "polls_per_job",
        "polls_cpu_ratio",
        "sleeping_polls",
        "timer_wakes",
        "threads_busy",
    ]);
    let done = || Observed::Completes;
    // On one core the fixed claim is skipped, and these pass as skipped.
    // A machine busy with other work may run a whole short batch on one
    // worker, while the other waits for a core: a fix gets three tries to
    // show two jobs at once.
    let fixed_in_three_tries = |what: &str, f: &dyn Fn() -> Facts| {
        let mut facts = f();
        for _ in 0..2 {
            let j = exact.against_fixed(done(), &facts);
            if j.ok() || j.skipped() {
                break;
            }
            facts = f();
        }
        exact.assert_fixed(what, done(), &facts);
    };
    fixed_in_three_tries("the reference fix", &|| measured(fixed::run_shared));
    fixed_in_three_tries("the blocking pool", &|| {
        measured(fix_spawn_blocking::run_jobs)
    });
    fixed_in_three_tries("shared inputs and a JoinSet", &|| {
        measured(fix_shared_inputs_join_set::run_jobs)
    });
    fixed_in_three_tries("a task per core", &|| {
        measured(fix_chunk_per_worker::run_jobs)
    });
    fixed_in_three_tries("rayon::spawn and oneshot channels", &|| {
        measured(fix_rayon_spawn_oneshot::run_jobs)
    });
    fixed_in_three_tries("rayon's par_iter on the blocking pool", &|| {
        measured(fix_par_iter_offloaded::run_jobs)
    });

    // Jobs that take turns on one thread: at most one at a time, and an
    // average of at most one, on any machine.
    for (what, f) in [
        ("the reference bug", measured(broken::run_shared)),
        ("the untouched exercise", measured(start::run_jobs)),
        ("join_all of async blocks", measured(bug_join_all::run_jobs)),
    ] {
        assert!(
            f.get("overlap").unwrap() <= 1.0 + 1e-9,
            "{what}: {:?}",
            f.values()
        );
        grader.assert_bug(what, done(), &f);
        if two_cores() {
            grader.assert_diagnosed(what, done(), &f, &["one-thread"]);
        }
    }
    // Tasks finish in any order: with jobs of different lengths on two
    // workers, not the order of the inputs. (A busy machine may run a short
    // batch on one worker, in order: three tries. On one core they finish
    // in order, and the claim is skipped.)
    if two_cores() {
        let f = (0..3)
            .map(|_| measured(bug_order_of_finishing::run_jobs))
            .find(|f| f.get("wrong_results").unwrap() >= 2.0)
            .expect("out of order in one of three tries");
        grader.assert_not_fixed("results in the order of finishing", done(), &f);
        assert!(
            grader
                .diagnoses(done(), &f)
                .contains(&"wrong-order".to_string()),
            "{:?}",
            f.values()
        );
    }
    let f = measured(bug_spin_until_finished::run_jobs);
    assert!(f.get("polls_per_job").unwrap() > 100.0, "{:?}", f.values());
    grader.assert_not_fixed("a spin until every task finished", done(), &f);
    if two_cores() {
        grader.assert_diagnosed(
            "a spin until every task finished",
            done(),
            &f,
            &["checks-in-a-loop"],
        );
    }
}

/// Jobs that run in parallel while `run_jobs` keeps the thread that polls
/// it: waiting in one poll (scoped threads, rayon) sleeps there for about
/// the batch (Linux tells); computing half the batch inline uses the CPU
/// time of half the serial work in one poll, on any machine.
#[test]
fn parallel_jobs_that_keep_the_polling_thread_are_not_a_fix() {
    let _alone = alone();
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &share::SPEC);
    let done = || Observed::Completes;
    // Half the serial work in one poll: about 1 of the batch's ideal time
    // on two cores, about 0.5 on one (where CI's one-core run once read
    // 0.37). Either way above the 0.3 a fix is allowed.
    let f = measured(bug_half_inline::run_jobs);
    assert!(
        f.get("longest_cpu_ratio").unwrap() > 0.3,
        "{:?}",
        f.values()
    );
    assert_eq!(f.get("jobs_in_poll"), Some(6.0 + 7.0), "{:?}", f.values());
    grader.assert_not_fixed("half the jobs computed inline", done(), &f);
    // Even one job inline is counted, exactly, on any machine (busy or
    // with one core): the harness marks the thread while it polls
    // run_jobs. Its CPU time alone (one job of a dozen) could pass for a
    // fix's on a busy machine.
    let f = measured(bug_first_job_inline::run_jobs);
    assert_eq!(f.get("jobs_in_poll"), Some(2.0), "{:?}", f.values());
    grader.assert_not_fixed("the first job computed inline", done(), &f);
    if two_cores() && f.get("most_at_once").unwrap() >= 2.0 {
        grader.assert_diagnosed(
            "the first job computed inline",
            done(),
            &f,
            &["computes-in-a-poll"],
        );
    }
    if cfg!(target_os = "linux") {
        for (what, f) in [
            ("scoped threads", measured(bug_thread_scope::run_jobs)),
            ("rayon's par_iter", measured(bug_rayon::run_jobs)),
        ] {
            assert!(
                f.get("longest_asleep_ratio").unwrap() > 0.5,
                "{what}: {:?}",
                f.values()
            );
            grader.assert_not_fixed(what, done(), &f);
            if two_cores() {
                assert!(
                    grader
                        .diagnoses(done(), &f)
                        .contains(&"waits-in-a-poll".to_string()),
                    "{what}: {:?}",
                    f.values()
                );
            }
        }
    }
}

/// Tasks spawned and the polling thread free of jobs, but something else
/// is wrong, and a mechanism shows it on any machine: the CPU time of the
/// polls together (a spin in short polls), the longest poll (a spin in one
/// poll), the polls that slept (a nap in each), the wakes the runtime's
/// timer made (sleeping between looks), the CPU time of a thread that computed no job (a
/// spinning watcher), the jobs' CPU time (threads pinned to one core).
#[test]
fn spins_naps_timers_and_one_core_are_not_a_fix() {
    let _alone = alone();
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &share::SPEC);
    let done = || Observed::Completes;
    let linux = cfg!(target_os = "linux");
    let shows = |what: &str, f: &Facts, id: &str| {
        grader.assert_not_fixed(what, done(), f);
        if two_cores() && f.get("most_at_once").unwrap() >= 2.0 {
            let found = grader.diagnoses(done(), f);
            assert!(
                found.contains(&id.to_string()),
                "{what}: {found:?} {:?}",
                f.values()
            );
        }
    };
    let f = measured(bug_spin_in_slices::run_jobs);
    assert!(f.get("polls_cpu_ratio").unwrap() > 0.1, "{:?}", f.values());
    shows("a spin in slices of 5 ms", &f, "spins-in-polls");
    let f = measured(bug_timer_checks::run_jobs);
    assert!(f.get("timer_wakes").unwrap() >= 1.0, "{:?}", f.values());
    shows("a timer between looks", &f, "woken-by-a-timer");
    if linux {
        let f = measured(bug_sleep_each_poll::run_jobs);
        assert!(f.get("sleeping_polls").unwrap() > 2.0, "{:?}", f.values());
        shows("a nap in every poll", &f, "naps-in-polls");
        bug_spinner_thread::start_watcher();
        let f = measured(bug_spinner_thread::run_jobs);
        bug_spinner_thread::STOP.store(true, std::sync::atomic::Ordering::Relaxed);
        assert!(f.get("threads_busy").unwrap() > 0.3, "{:?}", f.values());
        shows("a watcher thread that spins", &f, "spinning-thread");
    }
    // Pinned to one core with `taskset`, where there is one to pin to: by
    // their CPU time the jobs had one core at most, on any machine.
    let taskset = std::process::Command::new("taskset")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if linux && two_cores() && taskset {
        for (what, f) in [
            (
                "a thread per job, pinned to one core",
                measured(bug_one_core_threads::run_jobs),
            ),
            (
                "the runtime's workers pinned to one core",
                measured(bug_workers_pinned::run_jobs),
            ),
        ] {
            assert!(
                f.get("cpu_overlap").unwrap() <= 1.05,
                "{what}: {:?}",
                f.values()
            );
            grader.assert_not_fixed(what, done(), &f);
        }
    }
    // Last: it demotes the thread that polls run_jobs to the idle class and
    // pins it to one core, where `chrt` and `taskset` are. On a thread made
    // for it, so that no later test runs on a demoted thread (with one test
    // thread, libtest may run every test on the same one).
    let f = std::thread::spawn(|| measured(bug_idle_priority_spin::run_jobs))
        .join()
        .expect("the run ends");
    assert!(
        f.get("longest_poll_ratio").unwrap() > 0.5,
        "{:?}",
        f.values()
    );
    shows(
        "a spin in one poll, on a demoted thread",
        &f,
        "holds-the-thread",
    );
}

/// No bound is out of reach on any machine from 1 to 64 cores: there are
/// always at least two jobs per core (up to 64 cores), so two jobs at once
/// and an average well above 1.3 are possible wherever there are two
/// cores, and the claim is skipped where there is one.
#[test]
fn the_cpu_workloads_fit_every_machine_from_1_to_64_cores() {
    for spec in [&cpu::SPEC, &share::SPEC] {
        let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), spec);
        assert_eq!(grader.scenario().fixed.needs_cores, 2);
    }
    for cores in [1, 2, 4, 8, 16, 32, 64] {
        for seed in 0..50 {
            let shapes = cpu::shapes(cores, &mut Rng::new(seed));
            assert_eq!(shapes.len(), 2);
            for s in &shapes {
                assert!(s.jobs() as usize >= 2 * cores, "{cores} cores: {s:?}");
                let serial = s.serial();
                assert!(
                    serial >= Duration::from_millis(20) && serial <= Duration::from_millis(2600),
                    "{cores} cores: {serial:?} of serial work"
                );
            }
        }
    }
}

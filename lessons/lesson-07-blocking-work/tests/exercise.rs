//! The graders of the `jobs` exercise (scenario `fetch-hash-store`) grade:
//! the untouched exercise, the lesson's fix, other fixes written
//! differently, and other forms of the bug, each run by the same harness
//! under a run's two workloads on both runtimes, in real time, one after
//! another (never two at once: they would share the cores). On a test
//! machine that may be busy, a fix is judged here only on the facts that do
//! not depend on its speed (where the hashing ran, how many at once, each
//! job hashed and stored once, the polls of `run_jobs`); a wrong program
//! on the fact that gives it away on any machine: a fetch that waits for
//! the one before it waits a whole fetch (a timer, which a busy machine
//! does not shorten), and a current-thread runtime that hashes holds its
//! heartbeat for the pages that came in together.

use lesson_07::fetch_hash_store::{self, SPEC, Workload, workloads};
use lesson_07::{Queue, TICK, broken, cores, fixed};
use shared::grade::{Grader, Observed, observe_within};
use shared::lesson::Facts;
use shared::work::shape::Rng;
use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

#[allow(dead_code)]
#[path = "fixtures/jobs/bug_barrier.rs"]
mod bug_barrier;
#[allow(dead_code)]
#[path = "fixtures/jobs/bug_block_in_place.rs"]
mod bug_block_in_place;
#[allow(dead_code)]
#[path = "fixtures/jobs/bug_chapter_block.rs"]
mod bug_chapter_block;
#[allow(dead_code)]
#[path = "fixtures/jobs/bug_one_at_a_time.rs"]
mod bug_one_at_a_time;
#[allow(dead_code)]
#[path = "fixtures/jobs/bug_permit_across_fetch.rs"]
mod bug_permit_across_fetch;
#[allow(dead_code)]
#[path = "fixtures/jobs/bug_permit_across_store.rs"]
mod bug_permit_across_store;
#[allow(dead_code)]
#[path = "fixtures/jobs/bug_spawn_blocking_unlimited.rs"]
mod bug_spawn_blocking_unlimited;
#[allow(dead_code)]
#[path = "fixtures/jobs/bug_store_detached.rs"]
mod bug_store_detached;
#[allow(dead_code)]
#[path = "fixtures/jobs/bug_task_per_job.rs"]
mod bug_task_per_job;
#[allow(dead_code)]
#[path = "fixtures/jobs/bug_try_recv_spin.rs"]
mod bug_try_recv_spin;
#[allow(dead_code)]
#[path = "fixtures/jobs/fix_buffered_stream.rs"]
mod fix_buffered_stream;
#[allow(dead_code)]
#[path = "fixtures/jobs/fix_hashers_channel.rs"]
mod fix_hashers_channel;
#[allow(dead_code)]
#[path = "fixtures/jobs/fix_rayon_oneshot.rs"]
mod fix_rayon_oneshot;
#[allow(dead_code)]
#[path = "../exercise/start/jobs.rs"]
mod start;

/// One real-time run at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Runs `run_jobs` through the harness under the lesson's two workloads,
/// on both runtimes.
fn judged<Fut>(run_jobs: fn(Queue) -> Fut) -> (Observed, Facts)
where
    Fut: Future<Output = ()> + Send + 'static,
{
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let facts = Facts::for_test(&SPEC);
    let theirs = facts.clone();
    let observed = observe_within(Duration::from_secs(60), move || {
        let mut rng = Rng::for_scenario("fetch-hash-store");
        let workloads = workloads(cores(), &mut rng);
        fetch_hash_store::measure(&theirs, &workloads, &mut rng, run_jobs);
    });
    (observed, facts)
}

fn grader() -> Grader {
    Grader::new(env!("CARGO_MANIFEST_DIR"), &SPEC)
}

fn fact(f: &Facts, name: &str) -> f64 {
    f.get(name)
        .unwrap_or_else(|| panic!("{name} was not measured: {:?}", f.values()))
}

#[test]
fn every_fix_is_judged_fixed() {
    let exact = grader().only(&[
        "jobs_on_runtime_thread",
        "oversubscription",
        "jobs_not_once",
        "not_stored",
        "polls_per_job",
    ]);
    for (what, (o, f)) in [
        ("the lesson's fix", judged(fixed::fetch_hash_store)),
        (
            "rayon and a oneshot per job",
            judged(fix_rayon_oneshot::run_jobs),
        ),
        (
            "a blocking thread per core, fed by a channel",
            judged(fix_hashers_channel::run_jobs),
        ),
        ("a buffered stream", judged(fix_buffered_stream::run_jobs)),
    ] {
        exact.assert_fixed(what, o, &f);
    }
}

#[test]
fn the_bug_is_judged_the_bug() {
    let grader = grader();
    let (o, f) = judged(broken::fetch_hash_store);
    grader.assert_bug("the reference bug", o, &f);
    let (o, f) = judged(start::run_jobs);
    grader.assert_bug("the untouched exercise", o.clone(), &f);
    assert_eq!(
        grader.diagnoses(o, &f),
        ["on-the-runtime-thread"],
        "the untouched exercise"
    );
}

#[test]
fn work_left_on_the_runtime_is_not_a_fix() {
    let grader = grader();
    let (o, f) = judged(bug_task_per_job::run_jobs);
    assert!(fact(&f, "jobs_on_runtime_thread") >= 1.0);
    grader.assert_diagnosed("a task per job", o, &f, &["on-the-runtime-thread"]);
    let (o, f) = judged(bug_block_in_place::run_jobs);
    assert!(
        matches!(&o, Observed::Panics(m) if m.contains("multi-threaded runtime")),
        "{o:?}"
    );
    grader.assert_diagnosed("block_in_place", o, &f, &["block-in-place"]);
}

#[test]
fn jobs_that_wait_in_line_are_not_a_fix() {
    let grader = grader();
    // The chapter's block, the fetch in its loop: the fetches of the slow
    // workload, 80 ms or more each, wait one after another.
    let (o, f) = judged(bug_chapter_block::run_jobs);
    assert!(fact(&f, "elapsed_ratio") > 1.5, "{:?}", f.values());
    grader.assert_diagnosed("the chapter's block", o, &f, &["waits-in-line"]);
    // A core held through the fetch: only `cores()` pages on their way.
    let (o, f) = judged(bug_permit_across_fetch::run_jobs);
    assert!(fact(&f, "elapsed_ratio") > 1.5, "{:?}", f.values());
    grader.assert_diagnosed("a permit across the fetch", o, &f, &["waits-in-line"]);
    if cores() >= 2 {
        // On one core, one hashing at a time is all the core can do.
        let (o, f) = judged(bug_one_at_a_time::run_jobs);
        assert!(fact(&f, "idle_while_waiting") > 0.5, "{:?}", f.values());
        grader.assert_not_fixed("one hashing at a time", o, &f);
    }
}

/// Pages held back while a core is free: the harness sees each page come
/// in and each hashing start and end, and adds up the core time left idle
/// with a page waiting. Both wrong programs wait on timers (the late pages,
/// the stores), which a busy machine does not shorten, so they are judged
/// on it on any machine, one core or many.
#[test]
fn cores_left_idle_with_pages_waiting_are_not_a_fix() {
    let grader = grader();
    // Every fetch joined first: in the first workload the cores wait for
    // the late pages with every other page in.
    let (o, f) = judged(bug_barrier::run_jobs);
    assert!(fact(&f, "idle_while_waiting") > 0.5, "{:?}", f.values());
    assert_eq!(fact(&f, "jobs_on_runtime_thread"), 0.0);
    assert!(fact(&f, "oversubscription") <= 1.5, "{:?}", f.values());
    grader.assert_not_fixed("a barrier after the fetches", o.clone(), &f);
    assert!(
        grader.diagnoses(o, &f).contains(&"idle-cores".to_string()),
        "{:?}",
        f.values()
    );
    // A core kept across each store: idle for every store but the last.
    let (o, f) = judged(bug_permit_across_store::run_jobs);
    assert!(fact(&f, "idle_while_waiting") > 0.5, "{:?}", f.values());
    assert_eq!(fact(&f, "jobs_on_runtime_thread"), 0.0);
    grader.assert_not_fixed("a permit across the store", o.clone(), &f);
    assert!(
        grader.diagnoses(o, &f).contains(&"idle-cores".to_string()),
        "{:?}",
        f.values()
    );
}

#[test]
fn too_many_at_once_a_spin_and_a_lost_store_are_not_a_fix() {
    let grader = grader();
    let (o, f) = judged(bug_spawn_blocking_unlimited::run_jobs);
    if cores() < 8 {
        // Four pages per core come in together: at least four hashings
        // per core start at once (on many cores, not all may overlap).
        assert!(fact(&f, "oversubscription") > 1.5, "{:?}", f.values());
    }
    grader.assert_not_fixed("spawn_blocking with no limit", o.clone(), &f);
    if fact(&f, "oversubscription") > 1.5 {
        assert!(
            grader
                .diagnoses(o, &f)
                .contains(&"too-many-threads".to_string())
        );
    }
    let (o, f) = judged(bug_try_recv_spin::run_jobs);
    assert!(fact(&f, "runtime_busy") > 0.25, "{:?}", f.values());
    assert_eq!(fact(&f, "jobs_on_runtime_thread"), 0.0);
    grader.assert_not_fixed("a spin on try_recv", o.clone(), &f);
    // The spin takes a core from the hashing too, so on a busy machine the
    // batch may also take long enough to be named for that.
    assert!(
        grader
            .diagnoses(o, &f)
            .contains(&"busy-runtime".to_string()),
        "{:?}",
        f.values()
    );
    let (o, f) = judged(bug_store_detached::run_jobs);
    assert!(fact(&f, "not_stored") >= 1.0, "{:?}", f.values());
    grader.assert_not_fixed("stores not awaited", o.clone(), &f);
    assert!(
        grader.diagnoses(o, &f).contains(&"not-stored".to_string()),
        "{:?}",
        f.values()
    );
}

/// No bound is out of reach on any machine from 1 to 64 cores: several
/// jobs per core, fewer than the blocking pool's 512 threads, and a batch
/// that takes about the same time everywhere. In the first workload, the
/// late pages come in only after every other page could have been hashed,
/// and each store is longer than a tick past a hashing.
#[test]
fn the_workloads_fit_every_machine_from_1_to_64_cores() {
    for cores in [1, 2, 4, 8, 16, 32, 64] {
        for seed in 0..50 {
            for (k, w) in workloads(cores, &mut Rng::new(seed))
                .into_iter()
                .enumerate()
            {
                let jobs = w.jobs.len();
                assert!(jobs >= 2 * cores.min(64), "{cores} cores: {w:?}");
                assert!(jobs <= 512);
                let rounds = jobs.div_ceil(cores);
                assert!(
                    (3..=8).contains(&rounds),
                    "{cores} cores: {rounds} per core"
                );
                if k == 0 {
                    let first = w.jobs.iter().map(|s| s.fetch).min().unwrap();
                    let late = w.jobs.iter().map(|s| s.fetch).max().unwrap();
                    let hash = w.jobs[0].hash;
                    let behind = w.jobs.iter().filter(|s| s.fetch == late).count();
                    assert!((1..=2).contains(&behind), "{w:?}");
                    assert!(late >= first + hash * rounds as u32, "{w:?}");
                    assert!(
                        w.jobs
                            .iter()
                            .all(|s| s.hash == hash && s.store >= hash + TICK * 2),
                        "{w:?}"
                    );
                }
                let ideal = w.ideal(cores);
                assert!(
                    ideal >= Duration::from_millis(100) && ideal <= Duration::from_millis(750),
                    "{cores} cores: {ideal:?}"
                );
            }
        }
    }
}

/// The ideal time is a floor no program can beat: every page must come
/// in, be hashed and be stored, and the cores can hash no faster than all
/// at once.
#[test]
fn the_ideal_is_a_floor() {
    let ms = Duration::from_millis;
    let step = |fetch, hash, store| fetch_hash_store::Step {
        fetch: ms(fetch),
        hash: ms(hash),
        store: ms(store),
    };
    let w = Workload {
        name: "four".into(),
        jobs: vec![
            step(10, 80, 2),
            step(10, 80, 2),
            step(10, 80, 2),
            step(10, 80, 2),
            step(100, 10, 5),
        ],
    };
    // Two cores: 330 ms of hashing over two, after the first page.
    assert_eq!(w.ideal(2), ms(10 + 165 + 2));
    // The slow page alone takes longer than that on eight cores.
    assert_eq!(w.ideal(8), ms(115));
}

//! A panic inside a `rayon::spawn` job has no caller to go back to. On
//! rayon's global pool, which has no panic handler unless one is set, it
//! aborts the whole process (rayon-core's `ThreadPoolBuilder::panic_handler`
//! documents it): the pipeline's writer never gets to see the job's oneshot
//! dropped. The cure, if scoring can panic: catch the panic in the job and
//! send a `Result`.

use std::process::Command;
use std::time::Duration;

/// Set in the child process that this test starts.
const CHILD: &str = "LESSON_10_RAYON_PANIC_CHILD";
const TEST: &str = "a_panic_in_a_rayon_spawn_job_aborts_the_whole_process";

#[test]
fn a_panic_in_a_rayon_spawn_job_aborts_the_whole_process() {
    if std::env::var_os(CHILD).is_some() {
        // In the child: one job that panics, and the caller waits on.
        let (done, result) = tokio::sync::oneshot::channel::<u64>();
        rayon::spawn(move || {
            let _done = done;
            panic!("a record that cannot be scored");
        });
        // The sender, dropped as the job unwinds, ends this wait with an
        // error; the process is aborted meanwhile or just after.
        let _ = result.blocking_recv();
        std::thread::sleep(Duration::from_secs(5));
        println!("still alive");
        return;
    }
    // Run this same test again in a child process, which the abort ends.
    let exe = std::env::current_exe().expect("the test binary");
    let out = Command::new(exe)
        .args(["--exact", TEST, "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .output()
        .expect("the child runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the child survived: {stderr}");
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("still alive"),
        "the process went on after the panic"
    );
    assert!(
        stderr.contains("a record that cannot be scored"),
        "the job's panic: {stderr}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        // SIGABRT: the process was aborted, not ended by a failed test.
        assert_eq!(out.status.signal(), Some(6), "{:?}: {stderr}", out.status);
    }
}

#[test]
fn a_job_that_catches_its_panic_sends_an_error_instead() {
    let (done, result) = tokio::sync::oneshot::channel();
    rayon::spawn(move || {
        let scored = std::panic::catch_unwind(|| -> u64 {
            panic!("a record that cannot be scored (caught)")
        });
        let _ = done.send(scored.map_err(|_| "scoring panicked"));
    });
    let got = result.blocking_recv().expect("the job always answers");
    assert_eq!(got, Err("scoring panicked"));
}

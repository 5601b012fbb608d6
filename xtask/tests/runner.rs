//! The runner's supervision, tried on small shell programs through the real
//! binary (`xtask __supervise`), since the runner starts itself as the guard
//! of every program it runs: quiet and late programs are stopped, output and
//! reports are read whatever they hold, and nothing a program starts
//! outlives its run, even when the runner itself is killed.

#![cfg(unix)]

use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn scratch(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("xtask-runner-{}-{name}", std::process::id()))
}

/// Runs `script` under `xtask __supervise` and returns what it saw.
fn supervise(name: &str, quiet_ms: u64, deadline_ms: u64, script: &str) -> Value {
    let report = scratch(&format!("{name}.jsonl"));
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args([
            "__supervise",
            &quiet_ms.to_string(),
            &deadline_ms.to_string(),
            report.to_str().unwrap(),
            "/bin/sh",
            "-c",
            script,
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&report);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Whether process `pid` is gone (or a zombie on its way out).
#[cfg(target_os = "linux")]
fn gone(pid: u32) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    stat.is_empty()
        || stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z'))
}

/// Waits up to 5 s for `pid` to go: a SIGKILL takes effect when the process
/// is next scheduled, which on a busy core can be a moment later.
#[cfg(target_os = "linux")]
fn goes(pid: u32) -> bool {
    let until = Instant::now() + Duration::from_secs(5);
    while !gone(pid) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(10));
    }
    gone(pid)
}

fn read_pid(path: &PathBuf) -> u32 {
    let until = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(pid) = std::fs::read_to_string(path)
            .ok()
            .and_then(|t| t.trim().parse().ok())
        {
            let _ = std::fs::remove_file(path);
            return pid;
        }
        assert!(Instant::now() < until, "no pid in {}", path.display());
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[cfg(target_os = "linux")]
#[test]
fn a_silent_child_and_its_children_are_stopped_after_the_quiet_period() {
    let pid_file = scratch("grandchild-pid");
    let script = format!("sleep 60 & echo $! > {}; sleep 60", pid_file.display());
    let r = supervise("quiet", 300, 60_000, &script);
    assert_eq!(r["stopped"], "quiet");
    assert!(r["elapsed_ms"].as_u64().unwrap() < 30_000);
    let grandchild = read_pid(&pid_file);
    assert!(goes(grandchild), "grandchild {grandchild} still running");
}

#[test]
fn a_busy_child_that_never_finishes_is_stopped_at_its_deadline() {
    let script = r#"while true; do echo '{"t":"fact","name":"n","value":1}' >> "$LESSON_REPORT"; sleep 0.05; done"#;
    let r = supervise("deadline", 2_000, 600, script);
    assert_eq!(r["stopped"], "deadline");
    assert_eq!(r["facts"]["n"], 1.0, "the report was read while it ran");
}

#[test]
fn a_child_that_finishes_is_left_alone_and_its_output_captured() {
    let script = r#"echo narration; echo oops >&2; echo '{"t":"end","elapsed_us":5}' > "$LESSON_REPORT"; echo "quiet=$LESSON_QUIET_MS"; exit 7"#;
    let r = supervise("done", 5_000, 5_000, script);
    assert_eq!(r["stopped"], Value::Null);
    assert_eq!(
        r["code"], 7,
        "the program's own exit code, through the guard"
    );
    assert_eq!(r["ended"], true);
    let output = r["output"].as_str().unwrap();
    assert!(output.contains("narration") && output.contains("oops"));
    assert!(
        output.contains("quiet=5000"),
        "limits reach the child: {output}"
    );
    assert_eq!(r["left"], serde_json::json!([]));
}

#[test]
fn a_signal_death_comes_through_the_guard_as_the_signal() {
    let r = supervise("segv", 5_000, 5_000, "kill -SEGV $$");
    assert_eq!(r["signal"], 11);
    assert!(r["exit"].as_str().unwrap().contains("SIGSEGV"), "{r}");
    assert_eq!(r["code"], Value::Null);
}

#[test]
fn a_line_that_is_not_utf8_does_not_jam_the_reader() {
    let script = r#"printf '{"t":"mark","text":"\377\376"}\n' >> "$LESSON_REPORT"; for i in 1 2 3 4 5 6; do echo '{"t":"fact","name":"n","value":1}' >> "$LESSON_REPORT"; sleep 0.1; done; echo '{"t":"end","elapsed_us":5}' >> "$LESSON_REPORT""#;
    let r = supervise("utf8", 400, 10_000, script);
    assert_eq!(r["stopped"], Value::Null, "the good lines are progress");
    assert_eq!(r["ended"], true);
    assert_eq!(r["problems"][0], "report line 1 is not UTF-8 text");
}

#[test]
fn a_truncated_last_line_is_named() {
    let script = r#"echo '{"t":"end","elapsed_us":5}' >> "$LESSON_REPORT"; printf '{"t":"fa' >> "$LESSON_REPORT""#;
    let r = supervise("torn", 5_000, 5_000, script);
    assert_eq!(r["ended"], true);
    assert!(
        r["problems"][0].as_str().unwrap().contains("cut off"),
        "{r}"
    );
}

#[test]
fn fifty_megabytes_of_output_keep_only_their_end() {
    let script = "head -c 50000000 /dev/zero | tr '\\0' 'x' | fold -w 1000; echo the-last-line";
    let r = supervise("big", 5_000, 60_000, script);
    let output = r["output"].as_str().unwrap();
    assert!(output.len() <= 1 << 20, "{} bytes kept", output.len());
    assert!(output.ends_with("the-last-line\n"));
    assert!(output.starts_with('['), "says what it dropped");
}

#[cfg(target_os = "linux")]
#[test]
fn a_process_that_left_the_group_is_stopped_and_named() {
    // `setsid` puts the sleeper in a session of its own, out of reach of a
    // group kill, holding the program's stdout open.
    let pid_file = scratch("escaped-pid");
    let script = format!(
        "setsid sh -c 'echo $$ > {}; exec sleep 300' & sleep 0.3; exit 0",
        pid_file.display()
    );
    let started = Instant::now();
    let r = supervise("escaped", 5_000, 5_000, &script);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "waited {:?} for a pipe held open by an escaped process",
        started.elapsed()
    );
    let escaped = read_pid(&pid_file);
    assert_eq!(r["code"], 0);
    let left = r["left"].as_array().unwrap();
    assert!(
        left.iter().any(|l| l[0] == escaped && l[1] == "sleep"),
        "names the sleeper: {left:?}"
    );
    assert!(
        goes(escaped),
        "the escaped sleeper {escaped} is still running"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn when_the_runner_is_killed_what_the_program_started_goes_too() {
    let pid_file = scratch("orphan-pids");
    let report = scratch("killed.jsonl");
    let script = format!(
        "sleep 300 & echo $! >> {f}; setsid sleep 300 & echo $! >> {f}; wait",
        f = pid_file.display()
    );
    let mut runner = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args([
            "__supervise",
            "60000",
            "60000",
            report.to_str().unwrap(),
            "/bin/sh",
            "-c",
            &script,
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let until = Instant::now() + Duration::from_secs(10);
    let pids: Vec<u32> = loop {
        let text = std::fs::read_to_string(&pid_file).unwrap_or_default();
        let pids: Vec<u32> = text.lines().filter_map(|l| l.trim().parse().ok()).collect();
        if pids.len() == 2 {
            break pids;
        }
        assert!(
            Instant::now() < until,
            "the program did not start its sleepers"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let _ = std::fs::remove_file(&pid_file);
    runner.kill().unwrap(); // SIGKILL: the runner cannot clean up itself
    runner.wait().unwrap();
    let _ = std::fs::remove_file(&report);
    for pid in pids {
        assert!(
            goes(pid),
            "process {pid} outlived the runner that was killed"
        );
    }
}

//! Running one lesson binary under supervision.
//!
//! The child runs in its own process group, so that killing the group ends it
//! and anything it started. While it runs we read its report file: each new
//! line is progress. If it is quiet for too long, or runs past its deadline,
//! or the learner presses Ctrl-C, the whole group is killed. On Linux the
//! child also asks the kernel to kill it if the runner itself dies.

// Signals and process groups need a few libc calls; each is commented.
#![allow(unsafe_code)]

use crate::Failure;
use shared::report::{DEADLINE_ENV, Event, QUIET_ENV, REPORT_ENV, Report};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    // Only an atomic store: the one thing a signal handler may safely do.
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// From now on Ctrl-C (and SIGTERM, SIGHUP) only set a flag; the supervisor
/// loop sees it, kills the child's group and exits cleanly.
pub fn catch_interrupts() {
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: `on_signal` is async-signal-safe (one atomic store) and has
        // the signature `signal` expects.
        unsafe {
            libc::signal(sig, on_signal as *const () as libc::sighandler_t);
        }
    }
}

pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Why the runner stopped a child itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stopped {
    /// No report line for the quiet period (plus grace).
    Quiet,
    /// Ran past the deadline (plus grace).
    Deadline,
    /// The learner pressed Ctrl-C.
    Interrupted,
}

pub struct Limits {
    pub quiet: Duration,
    pub deadline: Duration,
    /// Extra time the runner gives the child's own watchdog before it steps
    /// in itself.
    pub grace: Duration,
}
const TICK: Duration = Duration::from_millis(20);

pub struct RunResult {
    pub status: Option<ExitStatus>,
    pub stopped: Option<Stopped>,
    pub report: Report,
    /// Everything the child printed (stdout and stderr, interleaved by line).
    pub output: String,
    pub elapsed: Duration,
    pub report_path: PathBuf,
}

impl RunResult {
    pub fn exit_description(&self) -> String {
        match self.status {
            Some(s) => match (s.code(), s.signal()) {
                (Some(c), _) => format!("exit code {c}"),
                (None, Some(sig)) => format!("killed by signal {sig}"),
                _ => "unknown exit".into(),
            },
            None => "did not exit".into(),
        }
    }
}

/// Follows a report file as it grows.
struct Tail {
    path: PathBuf,
    offset: u64,
    partial: String,
    events: Vec<Event>,
}

impl Tail {
    /// Reads new complete lines; returns whether there were any.
    fn poll(&mut self) -> bool {
        let Ok(mut file) = std::fs::File::open(&self.path) else {
            return false;
        };
        use std::io::Seek;
        if file.seek(std::io::SeekFrom::Start(self.offset)).is_err() {
            return false;
        }
        let mut buf = String::new();
        let Ok(n) = file.read_to_string(&mut buf) else {
            return false;
        };
        self.offset += n as u64;
        self.partial.push_str(&buf);
        let mut progressed = false;
        while let Some(end) = self.partial.find('\n') {
            let line: String = self.partial.drain(..=end).collect();
            if let Ok(e) = Event::parse(line.trim_end()) {
                self.events.push(e);
                progressed = true;
            }
        }
        progressed
    }
}

fn kill_group(child: &Child) {
    // The child was started as the leader of its own group, so its pid is
    // the group id. SAFETY: kill has no memory-safety preconditions.
    unsafe {
        libc::kill(-(child.id() as libc::pid_t), libc::SIGKILL);
    }
}

/// Runs `exe` with `args`, reporting to `report_path`. With `stream`, the
/// child's output is shown live; it is always captured too.
pub fn run(
    exe: &Path,
    args: &[&str],
    report_path: &Path,
    limits: &Limits,
    stream: bool,
) -> Result<RunResult, Failure> {
    let _ = std::fs::remove_file(report_path);
    let mut cmd = Command::new(exe);
    cmd.args(args)
        .env(REPORT_ENV, report_path)
        .env(QUIET_ENV, limits.quiet.as_millis().to_string())
        .env(DEADLINE_ENV, limits.deadline.as_millis().to_string())
        // An expected panic should read as one message, not a backtrace.
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    #[cfg(target_os = "linux")]
    // SAFETY: prctl is async-signal-safe and touches no memory of ours; it
    // runs in the child between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    let started = Instant::now();
    let mut child = cmd
        .spawn()
        .map_err(|e| Failure(format!("could not start {}: {e}", exe.display())))?;
    let output = Arc::new(Mutex::new(String::new()));
    let readers: Vec<_> = [
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    ]
    .into_iter()
    .flatten()
    .enumerate()
    .map(|(i, pipe)| {
        let output = output.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                if stream {
                    if i == 0 {
                        let mut out = std::io::stdout().lock();
                        let _ = writeln!(out, "{line}");
                        let _ = out.flush();
                    } else {
                        eprintln!("{line}");
                    }
                }
                let mut all = output.lock().unwrap_or_else(|e| e.into_inner());
                all.push_str(&line);
                all.push('\n');
            }
        })
    })
    .collect();

    let mut tail = Tail {
        path: report_path.to_path_buf(),
        offset: 0,
        partial: String::new(),
        events: Vec::new(),
    };
    let mut last_progress = Instant::now();
    let mut stopped = None;
    let status = loop {
        if tail.poll() {
            last_progress = Instant::now();
        }
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) => {}
            Err(e) => {
                kill_group(&child);
                return Err(Failure(format!("lost track of {}: {e}", exe.display())));
            }
        }
        let reason = if interrupted() {
            Some(Stopped::Interrupted)
        } else if last_progress.elapsed() > limits.quiet + limits.grace {
            Some(Stopped::Quiet)
        } else if started.elapsed() > limits.deadline + limits.grace {
            Some(Stopped::Deadline)
        } else {
            None
        };
        if let Some(reason) = reason {
            kill_group(&child);
            stopped = Some(reason);
            break child.wait().ok();
        }
        std::thread::sleep(TICK);
    };
    // Anything the child left behind in its group goes too.
    kill_group(&child);
    for r in readers {
        let _ = r.join();
    }
    tail.poll();
    let output = output.lock().unwrap_or_else(|e| e.into_inner()).clone();
    Ok(RunResult {
        status,
        stopped,
        report: Report {
            events: tail.events,
        },
        output,
        elapsed: started.elapsed(),
        report_path: report_path.to_path_buf(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(quiet_ms: u64, deadline_ms: u64) -> Limits {
        Limits {
            quiet: Duration::from_millis(quiet_ms),
            deadline: Duration::from_millis(deadline_ms),
            grace: Duration::ZERO,
        }
    }

    fn report_path(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("xtask-process-{}-{name}.jsonl", std::process::id()))
    }

    fn group_is_gone(pgid: u32) -> bool {
        // SAFETY: signal 0 only asks whether the group exists.
        let r = unsafe { libc::kill(-(pgid as libc::pid_t), 0) };
        r == -1 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH)
    }

    fn sh(script: &str, name: &str, limits: &Limits) -> RunResult {
        let path = report_path(name);
        let r = run(Path::new("/bin/sh"), &["-c", script], &path, limits, false).unwrap();
        let _ = std::fs::remove_file(&path);
        r
    }

    #[test]
    fn a_silent_child_and_its_children_are_killed_after_the_quiet_period() {
        // The grandchild writes its pid where we can find it, then both sleep.
        let pid_file = report_path("grandchild-pid");
        let script = format!("sleep 60 & echo $! > {}; sleep 60", pid_file.display());
        let r = sh(&script, "quiet", &limits(300, 60_000));
        assert_eq!(r.stopped, Some(Stopped::Quiet));
        assert!(
            r.elapsed < Duration::from_secs(30),
            "stopped long before the sleeps end"
        );
        let grandchild: u32 = std::fs::read_to_string(&pid_file)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let _ = std::fs::remove_file(&pid_file);
        // The grandchild was in the child's group, so it is gone too (or a
        // zombie on its way out, which /proc shows as state Z).
        let state = std::fs::read_to_string(format!("/proc/{grandchild}/stat")).unwrap_or_default();
        assert!(
            state.is_empty() || state.contains(") Z "),
            "grandchild {grandchild} still running: {state}"
        );
    }

    #[test]
    fn a_busy_child_that_never_finishes_is_stopped_at_its_deadline() {
        let script = r#"while true; do echo '{"t":"fact","name":"n","value":1}' >> "$LESSON_REPORT"; sleep 0.05; done"#;
        let r = sh(script, "deadline", &limits(2_000, 600));
        assert_eq!(r.stopped, Some(Stopped::Deadline));
        assert_eq!(
            r.report.fact("n"),
            Some(1.0),
            "the report was read while it ran"
        );
    }

    #[test]
    fn a_child_that_finishes_is_left_alone_and_its_output_captured() {
        let script = r#"echo narration; echo oops >&2; echo '{"t":"end","elapsed_us":5}' > "$LESSON_REPORT"; echo "quiet=$LESSON_QUIET_MS""#;
        let r = sh(script, "done", &limits(5_000, 5_000));
        assert_eq!(r.stopped, None);
        assert_eq!(r.status.and_then(|s| s.code()), Some(0));
        assert!(r.report.ended());
        assert!(r.output.contains("narration") && r.output.contains("oops"));
        assert!(
            r.output.contains("quiet=5000"),
            "limits reach the child: {}",
            r.output
        );
    }

    #[test]
    fn the_child_runs_in_a_group_of_its_own() {
        let path = report_path("group");
        let script = "echo $$ > \"$LESSON_REPORT.pid\"; cut -d' ' -f5 /proc/$$/stat >> \"$LESSON_REPORT.pid\"";
        let r = run(
            Path::new("/bin/sh"),
            &["-c", script],
            &path,
            &limits(5_000, 5_000),
            false,
        )
        .unwrap();
        let pid_path = PathBuf::from(format!("{}.pid", path.display()));
        let text = std::fs::read_to_string(&pid_path).unwrap();
        let _ = std::fs::remove_file(&pid_path);
        let ids: Vec<u32> = text
            .split_whitespace()
            .map(|t| t.parse().unwrap())
            .collect();
        assert_eq!(ids.len(), 2, "{text}");
        assert_eq!(ids[0], ids[1], "the child leads its own process group");
        assert_ne!(ids[1], std::process::id(), "not ours");
        assert!(group_is_gone(ids[1]));
        assert_eq!(r.stopped, None);
    }
}

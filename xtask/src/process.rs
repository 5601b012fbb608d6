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
use shared::contract::report::{
    DEADLINE_ENV, QUIET_ENV, REPORT_ENV, Report, ReportProblem, ReportReader,
};
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

/// Writing to a closed pipe (`cargo xtask list | head`) ends the program
/// quietly, as it does any Unix tool, instead of panicking.
pub fn quiet_broken_pipes() {
    // SAFETY: restoring a signal's default disposition has no
    // preconditions.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
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
/// How long to wait for the child's output pipes to close after it ended.
const READER_GRACE: Duration = Duration::from_secs(2);

/// Tells the waiting side that a reader thread has finished, however it ends.
struct DoneOnDrop(std::sync::mpsc::Sender<()>);

impl Drop for DoneOnDrop {
    fn drop(&mut self) {
        let _ = self.0.send(());
    }
}

pub struct RunResult {
    pub status: Option<ExitStatus>,
    pub stopped: Option<Stopped>,
    pub report: Report,
    /// Report lines that could not be read.
    pub problems: Vec<ReportProblem>,
    /// Everything the child printed (stdout and stderr, interleaved by line).
    pub output: String,
    pub elapsed: Duration,
    pub report_path: PathBuf,
    /// How many cores other programs kept busy, on average, while it ran
    /// (Linux only): what tells a busy machine from a slow program.
    pub others_busy: Option<f64>,
}

/// The CPUs this process may run on (`taskset` narrows them).
#[cfg(target_os = "linux")]
fn our_cpus() -> Vec<usize> {
    // SAFETY: an all-zero cpu_set_t is a valid empty set, and
    // sched_getaffinity only writes into the set it is given.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is valid and writable, and its size is passed.
    let rc =
        unsafe { libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) };
    if rc != 0 {
        return Vec::new();
    }
    (0..libc::CPU_SETSIZE as usize)
        // SAFETY: `cpu` is below CPU_SETSIZE, and `set` is initialised.
        .filter(|&cpu| unsafe { libc::CPU_ISSET(cpu, &set) })
        .collect()
}

/// CPU time the cores we may run on spent busy (every program's), from
/// `/proc/stat`; `None` where there is no such file.
#[cfg(target_os = "linux")]
fn machine_busy() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let cpus = our_cpus();
    let mut busy: u64 = 0;
    let mut found = false;
    for line in stat.lines() {
        let mut fields = line.split_whitespace();
        let Some(cpu) = fields.next().and_then(|name| name.strip_prefix("cpu")) else {
            continue;
        };
        // The first line, "cpu", is every core together; we add up ours.
        let Ok(cpu) = cpu.parse::<usize>() else {
            continue;
        };
        if !cpus.contains(&cpu) {
            continue;
        }
        found = true;
        // user nice system idle iowait irq softirq steal: all but idle and
        // iowait are time some program kept the core busy.
        busy += fields
            .take(8)
            .enumerate()
            .filter(|(i, _)| *i != 3 && *i != 4)
            .filter_map(|(_, v)| v.parse::<u64>().ok())
            .sum::<u64>();
    }
    // SAFETY: sysconf has no memory-safety preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    (found && ticks > 0).then(|| Duration::from_secs_f64(busy as f64 / ticks as f64))
}

#[cfg(not(target_os = "linux"))]
fn machine_busy() -> Option<Duration> {
    None
}

/// CPU time used by this process and by the children it has waited for.
fn our_cpu() -> Duration {
    let read = |who| {
        // SAFETY: an all-zero rusage is a valid value of this plain C
        // struct, and getrusage only writes into it.
        let mut u: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: `u` is valid and writable for the call.
        if unsafe { libc::getrusage(who, &mut u) } != 0 {
            return Duration::ZERO;
        }
        let t = |t: libc::timeval| {
            Duration::from_secs(t.tv_sec.max(0) as u64)
                + Duration::from_micros(t.tv_usec.max(0) as u64)
        };
        t(u.ru_utime) + t(u.ru_stime)
    };
    read(libc::RUSAGE_SELF) + read(libc::RUSAGE_CHILDREN)
}

/// Measures what other programs do with the machine over a stretch of time.
pub struct OthersMeter {
    machine: Option<Duration>,
    ours: Duration,
    started: Instant,
}

impl OthersMeter {
    pub fn start() -> OthersMeter {
        OthersMeter {
            machine: machine_busy(),
            ours: our_cpu(),
            started: Instant::now(),
        }
    }

    /// Cores other programs kept busy on average since `start`. Call it
    /// after the child has been waited for, so that its CPU counts as ours.
    pub fn others_busy(&self) -> Option<f64> {
        let machine = machine_busy()?.checked_sub(self.machine?)?;
        let ours = our_cpu().saturating_sub(self.ours);
        let wall = self.started.elapsed().as_secs_f64();
        (wall > 0.0).then(|| machine.saturating_sub(ours).as_secs_f64() / wall)
    }
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

/// Follows a report file as it grows, reading raw bytes: a line that is
/// not UTF-8 (or not an event) is recorded as a problem and passed over, so
/// it can never keep the reader from seeing the lines after it.
struct Tail {
    path: PathBuf,
    offset: u64,
    reader: ReportReader,
}

impl Tail {
    /// Reads what was appended; returns whether any line was completed.
    fn poll(&mut self) -> bool {
        let Ok(mut file) = std::fs::File::open(&self.path) else {
            return false;
        };
        use std::io::Seek;
        if file.seek(std::io::SeekFrom::Start(self.offset)).is_err() {
            return false;
        }
        let mut buf = Vec::new();
        let Ok(n) = file.read_to_end(&mut buf) else {
            return false;
        };
        self.offset += n as u64;
        self.reader.feed(&buf) > 0
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
    let meter = OthersMeter::start();
    let mut child = cmd
        .spawn()
        .map_err(|e| Failure::new(format!("could not start {}: {e}", exe.display())))?;
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
        let (done_tx, done) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            let _done = DoneOnDrop(done_tx);
            let mut reader = BufReader::new(pipe);
            let mut raw = Vec::new();
            loop {
                raw.clear();
                match reader.read_until(b'\n', &mut raw) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
                // A child may print anything; show it, never choke on it.
                let text = String::from_utf8_lossy(&raw);
                let line = text.trim_end_matches(['\n', '\r']);
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
                all.push_str(line);
                all.push('\n');
            }
        });
        (thread, done)
    })
    .collect();

    let mut tail = Tail {
        path: report_path.to_path_buf(),
        offset: 0,
        reader: ReportReader::new(),
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
                return Err(Failure::new(format!(
                    "lost track of {}: {e}",
                    exe.display()
                )));
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
    // The pipes close when the last process holding them ends. One that
    // left our group could keep them open for ever: wait a little, then go
    // on without its last words.
    let until = Instant::now() + READER_GRACE;
    for (r, done) in readers {
        let left = until.saturating_duration_since(Instant::now());
        if done.recv_timeout(left).is_ok() {
            let _ = r.join();
        }
    }
    tail.poll();
    let (report, problems) = tail.reader.finish();
    let output = output.lock().unwrap_or_else(|e| e.into_inner()).clone();
    Ok(RunResult {
        status,
        stopped,
        report,
        problems,
        output,
        elapsed: started.elapsed(),
        report_path: report_path.to_path_buf(),
        others_busy: meter.others_busy(),
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

    #[cfg(target_os = "linux")]
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
        // zombie on its way out, which /proc shows as state Z). A SIGKILL
        // takes effect when the process is next scheduled, which on a busy
        // single core can be a moment after the kill.
        let gone = || {
            let state =
                std::fs::read_to_string(format!("/proc/{grandchild}/stat")).unwrap_or_default();
            (state.is_empty() || state.contains(") Z "), state)
        };
        let waited = Instant::now();
        while !gone().0 && waited.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(10));
        }
        let (is_gone, state) = gone();
        assert!(is_gone, "grandchild {grandchild} still running: {state}");
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
    fn a_line_that_is_not_utf8_does_not_jam_the_reader() {
        // Bad bytes, then good lines for longer than the quiet period: the
        // child is healthy and must not be killed as quiet.
        let script = r#"printf '{"t":"mark","text":"\377\376"}\n' >> "$LESSON_REPORT"; for i in 1 2 3 4 5 6; do echo '{"t":"fact","name":"n","value":1}' >> "$LESSON_REPORT"; sleep 0.1; done; echo '{"t":"end","elapsed_us":5}' >> "$LESSON_REPORT""#;
        let r = sh(script, "utf8", &limits(400, 10_000));
        assert_eq!(r.stopped, None, "not stopped: the good lines are progress");
        assert!(r.report.ended());
        assert_eq!(r.report.fact("n"), Some(1.0));
        assert_eq!(r.problems.len(), 1);
        assert_eq!(r.problems[0].to_string(), "report line 1 is not UTF-8 text");
    }

    #[test]
    fn a_truncated_last_line_is_named() {
        let script = r#"echo '{"t":"end","elapsed_us":5}' >> "$LESSON_REPORT"; printf '{"t":"fa' >> "$LESSON_REPORT""#;
        let r = sh(script, "torn", &limits(5_000, 5_000));
        assert!(r.report.ended());
        assert!(
            r.problems[0].to_string().contains("cut off"),
            "{:?}",
            r.problems
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_process_that_left_the_group_cannot_keep_the_runner_waiting() {
        // `setsid` puts the sleeper in a session of its own, out of reach
        // of the group kill, holding the child's stdout open.
        let pid_file = report_path("escaped-pid");
        let script = format!(
            "setsid sh -c 'echo $$ > {}; exec sleep 30' & sleep 0.2; exit 0",
            pid_file.display()
        );
        let started = Instant::now();
        let r = sh(&script, "escaped", &limits(5_000, 5_000));
        let waited = started.elapsed();
        if let Ok(pid) = std::fs::read_to_string(&pid_file) {
            if let Ok(pid) = pid.trim().parse::<libc::pid_t>() {
                // SAFETY: kill has no memory-safety preconditions.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
        let _ = std::fs::remove_file(&pid_file);
        assert_eq!(r.status.and_then(|s| s.code()), Some(0));
        assert!(
            waited < Duration::from_secs(10),
            "waited {waited:?} for a pipe held open by an escaped process"
        );
    }

    #[cfg(target_os = "linux")]
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

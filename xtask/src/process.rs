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
use crate::machine::OthersMeter;
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
    /// Processes the program started and left running, which were stopped
    /// when its run ended.
    pub left_running: Vec<crate::guard::Left>,
}

/// A death by signal, named and explained in one line.
pub fn signal_death(sig: i32) -> String {
    let (name, meaning) = match sig {
        libc::SIGSEGV => (
            "SIGSEGV",
            "a segmentation fault: it touched memory it does not own (unsafe code, or a stack overflow)",
        ),
        libc::SIGBUS => ("SIGBUS", "a bus error: a bad memory access"),
        libc::SIGABRT => (
            "SIGABRT",
            "it aborted: a panic while panicking, a panic in a thread pool with no handler, `std::process::abort`, or an allocation that failed",
        ),
        libc::SIGILL => (
            "SIGILL",
            "an illegal instruction (Rust uses one for some aborts, such as a stack overflow guard)",
        ),
        libc::SIGFPE => ("SIGFPE", "an arithmetic fault"),
        libc::SIGKILL => (
            "SIGKILL",
            "killed outright: by the runner, by the system running out of memory, or by another program",
        ),
        libc::SIGTERM => ("SIGTERM", "asked to stop by another program"),
        libc::SIGINT => ("SIGINT", "interrupted (Ctrl-C)"),
        libc::SIGPIPE => ("SIGPIPE", "it wrote to a pipe nobody reads any more"),
        libc::SIGTRAP => ("SIGTRAP", "a breakpoint trap"),
        _ => return format!("killed by signal {sig}"),
    };
    format!("killed by signal {sig} ({name}: {meaning})")
}

impl RunResult {
    pub fn exit_description(&self) -> String {
        match self.status {
            Some(s) => match (s.code(), s.signal()) {
                (Some(c), _) => format!("exit code {c}"),
                (None, Some(sig)) => signal_death(sig),
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

fn kill(pid: i32, signal: libc::c_int) {
    // SAFETY: kill has no memory-safety preconditions.
    unsafe {
        libc::kill(pid, signal);
    }
}

/// The most of a program's output kept for the verdict: its last part.
const KEPT_OUTPUT: usize = 1 << 20;

/// Output as it is captured: the last [`KEPT_OUTPUT`] bytes, and how many
/// were dropped before them.
#[derive(Default)]
struct Captured {
    text: String,
    dropped: usize,
}

impl Captured {
    fn push_line(&mut self, line: &str) {
        self.text.push_str(line);
        self.text.push('\n');
        if self.text.len() > KEPT_OUTPUT {
            let mut cut = self.text.len() - KEPT_OUTPUT / 2;
            while !self.text.is_char_boundary(cut) {
                cut += 1;
            }
            self.dropped += cut;
            self.text.drain(..cut);
        }
    }
}

/// A unique path for one run's file beside `near` (`.status`, say): two
/// runs at once, even of the same program, never share one.
pub fn unique_beside(near: &Path, extension: &str) -> PathBuf {
    static COUNT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNT.fetch_add(1, Ordering::SeqCst);
    let stem = near
        .file_stem()
        .map_or_else(|| "run".into(), |s| s.to_string_lossy().into_owned());
    near.with_file_name(format!("{stem}.{}-{n}.{extension}", std::process::id()))
}

/// The program to run as the guard: this runner's own binary. On Linux,
/// `/proc/self/exe` is the very file this process runs, even if a build
/// has since replaced the one at its path.
fn guard_exe() -> Result<PathBuf, Failure> {
    let own = Path::new("/proc/self/exe");
    if own.exists() {
        return Ok(own.to_path_buf());
    }
    std::env::current_exe()
        .map_err(|e| Failure::new(format!("cannot find the runner's own program: {e}")))
}

/// Runs `exe` with `args`, reporting to `report_path`. With `stream`, the
/// child's output is shown live; it is always captured too (its last MiB).
pub fn run(
    exe: &Path,
    args: &[&str],
    report_path: &Path,
    limits: &Limits,
    stream: bool,
) -> Result<RunResult, Failure> {
    let _ = std::fs::remove_file(report_path);
    let env: Vec<(&str, String)> = vec![
        (REPORT_ENV, report_path.display().to_string()),
        (QUIET_ENV, limits.quiet.as_millis().to_string()),
        (DEADLINE_ENV, limits.deadline.as_millis().to_string()),
        // An expected panic should read as one message, not a backtrace.
        ("RUST_BACKTRACE", "0".to_string()),
    ];
    supervise(exe, args, &env, Some(report_path), limits, stream)
}

/// Runs `exe` under a guard (see [`crate::guard`]), with `env` added, and
/// follows `report` (if any) for progress. Stops it when it is quiet or
/// late past `limits`, or when the learner presses Ctrl-C; whatever it
/// left running is stopped with it, and named in the result.
pub fn supervise(
    exe: &Path,
    args: &[&str],
    env: &[(&str, String)],
    report_file: Option<&Path>,
    limits: &Limits,
    stream: bool,
) -> Result<RunResult, Failure> {
    let status_path = unique_beside(report_file.unwrap_or(exe), "status");
    let _ = std::fs::remove_file(&status_path);
    let started = Instant::now();
    let meter = OthersMeter::start();
    let mut guard = spawn_guard(exe, args, env, &status_path)?;
    let output = Output::read(&mut guard, stream);
    let mut tail = report_file.map(|path| Tail {
        path: path.to_path_buf(),
        offset: 0,
        reader: ReportReader::new(),
    });
    let stopped = follow(&mut guard, tail.as_mut(), limits, started, &status_path)
        .map_err(|e| Failure::new(format!("lost track of {}: {e}", exe.display())))?;
    let guarded =
        crate::guard::Status::parse(&std::fs::read_to_string(&status_path).unwrap_or_default());
    let _ = std::fs::remove_file(&status_path);
    let output = output.finish();
    let (report, problems) = match tail {
        Some(mut tail) => {
            tail.poll();
            tail.reader.finish()
        }
        None => (Report::default(), Vec::new()),
    };
    Ok(RunResult {
        status: guarded.wait_status.map(ExitStatus::from_raw),
        stopped,
        report,
        problems,
        output,
        elapsed: started.elapsed(),
        report_path: report_file.map(Path::to_path_buf).unwrap_or_default(),
        others_busy: meter.others_busy(),
        left_running: guarded.left,
    })
}

/// Starts the guard, which starts the program.
fn spawn_guard(
    exe: &Path,
    args: &[&str],
    env: &[(&str, String)],
    status_path: &Path,
) -> Result<Child, Failure> {
    let mut cmd = Command::new(guard_exe()?);
    cmd.arg(crate::guard::COMMAND)
        .arg(status_path)
        .arg(exe)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own group: the terminal's Ctrl-C reaches the runner, which
        // decides; and no signal of ours reaches the runner's group.
        .process_group(0);
    for (key, value) in env {
        cmd.env(key, value);
    }
    cmd.spawn()
        .map_err(|e| Failure::new(format!("could not start {}: {e}", exe.display())))
}

/// Watches the run until it ends, or stops it (and says why) when it is
/// quiet or late past `limits`, or when the learner presses Ctrl-C.
fn follow(
    guard: &mut Child,
    mut tail: Option<&mut Tail>,
    limits: &Limits,
    started: Instant,
    status_path: &Path,
) -> std::io::Result<Option<Stopped>> {
    let mut last_progress = Instant::now();
    loop {
        if tail.as_deref_mut().is_some_and(Tail::poll) {
            last_progress = Instant::now();
        }
        match guard.try_wait() {
            Ok(Some(_)) => return Ok(None),
            Ok(None) => {}
            Err(e) => {
                stop_guard(guard, status_path);
                return Err(e);
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
        if reason.is_some() {
            stop_guard(guard, status_path);
            return Ok(reason);
        }
        std::thread::sleep(TICK);
    }
}

/// What the program prints, read line by line from its two pipes: shown
/// live when streaming, always kept (its last MiB).
struct Output {
    kept: Arc<Mutex<Captured>>,
    /// Set when the run is over: a reader still getting lines after that
    /// (from a process that escaped) neither shows nor keeps them.
    over: Arc<AtomicBool>,
    readers: Vec<(std::thread::JoinHandle<()>, std::sync::mpsc::Receiver<()>)>,
}

impl Output {
    fn read(guard: &mut Child, stream: bool) -> Output {
        let kept = Arc::new(Mutex::new(Captured::default()));
        let over = Arc::new(AtomicBool::new(false));
        let pipes = [
            guard
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
            guard
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        ];
        let readers = pipes
            .into_iter()
            .flatten()
            .enumerate()
            .map(|(i, pipe)| {
                let (kept, over) = (kept.clone(), over.clone());
                let (done_tx, done) = std::sync::mpsc::channel::<()>();
                let thread = std::thread::spawn(move || {
                    let _done = DoneOnDrop(done_tx);
                    read_lines(pipe, stream && i == 0, stream && i == 1, &kept, &over);
                });
                (thread, done)
            })
            .collect();
        Output {
            kept,
            over,
            readers,
        }
    }

    /// Waits a little for the last lines (the guard has stopped everything
    /// the program started, so the pipes close), then goes on without them.
    fn finish(self) -> String {
        let until = Instant::now() + READER_GRACE;
        for (r, done) in self.readers {
            let left = until.saturating_duration_since(Instant::now());
            if done.recv_timeout(left).is_ok() {
                let _ = r.join();
            }
        }
        self.over.store(true, Ordering::SeqCst);
        let captured = std::mem::take(&mut *self.kept.lock().unwrap_or_else(|e| e.into_inner()));
        if captured.dropped > 0 {
            format!(
                "[{} bytes of earlier output not kept]\n{}",
                captured.dropped, captured.text
            )
        } else {
            captured.text
        }
    }
}

/// Reads `pipe` line by line into `kept`, showing each line on stdout or
/// stderr when asked, until the pipe closes or the run is `over`.
fn read_lines(
    pipe: Box<dyn Read + Send>,
    to_stdout: bool,
    to_stderr: bool,
    kept: &Mutex<Captured>,
    over: &AtomicBool,
) {
    let mut reader = BufReader::new(pipe);
    let mut raw = Vec::new();
    loop {
        raw.clear();
        match reader.read_until(b'\n', &mut raw) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        if over.load(Ordering::SeqCst) {
            break;
        }
        // A child may print anything; show it, never choke on it.
        let text = String::from_utf8_lossy(&raw);
        let line = text.trim_end_matches(['\n', '\r']);
        if to_stdout {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{line}");
            let _ = out.flush();
        } else if to_stderr {
            eprintln!("{line}");
        }
        kept.lock()
            .unwrap_or_else(|e| e.into_inner())
            .push_line(line);
    }
}

/// Asks the guard to stop the program (and all it started), and makes sure
/// it does: if the guard does not end in time, its group and the program's
/// are killed from here.
fn stop_guard(guard: &mut Child, status_path: &Path) {
    kill(guard.id() as i32, libc::SIGTERM);
    let until = Instant::now() + Duration::from_secs(5);
    while Instant::now() < until {
        if let Ok(Some(_)) = guard.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let child =
        crate::guard::Status::parse(&std::fs::read_to_string(status_path).unwrap_or_default())
            .child;
    if let Some(pid) = child {
        kill(-(pid as i32), libc::SIGKILL);
    }
    kill(-(guard.id() as i32), libc::SIGKILL);
    let _ = guard.wait();
}

/// The hidden command that runs a program under supervision and prints
/// what was seen as one JSON object: for the runner's own tests, which need
/// the real binary (the guard is the runner itself).
pub const SUPERVISE: &str = "__supervise";

/// `xtask __supervise QUIET_MS DEADLINE_MS REPORT EXE [ARGS...]`.
pub fn supervise_command(args: &[String]) -> Result<std::process::ExitCode, Failure> {
    let [quiet, deadline, report, exe, rest @ ..] = args else {
        return Err(Failure::new(format!(
            "usage: xtask {SUPERVISE} QUIET_MS DEADLINE_MS REPORT EXE [ARGS...] (for the runner's tests)"
        )));
    };
    let ms = |v: &str| {
        v.parse::<u64>()
            .map(Duration::from_millis)
            .map_err(|_| Failure::new(format!("not a number of milliseconds: {v}")))
    };
    let limits = Limits {
        quiet: ms(quiet)?,
        deadline: ms(deadline)?,
        grace: Duration::ZERO,
    };
    let args: Vec<&str> = rest.iter().map(String::as_str).collect();
    let r = run(Path::new(exe), &args, Path::new(report), &limits, false)?;
    let facts: serde_json::Map<String, serde_json::Value> = r
        .report
        .facts()
        .into_iter()
        .map(|(n, v)| (n, serde_json::json!(v)))
        .collect();
    let line = serde_json::json!({
        "stopped": r.stopped.map(|s| format!("{s:?}").to_lowercase()),
        "code": r.status.and_then(|s| s.code()),
        "signal": r.status.and_then(|s| s.signal()),
        "exit": r.exit_description(),
        "elapsed_ms": r.elapsed.as_millis() as u64,
        "left": r.left_running.iter().map(|l| serde_json::json!([l.pid, l.name])).collect::<Vec<_>>(),
        "output": r.output,
        "facts": facts,
        "ended": r.report.ended(),
        "problems": r.problems.iter().map(ToString::to_string).collect::<Vec<_>>(),
    });
    println!("{line}");
    Ok(std::process::ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Runs of real programs are tested through the binary, in
    // tests/runner.rs: the runner starts itself as their guard.

    #[test]
    fn signal_deaths_are_named_and_explained() {
        let s = signal_death(libc::SIGSEGV);
        assert!(
            s.starts_with("killed by signal 11 (SIGSEGV: a segmentation fault"),
            "{s}"
        );
        assert_eq!(signal_death(64), "killed by signal 64");
    }

    #[test]
    fn two_runs_never_share_a_file() {
        let near = Path::new("/tmp/reports/lesson-05-report-exercise.jsonl");
        let a = unique_beside(near, "jsonl");
        let b = unique_beside(near, "jsonl");
        assert_ne!(a, b);
        assert_eq!(a.parent(), near.parent());
        let name = a.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.starts_with("lesson-05-report-exercise.")
                && name.contains(&std::process::id().to_string())
                && name.ends_with(".jsonl"),
            "{name}"
        );
    }

    #[test]
    fn captured_output_keeps_its_last_part_and_counts_the_rest() {
        let mut c = Captured::default();
        let line = "x".repeat(999);
        for _ in 0..3000 {
            c.push_line(&line);
        }
        assert!(c.text.len() <= KEPT_OUTPUT);
        assert_eq!(c.text.len() + c.dropped, 3000 * 1000);
    }
}

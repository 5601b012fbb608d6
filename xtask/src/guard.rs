//! The guard: a small process of ours between the runner and each program
//! it runs, so that nothing the program starts can outlive its run.
//!
//! The runner starts `xtask __guard STATUS EXE ARGS...`. The guard makes
//! itself a *child subreaper* (Linux): a process the program starts and then
//! abandons, even one that left the program's process group with `setsid`,
//! becomes the guard's child instead of init's. The guard starts the
//! program in a process group of its own and waits. When the program ends,
//! or the runner asks it to stop (SIGTERM), or the runner itself dies (the
//! kernel sends the guard SIGTERM then), the guard kills the program's group
//! and every process still descended from it, names them in the STATUS file
//! with the program's exit status, and exits.
//!
//! Off Linux there is no subreaper: the guard still kills the program's
//! group, and cannot see processes that left it.

// Signals, process groups and the subreaper need libc; each call is commented.
#![allow(unsafe_code)]

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The hidden command that runs the guard.
pub const COMMAND: &str = "__guard";

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_stop(_: libc::c_int) {
    // Only an atomic store: the one thing a signal handler may safely do.
    STOP.store(true, Ordering::SeqCst);
}

/// A process the program left running when its run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Left {
    pub pid: u32,
    pub name: String,
}

/// What the guard writes for the runner: the program's raw wait status
/// (as `waitpid` gives it), and the processes it had to stop.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Status {
    pub child: Option<u32>,
    pub wait_status: Option<i32>,
    pub left: Vec<Left>,
}

impl Status {
    fn line(&self) -> String {
        let mut out = String::new();
        if let Some(pid) = self.child {
            out.push_str(&format!("child {pid}\n"));
        }
        if let Some(raw) = self.wait_status {
            out.push_str(&format!("exit {raw}\n"));
        }
        for l in &self.left {
            out.push_str(&format!("left {} {}\n", l.pid, l.name));
        }
        out
    }

    /// Reads what a guard wrote; unreadable lines are passed over.
    pub fn parse(text: &str) -> Status {
        let mut s = Status::default();
        for line in text.lines() {
            let mut words = line.splitn(3, ' ');
            match (words.next(), words.next(), words.next()) {
                (Some("child"), Some(pid), None) => s.child = pid.parse().ok(),
                (Some("exit"), Some(raw), None) => s.wait_status = raw.parse().ok(),
                (Some("left"), Some(pid), name) => {
                    if let Ok(pid) = pid.parse() {
                        s.left.push(Left {
                            pid,
                            name: name.unwrap_or("?").to_string(),
                        });
                    }
                }
                _ => {}
            }
        }
        s
    }
}

fn write_status(path: &Path, status: &Status) {
    // Written whole and then renamed, so the runner never reads half of it.
    let tmp = path.with_extension("tmp");
    if std::fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(status.line().as_bytes()))
        .is_ok()
    {
        let _ = std::fs::rename(&tmp, path);
    }
}

/// The processes whose parent is `pid`, from `/proc`.
#[cfg(target_os = "linux")]
fn children_of(pid: u32) -> Vec<Left> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for entry in dir.flatten() {
        let Some(other) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{other}/stat")) else {
            continue;
        };
        // "pid (name) state ppid ...": the name may hold spaces and
        // parentheses, so read from the last ')'.
        let Some(close) = stat.rfind(')') else {
            continue;
        };
        let rest: Vec<&str> = stat[close + 1..].split_whitespace().collect();
        let (Some(state), Some(ppid)) = (rest.first(), rest.get(1)) else {
            continue;
        };
        if ppid.parse::<u32>().ok() != Some(pid) || *state == "Z" {
            continue;
        }
        let name = stat
            .find('(')
            .map(|open| stat[open + 1..close].to_string())
            .unwrap_or_else(|| "?".into());
        found.push(Left { pid: other, name });
    }
    found
}

#[cfg(not(target_os = "linux"))]
fn children_of(_: u32) -> Vec<Left> {
    Vec::new()
}

/// Every process descended from `pid` (children, their children...).
fn descendants_of(pid: u32) -> Vec<Left> {
    let mut all = Vec::new();
    let mut frontier = vec![pid];
    while let Some(p) = frontier.pop() {
        for c in children_of(p) {
            if !all.iter().any(|a: &Left| a.pid == c.pid) {
                frontier.push(c.pid);
                all.push(c);
            }
        }
    }
    all
}

fn kill(pid: i32, signal: libc::c_int) {
    // SAFETY: kill has no memory-safety preconditions.
    unsafe {
        libc::kill(pid, signal);
    }
}

/// Reaps any child that has ended; returns the program's wait status if it
/// was among them.
fn reap(child: u32) -> Option<i32> {
    let mut found = None;
    loop {
        let mut raw: libc::c_int = 0;
        // SAFETY: `raw` is a valid place for waitpid to write the status.
        let pid = unsafe { libc::waitpid(-1, &mut raw, libc::WNOHANG) };
        if pid <= 0 {
            return found;
        }
        if pid as u32 == child {
            found = Some(raw);
        }
    }
}

/// Runs the guard: `args` are STATUS EXE ARGS... Returns its exit code.
pub fn main(args: &[String]) -> u8 {
    let [status_path, exe, rest @ ..] = args else {
        eprintln!("usage: xtask {COMMAND} STATUS EXE [ARGS...] (used by the runner only)");
        return 2;
    };
    let status_path = Path::new(status_path);
    #[cfg(target_os = "linux")]
    // SAFETY: prctl with these options only changes this process's own
    // attributes and touches no memory of ours.
    unsafe {
        libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM, 0, 0, 0);
    }
    for sig in [libc::SIGTERM, libc::SIGINT, libc::SIGHUP] {
        // SAFETY: `on_stop` is async-signal-safe (one atomic store) and has
        // the signature `signal` expects.
        unsafe {
            libc::signal(sig, on_stop as *const () as libc::sighandler_t);
        }
    }
    // The runner may have died before we could ask to hear of it.
    // SAFETY: getppid has no preconditions.
    if unsafe { libc::getppid() } == 1 {
        return 1;
    }
    let mut status = Status::default();
    let child = match Command::new(exe)
        .args(rest)
        .stdin(Stdio::null())
        .process_group(0)
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("could not start {exe}: {e}");
            write_status(status_path, &status);
            return 127;
        }
    };
    let pid = child.id();
    // The std handle would reap the child on its own; we reap by pid.
    std::mem::forget(child);
    status.child = Some(pid);
    write_status(status_path, &status);
    let me = std::process::id();
    loop {
        if let Some(raw) = reap(pid) {
            status.wait_status = Some(raw);
            break;
        }
        if STOP.load(Ordering::SeqCst) {
            kill(-(pid as i32), libc::SIGKILL);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    // The program has ended. Whatever it left is now ours (we are its
    // subreaper) or still in its group: name it, then stop it.
    kill(-(pid as i32), libc::SIGKILL);
    let until = Instant::now() + Duration::from_secs(3);
    loop {
        let left = descendants_of(me);
        if left.is_empty() || Instant::now() > until {
            break;
        }
        for l in &left {
            if !status.left.iter().any(|s| s.pid == l.pid) {
                status.left.push(l.clone());
            }
            kill(l.pid as i32, libc::SIGKILL);
        }
        std::thread::sleep(Duration::from_millis(10));
        let _ = reap(pid);
    }
    write_status(status_path, &status);
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_survives_its_round_trip() {
        let s = Status {
            child: Some(41),
            wait_status: Some(256),
            left: vec![
                Left {
                    pid: 7,
                    name: "sleep".into(),
                },
                Left {
                    pid: 8,
                    name: "my (odd) name".into(),
                },
            ],
        };
        assert_eq!(Status::parse(&s.line()), s);
        assert_eq!(Status::parse("junk\nexit x\n"), Status::default());
    }
}

//! What the operating system counts for each thread of this process: its
//! time on a core, its time runnable but waiting for one, how many times
//! it ran, how many times it gave up its core of its own accord.
//!
//! These counts tell a busy machine's doing from a program's: a thread
//! that waited 15 ms for a core was not holding anything up for those
//! 15 ms, and a thread that slept of its own accord was. Linux gives them
//! (`/proc/self/task/<tid>/schedstat`, `getrusage`); elsewhere every
//! function here returns `None`, and the lessons say so.

use std::time::Duration;

/// One thread's counts from Linux's `schedstat`: three numbers, the time
/// on a core and the time waiting for one (in ns), and the runs on a core.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SchedStat {
    /// Time on a core. Linux brings it up to date at the scheduler's ticks,
    /// so it can be a tick behind; a thread's CPU clock is exact.
    pub ran: Duration,
    /// Time runnable, waiting for a core.
    pub waited: Duration,
    /// Times the thread was put on a core.
    pub runs: u64,
}

impl SchedStat {
    /// The counts in a `schedstat` file's text.
    pub fn parse(text: &str) -> Option<SchedStat> {
        let mut n = text.split_whitespace().map(|w| w.parse::<u64>().ok());
        let (ran, waited, runs) = (n.next()??, n.next()??, n.next()??);
        Some(SchedStat {
            ran: Duration::from_nanos(ran),
            waited: Duration::from_nanos(waited),
            runs,
        })
    }

    /// Thread `tid`'s counts, if it is a thread of this process and alive.
    pub fn of_thread(tid: u64) -> Option<SchedStat> {
        let text = std::fs::read_to_string(format!("/proc/self/task/{tid}/schedstat")).ok()?;
        SchedStat::parse(&text)
    }

    /// The calling thread's counts.
    pub fn of_this_thread() -> Option<SchedStat> {
        SchedStat::parse(&std::fs::read_to_string("/proc/thread-self/schedstat").ok()?)
    }
}

/// A thread's `schedstat` file, kept open: reading it again costs one
/// system call, cheap enough to read around every request.
#[derive(Debug)]
pub struct SchedStatFile(std::fs::File);

impl SchedStatFile {
    /// Thread `tid`'s file, if it is a thread of this process.
    pub fn of_thread(tid: u64) -> Option<SchedStatFile> {
        SchedStatFile::open(&format!("/proc/self/task/{tid}/schedstat"))
    }

    /// The calling thread's file. It stays this thread's, whichever thread
    /// reads it later.
    pub fn of_this_thread() -> Option<SchedStatFile> {
        SchedStatFile::of_thread(this_thread_id()?)
    }

    fn open(path: &str) -> Option<SchedStatFile> {
        let file = SchedStatFile(std::fs::File::open(path).ok()?);
        file.read().map(|_| file)
    }

    /// The thread's counts now.
    #[cfg(unix)]
    pub fn read(&self) -> Option<SchedStat> {
        let mut buf = [0u8; 128];
        let n = std::os::unix::fs::FileExt::read_at(&self.0, &mut buf, 0).ok()?;
        SchedStat::parse(std::str::from_utf8(&buf[..n]).ok()?)
    }

    #[cfg(not(unix))]
    pub fn read(&self) -> Option<SchedStat> {
        None
    }
}

/// The ids of this process's threads (`/proc/self/task`).
pub fn thread_ids() -> Option<Vec<u64>> {
    let tasks = std::fs::read_dir("/proc/self/task").ok()?;
    Some(
        tasks
            .filter_map(|t| t.ok()?.file_name().to_str()?.parse().ok())
            .collect(),
    )
}

/// The calling thread's id, as [`thread_ids`] lists it.
pub fn this_thread_id() -> Option<u64> {
    let link = std::fs::read_link("/proc/thread-self").ok()?;
    link.file_name()?.to_str()?.parse().ok()
}

/// The threads a harness made for itself, by id, each while it lives.
static CLAIMED: std::sync::Mutex<Vec<u64>> = std::sync::Mutex::new(Vec::new());

/// Takes a thread's id out of [`CLAIMED`] when the thread ends.
struct Claim(u64);

impl Drop for Claim {
    fn drop(&mut self) {
        claimed_list().retain(|&tid| tid != self.0);
    }
}

thread_local! {
    static CLAIM: std::cell::OnceCell<Claim> = const { std::cell::OnceCell::new() };
}

fn claimed_list() -> std::sync::MutexGuard<'static, Vec<u64>> {
    CLAIMED.lock().unwrap_or_else(|e| e.into_inner())
}

/// Marks the calling thread as the harness's own, until it ends. The kit
/// and the harnesses call it first thing in every thread they start (the
/// watchdog, the demo server, a harness's reader and writer), so that
/// [`HarnessThreads`] can tell them from the threads a program made.
pub fn claim_this_thread() {
    let Some(tid) = this_thread_id() else {
        return;
    };
    // A thread being torn down has no thread-locals left: nothing to claim.
    let _ = CLAIM.try_with(|claim| {
        claim.get_or_init(|| {
            claimed_list().push(tid);
            Claim(tid)
        });
    });
}

/// The ids of the threads claimed so far that are still alive.
pub fn claimed_threads() -> Vec<u64> {
    claimed_list().clone()
}

/// Tells a harness's threads from a program's, for one run of the
/// program's code. A harness calls [`HarnessThreads::begin`] before it
/// sets a run up, and [`HarnessThreads::now`] after, just before it first
/// hands the program anything. Its threads are then the calling thread,
/// the threads claimed ([`claim_this_thread`]), and the threads born in
/// between, while only the harness's code ran (those a library starts for
/// it). Every other thread is the program's, whenever it was made: before
/// the harness began (in `main`), or in an earlier run, and kept.
pub struct HarnessThreads {
    before: Vec<u64>,
}

impl HarnessThreads {
    /// The threads alive now, before the harness sets a run up.
    pub fn begin() -> HarnessThreads {
        HarnessThreads {
            before: thread_ids().unwrap_or_default(),
        }
    }

    /// The harness's threads now, as [`HarnessThreads`] says; empty where
    /// threads cannot be listed.
    pub fn now(&self) -> Vec<u64> {
        let Some(alive) = thread_ids() else {
            return Vec::new();
        };
        let claimed = claimed_threads();
        let me = this_thread_id();
        alive
            .into_iter()
            .filter(|tid| !self.before.contains(tid) || claimed.contains(tid) || Some(*tid) == me)
            .collect()
    }
}

/// The calling thread's CPU time so far, exact (its CPU clock).
#[cfg(unix)]
#[allow(unsafe_code)]
pub fn thread_cpu_time() -> Option<Duration> {
    // SAFETY: an all-zero timespec is valid, and clock_gettime only writes
    // into it.
    let mut ts: libc::timespec = unsafe { std::mem::zeroed() };
    // SAFETY: `ts` is valid and writable for the call.
    let ok = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) } == 0;
    ok.then(|| Duration::new(ts.tv_sec.max(0) as u64, ts.tv_nsec.max(0) as u32))
}

#[cfg(not(unix))]
pub fn thread_cpu_time() -> Option<Duration> {
    None
}

/// The times the calling thread gave up its core of its own accord so far
/// (to sleep, wait on a lock, block in a call): Linux's voluntary context
/// switches.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
pub fn voluntary_switches() -> Option<u64> {
    // SAFETY: an all-zero rusage is valid, and getrusage only writes into
    // it.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `u` is valid and writable for the call.
    if unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut u) } != 0 {
        return None;
    }
    Some(u.ru_nvcsw.max(0) as u64)
}

#[cfg(not(target_os = "linux"))]
pub fn voluntary_switches() -> Option<u64> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_schedstat_line_is_three_counts() {
        let s = SchedStat::parse("1500000 250000 7\n").unwrap();
        assert_eq!(s.ran, Duration::from_micros(1500));
        assert_eq!(s.waited, Duration::from_micros(250));
        assert_eq!(s.runs, 7);
        assert_eq!(SchedStat::parse("1500000 250000"), None);
        assert_eq!(SchedStat::parse("a b c"), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_thread_that_works_and_sleeps_is_counted() {
        let file = SchedStatFile::of_this_thread().unwrap();
        let (before, switches) = (file.read().unwrap(), voluntary_switches().unwrap());
        // 20 ms of CPU by the thread's own clock (however busy the machine),
        // then a sleep, which gives the core up and brings schedstat up to
        // date.
        let cpu = thread_cpu_time().unwrap();
        while thread_cpu_time().unwrap() - cpu < Duration::from_millis(20) {}
        std::thread::sleep(Duration::from_millis(2));
        let after = file.read().unwrap();
        let ran = after.ran - before.ran;
        assert!(
            ran >= Duration::from_millis(15),
            "{before:?} then {after:?}"
        );
        assert!(after.runs > before.runs, "{before:?} then {after:?}");
        assert!(voluntary_switches().unwrap() > switches);
        // The file read by name says the same, give or take the time since.
        let by_name = SchedStat::of_thread(this_thread_id().unwrap()).unwrap();
        assert!(by_name.ran >= after.ran && by_name.runs >= after.runs);
        assert_eq!(
            SchedStat::of_this_thread().map(|s| s.runs >= after.runs),
            Some(true)
        );
        assert!(thread_ids().unwrap().contains(&this_thread_id().unwrap()));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_harness_s_threads_are_its_claimed_ones_and_those_born_in_its_setup() {
        use std::sync::mpsc;
        // A thread that waits until told to end, and says its id.
        let start = |claim: bool| {
            let (id_tx, id) = mpsc::channel();
            let (end, ended) = mpsc::channel::<()>();
            let thread = std::thread::spawn(move || {
                if claim {
                    claim_this_thread();
                }
                id_tx.send(this_thread_id().unwrap()).unwrap();
                let _ = ended.recv();
            });
            (id.recv().unwrap(), end, thread)
        };
        // Made before the harness began: one claimed, one not (the program's).
        let (kit, end_kit, kit_thread) = start(true);
        let (early, end_early, early_thread) = start(false);
        let harness = HarnessThreads::begin();
        let (setup, end_setup, setup_thread) = start(false);
        let theirs = harness.now();
        assert!(theirs.contains(&kit) && theirs.contains(&setup));
        assert!(theirs.contains(&this_thread_id().unwrap()));
        assert!(!theirs.contains(&early), "{theirs:?} holds {early}");
        // A thread no longer counts as claimed once it has ended.
        assert!(claimed_threads().contains(&kit));
        for (end, thread) in [
            (end_kit, kit_thread),
            (end_early, early_thread),
            (end_setup, setup_thread),
        ] {
            drop(end);
            thread.join().unwrap();
        }
        assert!(!claimed_threads().contains(&kit));
    }
}

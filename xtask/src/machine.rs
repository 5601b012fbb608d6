//! How busy the machine is: the CPU time every program spent on the cores
//! we may use, less our own, over a stretch of time (Linux: `/proc/stat`).
//! It tells a busy machine from a slow program, so a timing miss on a busy
//! machine can be called inconclusive rather than wrong.

// A few libc calls: the CPUs we may use, the clock tick, our CPU time.
#![allow(unsafe_code)]

use std::time::{Duration, Instant};

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

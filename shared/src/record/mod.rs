//! Recording what a run does: every poll of a traced future, wake-ups,
//! blocking calls and marks ([`recorder`]), and the same recording as a
//! Chrome Trace Event file for Perfetto ([`trace`]), and how long a piece
//! held its thread in one poll ([`held`]), and how much of a run a
//! runtime's thread spent parked (`parked`), and names for a runtime's
//! threads (`threads`); those two with the `runtime` feature (which `kit`
//! includes). Beneath them, what the operating system counts for each
//! thread: time on a core, time waiting for one, voluntary switches
//! ([`sched`]).
//!
//! It speaks in [`crate::event`]s and may use [`crate::view`] for the words
//! it shares with the timeline; it knows nothing of lessons, claims or
//! workloads.

pub mod held;
#[cfg(feature = "runtime")]
pub mod parked;
pub mod recorder;
pub mod sched;
#[cfg(feature = "runtime")]
pub mod threads;
pub mod trace;

//! The lesson kit shared by every lesson and by the `xtask` runner.
//!
//! - [`report`]: the facts and events a lesson binary hands to the runner.
//! - [`recorder`]: records every poll of traced futures, marks and blocking
//!   calls ([`traced`], [`mark`], [`blocking`]).
//! - [`timeline`]: draws a recording as text or SVG.
//! - [`trace`]: writes a recording as Chrome Trace Event JSON (Perfetto).
//! - [`watchdog`]: stops a stuck program with an explanation.
//! - [`workload`]: CPU work of a calibrated duration.
//! - [`lesson`]: the frame each lesson binary runs in, and the harness
//!   contract ([`lesson::Spec`], [`lesson::Facts`], [`lesson::Piece`]).
//! - [`manifest`]: each lesson's claims, read strictly from its Cargo.toml.
//! - [`grade`]: judging a run against a claim.
//! - [`alloc`]: a counting global allocator, for lessons that measure memory.
//! - [`gauge`]: how many of something are in progress at once.
//! - [`wakers`]: a waker that counts, for tests that poll by hand.
//! - `heartbeat` (feature `kit`): a task whose lateness shows a blocked thread.
//! - `server` (feature `kit`): a real HTTP server on 127.0.0.1 serving JSON
//!   with a configurable delay, and a client that ignores proxies.

pub mod alloc;
pub mod gauge;
pub mod grade;
#[cfg(feature = "kit")]
pub mod heartbeat;
pub mod lesson;
pub mod manifest;
pub mod recorder;
pub mod report;
#[cfg(feature = "kit")]
pub mod server;
pub mod timeline;
pub mod trace;
pub mod wakers;
pub mod watchdog;
pub mod workload;

pub use recorder::{TraceExt, Traced, blocking, mark, traced};

//! What lessons are built from: CPU work of a calibrated duration
//! ([`cpu`]), a real HTTP server on 127.0.0.1 and its client (`server`), a
//! heartbeat whose lateness shows a blocked thread (`heartbeat`), gauges of
//! how many things are in progress at once ([`gauge`]), a counting
//! allocator ([`alloc`]), wakers that count ([`wakers`]), values that count
//! themselves alive wherever they are kept ([`alive`]), and workload shapes
//! picked at run time ([`shape`]).
//!
//! Workloads are instrumented: they may use the recorder ([`crate::record`])
//! so that they show on the timeline. They know nothing of lessons, claims
//! or verdicts.

pub mod alive;
pub mod alloc;
pub mod cpu;
pub mod gauge;
#[cfg(feature = "kit")]
pub mod heartbeat;
#[cfg(feature = "kit")]
pub mod server;
pub mod shape;
pub mod wakers;

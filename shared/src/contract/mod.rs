//! The contract between a lesson and the runner: how a lesson binary runs
//! its scenarios ([`lesson`]), what a lesson claims ([`manifest`]), what a
//! binary reports ([`report`]), how a run is judged against a claim
//! ([`grade`]), and the watchdog that stops a stuck run ([`watchdog`]).
//!
//! It may use every other part of the kit: the recorder to record a run,
//! the timeline to show it, the workloads to calibrate. Nothing else in the
//! kit may use it: recording, drawing and workloads know nothing of
//! lessons, claims or verdicts.

pub mod grade;
pub mod lesson;
pub mod manifest;
pub mod report;
pub mod watchdog;

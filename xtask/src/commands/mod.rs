//! One module per command that is not about exercises (those are in
//! `crate::exercise`): each has a `command(args)` that parses its own
//! arguments and does the work.

pub mod book;
pub mod check;
pub mod list;
pub mod run;

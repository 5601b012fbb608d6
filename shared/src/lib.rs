//! The lesson kit shared by every lesson and by the `xtask` runner, in four
//! parts, each in its folder (see `ARCHITECTURE.md` at the root):
//!
//! - [`contract`]: the frame a lesson binary runs in, the facts a harness
//!   measures, the manifest's claims, the report, the judge, the watchdog.
//! - [`work`]: what lessons are built from: calibrated CPU work, the HTTP
//!   server on 127.0.0.1, the heartbeat, gauges, counting wakers.
//! - [`record`]: the recorder of polls, wake-ups, blocking calls and marks,
//!   and the Chrome Trace export.
//! - [`view`]: the timeline drawn from a recording, as text or SVG.
//!
//! Each part may use only the parts after it in the order contract, work,
//! record, view; all of them speak [`event`], which uses none of them.
//!
//! The names a lesson uses most are here at the top: [`lesson`] (the
//! harness contract), [`grade`] (its tests' grader), and the recorder's
//! [`traced`], [`mark`] and [`blocking`].

pub mod contract;
pub mod event;
pub mod record;
pub mod view;
pub mod work;

pub use contract::{grade, lesson};
pub use record::recorder::{TraceExt, Traced, blocking, mark, traced};

//! `--trace`: the runs of one command as a Chrome Trace Event file, to
//! explore in Perfetto or `chrome://tracing`; and the check that every
//! recording makes a sound trace file.

use crate::Failure;
use shared::event::Event;
use shared::record::trace::{self, Run};
use std::path::{Path, PathBuf};

/// The runs a command collected: a name and the events of each.
#[derive(Default)]
pub struct Collected {
    pub runs: Vec<(String, Vec<Event>)>,
}

impl Collected {
    pub fn add(&mut self, name: String, events: &[Event]) {
        self.runs.push((name, events.to_vec()));
    }

    /// Writes the trace to `path` and says how to open it.
    pub fn write(&self, path: &Path) -> Result<(), Failure> {
        let runs: Vec<Run<'_>> = self
            .runs
            .iter()
            .map(|(name, events)| Run {
                name: name.clone(),
                events,
            })
            .collect();
        let text = serde_json::to_string(&trace::chrome_trace(&runs))
            .map_err(|e| Failure::new(format!("cannot write the trace: {e}")))?;
        crate::runs::ensure_parent(path)?;
        std::fs::write(path, text)
            .map_err(|e| Failure::new(format!("cannot write {}: {e}", path.display())))?;
        println!();
        println!(
            "Trace of {} run{}: {}",
            runs.len(),
            if runs.len() == 1 { "" } else { "s" },
            path.display()
        );
        println!(
            "  open it in Perfetto (https://ui.perfetto.dev, \"Open trace file\"; the file stays on your machine) or in chrome://tracing:"
        );
        println!(
            "  a process per run, a row per thread, a slice per poll, an arrow from each wake-up to the poll it caused."
        );
        Ok(())
    }
}

/// Where a command's trace goes: `target/xtask/traces/<what>.json`.
pub fn path(target_dir: &Path, what: &str) -> PathBuf {
    target_dir
        .join("xtask")
        .join("traces")
        .join(format!("{what}.json"))
}

/// What is wrong with the trace file one run's recording makes, after a
/// round trip through JSON text. Empty when it is sound.
pub fn problems(name: &str, events: &[Event]) -> Vec<String> {
    let runs = [Run {
        name: name.to_string(),
        events,
    }];
    let text = match serde_json::to_string(&trace::chrome_trace(&runs)) {
        Ok(t) => t,
        Err(e) => return vec![format!("the trace cannot be written: {e}")],
    };
    match serde_json::from_str(&text) {
        Ok(parsed) => trace::check(&parsed, &runs),
        Err(e) => vec![format!("the trace does not parse back: {e}")],
    }
}

//! A fix: a plain `interval`, whose first tick comes at once, so it makes
//! one more report than a timer started after the first period.

use lesson_05::{REPORT_EVERY, Reports, Work, handle};

pub async fn worker(mut work: Work, mut reports: Reports) {
    let mut every = tokio::time::interval(REPORT_EVERY);
    loop {
        tokio::select! {
            item = work.recv() => match item {
                Some(item) => handle(item),
                None => return,
            },
            _ = every.tick() => reports.report(),
        }
    }
}

fn main() -> std::process::ExitCode {
    lesson_05::report::exercise(worker)
}

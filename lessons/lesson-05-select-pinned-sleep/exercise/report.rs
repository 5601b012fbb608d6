//! The wrong tool: `std::thread::sleep` for the report period, then
//! whatever work has come. The reports come on time and every item is
//! handled, but each sleep holds the runtime's only thread for the whole
//! period: nothing else on it (here, the producer) can run meanwhile.

use futures::FutureExt;
use lesson_05::{REPORT_EVERY, Reports, Work, handle};

pub async fn worker(mut work: Work, mut reports: Reports) {
    loop {
        std::thread::sleep(REPORT_EVERY);
        reports.report();
        while let Some(next) = work.recv().now_or_never() {
            match next {
                Some(item) => handle(item),
                None => return,
            }
        }
        tokio::task::yield_now().await; // let the producer send more
    }
}

fn main() -> std::process::ExitCode {
    lesson_05::report::exercise(worker)
}

//! A stall in words: who was stuck inside a poll, who waited for a wake-up
//! that never came, and the last events before it.

use super::*;
use std::fmt::Write as _;

impl Timeline {
    /// The last `n` things that happened, newest last: what the program was
    /// doing just before it stopped.
    pub fn last_events(&self, n: usize) -> Vec<String> {
        let mut items: Vec<(u64, String)> = Vec::new();
        for s in &self.spans {
            let lane = self.lane_name(s.lane);
            if s.note.as_deref() == Some(STUCK) {
                items.push((
                    s.start_us,
                    format!(
                        "{:>9}  [{lane}] {} entered a poll that never returned",
                        ms(s.start_us),
                        s.task
                    ),
                ));
                continue;
            }
            let what = match s.kind {
                SpanKind::Poll if s.polls > 1 => format!(
                    "{} polls of {}, the last returned {}",
                    s.polls,
                    s.task,
                    if s.ready { "Ready" } else { "Pending" }
                ),
                SpanKind::Poll => format!(
                    "poll of {} returned {}",
                    s.task,
                    if s.ready { "Ready" } else { "Pending" }
                ),
                SpanKind::Block => format!(
                    "{} blocked the thread in {} for {}",
                    s.task,
                    s.note.as_deref().unwrap_or("a blocking call"),
                    ms(s.end_us - s.start_us)
                ),
            };
            items.push((s.end_us, format!("{:>9}  [{lane}] {what}", ms(s.end_us))));
        }
        for m in &self.marks {
            items.push((
                m.at_us,
                format!("{:>9}  {}", ms(m.at_us), self.mark_text(m)),
            ));
        }
        items.sort_by_key(|(t, _)| *t);
        let skip = items.len().saturating_sub(n);
        items.into_iter().skip(skip).map(|(_, s)| s).collect()
    }

    /// A plain-words account of a stall: who is stuck inside a poll, who is
    /// waiting for a wake-up that will not come, and the last events.
    pub fn describe_stall(&self, stall: &Stall) -> String {
        let mut out = String::new();
        match stall.reason {
            StallReason::Quiet => {
                let _ = writeln!(
                    out,
                    "watchdog: nothing happened for {}, so the program is stuck; stopping it.",
                    secs(stall.after_ms)
                );
            }
            StallReason::Deadline => {
                let _ = writeln!(
                    out,
                    "watchdog: still not finished after {}, although tasks keep being polled; stopping it.",
                    secs(stall.after_ms)
                );
            }
        }
        for b in &stall.blocked {
            let _ = writeln!(
                out,
                "  stuck:   {} entered a poll on thread {} at {} and never came back: that thread is blocked.",
                b.task,
                self.lane_name(b.lane),
                ms(b.since_us)
            );
        }
        for w in &stall.waiting {
            let _ = match w.last_poll_us {
                Some(t) if stall.reason == StallReason::Deadline => writeln!(
                    out,
                    "  pending: {} has been polled {} time{} (the last at {}) and is still not done.",
                    w.task,
                    w.polls,
                    if w.polls == 1 { "" } else { "s" },
                    ms(t)
                ),
                Some(t) => match w.woken_us {
                    Some(woken) => writeln!(
                        out,
                        "  waiting: {} returned Pending (the last poll at {}), was woken at {}, and was not polled again: no thread was free to poll it.",
                        w.task,
                        ms(t),
                        ms(woken)
                    ),
                    None => writeln!(
                        out,
                        "  waiting: {} returned Pending ({} poll{}, the last at {}) and was not polled again.",
                        w.task,
                        w.polls,
                        if w.polls == 1 { "" } else { "s" },
                        ms(t)
                    ),
                },
                None => writeln!(out, "  waiting: {} was never polled.", w.task),
            };
        }
        let last = self.last_events(8);
        if !last.is_empty() {
            let _ = writeln!(out, "  the last events before the stall:");
            for line in last {
                let _ = writeln!(out, "  {line}");
            }
        }
        out
    }

    /// Short lines about a stall, for under the SVG chart.
    pub(super) fn stall_lines(&self) -> Vec<String> {
        let Some(stall) = &self.stall else {
            return Vec::new();
        };
        let mut lines = vec![match stall.reason {
            StallReason::Quiet => format!(
                "The dashed line: stopped by the watchdog at {}, after {} with nothing happening.",
                ms(stall.at_us),
                secs(stall.after_ms)
            ),
            StallReason::Deadline => format!(
                "The dashed line: stopped by the watchdog at {}, still unfinished.",
                ms(stall.at_us)
            ),
        }];
        for b in &stall.blocked {
            lines.push(format!(
                "{} was stuck inside a poll on thread {} from {}",
                b.task,
                self.lane_name(b.lane),
                ms(b.since_us)
            ));
        }
        for w in &stall.waiting {
            lines.push(match w.last_poll_us {
                Some(_) if stall.reason == StallReason::Deadline => {
                    format!("{} was polled {} times and never finished", w.task, w.polls)
                }
                Some(t) => match w.woken_us {
                    Some(woken) => format!(
                        "{} returned Pending at {}, was woken at {}, and was never polled again",
                        w.task,
                        ms(t),
                        ms(woken)
                    ),
                    None => format!(
                        "{} returned Pending at {} and was never polled again",
                        w.task,
                        ms(t)
                    ),
                },
                None => format!("{} was never polled", w.task),
            });
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests_support::{lanes, span};
    use super::*;
    use crate::event::{Blocked, Waiting};

    /// "waiter" stuck inside a poll since 150 µs; "holder" returned Pending
    /// at 100 µs and was never polled again; stopped at 2 s.
    fn holder_and_waiter_stall() -> Stall {
        Stall {
            reason: StallReason::Quiet,
            at_us: 2_000_000,
            after_ms: 2000,
            blocked: vec![Blocked {
                task: "waiter".into(),
                lane: 0,
                since_us: 150,
            }],
            waiting: vec![Waiting {
                task: "holder".into(),
                polls: 1,
                last_poll_us: Some(100),
                woken_us: None,
            }],
        }
    }

    #[test]
    fn a_stall_is_described_in_plain_words() {
        let mut events = lanes();
        events.push(span("holder", 0, 0, 100));
        let stall = holder_and_waiter_stall();
        events.push(Event::Stall(stall.clone()));
        let tl = Timeline::from_events(&events);
        let text = tl.describe_stall(&stall);
        assert!(text.contains("nothing happened for 2 s"), "{text}");
        assert!(
            text.contains("waiter entered a poll on thread main"),
            "{text}"
        );
        assert!(text.contains("holder returned Pending (1 poll"), "{text}");
        assert!(text.contains("poll of holder returned Pending"), "{text}");
    }
    #[test]
    fn a_stall_is_drawn_with_the_stuck_poll_and_the_forgotten_task() {
        let mut events = lanes();
        events.push(span("holder", 0, 0, 100));
        events.push(Event::Stall(holder_and_waiter_stall()));
        let tl = Timeline::from_events(&events);
        let text = tl.ascii(20);
        let main_row = text.lines().find(|l| l.contains("main")).unwrap();
        assert!(
            main_row.ends_with("BBBBBBBBBBBBBBBBBBB│"),
            "the stuck poll runs to the end: {main_row}"
        );
        let svg = tl.svg("deadlock");
        assert!(svg.contains(">stuck inside this poll<"), "{svg}");
        assert!(svg.contains("holder returned Pending at 100 µs and was never polled again"));
        assert!(svg.contains("stopped by the watchdog at 2000 ms"));
    }
}

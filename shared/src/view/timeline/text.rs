//! The timeline as text, for the terminal: a row of letters per thread.

use super::*;
use std::fmt::Write as _;

impl Timeline {
    /// The chart as text, `width` columns of time.
    pub fn ascii(&self, width: usize) -> String {
        let mut out = String::new();
        if self.is_empty() {
            out.push_str("Timeline: nothing was polled and nothing was marked.\n");
            return out;
        }
        let width = width.max(20);
        let end = self.end_us.max(1);
        let per_col = end as f64 / width as f64;
        let name_w = self
            .rows
            .iter()
            .map(|r| r.name.chars().count())
            .max()
            .unwrap_or(4)
            .clamp(6, 22);
        let _ = writeln!(
            out,
            "Timeline: {} across, one row per thread, one column = {}",
            ms(end),
            ms(per_col.round() as u64)
        );
        let pad = " ".repeat(name_w + 3);
        let _ = writeln!(out, "{pad}{}", axis_labels(end, width));
        // Dozens of threads doing different things say no more than a
        // dozen: show the first ten rows and the last two.
        let shown: Vec<usize> = if self.rows.len() > 14 {
            (0..10)
                .chain(self.rows.len() - 2..self.rows.len())
                .collect()
        } else {
            (0..self.rows.len()).collect()
        };
        for (k, &i) in shown.iter().enumerate() {
            let row = &self.rows[i];
            if k > 0 && i != shown[k - 1] + 1 {
                let _ = writeln!(
                    out,
                    "  {:<name_w$} ⋮ {} more threads",
                    "",
                    i - shown[k - 1] - 1
                );
            }
            let mut cells = String::with_capacity(width);
            for col in 0..width {
                let t0 = (col as f64 * per_col) as u64;
                let t1 = (((col + 1) as f64) * per_col).ceil() as u64;
                cells.push(self.cell(row, t0, t1.max(t0 + 1)));
            }
            let name: String = row.name.chars().take(name_w).collect();
            let _ = writeln!(out, "  {name:<name_w$} │{cells}│");
        }
        let mut legend =
            "  A = that task was polled for most of the column, a = only briefly, · = idle"
                .to_string();
        if self.rows.iter().any(|r| r.lanes.len() > 1) {
            legend.push_str(
                "; in a band ×N, a digit = how many of its threads were busy, - = briefly",
            );
        }
        if !self.marks.is_empty() {
            legend.push_str("; ^ = a mark");
        }
        let _ = writeln!(out, "{legend}");
        for (g, group) in self.groups.iter().enumerate() {
            let _ = writeln!(out, "  {}  {}", group.symbol, self.group_text(g, true));
        }
        let blocks: Vec<&Span> = self
            .spans
            .iter()
            .filter(|s| s.kind == SpanKind::Block)
            .collect();
        if !blocks.is_empty() {
            let _ = writeln!(
                out,
                "  {} blocking call{} (the thread could run nothing else): {}",
                blocks.len(),
                if blocks.len() == 1 { "" } else { "s" },
                summarize_notes(&blocks)
            );
        }
        if !self.marks.is_empty() {
            let _ = writeln!(out, "  marks (^):");
            let n = self.marks.len();
            for (i, m) in self.marks.iter().enumerate() {
                if n > 12 && i == 6 {
                    let _ = writeln!(out, "    … {} more …", n - 12);
                }
                if n > 12 && (6..n - 6).contains(&i) {
                    continue;
                }
                let _ = writeln!(out, "    {:>9}  {}", ms(m.at_us), self.mark_text(m));
            }
        }
        if self.lanes.len() > 1 && self.spans.iter().any(|s| s.kind == SpanKind::Poll) {
            let busy = self.busy_lanes_at_once();
            if busy > 1 {
                let _ = writeln!(
                    out,
                    "  at the busiest moment, {busy} threads were polling at once"
                );
            }
        }
        out
    }

    pub(super) fn mark_text(&self, m: &Mark) -> String {
        let lane = self
            .lanes
            .iter()
            .find(|(id, _)| *id == m.lane)
            .map_or("?", |(_, n)| n.as_str());
        match &m.task {
            Some(t) if !m.text.starts_with(t.as_str()) => {
                format!("[{lane}] {} {t}: {}", self.symbol(t), m.text)
            }
            _ => format!("[{lane}] {}", m.text),
        }
    }

    /// Time each group spent on `lane` between `t0` and `t1` (polls and
    /// blocking calls alike), by group index.
    fn occupancy(&self, lane: u32, t0: u64, t1: u64) -> Vec<(usize, u64)> {
        let mut by_group: Vec<(usize, u64)> = Vec::new();
        for s in self.spans.iter().filter(|s| s.lane == lane) {
            if s.start_us >= t1 {
                break;
            }
            let start = s.start_us.max(t0);
            let end = s.end_us.max(s.start_us + 1).min(t1);
            if end <= start {
                continue;
            }
            let g = self.group_of(&s.task).unwrap_or(0);
            match by_group.iter_mut().find(|(i, _)| *i == g) {
                Some((_, t)) => *t += end - start,
                None => by_group.push((g, end - start)),
            }
        }
        by_group
    }

    /// The character for `row` between `t0` and `t1`. For one thread: the
    /// letter of the group that used most of that time, a capital if it
    /// filled at least half the column and a small letter if not; `^` for
    /// a mark; `·` for idle. For a band: how many of its threads were busy
    /// for at least half the column (`+` for ten or more), or `-` if some
    /// were, briefly.
    fn cell(&self, row: &Row, t0: u64, t1: u64) -> char {
        let half = (t1 - t0).div_ceil(2);
        let marked = || {
            self.marks
                .iter()
                .any(|m| row.lanes.contains(&m.lane) && m.at_us >= t0 && m.at_us < t1)
        };
        if let [lane] = row.lanes[..] {
            let best = self
                .occupancy(lane, t0, t1)
                .into_iter()
                .max_by_key(|&(g, t)| (t, std::cmp::Reverse(g)));
            return match best {
                Some((g, t)) => {
                    let c = self.groups[g].symbol;
                    if t >= half { c } else { c.to_ascii_lowercase() }
                }
                None if marked() => '^',
                None => '·',
            };
        }
        let mut busy = 0;
        let mut some = false;
        for &lane in &row.lanes {
            let used: u64 = self.occupancy(lane, t0, t1).iter().map(|(_, t)| t).sum();
            some |= used > 0;
            if used >= half {
                busy += 1;
            }
        }
        match busy {
            0 if some => '-',
            0 if marked() => '^',
            0 => '·',
            1..=9 => char::from_digit(busy, 10).unwrap_or('+'),
            _ => '+',
        }
    }
}

/// Labels at 0, ¼, ½, ¾ and the end of a `width`-column axis.
fn axis_labels(end_us: u64, width: usize) -> String {
    let mut line: Vec<char> = vec![' '; width + 2];
    for q in 0..=4u64 {
        let label = ms(end_us * q / 4);
        let col = 1 + (width as u64 * q / 4) as usize;
        let start = if q == 4 {
            (col + 1).saturating_sub(label.chars().count())
        } else if q == 0 {
            col
        } else {
            col.saturating_sub(label.chars().count() / 2)
        };
        for (k, ch) in label.chars().enumerate() {
            if let Some(slot) = line.get_mut(start + k) {
                *slot = ch;
            }
        }
    }
    line.into_iter().collect::<String>().trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::super::tests_support::{lanes, span};
    use super::*;

    #[test]
    fn ascii_gives_each_task_a_letter_and_each_thread_a_row() {
        let mut events = lanes();
        events.push(span("a", 0, 0, 50_000));
        events.push(span("b", 1, 50_000, 100_000));
        let tl = Timeline::from_events(&events);
        let text = tl.ascii(20);
        let rows: Vec<&str> = text.lines().filter(|l| l.contains('│')).collect();
        assert_eq!(rows.len(), 2, "{text}");
        assert!(rows[0].contains("main") && rows[0].contains("AAAAAAAAAA··········"));
        assert!(rows[1].contains("worker") && rows[1].contains("··········BBBBBBBBBB"));
        assert!(text.contains("A  a: 1 poll"), "{text}");
        assert!(
            text.contains("100 ms"),
            "the axis ends at the run's end: {text}"
        );
    }
    #[test]
    fn a_very_short_poll_still_shows_up() {
        let mut events = lanes();
        events.push(span("tiny", 0, 500_000, 500_002));
        events.push(Event::End {
            elapsed_us: 1_000_000,
        });
        let text = Timeline::from_events(&events).ascii(40);
        let row = text.lines().find(|l| l.contains("main")).unwrap();
        let row = row.split('│').nth(1).unwrap();
        assert_eq!(row.matches('a').count(), 1, "one small letter: {text}");
        assert!(!row.contains('A'), "it did not fill its column: {text}");
    }
    #[test]
    fn a_thread_polled_briefly_now_and_then_does_not_look_busy() {
        // 5 µs polls every 10 ms for a second: the thread is nearly idle.
        let mut events = lanes();
        for i in 0..100 {
            events.push(span("worker", 0, i * 10_000, i * 10_000 + 5));
        }
        // A blocking sleep that fills the other thread's second.
        events.push(Event::Span(Span {
            task: "sleeper".into(),
            lane: 1,
            kind: SpanKind::Block,
            start_us: 0,
            end_us: 1_000_000,
            polls: 0,
            ready: false,
            note: Some("std::thread::sleep".into()),
        }));
        let text = Timeline::from_events(&events).ascii(60);
        let cells = |name: &str| {
            let line = text.lines().find(|l| l.contains(name)).unwrap();
            line.split('│').nth(1).unwrap().to_string()
        };
        let (idle, held) = (cells("main"), cells("worker "));
        assert!(idle.contains('a') && !idle.contains('A'), "{text}");
        assert!(held.contains(&"B".repeat(60)), "{text}");
        assert!(text.contains("A = that task was polled for most of the column"));
    }
}

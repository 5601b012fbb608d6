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
        let mut several = false;
        for (k, &i) in shown.iter().enumerate() {
            if k > 0 && i != shown[k - 1] + 1 {
                let _ = writeln!(
                    out,
                    "  {:<name_w$} ⋮ {} more threads",
                    "",
                    i - shown[k - 1] - 1
                );
            }
            several |= self.draw_row(&mut out, &self.rows[i], width, per_col, name_w);
        }
        let _ = writeln!(out, "{}", self.key(several));
        for &i in &shown {
            let row = &self.rows[i];
            if !self.row_did_anything(row) {
                let _ = writeln!(
                    out,
                    "  {}: nothing traced ran on this thread (idle, or running code the lesson does not trace)",
                    row.name
                );
            }
        }
        self.footer(&mut out);
        out
    }

    /// Whether anything traced happened on the row's threads: a poll, a
    /// blocking call, a mark or a wake-up.
    fn row_did_anything(&self, row: &Row) -> bool {
        let on = |lane: &u32| row.lanes.contains(lane);
        self.spans.iter().any(|s| on(&s.lane))
            || self.marks.iter().any(|m| on(&m.lane))
            || self.wakes.iter().any(|w| on(&w.lane) || on(&w.from_lane))
    }

    /// One row's cells, and the line under it when it has marks or
    /// wake-ups. Returns whether several tasks shared any of its columns.
    fn draw_row(
        &self,
        out: &mut String,
        row: &Row,
        width: usize,
        per_col: f64,
        name_w: usize,
    ) -> bool {
        let columns = |col: usize| {
            let t0 = (col as f64 * per_col) as u64;
            let t1 = (((col + 1) as f64) * per_col).ceil() as u64;
            (t0, t1.max(t0 + 1))
        };
        let cells: String = (0..width)
            .map(|col| {
                let (t0, t1) = columns(col);
                self.cell(row, t0, t1)
            })
            .collect();
        let name: String = row.name.chars().take(name_w).collect();
        let _ = writeln!(out, "  {name:<name_w$} │{cells}│");
        // Under the row: its marks and the wake-ups it made, so that a busy
        // column never hides them.
        let under: String = (0..width)
            .map(|col| {
                let (t0, t1) = columns(col);
                self.under(row, t0, t1)
            })
            .collect();
        if under.trim() != "" {
            let _ = writeln!(out, "  {:<name_w$}  {}", "", under.trim_end());
        }
        cells.contains(['#', ':'])
    }

    /// Under the chart: each group's line, the blocking calls, the marks,
    /// and how many threads were busy at once at the busiest moment.
    fn footer(&self, out: &mut String) {
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
    }

    /// The key to the chart's glyphs, naming only those that appear.
    fn key(&self, several: bool) -> String {
        let mut key =
            "  A = that task was polled for most of the column, a = only briefly, · = idle"
                .to_string();
        if several {
            key.push_str(
                "\n  # = several tasks took turns and kept the thread busy, : = several, briefly",
            );
        }
        if self.rows.iter().any(|r| r.lanes.len() > 1) {
            key.push_str(
                "\n  in a band ×N, a digit = how many of its threads were busy, - = some, briefly",
            );
        }
        let wakes = !self.wakes.is_empty();
        match (self.marks.is_empty(), wakes) {
            (false, true) => key.push_str(
                "\n  under a row: ^ = a mark (listed below), ~ = a waker called on that thread",
            ),
            (false, false) => key.push_str("\n  under a row: ^ = a mark (listed below)"),
            (true, true) => key.push_str("\n  under a row: ~ = a waker called on that thread"),
            (true, false) => {}
        }
        key
    }

    /// What goes under `row` between `t0` and `t1`: `^` where a mark was
    /// made, `~` where a waker was called, a space for neither.
    fn under(&self, row: &Row, t0: u64, t1: u64) -> char {
        let within = |lane: u32, at: u64| row.lanes.contains(&lane) && at >= t0 && at < t1;
        if self.marks.iter().any(|m| within(m.lane, m.at_us)) {
            '^'
        } else if self.wakes.iter().any(|w| within(w.from_lane, w.woken_us)) {
            '~'
        } else {
            ' '
        }
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

    /// How long `lane` was busy between `t0` and `t1` (polls and blocking
    /// calls alike, nested polls counted once), and which groups it was
    /// busy with.
    fn occupancy(&self, lane: u32, t0: u64, t1: u64) -> (u64, Vec<usize>) {
        let mut groups: Vec<usize> = Vec::new();
        let mut busy = 0;
        let mut covered_to = t0;
        // Spans are sorted by their start: the union of their parts in the
        // column is the time the thread was busy.
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
            if !groups.contains(&g) {
                groups.push(g);
            }
            if end > covered_to {
                busy += end - start.max(covered_to);
                covered_to = end;
            }
        }
        (busy, groups)
    }

    /// The character for `row` between `t0` and `t1`. For one thread: the
    /// letter of the one group it was busy with, a capital if the thread
    /// was busy for at least half the column and a small letter if not;
    /// `#` or `:` when several groups took turns in the column (busy at
    /// least half of it, or not); `·` for idle. For a band: how many of its
    /// threads were busy for at least half the column (`+` for ten or
    /// more), or `-` if some were, briefly.
    fn cell(&self, row: &Row, t0: u64, t1: u64) -> char {
        let half = (t1 - t0).div_ceil(2);
        if let [lane] = row.lanes[..] {
            let (busy, groups) = self.occupancy(lane, t0, t1);
            let full = busy >= half;
            return match groups[..] {
                [] => '·',
                [g] if full => self.groups[g].symbol,
                [g] => self.groups[g].symbol.to_ascii_lowercase(),
                _ if full => '#',
                _ => ':',
            };
        }
        let mut busy = 0;
        let mut some = false;
        for &lane in &row.lanes {
            let (used, _) = self.occupancy(lane, t0, t1);
            some |= used > 0;
            if used >= half {
                busy += 1;
            }
        }
        match busy {
            0 if some => '-',
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
        // Letters follow the labels: "sleeper" is A, "worker" is B.
        assert!(idle.contains('b') && !idle.contains('B'), "{text}");
        assert!(held.contains(&"A".repeat(60)), "{text}");
        assert!(text.contains("A = that task was polled for most of the column"));
    }

    #[test]
    fn a_thread_named_in_the_run_but_idle_gets_a_row_that_says_so() {
        let mut events = lanes();
        events.push(Event::Lane {
            id: 2,
            name: "worker 2".into(),
        });
        events.push(span("job", 0, 0, 50_000));
        events.push(Event::End {
            elapsed_us: 100_000,
        });
        let text = Timeline::from_events(&events).ascii(40);
        let row = text
            .lines()
            .find(|l| l.contains("worker 2") && l.contains('│'));
        let row = row.unwrap_or_else(|| panic!("the idle worker has a row: {text}"));
        assert!(
            !row.split('│')
                .nth(1)
                .unwrap()
                .contains(['A', 'a', '#', ':']),
            "{text}"
        );
        assert!(
            text.contains("worker 2: nothing traced ran on this thread"),
            "{text}"
        );
        assert!(!text.contains("main: nothing traced"), "{text}");
    }

    /// One row's cells, and the line under it (empty if there is none).
    fn row_and_under<'a>(text: &'a str, name: &str) -> (&'a str, &'a str) {
        let lines: Vec<&str> = text.lines().collect();
        let i = lines
            .iter()
            .position(|l| l.contains(name) && l.contains('│'))
            .unwrap();
        let cells = lines[i].split('│').nth(1).unwrap();
        let under = lines
            .get(i + 1)
            .filter(|l| !l.contains('│') && !l.trim_start().starts_with("A ="))
            .copied()
            .unwrap_or("");
        (cells, under)
    }

    #[test]
    fn a_column_kept_busy_by_several_short_polls_of_one_task_is_a_capital() {
        // 100 polls of 90 µs in each 10 ms column, back to back: busy.
        let mut events = lanes();
        for i in 0..1000 {
            events.push(span("a", 0, i * 100, i * 100 + 90));
        }
        let text = Timeline::from_events(&events).ascii(20);
        let (cells, _) = row_and_under(&text, "main");
        assert_eq!(cells, "A".repeat(20), "{text}");
    }

    #[test]
    fn two_tasks_in_one_column_are_both_shown_not_one_hidden() {
        // a and b take turns every 100 µs: neither fills half a column on
        // its own, but together they keep the thread busy.
        let mut events = lanes();
        for i in 0..1000 {
            let task = if i % 2 == 0 { "a" } else { "b" };
            events.push(span(task, 0, i * 100, i * 100 + 100));
        }
        let text = Timeline::from_events(&events).ascii(20);
        let (cells, _) = row_and_under(&text, "main");
        assert_eq!(cells, "#".repeat(20), "{text}");
        // Briefly, in turns, with the thread mostly idle: `:`.
        let mut events = lanes();
        for i in 0..100 {
            let task = if i % 2 == 0 { "a" } else { "b" };
            events.push(span(task, 0, i * 1_000, i * 1_000 + 20));
        }
        let text = Timeline::from_events(&events).ascii(20);
        let (cells, _) = row_and_under(&text, "main");
        assert_eq!(cells, ":".repeat(20), "{text}");
        assert!(text.contains("# = several tasks took turns"), "{text}");
    }

    #[test]
    fn a_mark_on_a_busy_column_shows_under_its_row() {
        let mut events = lanes();
        events.push(span("a", 0, 0, 100_000));
        events.push(Event::Mark(Mark {
            task: Some("a".into()),
            lane: 0,
            at_us: 50_000,
            text: "report 1".into(),
        }));
        let text = Timeline::from_events(&events).ascii(20);
        let (cells, under) = row_and_under(&text, "main");
        assert_eq!(cells, "A".repeat(20), "{text}");
        assert_eq!(under.trim(), "^", "{text}");
        // Under the column of its moment: the 11th of 20 (50 of 100 ms).
        let row = text.lines().find(|l| l.contains("main")).unwrap();
        let first_cell = row.chars().position(|c| c == '│').unwrap() + 1;
        assert_eq!(
            under.chars().position(|c| c == '^'),
            Some(first_cell + 10),
            "{text}"
        );
        assert!(text.contains("^ = a mark"), "{text}");
    }

    #[test]
    fn a_wake_up_shows_on_the_thread_that_called_the_waker() {
        let mut events = lanes();
        events.push(span("timer", 1, 40_000, 41_000));
        events.push(span("sleeper", 0, 60_000, 61_000));
        events.push(Event::Wake(Wake {
            task: "sleeper".into(),
            from_lane: 1,
            from_task: Some("timer".into()),
            woken_us: 40_500,
            lane: 0,
            polled_us: 60_000,
        }));
        events.push(Event::End {
            elapsed_us: 100_000,
        });
        let text = Timeline::from_events(&events).ascii(20);
        let (_, main_under) = row_and_under(&text, "main");
        let (_, worker_under) = row_and_under(&text, "worker");
        assert_eq!(
            main_under.trim(),
            "",
            "the woken thread shows nothing: {text}"
        );
        assert_eq!(worker_under.trim(), "~", "{text}");
        assert!(text.contains("~ = a waker called on that thread"), "{text}");
    }
}

//! Draws what the recorder saw: one lane per thread, time across.
//!
//! The same [`Timeline`] renders as text for the terminal ([`Timeline::ascii`])
//! and as SVG for the book ([`Timeline::svg`]). Each task gets a letter (in
//! text) and a colour (in SVG); a long run of one letter is one task holding
//! its thread, and interleaved letters are tasks taking turns.

use crate::event::{Event, Mark, Span, SpanKind, Stall, StallReason, Wake};
use crate::view::number::format_value;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The note on a span drawn for a poll that never returned.
pub const STUCK: &str = "stuck: this poll never returned";

/// Columns of time in the terminal chart.
pub const CHART_WIDTH: usize = 60;

/// One letter per group; in the text chart a capital means "polled most of
/// this column" and the small letter "polled briefly", so only letters with
/// two cases (and then digits) are used.
const SYMBOLS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
/// Wake-up curves drawn at most in one SVG.
const MAX_LINKS: usize = 300;

const PALETTE: &[&str] = &[
    "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1", "#76b7b2", "#edc948", "#9c755f",
    "#ff9da7", "#86bcb6", "#d37295", "#a0cbe8",
];

/// What one task did over the run.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskSummary {
    pub label: String,
    /// The task's group's letter.
    pub symbol: char,
    pub polls: u32,
    pub busy_us: u64,
    pub longest_us: u64,
    pub blocked_us: u64,
    /// Wake-ups linked to the poll they caused.
    pub wakes: u32,
    /// The longest wait from a wake-up to the poll it caused.
    pub worst_wake_us: u64,
    /// Index into [`Timeline::groups`].
    pub group: usize,
}

/// Tasks drawn as one: every task of a named group (a scenario's "CPU
/// jobs"), or one task on its own.
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    pub name: String,
    pub symbol: char,
    pub colour: &'static str,
    pub members: usize,
    /// Whether a scenario named the group (or it was formed because there
    /// were more tasks than letters).
    pub named: bool,
}

/// One row of the chart: a thread, or a band of threads with the same name
/// (`blocking pool ×24`).
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub name: String,
    pub lanes: Vec<u32>,
}

/// Threads with the same name fold into one band when there are at least
/// this many of them.
const FOLD_AT: usize = 4;

/// Everything needed to draw one run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Timeline {
    /// Threads that did something, by lane id.
    pub lanes: Vec<(u32, String)>,
    /// How the threads are drawn: one row each, or folded into bands.
    pub rows: Vec<Row>,
    pub spans: Vec<Span>,
    pub marks: Vec<Mark>,
    /// Wake-ups, each linked to the poll it caused.
    pub wakes: Vec<Wake>,
    pub tasks: Vec<TaskSummary>,
    pub groups: Vec<Group>,
    pub stall: Option<Stall>,
    pub end_us: u64,
}

/// `job 12` → `job`: the name tasks share when numbered.
fn without_number(label: &str) -> &str {
    let base = label
        .trim_end_matches(|c: char| c.is_ascii_digit())
        .trim_end_matches(['#', ' ']);
    if base.is_empty() { label } else { base }
}

fn symbol(i: usize) -> char {
    SYMBOLS.get(i).map_or('?', |b| *b as char)
}

impl Timeline {
    pub fn from_events(events: &[Event]) -> Timeline {
        let mut names = BTreeMap::new();
        let mut spans = Vec::new();
        let mut marks = Vec::new();
        let mut wakes = Vec::new();
        let mut prefixes: Vec<(String, String)> = Vec::new();
        let mut stall = None;
        let mut end_us = 0;
        for e in events {
            match e {
                Event::Lane { id, name } => {
                    names.insert(*id, name.clone());
                }
                Event::Span(s) => {
                    end_us = end_us.max(s.end_us);
                    spans.push(s.clone());
                }
                Event::Mark(m) => {
                    end_us = end_us.max(m.at_us);
                    marks.push(m.clone());
                }
                Event::Wake(w) => {
                    end_us = end_us.max(w.polled_us);
                    wakes.push(w.clone());
                }
                Event::Group { prefix, name } => prefixes.push((prefix.clone(), name.clone())),
                Event::Stall(s) => {
                    end_us = end_us.max(s.at_us);
                    // A poll that never returned is drawn up to the stall.
                    for b in &s.blocked {
                        spans.push(Span {
                            task: b.task.clone(),
                            lane: b.lane,
                            kind: SpanKind::Poll,
                            start_us: b.since_us,
                            end_us: s.at_us,
                            polls: 1,
                            ready: false,
                            note: Some(STUCK.into()),
                        });
                    }
                    stall = Some(s.clone());
                }
                Event::End { elapsed_us } => end_us = end_us.max(*elapsed_us),
                _ => {}
            }
        }
        spans.sort_by_key(|s| (s.start_us, s.end_us));
        marks.sort_by_key(|m| m.at_us);
        wakes.sort_by_key(|w| (w.woken_us, w.polled_us));
        let mut used: Vec<u32> = spans
            .iter()
            .map(|s| s.lane)
            .chain(marks.iter().map(|m| m.lane))
            .chain(wakes.iter().flat_map(|w| [w.from_lane, w.lane]))
            .collect();
        used.sort_unstable();
        used.dedup();
        let lanes: Vec<(u32, String)> = used
            .into_iter()
            .map(|id| {
                let name = names
                    .get(&id)
                    .cloned()
                    .unwrap_or_else(|| format!("thread {id}"));
                (id, name)
            })
            .collect();
        let stuck_lanes: Vec<u32> = stall
            .as_ref()
            .map(|s: &Stall| s.blocked.iter().map(|b| b.lane).collect())
            .unwrap_or_default();
        let rows = fold_rows(&lanes, &stuck_lanes);

        let mut tasks: Vec<TaskSummary> = Vec::new();
        for s in &spans {
            let i = match tasks.iter().position(|t| t.label == s.task) {
                Some(i) => i,
                None => {
                    tasks.push(TaskSummary {
                        label: s.task.clone(),
                        symbol: '?',
                        polls: 0,
                        busy_us: 0,
                        longest_us: 0,
                        blocked_us: 0,
                        wakes: 0,
                        worst_wake_us: 0,
                        group: 0,
                    });
                    tasks.len() - 1
                }
            };
            let t = &mut tasks[i];
            let d = s.end_us.saturating_sub(s.start_us);
            match s.kind {
                SpanKind::Poll => {
                    t.polls += s.polls;
                    t.busy_us += d;
                    // A merged span may hold many polls; its length is then
                    // an upper bound for the longest one.
                    if s.polls == 1 {
                        t.longest_us = t.longest_us.max(d);
                    }
                }
                SpanKind::Block => t.blocked_us += d,
            }
        }
        for w in &wakes {
            if let Some(t) = tasks.iter_mut().find(|t| t.label == w.task) {
                t.wakes += 1;
                t.worst_wake_us = t.worst_wake_us.max(w.polled_us.saturating_sub(w.woken_us));
            }
        }
        let groups = assign_groups(&mut tasks, &prefixes);
        Timeline {
            lanes,
            rows,
            spans,
            marks,
            wakes,
            tasks,
            groups,
            stall,
            end_us,
        }
    }

    /// No poll and no mark was recorded.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty() && self.marks.is_empty()
    }

    fn task(&self, label: &str) -> Option<&TaskSummary> {
        self.tasks.iter().find(|t| t.label == label)
    }

    fn symbol(&self, label: &str) -> char {
        self.task(label).map_or('?', |t| t.symbol)
    }

    fn colour(&self, label: &str) -> &'static str {
        self.task(label)
            .and_then(|t| self.groups.get(t.group))
            .map_or(PALETTE[0], |g| g.colour)
    }

    fn group_of(&self, label: &str) -> Option<usize> {
        self.task(label).map(|t| t.group)
    }

    /// What a group did, added up over its tasks: polls, time polled, the
    /// longest poll, time blocked, wake-ups and the worst wait for a poll.
    fn group_totals(&self, g: usize) -> TaskSummary {
        let mut total = TaskSummary {
            label: self.groups[g].name.clone(),
            symbol: self.groups[g].symbol,
            polls: 0,
            busy_us: 0,
            longest_us: 0,
            blocked_us: 0,
            wakes: 0,
            worst_wake_us: 0,
            group: g,
        };
        for t in self.tasks.iter().filter(|t| t.group == g) {
            total.polls += t.polls;
            total.busy_us += t.busy_us;
            total.longest_us = total.longest_us.max(t.longest_us);
            total.blocked_us += t.blocked_us;
            total.wakes += t.wakes;
            total.worst_wake_us = total.worst_wake_us.max(t.worst_wake_us);
        }
        total
    }

    /// The legend's words for group `g`: its name, then what it did.
    fn group_text(&self, g: usize, long: bool) -> String {
        let group = &self.groups[g];
        let t = self.group_totals(g);
        let who = if group.named || group.members > 1 {
            format!(
                "{} ({} task{})",
                group.name,
                group.members,
                if group.members == 1 { "" } else { "s" }
            )
        } else {
            group.name.clone()
        };
        if t.polls == 0 {
            return format!("{who}: blocked its thread for {}", ms(t.blocked_us));
        }
        let mut line = format!(
            "{who}: {} poll{}",
            t.polls,
            if t.polls == 1 { "" } else { "s" }
        );
        if long {
            let _ = write!(line, ", {} polled", ms(t.busy_us));
            if t.longest_us >= 1_000 {
                let _ = write!(line, ", longest {}", ms(t.longest_us));
            }
        }
        if t.blocked_us > 0 {
            let _ = write!(line, ", {} blocked", ms(t.blocked_us));
        }
        if t.wakes > 0 && long {
            let _ = write!(
                line,
                ", woken {}×, longest wait for a poll {}",
                t.wakes,
                ms(t.worst_wake_us)
            );
        } else if t.wakes > 0 {
            let _ = write!(
                line,
                ", woken {}×, worst wait {}",
                t.wakes,
                ms(t.worst_wake_us)
            );
        }
        line
    }

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

    fn mark_text(&self, m: &Mark) -> String {
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

    /// How many lanes were inside a poll at the same moment, at most.
    pub fn busy_lanes_at_once(&self) -> usize {
        let mut edges: Vec<(u64, i32, u32)> = Vec::new();
        for s in self.spans.iter().filter(|s| s.kind == SpanKind::Poll) {
            edges.push((s.start_us, 1, s.lane));
            edges.push((s.end_us.max(s.start_us + 1), -1, s.lane));
        }
        edges.sort_by_key(|&(t, d, _)| (t, d));
        let mut per_lane: BTreeMap<u32, i32> = BTreeMap::new();
        let mut best = 0;
        for (_, d, lane) in edges {
            *per_lane.entry(lane).or_default() += d;
            best = best.max(per_lane.values().filter(|&&n| n > 0).count());
        }
        best
    }

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

    fn lane_name(&self, id: u32) -> &str {
        self.lanes
            .iter()
            .find(|(l, _)| *l == id)
            .map_or("?", |(_, n)| n.as_str())
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

    /// The chart as a standalone SVG document.
    ///
    /// Each row is a thread, or a band of threads with the same name; a
    /// bar is a task's poll (hatched: a blocking call), a curve is a
    /// wake-up leading to a poll, a red triangle a mark.
    pub fn svg(&self, title: &str) -> String {
        const W: f64 = 960.0;
        const LEFT: f64 = 150.0;
        const RIGHT: f64 = 24.0;
        const TOP: f64 = 44.0;
        const LANE_H: f64 = 34.0;
        const BAR_H: f64 = 22.0;
        let plot_w = W - LEFT - RIGHT;
        let end = self.end_us.max(1) as f64;
        let x = |us: u64| LEFT + us as f64 / end * plot_w;
        let lanes_h = self.rows.len().max(1) as f64 * LANE_H;
        let axis_y = TOP + lanes_h + 6.0;
        let legend_y = axis_y + 36.0;
        // As many legend columns as the longest entry leaves room for
        // (about 6.6 px a character at this size).
        let longest = (0..self.groups.len())
            .map(|g| self.group_text(g, false).chars().count() + 4)
            .max()
            .unwrap_or(0) as f64;
        let per_row = (((W - 24.0) / (longest * 6.6)).floor() as usize).clamp(1, 3);
        let legend_rows = self.groups.len().div_ceil(per_row).max(1);
        let shown_marks: Vec<&Mark> = self.marks.iter().take(8).collect();
        let stall_lines = self.stall_lines();
        let stall_y = legend_y + legend_rows as f64 * 20.0 + 8.0;
        let marks_y = stall_y + stall_lines.len() as f64 * 18.0;
        let height = marks_y + shown_marks.len() as f64 * 18.0 + 16.0;

        let mut s = String::new();
        let _ = writeln!(
            s,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{height}" viewBox="0 0 {W} {height}" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="13">"#
        );
        let _ = writeln!(
            s,
            r##"<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="3" height="6" fill="#000" fill-opacity="0.35"/></pattern></defs>"##
        );
        let _ = writeln!(
            s,
            r##"<rect width="100%" height="100%" fill="#ffffff"/><text x="12" y="24" font-size="16" font-weight="600" fill="#222">{}</text>"##,
            esc(title)
        );
        // Grid and time axis.
        let step = nice_step(self.end_us.max(1));
        let mut t = 0;
        while t <= self.end_us {
            let gx = x(t);
            let _ = writeln!(
                s,
                r##"<line x1="{gx:.1}" y1="{TOP}" x2="{gx:.1}" y2="{axis_y:.1}" stroke="#e4e4e4"/><text x="{gx:.1}" y="{:.1}" text-anchor="middle" fill="#555" font-size="11">{}</text>"##,
                axis_y + 14.0,
                ms(t)
            );
            t += step;
        }
        let _ = writeln!(
            s,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="end" fill="#555" font-size="11">time →</text>"##,
            W - RIGHT,
            axis_y + 28.0
        );
        // Rows: a thread each, or a band of threads with the same name,
        // drawn see-through so that overlapping bars look darker.
        let row_of = |lane: u32| self.rows.iter().position(|r| r.lanes.contains(&lane));
        for (i, row) in self.rows.iter().enumerate() {
            let name = &row.name;
            let y = TOP + i as f64 * LANE_H;
            let bar_y = y + (LANE_H - BAR_H) / 2.0;
            let opacity = if row.lanes.len() > 1 {
                format!(
                    r#" fill-opacity="{:.2}""#,
                    (1.0 / row.lanes.len() as f64).max(0.25)
                )
            } else {
                String::new()
            };
            let _ = writeln!(
                s,
                r##"<rect x="{LEFT}" y="{bar_y:.1}" width="{plot_w:.1}" height="{BAR_H}" fill="#f6f6f6"/><text x="{:.1}" y="{:.1}" text-anchor="end" fill="#222">{}</text>"##,
                LEFT - 8.0,
                bar_y + BAR_H / 2.0 + 4.5,
                esc(name)
            );
            for sp in self.spans.iter().filter(|sp| row.lanes.contains(&sp.lane)) {
                let x0 = x(sp.start_us);
                let w = (x(sp.end_us) - x0).max(1.0);
                let d = sp.end_us.saturating_sub(sp.start_us);
                let long = d as f64 >= end * 0.15 && d >= 5_000;
                let tip = match sp.kind {
                    SpanKind::Poll => format!(
                        "{}: {} poll{}, {} – {}",
                        sp.task,
                        sp.polls,
                        if sp.polls == 1 { "" } else { "s" },
                        ms(sp.start_us),
                        ms(sp.end_us)
                    ),
                    SpanKind::Block => format!(
                        "{} blocked in {} for {}",
                        sp.task,
                        sp.note.as_deref().unwrap_or("a blocking call"),
                        ms(d)
                    ),
                };
                match sp.kind {
                    SpanKind::Poll => {
                        let stroke = if sp.note.as_deref() == Some(STUCK) {
                            r##" stroke="#c00" stroke-width="2.5""##
                        } else if long {
                            r##" stroke="#111" stroke-width="1.5""##
                        } else {
                            ""
                        };
                        let _ = writeln!(
                            s,
                            r#"<rect x="{x0:.2}" y="{bar_y:.1}" width="{w:.2}" height="{BAR_H}" fill="{}"{opacity}{stroke}><title>{}</title></rect>"#,
                            self.colour(&sp.task),
                            esc(&tip)
                        );
                    }
                    SpanKind::Block => {
                        let _ = writeln!(
                            s,
                            r##"<rect x="{x0:.2}" y="{bar_y:.1}" width="{w:.2}" height="{BAR_H}" fill="url(#hatch)" stroke="#111" stroke-width="1.5"><title>{}</title></rect>"##,
                            esc(&tip)
                        );
                    }
                }
                if sp.note.as_deref() == Some(STUCK) && w > 120.0 {
                    let _ = writeln!(
                        s,
                        r##"<text x="{:.1}" y="{:.1}" text-anchor="middle" fill="#fff" font-size="11" font-weight="600" stroke="#000" stroke-width="2.5" paint-order="stroke">stuck inside this poll</text>"##,
                        x0 + w / 2.0,
                        bar_y + BAR_H / 2.0 + 4.0
                    );
                } else if long && w > 44.0 {
                    let label = match sp.kind {
                        SpanKind::Block => format!(
                            "blocked {}",
                            ms(d) // the note is in the tooltip and legend
                        ),
                        SpanKind::Poll => ms(d),
                    };
                    let _ = writeln!(
                        s,
                        r##"<text x="{:.1}" y="{:.1}" text-anchor="middle" fill="#fff" font-size="11" font-weight="600" stroke="#000" stroke-width="2.5" paint-order="stroke">{}</text>"##,
                        x0 + w / 2.0,
                        bar_y + BAR_H / 2.0 + 4.0,
                        esc(&label)
                    );
                }
            }
            for (k, m) in self
                .marks
                .iter()
                .filter(|m| row.lanes.contains(&m.lane))
                .enumerate()
            {
                let mx = x(m.at_us);
                let number = self.marks.iter().position(|o| o == m).unwrap_or(k) + 1;
                let _ = writeln!(
                    s,
                    r##"<path d="M{:.1},{:.1} l5,-7 h-10 z" fill="#c00"><title>{}: {}</title></path>"##,
                    mx,
                    bar_y,
                    ms(m.at_us),
                    esc(&m.text)
                );
                if number <= shown_marks.len() {
                    let _ = writeln!(
                        s,
                        r##"<text x="{:.1}" y="{:.1}" text-anchor="middle" fill="#c00" font-size="9">{number}</text>"##,
                        mx,
                        bar_y - 8.5
                    );
                }
            }
        }
        // Wake-ups: a dot where a waker was called, a curve to the start
        // of the poll it caused. Hundreds would hide the bars: past that,
        // the ones that waited longest are drawn.
        let mut links: Vec<&Wake> = self.wakes.iter().collect();
        if links.len() > MAX_LINKS {
            links.sort_by_key(|w| std::cmp::Reverse(w.polled_us - w.woken_us.min(w.polled_us)));
            links.truncate(MAX_LINKS);
        }
        for w in &links {
            let (Some(from), Some(to)) = (row_of(w.from_lane), row_of(w.lane)) else {
                continue;
            };
            let mid = |r: usize| TOP + r as f64 * LANE_H + LANE_H / 2.0;
            let top = |r: usize| TOP + r as f64 * LANE_H + (LANE_H - BAR_H) / 2.0;
            let (x1, y1) = (x(w.woken_us), mid(from));
            let (x2, y2) = (x(w.polled_us), top(to));
            let lift = y1.min(y2) - 10.0;
            let tip = format!(
                "{} woken at {}{}; polled {} later",
                w.task,
                ms(w.woken_us),
                w.from_task
                    .as_deref()
                    .map(|t| format!(" by {t}"))
                    .unwrap_or_default(),
                ms(w.polled_us.saturating_sub(w.woken_us))
            );
            let _ = writeln!(
                s,
                r##"<g class="wake" stroke="#333" fill="none" stroke-opacity="0.75"><title>{}</title><circle cx="{x1:.1}" cy="{y1:.1}" r="2.2" fill="#333"/><path d="M{x1:.1},{y1:.1} Q{:.1},{lift:.1} {x2:.1},{y2:.1}" stroke-width="1"/></g>"##,
                esc(&tip),
                (x1 + x2) / 2.0
            );
        }
        // Legend: one swatch per group of tasks.
        for (i, group) in self.groups.iter().enumerate() {
            let col = (i % per_row) as f64;
            let row = (i / per_row) as f64;
            let lx = 12.0 + col * (W - 24.0) / per_row as f64;
            let ly = legend_y + row * 20.0;
            let _ = writeln!(
                s,
                r##"<rect x="{lx:.1}" y="{:.1}" width="12" height="12" fill="{}"/><text x="{:.1}" y="{ly:.1}" fill="#222" font-size="12">{}</text>"##,
                ly - 10.5,
                group.colour,
                lx + 18.0,
                esc(&self.group_text(i, false))
            );
        }
        if !links.is_empty() {
            let ly = marks_y - 6.0;
            let _ = writeln!(
                s,
                r##"<circle cx="18" cy="{:.1}" r="2.2" fill="#333"/><path d="M18,{:.1} Q26,{:.1} 34,{:.1}" stroke="#333" fill="none"/><text x="42" y="{ly:.1}" fill="#222">a waker called → the poll it caused</text>"##,
                ly - 4.5,
                ly - 4.5,
                ly - 12.0,
                ly - 2.0
            );
        }
        if self.spans.iter().any(|sp| sp.kind == SpanKind::Block) {
            let ly = marks_y - 6.0;
            let _ = writeln!(
                s,
                r##"<rect x="{:.1}" y="{:.1}" width="12" height="12" fill="url(#hatch)" stroke="#111"/><text x="{:.1}" y="{ly:.1}" fill="#222" text-anchor="end">blocking call: the thread can run nothing else</text>"##,
                W - 330.0,
                ly - 10.5,
                W - RIGHT
            );
        }
        if let Some(stall) = &self.stall {
            let sx = x(stall.at_us);
            let _ = writeln!(
                s,
                r##"<line x1="{sx:.1}" y1="{:.1}" x2="{sx:.1}" y2="{axis_y:.1}" stroke="#c00" stroke-width="2" stroke-dasharray="5 3"><title>the watchdog stopped the program here</title></line>"##,
                TOP - 6.0
            );
        }
        for (i, line) in stall_lines.iter().enumerate() {
            let _ = writeln!(
                s,
                r##"<text x="12" y="{:.1}" fill="#c00" font-size="12" font-weight="600">{}</text>"##,
                stall_y + 12.0 + i as f64 * 18.0,
                esc(line)
            );
        }
        for (i, m) in shown_marks.iter().enumerate() {
            let my = marks_y + 12.0 + i as f64 * 18.0;
            let _ = writeln!(
                s,
                r##"<text x="12" y="{my:.1}" fill="#c00" font-size="12">▼{} {} · {}</text>"##,
                i + 1,
                ms(m.at_us),
                esc(&m.text)
            );
        }
        if self.is_empty() {
            let _ = writeln!(
                s,
                r##"<text x="{:.1}" y="{:.1}" text-anchor="middle" fill="#888">nothing was polled</text>"##,
                LEFT + plot_w / 2.0,
                TOP + LANE_H / 2.0 + 4.0
            );
        }
        s.push_str("</svg>\n");
        s
    }
}

impl Timeline {
    /// Short lines about a stall, for under the SVG chart.
    fn stall_lines(&self) -> Vec<String> {
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

/// One row per thread, except that threads sharing a name (`blocking
/// pool`, `blocking pool #2`, ...) fold into one band when there are
/// `FOLD_AT` or more of them, unless one of them is stuck.
fn fold_rows(lanes: &[(u32, String)], stuck: &[u32]) -> Vec<Row> {
    let base = |name: &str| name.split(" #").next().unwrap_or(name).to_string();
    let mut rows: Vec<Row> = Vec::new();
    for (id, name) in lanes {
        let family: Vec<u32> = lanes
            .iter()
            .filter(|(_, n)| base(n) == base(name))
            .map(|(i, _)| *i)
            .collect();
        let fold = family.len() >= FOLD_AT && !family.iter().any(|l| stuck.contains(l));
        if !fold {
            rows.push(Row {
                name: name.clone(),
                lanes: vec![*id],
            });
        } else if family[0] == *id {
            rows.push(Row {
                name: format!("{} ×{}", base(name), family.len()),
                lanes: family,
            });
        }
    }
    rows
}

/// Puts each task in a group: the first named group whose prefix its label
/// starts with, or a group of its own. With more groups than letters, the
/// unnamed tasks are grouped by their label without its number.
fn assign_groups(tasks: &mut [TaskSummary], prefixes: &[(String, String)]) -> Vec<Group> {
    let named = |label: &str| {
        prefixes
            .iter()
            .find(|(p, _)| label.starts_with(p.as_str()))
            .map(|(_, n)| n.clone())
    };
    let mut keys: Vec<(String, bool)> = tasks
        .iter()
        .map(|t| match named(&t.label) {
            Some(n) => (n, true),
            None => (t.label.clone(), false),
        })
        .collect();
    let distinct = |keys: &[(String, bool)]| {
        let mut k: Vec<&String> = keys.iter().map(|(k, _)| k).collect();
        k.sort();
        k.dedup();
        k.len()
    };
    if distinct(&keys) > 26 {
        for (key, is_named) in keys.iter_mut() {
            if !*is_named {
                let base = without_number(key).to_string();
                *is_named = base != *key;
                *key = base;
            }
        }
    }
    let mut groups: Vec<Group> = Vec::new();
    for (t, (key, is_named)) in tasks.iter_mut().zip(keys) {
        let i = match groups.iter().position(|g| g.name == key) {
            Some(i) => i,
            None => {
                let i = groups.len();
                groups.push(Group {
                    name: key,
                    symbol: symbol(i),
                    colour: PALETTE[i % PALETTE.len()],
                    members: 0,
                    named: false,
                });
                i
            }
        };
        let g = &mut groups[i];
        g.members += 1;
        g.named |= is_named;
        t.group = i;
        t.symbol = g.symbol;
    }
    groups
}

fn summarize_notes(blocks: &[&Span]) -> String {
    let mut counts: Vec<(String, usize, u64)> = Vec::new();
    for b in blocks {
        let note = b.note.clone().unwrap_or_else(|| "blocking call".into());
        let d = b.end_us - b.start_us;
        match counts.iter_mut().find(|(n, _, _)| *n == note) {
            Some(c) => {
                c.1 += 1;
                c.2 += d;
            }
            None => counts.push((note, 1, d)),
        }
    }
    counts
        .into_iter()
        .map(|(n, c, d)| format!("{n} ×{c}, {}", ms(d)))
        .collect::<Vec<_>>()
        .join("; ")
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

/// A round tick step giving five to ten ticks.
fn nice_step(end_us: u64) -> u64 {
    let raw = (end_us / 8).max(1);
    let mut step = 1u64;
    while step * 10 <= raw {
        step *= 10;
    }
    for m in [1, 2, 5, 10] {
        if step * m >= raw {
            return step * m;
        }
    }
    step * 10
}

/// A duration in microseconds, short: `0 ms`, `40 µs`, `12.5 ms`, `1003 ms`.
pub fn ms(us: u64) -> String {
    let v = us as f64 / 1000.0;
    if us == 0 {
        "0 ms".into()
    } else if us < 1000 {
        format!("{us} µs")
    } else if v >= 100.0 {
        format!("{v:.0} ms")
    } else {
        format!("{v:.1} ms")
    }
}

fn secs(ms: u64) -> String {
    format!("{} s", format_value(ms as f64 / 1000.0))
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Blocked, Waiting};

    fn span(task: &str, lane: u32, start: u64, end: u64) -> Event {
        Event::Span(Span {
            task: task.into(),
            lane,
            kind: SpanKind::Poll,
            start_us: start,
            end_us: end,
            polls: 1,
            ready: false,
            note: None,
        })
    }

    fn lanes() -> Vec<Event> {
        vec![
            Event::Lane {
                id: 0,
                name: "main".into(),
            },
            Event::Lane {
                id: 1,
                name: "worker".into(),
            },
        ]
    }

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

    #[test]
    fn many_numbered_tasks_share_a_letter_and_named_groups_are_listed_once() {
        let mut events = lanes();
        for i in 0..40u64 {
            events.push(span(&format!("job {i}"), 0, i * 1000, i * 1000 + 900));
        }
        events.push(span("heartbeat", 1, 0, 10));
        let tl = Timeline::from_events(&events);
        assert_eq!(tl.groups.len(), 2, "{:?}", tl.groups);
        let text = tl.ascii(40);
        assert!(text.contains("job (40 tasks): 40 polls"), "{text}");

        let mut named = vec![Event::Group {
            prefix: "job ".into(),
            name: "CPU jobs".into(),
        }];
        named.extend(lanes());
        named.push(span("job 1", 0, 0, 10));
        named.push(span("job 2", 0, 10, 20));
        named.push(span("heartbeat", 1, 0, 10));
        let tl = Timeline::from_events(&named);
        let svg = tl.svg("groups");
        assert!(svg.contains("CPU jobs (2 tasks): 2 polls"), "{svg}");
        assert_eq!(tl.colour("job 1"), tl.colour("job 2"));
        assert_ne!(tl.colour("job 1"), tl.colour("heartbeat"));
    }

    #[test]
    fn threads_with_one_name_fold_into_a_band_that_counts_the_busy_ones() {
        let mut events = Vec::new();
        for lane in 0..5u32 {
            let name = if lane == 0 {
                "blocking pool".to_string()
            } else {
                format!("blocking pool #{}", lane + 1)
            };
            events.push(Event::Lane { id: lane, name });
            // Three threads busy in the first half, one in the second.
            let (start, end) = if lane < 3 {
                (0, 50_000)
            } else {
                (50_000, 100_000)
            };
            if lane < 4 {
                events.push(span("hashing", lane, start, end));
            }
        }
        let tl = Timeline::from_events(&events);
        assert_eq!(tl.rows.len(), 1, "{:?}", tl.rows);
        let text = tl.ascii(20);
        let band = text
            .lines()
            .find(|l| l.contains("blocking pool ×4"))
            .unwrap();
        assert!(band.contains("3333333333111111111"), "{text}");
        assert!(tl.svg("band").contains(r#"fill-opacity="0.25""#));
    }

    #[test]
    fn a_wake_up_is_drawn_as_a_link_and_its_wait_summed_up() {
        let mut events = lanes();
        events.push(span("waiter", 0, 0, 10));
        events.push(span("timer", 1, 40_000, 40_050));
        events.push(Event::Wake(Wake {
            task: "waiter".into(),
            from_lane: 1,
            from_task: Some("timer".into()),
            woken_us: 40_020,
            lane: 0,
            polled_us: 43_020,
        }));
        events.push(span("waiter", 0, 43_020, 43_040));
        let tl = Timeline::from_events(&events);
        let text = tl.ascii(40);
        assert!(
            text.contains("waiter: 2 polls")
                && text.contains("woken 1×, longest wait for a poll 3.0 ms"),
            "{text}"
        );
        let svg = tl.svg("wake");
        assert_eq!(svg.matches(r#"<g class="wake""#).count(), 1, "{svg}");
        assert!(svg.contains("waiter woken at 40.0 ms by timer; polled 3.0 ms later"));
        assert!(svg.contains("a waker called → the poll it caused"));
    }

    #[test]
    fn parallel_lanes_are_counted() {
        let mut events = lanes();
        events.push(span("a", 0, 0, 100));
        events.push(span("b", 1, 50, 150));
        events.push(span("c", 0, 200, 300));
        assert_eq!(Timeline::from_events(&events).busy_lanes_at_once(), 2);
        let mut serial = lanes();
        serial.push(span("a", 0, 0, 100));
        serial.push(span("b", 1, 100, 200));
        assert_eq!(Timeline::from_events(&serial).busy_lanes_at_once(), 1);
    }

    #[test]
    fn an_empty_run_says_so() {
        let tl = Timeline::from_events(&[]);
        assert!(tl.is_empty());
        assert!(tl.ascii(40).contains("nothing was polled"));
        assert!(tl.svg("empty").contains("nothing was polled"));
    }

    #[test]
    fn svg_labels_lanes_axis_legend_and_long_blocking_calls() {
        let mut events = lanes();
        events.push(span("heartbeat", 1, 0, 200));
        events.push(Event::Span(Span {
            task: "sleeper <1>".into(),
            lane: 0,
            kind: SpanKind::Block,
            start_us: 1_000,
            end_us: 101_000,
            polls: 0,
            ready: false,
            note: Some("std::thread::sleep".into()),
        }));
        events.push(Event::Mark(Mark {
            task: None,
            lane: 0,
            at_us: 500,
            text: "lock taken".into(),
        }));
        let svg = Timeline::from_events(&events).svg("blocking & friends");
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains(">main<") && svg.contains(">worker<"));
        assert!(svg.contains(">0 ms<") && svg.contains(">100 ms<"), "{svg}");
        assert!(svg.contains("heartbeat: 1 poll"));
        assert!(svg.contains("sleeper &lt;1&gt;"), "text is escaped");
        assert!(svg.contains("blocking &amp; friends"));
        assert!(svg.contains("url(#hatch)"), "blocking calls are hatched");
        assert!(svg.contains(">blocked 100 ms<"), "long calls are labelled");
        assert!(svg.contains("lock taken"));
    }

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

    #[test]
    fn ticks_are_round_numbers() {
        assert_eq!(nice_step(100_000), 20_000);
        assert_eq!(nice_step(1_000_000), 200_000);
        assert_eq!(nice_step(90_000), 20_000);
        assert_eq!(ms(1_500), "1.5 ms");
        assert_eq!(ms(250_000), "250 ms");
        assert_eq!(ms(40), "40 µs");
    }
}

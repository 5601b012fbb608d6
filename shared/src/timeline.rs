//! Draws what the recorder saw: one lane per thread, time across.
//!
//! The same [`Timeline`] renders as text for the terminal ([`Timeline::ascii`])
//! and as SVG for the book ([`Timeline::svg`]). Each task gets a letter (in
//! text) and a colour (in SVG); a long run of one letter is one task holding
//! its thread, and interleaved letters are tasks taking turns.

use crate::report::{Event, Mark, Span, SpanKind, Stall, StallReason, format_value};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The note on a span drawn for a poll that never returned.
pub const STUCK: &str = "stuck: this poll never returned";

const SYMBOLS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const PALETTE: &[&str] = &[
    "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1", "#76b7b2", "#edc948", "#9c755f",
    "#ff9da7", "#86bcb6", "#d37295", "#a0cbe8",
];

/// What one task did over the run.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskSummary {
    pub label: String,
    pub symbol: char,
    pub polls: u32,
    pub busy_us: u64,
    pub longest_us: u64,
    pub blocked_us: u64,
}

/// Everything needed to draw one run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Timeline {
    /// Threads that did something, by lane id.
    pub lanes: Vec<(u32, String)>,
    pub spans: Vec<Span>,
    pub marks: Vec<Mark>,
    pub tasks: Vec<TaskSummary>,
    pub stall: Option<Stall>,
    pub end_us: u64,
}

impl Timeline {
    pub fn from_events(events: &[Event]) -> Timeline {
        let mut names = BTreeMap::new();
        let mut spans = Vec::new();
        let mut marks = Vec::new();
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
        let mut used: Vec<u32> = spans
            .iter()
            .map(|s| s.lane)
            .chain(marks.iter().map(|m| m.lane))
            .collect();
        used.sort_unstable();
        used.dedup();
        let lanes = used
            .into_iter()
            .map(|id| {
                let name = names
                    .get(&id)
                    .cloned()
                    .unwrap_or_else(|| format!("thread {id}"));
                (id, name)
            })
            .collect();
        let mut tasks: Vec<TaskSummary> = Vec::new();
        for s in &spans {
            let i = match tasks.iter().position(|t| t.label == s.task) {
                Some(i) => i,
                None => {
                    let symbol = SYMBOLS[tasks.len() % SYMBOLS.len()] as char;
                    tasks.push(TaskSummary {
                        label: s.task.clone(),
                        symbol,
                        polls: 0,
                        busy_us: 0,
                        longest_us: 0,
                        blocked_us: 0,
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
        Timeline {
            lanes,
            spans,
            marks,
            tasks,
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
        let i = self
            .tasks
            .iter()
            .position(|t| t.label == label)
            .unwrap_or(0);
        PALETTE[i % PALETTE.len()]
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
            .lanes
            .iter()
            .map(|(_, n)| n.chars().count())
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
        // Dozens of threads doing the same thing say no more than a dozen:
        // show the first ten and the last two.
        let shown: Vec<usize> = if self.lanes.len() > 14 {
            (0..10)
                .chain(self.lanes.len() - 2..self.lanes.len())
                .collect()
        } else {
            (0..self.lanes.len()).collect()
        };
        for (k, &i) in shown.iter().enumerate() {
            let (id, name) = &self.lanes[i];
            if k > 0 && i != shown[k - 1] + 1 {
                let _ = writeln!(
                    out,
                    "  {:<name_w$} ⋮ {} more threads",
                    "",
                    i - shown[k - 1] - 1
                );
            }
            let mut row = String::with_capacity(width);
            for col in 0..width {
                let t0 = (col as f64 * per_col) as u64;
                let t1 = (((col + 1) as f64) * per_col).ceil() as u64;
                row.push(self.cell(*id, t0, t1.max(t0 + 1)));
            }
            let name: String = name.chars().take(name_w).collect();
            let _ = writeln!(out, "  {name:<name_w$} │{row}│");
        }
        for t in &self.tasks {
            if t.polls == 0 {
                let _ = writeln!(
                    out,
                    "  {}  {}: blocked its thread for {}",
                    t.symbol,
                    t.label,
                    ms(t.blocked_us)
                );
                continue;
            }
            let mut line = format!(
                "  {}  {}: {} poll{}, {} polled",
                t.symbol,
                t.label,
                t.polls,
                if t.polls == 1 { "" } else { "s" },
                ms(t.busy_us)
            );
            if t.longest_us >= 1_000 {
                let _ = write!(line, ", longest {}", ms(t.longest_us));
            }
            if t.blocked_us > 0 {
                let _ = write!(line, ", {} blocked", ms(t.blocked_us));
            }
            let _ = writeln!(out, "{line}");
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

    /// The character for lane `lane` between `t0` and `t1`: the task that
    /// used most of that time, a `^` for a mark, or `·` for idle.
    fn cell(&self, lane: u32, t0: u64, t1: u64) -> char {
        let mut best: Option<(&Span, u64)> = None;
        for s in self.spans.iter().filter(|s| s.lane == lane) {
            if s.start_us >= t1 {
                break;
            }
            let start = s.start_us.max(t0);
            let end = s.end_us.max(s.start_us + 1).min(t1);
            if end > start {
                let overlap = end - start;
                if best.is_none_or(|(_, o)| overlap > o) {
                    best = Some((s, overlap));
                }
            }
        }
        match best {
            Some((s, _)) => self.symbol(&s.task),
            None if self
                .marks
                .iter()
                .any(|m| m.lane == lane && m.at_us >= t0 && m.at_us < t1) =>
            {
                '^'
            }
            None => '·',
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
                Some(t) => writeln!(
                    out,
                    "  waiting: {} returned Pending ({} poll{}, the last at {}) and was not polled again.",
                    w.task,
                    w.polls,
                    if w.polls == 1 { "" } else { "s" },
                    ms(t)
                ),
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
        let lanes_h = self.lanes.len().max(1) as f64 * LANE_H;
        let axis_y = TOP + lanes_h + 6.0;
        let legend_y = axis_y + 36.0;
        let per_row = 3usize;
        let legend_rows = self.tasks.len().div_ceil(per_row).max(1);
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
        // Lanes.
        for (i, (id, name)) in self.lanes.iter().enumerate() {
            let y = TOP + i as f64 * LANE_H;
            let bar_y = y + (LANE_H - BAR_H) / 2.0;
            let _ = writeln!(
                s,
                r##"<rect x="{LEFT}" y="{bar_y:.1}" width="{plot_w:.1}" height="{BAR_H}" fill="#f6f6f6"/><text x="{:.1}" y="{:.1}" text-anchor="end" fill="#222">{}</text>"##,
                LEFT - 8.0,
                bar_y + BAR_H / 2.0 + 4.5,
                esc(name)
            );
            for sp in self.spans.iter().filter(|sp| sp.lane == *id) {
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
                            r#"<rect x="{x0:.2}" y="{bar_y:.1}" width="{w:.2}" height="{BAR_H}" fill="{}"{stroke}><title>{}</title></rect>"#,
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
            for (k, m) in self.marks.iter().filter(|m| m.lane == *id).enumerate() {
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
        // Legend: one swatch per task.
        for (i, t) in self.tasks.iter().enumerate() {
            let col = (i % per_row) as f64;
            let row = (i / per_row) as f64;
            let lx = 12.0 + col * (W - 24.0) / per_row as f64;
            let ly = legend_y + row * 20.0;
            let mut text = format!(
                "{}: {} poll{}",
                t.label,
                t.polls,
                if t.polls == 1 { "" } else { "s" }
            );
            if t.polls == 0 {
                text = format!("{}: blocking, no task", t.label);
            } else if t.blocked_us > 0 {
                let _ = write!(text, ", {} blocked", ms(t.blocked_us));
            }
            let _ = writeln!(
                s,
                r##"<rect x="{lx:.1}" y="{:.1}" width="12" height="12" fill="{}"/><text x="{:.1}" y="{ly:.1}" fill="#222">{}</text>"##,
                ly - 10.5,
                self.colour(&t.label),
                lx + 18.0,
                esc(&text)
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
                Some(t) => format!(
                    "{} returned Pending at {} and was never polled again",
                    w.task,
                    ms(t)
                ),
                None => format!("{} was never polled", w.task),
            });
        }
        lines
    }
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
    use crate::report::{Blocked, Waiting};

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
        assert_eq!(
            text.matches('A').count(),
            2,
            "one cell plus the legend: {text}"
        );
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

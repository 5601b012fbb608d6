//! The timeline as SVG, for the book: a bar per poll, a curve per wake-up.

use super::*;
use std::fmt::Write as _;

/// Wake-up curves drawn at most in one SVG.
const MAX_LINKS: usize = 300;

/// The page's fixed measures, in SVG units (about pixels).
const W: f64 = 960.0;
const LEFT: f64 = 150.0;
const RIGHT: f64 = 24.0;
const TOP: f64 = 44.0;
const LANE_H: f64 = 34.0;
const BAR_H: f64 = 22.0;
/// Marks listed under the chart (more are drawn, but not listed).
const LISTED_MARKS: usize = 8;

/// Where things go on one page: worked out once from the timeline.
struct Page {
    plot_w: f64,
    end: f64,
    axis_y: f64,
    legend_y: f64,
    /// Legend entries per line.
    per_row: usize,
    stall_y: f64,
    marks_y: f64,
    height: f64,
}

impl Page {
    fn of(tl: &Timeline) -> Page {
        let lanes_h = tl.rows.len().max(1) as f64 * LANE_H;
        let axis_y = TOP + lanes_h + 6.0;
        let legend_y = axis_y + 36.0;
        // As many legend columns as the longest entry leaves room for
        // (about 6.6 px a character at this size).
        let longest = (0..tl.groups.len())
            .map(|g| tl.group_text(g, false).chars().count() + 4)
            .max()
            .unwrap_or(0) as f64;
        let per_row = (((W - 24.0) / (longest * 6.6)).floor() as usize).clamp(1, 3);
        let legend_rows = tl.groups.len().div_ceil(per_row).max(1);
        let stall_y = legend_y + legend_rows as f64 * 20.0 + 8.0;
        let marks_y = stall_y + tl.stall_lines().len() as f64 * 18.0;
        let listed = tl.marks.len().min(LISTED_MARKS);
        Page {
            plot_w: W - LEFT - RIGHT,
            end: tl.end_us.max(1) as f64,
            axis_y,
            legend_y,
            per_row,
            stall_y,
            marks_y,
            height: marks_y + listed as f64 * 18.0 + 16.0,
        }
    }

    /// Where moment `us` is across the page.
    fn x(&self, us: u64) -> f64 {
        LEFT + us as f64 / self.end * self.plot_w
    }

    /// The top of row `r`'s bars, and the middle of the row.
    fn bar_y(r: usize) -> f64 {
        TOP + r as f64 * LANE_H + (LANE_H - BAR_H) / 2.0
    }

    fn mid_y(r: usize) -> f64 {
        TOP + r as f64 * LANE_H + LANE_H / 2.0
    }
}

impl Timeline {
    /// The chart as a standalone SVG document.
    ///
    /// Each row is a thread, or a band of threads with the same name; a
    /// bar is a task's poll (hatched: a blocking call), a curve is a
    /// wake-up leading to a poll, a red triangle a mark.
    pub fn svg(&self, title: &str) -> String {
        let page = Page::of(self);
        let mut s = String::new();
        self.svg_head(&mut s, &page, title);
        self.svg_axis(&mut s, &page);
        for (i, row) in self.rows.iter().enumerate() {
            self.svg_row(&mut s, &page, i, row);
        }
        let links = self.svg_wakes(&mut s, &page);
        self.svg_legend(&mut s, &page, links);
        self.svg_notes(&mut s, &page);
        s.push_str("</svg>\n");
        s
    }

    fn svg_head(&self, s: &mut String, page: &Page, title: &str) {
        let height = page.height;
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
    }

    /// Grid lines at round moments, with the time axis under them.
    fn svg_axis(&self, s: &mut String, page: &Page) {
        let axis_y = page.axis_y;
        let step = nice_step(self.end_us.max(1));
        let mut t = 0;
        while t <= self.end_us {
            let gx = page.x(t);
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
    }

    /// One row: a thread, or a band of threads with the same name, drawn
    /// see-through so that overlapping bars look darker; then its marks.
    fn svg_row(&self, s: &mut String, page: &Page, i: usize, row: &Row) {
        let bar_y = Page::bar_y(i);
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
            r##"<rect x="{LEFT}" y="{bar_y:.1}" width="{:.1}" height="{BAR_H}" fill="#f6f6f6"/><text x="{:.1}" y="{:.1}" text-anchor="end" fill="#222">{}</text>"##,
            page.plot_w,
            LEFT - 8.0,
            bar_y + BAR_H / 2.0 + 4.5,
            esc(&row.name)
        );
        for sp in self.spans.iter().filter(|sp| row.lanes.contains(&sp.lane)) {
            self.svg_span(s, page, bar_y, &opacity, sp);
        }
        for (k, m) in self
            .marks
            .iter()
            .filter(|m| row.lanes.contains(&m.lane))
            .enumerate()
        {
            let mx = page.x(m.at_us);
            let number = self.marks.iter().position(|o| o == m).unwrap_or(k) + 1;
            let _ = writeln!(
                s,
                r##"<path d="M{:.1},{:.1} l5,-7 h-10 z" fill="#c00"><title>{}: {}</title></path>"##,
                mx,
                bar_y,
                ms(m.at_us),
                esc(&m.text)
            );
            if number <= self.marks.len().min(LISTED_MARKS) {
                let _ = writeln!(
                    s,
                    r##"<text x="{:.1}" y="{:.1}" text-anchor="middle" fill="#c00" font-size="9">{number}</text>"##,
                    mx,
                    bar_y - 8.5
                );
            }
        }
    }

    /// One bar: a poll (outlined when it is long, red when it never
    /// returned) or a hatched blocking call, with a tooltip, and a label
    /// on the bar when there is room.
    fn svg_span(&self, s: &mut String, page: &Page, bar_y: f64, opacity: &str, sp: &Span) {
        let x0 = page.x(sp.start_us);
        let w = (page.x(sp.end_us) - x0).max(1.0);
        let d = sp.end_us.saturating_sub(sp.start_us);
        let long = d as f64 >= page.end * 0.15 && d >= 5_000;
        let stuck = sp.note.as_deref() == Some(STUCK);
        match sp.kind {
            SpanKind::Poll => {
                let tip = format!(
                    "{}: {} poll{}, {} – {}",
                    sp.task,
                    sp.polls,
                    if sp.polls == 1 { "" } else { "s" },
                    ms(sp.start_us),
                    ms(sp.end_us)
                );
                let stroke = if stuck {
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
                let tip = format!(
                    "{} blocked in {} for {}",
                    sp.task,
                    sp.note.as_deref().unwrap_or("a blocking call"),
                    ms(d)
                );
                let _ = writeln!(
                    s,
                    r##"<rect x="{x0:.2}" y="{bar_y:.1}" width="{w:.2}" height="{BAR_H}" fill="url(#hatch)" stroke="#111" stroke-width="1.5"><title>{}</title></rect>"##,
                    esc(&tip)
                );
            }
        }
        let label = if stuck && w > 120.0 {
            Some("stuck inside this poll".to_string())
        } else if long && w > 44.0 {
            // A blocking call's note is in its tooltip and the legend.
            Some(match sp.kind {
                SpanKind::Block => format!("blocked {}", ms(d)),
                SpanKind::Poll => ms(d),
            })
        } else {
            None
        };
        if let Some(label) = label {
            let _ = writeln!(
                s,
                r##"<text x="{:.1}" y="{:.1}" text-anchor="middle" fill="#fff" font-size="11" font-weight="600" stroke="#000" stroke-width="2.5" paint-order="stroke">{}</text>"##,
                x0 + w / 2.0,
                bar_y + BAR_H / 2.0 + 4.0,
                esc(&label)
            );
        }
    }

    /// Wake-ups: a dot where a waker was called, a curve to the start of
    /// the poll it caused. Hundreds would hide the bars: past that, the
    /// ones that waited longest are drawn. Returns how many were drawn.
    fn svg_wakes(&self, s: &mut String, page: &Page) -> usize {
        let row_of = |lane: u32| self.rows.iter().position(|r| r.lanes.contains(&lane));
        let mut links: Vec<&Wake> = self.wakes.iter().collect();
        if links.len() > MAX_LINKS {
            links.sort_by_key(|w| std::cmp::Reverse(w.polled_us - w.woken_us.min(w.polled_us)));
            links.truncate(MAX_LINKS);
        }
        for w in &links {
            let (Some(from), Some(to)) = (row_of(w.from_lane), row_of(w.lane)) else {
                continue;
            };
            let (x1, y1) = (page.x(w.woken_us), Page::mid_y(from));
            let (x2, y2) = (page.x(w.polled_us), Page::bar_y(to));
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
        links.len()
    }

    /// One swatch per group of tasks, then keys for wake-up curves and
    /// blocking calls when the chart has any.
    fn svg_legend(&self, s: &mut String, page: &Page, links: usize) {
        let per_row = page.per_row;
        for (i, group) in self.groups.iter().enumerate() {
            let col = (i % per_row) as f64;
            let row = (i / per_row) as f64;
            let lx = 12.0 + col * (W - 24.0) / per_row as f64;
            let ly = page.legend_y + row * 20.0;
            let _ = writeln!(
                s,
                r##"<rect x="{lx:.1}" y="{:.1}" width="12" height="12" fill="{}"/><text x="{:.1}" y="{ly:.1}" fill="#222" font-size="12">{}</text>"##,
                ly - 10.5,
                group.colour,
                lx + 18.0,
                esc(&self.group_text(i, false))
            );
        }
        let ly = page.marks_y - 6.0;
        if links > 0 {
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
            let _ = writeln!(
                s,
                r##"<rect x="{:.1}" y="{:.1}" width="12" height="12" fill="url(#hatch)" stroke="#111"/><text x="{:.1}" y="{ly:.1}" fill="#222" text-anchor="end">blocking call: the thread can run nothing else</text>"##,
                W - 330.0,
                ly - 10.5,
                W - RIGHT
            );
        }
    }

    /// Under the chart: where the watchdog stopped the program and why,
    /// the listed marks, or "nothing was polled".
    fn svg_notes(&self, s: &mut String, page: &Page) {
        if let Some(stall) = &self.stall {
            let sx = page.x(stall.at_us);
            let _ = writeln!(
                s,
                r##"<line x1="{sx:.1}" y1="{:.1}" x2="{sx:.1}" y2="{:.1}" stroke="#c00" stroke-width="2" stroke-dasharray="5 3"><title>the watchdog stopped the program here</title></line>"##,
                TOP - 6.0,
                page.axis_y
            );
        }
        for (i, line) in self.stall_lines().iter().enumerate() {
            let _ = writeln!(
                s,
                r##"<text x="12" y="{:.1}" fill="#c00" font-size="12" font-weight="600">{}</text>"##,
                page.stall_y + 12.0 + i as f64 * 18.0,
                esc(line)
            );
        }
        for (i, m) in self.marks.iter().take(LISTED_MARKS).enumerate() {
            let my = page.marks_y + 12.0 + i as f64 * 18.0;
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
                LEFT + page.plot_w / 2.0,
                TOP + LANE_H / 2.0 + 4.0
            );
        }
    }
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

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::super::tests_support::{lanes, span};
    use super::*;

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

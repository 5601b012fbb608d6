//! Who is drawn as one: numbered tasks that share a letter and a colour
//! (or a group a scenario named, "CPU jobs"), and threads that share a name
//! folded into one band (`blocking pool ×24`).

use super::*;

/// `job 12` → `job`: the name tasks share when numbered.
pub(super) fn without_number(label: &str) -> &str {
    let base = label
        .trim_end_matches(|c: char| c.is_ascii_digit())
        .trim_end_matches(['#', ' ']);
    if base.is_empty() { label } else { base }
}

pub(super) fn symbol(i: usize) -> char {
    SYMBOLS.get(i).map_or('?', |b| *b as char)
}

/// One row per thread, except that threads sharing a name (`blocking
/// pool`, `blocking pool #2`, ...) fold into one band when there are
/// `FOLD_AT` or more of them, unless one of them is stuck.
pub(super) fn fold_rows(lanes: &[(u32, String)], stuck: &[u32]) -> Vec<Row> {
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
pub(super) fn assign_groups(
    tasks: &mut [TaskSummary],
    prefixes: &[(String, String)],
) -> Vec<Group> {
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
    // Letters follow the labels' order, numbers by value ("order 2" before
    // "order 10"), not the order the tasks happened to be polled in.
    let mut names: Vec<&String> = keys.iter().map(|(k, _)| k).collect();
    names.sort_by(|a, b| natural_order(a, b));
    names.dedup();
    let mut groups: Vec<Group> = names
        .iter()
        .enumerate()
        .map(|(i, name)| Group {
            name: (*name).clone(),
            symbol: symbol(i),
            colour: PALETTE[i % PALETTE.len()],
            members: 0,
            named: false,
        })
        .collect();
    for (t, (key, is_named)) in tasks.iter_mut().zip(keys) {
        let i = groups
            .iter()
            .position(|g| g.name == key)
            .expect("every key has its group");
        let g = &mut groups[i];
        g.members += 1;
        g.named |= is_named;
        t.group = i;
        t.symbol = g.symbol;
    }
    groups
}

/// Compares labels as a reader would: runs of digits by their value, the
/// rest as text.
fn natural_order(a: &str, b: &str) -> std::cmp::Ordering {
    fn chunks(s: &str) -> Vec<(bool, &str)> {
        let mut out = Vec::new();
        let mut start = 0;
        let mut digits = None;
        for (i, c) in s.char_indices() {
            let d = c.is_ascii_digit();
            if digits.is_some_and(|prev| prev != d) {
                out.push((digits.unwrap_or(false), &s[start..i]));
                start = i;
            }
            digits = Some(d);
        }
        if let Some(d) = digits {
            out.push((d, &s[start..]));
        }
        out
    }
    let (ca, cb) = (chunks(a), chunks(b));
    for ((da, xa), (db, xb)) in ca.iter().zip(&cb) {
        let by_value = if *da && *db {
            let (ta, tb) = (xa.trim_start_matches('0'), xb.trim_start_matches('0'));
            ta.len().cmp(&tb.len()).then_with(|| ta.cmp(tb))
        } else {
            xa.cmp(xb)
        };
        if by_value.is_ne() {
            return by_value;
        }
    }
    ca.len().cmp(&cb.len()).then_with(|| a.cmp(b))
}

impl Timeline {
    pub(super) fn group_of(&self, label: &str) -> Option<usize> {
        self.task(label).map(|t| t.group)
    }

    /// What a group did, added up over its tasks: polls, time polled, the
    /// longest poll, time blocked, wake-ups and the worst wait for a poll.
    pub(super) fn group_totals(&self, g: usize) -> TaskSummary {
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
    pub(super) fn group_text(&self, g: usize, long: bool) -> String {
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
}

#[cfg(test)]
mod tests {
    use super::super::tests_support::{lanes, span};
    use super::*;

    #[test]
    fn letters_follow_the_labels_order_with_numbers_by_value() {
        use std::cmp::Ordering::*;
        assert_eq!(natural_order("order 2", "order 10"), Less);
        assert_eq!(natural_order("order 10", "order 9"), Greater);
        assert_eq!(natural_order("reader", "writer"), Less);
        assert_eq!(
            natural_order("job 007", "job 7"),
            Less,
            "equal values, then as text"
        );
        assert_eq!(natural_order("a", "a 1"), Less);
        assert_eq!(natural_order("x", "x"), Equal);
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
            // Five threads named in the run, one of them never busy.
            .find(|l| l.contains("blocking pool ×5"))
            .unwrap();
        assert!(band.contains("3333333333111111111"), "{text}");
        assert!(tl.svg("band").contains(r#"fill-opacity="0.25""#));
    }
}

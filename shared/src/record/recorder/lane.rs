//! Lanes: each thread's small number on the timeline, its name, and the
//! traced tasks being polled on it.

use std::cell::{Cell, RefCell};
use std::sync::{Arc, Mutex};

static LANE_NAMES: Mutex<Vec<String>> = Mutex::new(Vec::new());

thread_local! {
    static LANE: Cell<Option<u32>> = const { Cell::new(None) };
    /// The traced tasks being polled on this thread, innermost last.
    static CURRENT: RefCell<Vec<Arc<str>>> = const { RefCell::new(Vec::new()) };
}

/// This thread's lane: a small number, the same for the thread's whole life.
pub(super) fn lane() -> u32 {
    lane_named(None)
}

/// Names this thread's lane (see [`super::name_lane`]).
pub(super) fn name_lane(name: &str) {
    lane_named(Some(name));
}

pub(super) fn lane_named(name: Option<&str>) -> u32 {
    LANE.with(|cell| {
        if let Some(id) = cell.get() {
            return id;
        }
        let thread = std::thread::current();
        let base = name.or(thread.name()).unwrap_or("thread").to_string();
        let mut names = LANE_NAMES.lock().unwrap_or_else(|e| e.into_inner());
        // The id is the name's index, taken under the same lock.
        let id = names.len() as u32;
        let same = names
            .iter()
            .filter(|n| n.split(" #").next() == Some(base.as_str()))
            .count();
        let name = if same == 0 {
            base
        } else {
            format!("{base} #{}", same + 1)
        };
        names.push(name);
        cell.set(Some(id));
        id
    })
}

pub(super) fn lane_name(id: u32) -> String {
    LANE_NAMES
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(id as usize)
        .cloned()
        .unwrap_or_else(|| format!("thread {id}"))
}

pub(super) fn current_task() -> Option<Arc<str>> {
    CURRENT.with(|c| c.borrow().last().cloned())
}

/// Notes that this thread is now polling the traced task `label`.
pub(super) fn push_current(label: Arc<str>) {
    CURRENT.with(|c| c.borrow_mut().push(label));
}

/// Notes that the innermost poll on this thread has ended.
pub(super) fn pop_current() {
    CURRENT.with(|c| {
        c.borrow_mut().pop();
    });
}

/// This thread's lane, if it has one yet (without giving it one).
pub(super) fn this_lane() -> Option<u32> {
    LANE.with(Cell::get)
}

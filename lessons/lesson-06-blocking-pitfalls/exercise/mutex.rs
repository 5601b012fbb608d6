//! Lesson 06 · exercise `mutex`: a cache that fetches each key once.
//!
//! Gets, joined in one task on a one-thread runtime, each ask the cache for
//! a page by key. On a miss, `get` fetches the page (an `.await` that takes
//! a while) and keeps it for the next get of that key. Several gets of one
//! key come while it is being fetched. The program hangs. Fix it, then run
//!
//!     cargo xtask try lesson-06 mutex
//!
//! You may change `Cache` and `new_cache` too.
//!
//! Stuck? `cargo xtask hint lesson-06 mutex`. Start over: `cargo xtask reset lesson-06 mutex`.

use lesson_06::cache::{Page, fetch};
use std::collections::HashMap;
use std::sync::Mutex;

/// The pages fetched so far, by key.
pub type Cache = Mutex<HashMap<u32, Page>>;

pub fn new_cache() -> Cache {
    Mutex::new(HashMap::new())
}

/// TODO: answer every get without a deadlock, fetch each key only once
/// (however many gets of it come while it is being fetched), and let the
/// fetches of different keys run at the same time.
pub async fn get(cache: &Cache, key: u32) -> Page {
    let mut pages = cache.lock().unwrap();
    if let Some(page) = pages.get(&key) {
        return page.clone();
    }
    let page = fetch(key).await;
    pages.insert(key, page.clone());
    page
}

// Leave this as it is: it hands your cache to the lesson's harness.
fn main() -> std::process::ExitCode {
    lesson_06::cache::exercise(new_cache, get)
}

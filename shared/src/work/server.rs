//! A real HTTP server for the lessons that fetch things.
//!
//! Lessons must not touch the internet, but "ten requests that take ten times
//! too long" only convinces with real requests. [`DemoServer`] is a hyper
//! server on `127.0.0.1:0` (a free port) that runs on its own thread with its
//! own small runtime, so it answers promptly whatever the lesson does to its
//! own threads. It serves JSON todos, users and posts, each after a delay.

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;
use tokio::sync::oneshot;

/// Counts kept by the server, readable while it runs.
#[derive(Debug, Default)]
pub struct Stats {
    served: AtomicU64,
    in_flight: crate::work::gauge::AtOnce,
}

impl Stats {
    /// Requests answered so far.
    pub fn served(&self) -> u64 {
        self.served.load(Ordering::SeqCst)
    }

    /// The requests the server is working on now.
    pub fn in_flight(&self) -> u64 {
        self.in_flight.now()
    }

    /// The most requests the server was working on at the same moment.
    pub fn max_in_flight(&self) -> u64 {
        self.in_flight.most()
    }
}

/// One request in progress; served once it is dropped.
struct InFlight<'a> {
    stats: &'a Stats,
    _entered: crate::work::gauge::Entered<'a>,
}

impl<'a> InFlight<'a> {
    fn enter(stats: &'a Stats) -> Self {
        InFlight {
            stats,
            _entered: stats.in_flight.enter(),
        }
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.stats.served.fetch_add(1, Ordering::SeqCst);
    }
}

/// The in-process JSON server. Stops when dropped.
pub struct DemoServer {
    addr: SocketAddr,
    stats: Arc<Stats>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl DemoServer {
    /// Starts serving on a free port of 127.0.0.1. Every response waits
    /// `delay` first (a request can ask for another with `?delay_ms=N`).
    pub fn start(delay: Duration) -> std::io::Result<DemoServer> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let stats = Arc::new(Stats::default());
        let (tx, rx) = oneshot::channel();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let served_stats = stats.clone();
        let thread = std::thread::Builder::new()
            .name("demo-server".into())
            .spawn(move || {
                crate::record::sched::claim_this_thread();
                runtime.block_on(serve(listener, delay, served_stats, rx));
            })?;
        Ok(DemoServer {
            addr,
            stats,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` followed by `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }
}

impl Drop for DemoServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn serve(
    listener: std::net::TcpListener,
    delay: Duration,
    stats: Arc<Stats>,
    mut stop: oneshot::Receiver<()>,
) {
    let listener = match tokio::net::TcpListener::from_std(listener) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("demo server: cannot listen: {e}");
            return;
        }
    };
    loop {
        tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let stats = stats.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| respond(req, delay, stats.clone()));
                    // A client that hangs up early is not our problem.
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        }
    }
}

async fn respond(
    req: Request<Incoming>,
    delay: Duration,
    stats: Arc<Stats>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let _in_flight = InFlight::enter(&stats);
    let delay = req
        .uri()
        .query()
        .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("delay_ms=")))
        .and_then(|v| v.parse().ok())
        .map_or(delay, Duration::from_millis);
    tokio::time::sleep(delay).await;
    let (status, body) = match resource(req.uri().path()) {
        Some(v) => (StatusCode::OK, v),
        None => (
            StatusCode::NOT_FOUND,
            json!({"error": format!("no such resource: {}", req.uri().path())}),
        ),
    };
    let response = Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("a static response is valid");
    Ok(response)
}

const NAMES: &[&str] = &[
    "Ada", "Grace", "Linus", "Barbara", "Ken", "Margaret", "Dennis",
];
const CHORES: &[&str] = &[
    "water the plants",
    "fix the flaky test",
    "write the chapter",
    "review the pull request",
    "buy coffee",
];

/// The JSON for `/todos/N`, `/users/N` or `/posts/N` (N from 1), if any.
pub fn resource(path: &str) -> Option<Value> {
    let mut parts = path.trim_matches('/').split('/');
    let kind = parts.next()?;
    let id: u64 = parts.next()?.parse().ok().filter(|&n| n >= 1)?;
    if parts.next().is_some() {
        return None;
    }
    let pick = |list: &[&'static str]| list[(id as usize - 1) % list.len()];
    let value = match kind {
        "todos" => json!({
            "id": id,
            "user_id": 1 + (id - 1) % 7,
            "title": pick(CHORES),
            "completed": id % 3 == 0,
        }),
        "users" => {
            let name = pick(NAMES);
            json!({"id": id, "name": name, "email": format!("{}@example.test", name.to_lowercase())})
        }
        "posts" => json!({
            "id": id,
            "user_id": 1 + (id - 1) % 7,
            "title": format!("Post number {id}"),
            "body": format!("{} wrote post {id}.", pick(NAMES)),
        }),
        _ => return None,
    };
    Some(value)
}

/// An HTTP client for the demo server: plain HTTP, and it ignores any proxy
/// the environment names, since a proxy would not reach our 127.0.0.1.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("a plain-HTTP client without TLS always builds")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn resources_are_typed_json_with_ids_from_one() {
        let todo = resource("/todos/3").unwrap();
        assert_eq!(todo["id"], 3);
        assert_eq!(todo["completed"], true);
        assert!(todo["title"].is_string());
        assert_eq!(resource("/users/1").unwrap()["name"], "Ada");
        assert_eq!(resource("/posts/2").unwrap()["user_id"], 2);
        assert!(resource("/todos/0").is_none());
        assert!(resource("/todos/x").is_none());
        assert!(resource("/todos/1/extra").is_none());
        assert!(resource("/cats/1").is_none());
    }

    #[test]
    fn the_server_answers_real_http_after_its_delay_and_counts_requests() {
        let server = DemoServer::start(Duration::from_millis(30)).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let client = client();
            let started = Instant::now();
            let todo: Value = client
                .get(server.url("/todos/1"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            // A sleep never ends early, so this lower bound cannot flake.
            assert!(started.elapsed() >= Duration::from_millis(30));
            assert_eq!(todo["id"], 1);
            let missing = client.get(server.url("/cats/1")).send().await.unwrap();
            assert_eq!(missing.status(), 404);
            let quick = client
                .get(server.url("/users/2?delay_ms=0"))
                .send()
                .await
                .unwrap();
            assert_eq!(quick.status(), 200);
        });
        assert_eq!(server.stats().served(), 3);
        assert_eq!(server.stats().max_in_flight(), 1, "one request at a time");
    }

    #[test]
    fn dropping_the_server_stops_its_thread() {
        let server = DemoServer::start(Duration::ZERO).unwrap();
        let addr = server.addr();
        drop(server);
        assert!(std::net::TcpStream::connect(addr).is_err());
    }
}

//! The reactor: one thread that waits for the next timer deadline or
//! socket event (mio's `Poll`, epoll on Linux), and turns each into a call
//! to the waker that asked for it. Futures meet it only through wakers.

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll as MioPoll, Registry, Token};
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::{Duration, Instant};

/// The token of the reactor's own alarm, rung to make it look again.
const ALARM: Token = Token(0);

/// One direction of a socket (reading or writing): ready, set by the
/// reactor and cleared by the future that tries; and the waker to call.
#[derive(Default)]
struct Direction {
    ready: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

impl Direction {
    fn fire(&self) {
        self.ready.store(true, SeqCst);
        if let Some(w) = self.waker.lock().unwrap().take() {
            w.wake();
        }
    }
}

/// A socket's two directions, each with its own waker, as in tokio: a task
/// that waits to read and one that waits to write on the same socket must
/// not take each other's place.
#[derive(Default)]
struct Readiness {
    read: Direction,
    write: Direction,
}

struct Inner {
    registry: Registry,
    alarm: mio::Waker,
    /// Deadline and a number (to keep equal deadlines apart) → waker.
    timers: Mutex<BTreeMap<(Instant, usize), Waker>>,
    sockets: Mutex<HashMap<Token, Arc<Readiness>>>,
    next: AtomicUsize,
    stop: AtomicBool,
}

/// The reactor thread; stopped and joined when dropped.
pub struct Reactor {
    inner: Arc<Inner>,
    thread: Option<thread::JoinHandle<()>>,
}

/// Registers timers and sockets with a reactor.
#[derive(Clone)]
pub struct ReactorHandle {
    inner: Arc<Inner>,
}

impl Reactor {
    pub fn start() -> Reactor {
        let poll = MioPoll::new().expect("the OS gives us an event queue");
        let inner = Arc::new(Inner {
            registry: poll.registry().try_clone().expect("a registry"),
            alarm: mio::Waker::new(poll.registry(), ALARM).expect("an alarm"),
            timers: Mutex::new(BTreeMap::new()),
            sockets: Mutex::new(HashMap::new()),
            next: AtomicUsize::new(1),
            stop: AtomicBool::new(false),
        });
        let looping = inner.clone();
        let thread = thread::Builder::new()
            .name("reactor".into())
            .spawn(move || run(poll, looping))
            .expect("the reactor thread starts");
        Reactor {
            inner,
            thread: Some(thread),
        }
    }

    pub fn handle(&self) -> ReactorHandle {
        ReactorHandle {
            inner: self.inner.clone(),
        }
    }

    /// Dead once the reactor thread and every handle are gone.
    pub fn liveness(&self) -> std::sync::Weak<dyn std::any::Any + Send + Sync> {
        let inner: Arc<dyn std::any::Any + Send + Sync> = self.inner.clone();
        Arc::downgrade(&inner)
    }
}

impl Drop for Reactor {
    fn drop(&mut self) {
        self.inner.stop.store(true, SeqCst);
        let _ = self.inner.alarm.wake();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        // Wakers hold tasks, and tasks may hold handles to us: drop them
        // outside the locks (a dropped `Sleep` takes the timers' lock).
        let timers = std::mem::take(&mut *self.inner.timers.lock().unwrap());
        let sockets = std::mem::take(&mut *self.inner.sockets.lock().unwrap());
        drop((timers, sockets));
    }
}

// ANCHOR: reactor_loop
fn run(mut poll: MioPoll, inner: Arc<Inner>) {
    let mut events = Events::with_capacity(64);
    while !inner.stop.load(SeqCst) {
        let timeout = inner
            .timers
            .lock()
            .unwrap()
            .keys()
            .next()
            .map(|(deadline, _)| deadline.saturating_duration_since(Instant::now()));
        if let Err(e) = poll.poll(&mut events, timeout) {
            if e.kind() != io::ErrorKind::Interrupted {
                panic!("the reactor's poll failed: {e}");
            }
        }
        for event in events.iter() {
            if event.token() == ALARM {
                continue;
            }
            let readiness = inner.sockets.lock().unwrap().get(&event.token()).cloned();
            if let Some(r) = readiness {
                // A closed or failed socket wakes both: their next try
                // returns the end or the error.
                let failed = event.is_error();
                if event.is_readable() || event.is_read_closed() || failed {
                    r.read.fire();
                }
                if event.is_writable() || event.is_write_closed() || failed {
                    r.write.fire();
                }
            }
        }
        let now = Instant::now();
        let due: Vec<Waker> = {
            let mut timers = inner.timers.lock().unwrap();
            let later = timers.split_off(&(now, usize::MAX));
            std::mem::replace(&mut *timers, later)
                .into_values()
                .collect()
        };
        for waker in due {
            waker.wake();
        }
    }
}
// ANCHOR_END: reactor_loop

impl ReactorHandle {
    /// A future that completes at `deadline`.
    pub fn sleep_until(&self, deadline: Instant) -> Sleep {
        Sleep {
            reactor: self.clone(),
            deadline,
            id: self.inner.next.fetch_add(1, SeqCst),
        }
    }

    /// A future that completes `d` from now.
    pub fn sleep(&self, d: Duration) -> Sleep {
        self.sleep_until(Instant::now() + d)
    }

    fn register(&self, source: &mut impl mio::event::Source) -> (Token, Arc<Readiness>) {
        let token = Token(self.inner.next.fetch_add(1, SeqCst));
        let readiness = Arc::new(Readiness::default());
        self.inner
            .sockets
            .lock()
            .unwrap()
            .insert(token, readiness.clone());
        self.inner
            .registry
            .register(source, token, Interest::READABLE | Interest::WRITABLE)
            .expect("a socket can be registered");
        (token, readiness)
    }

    /// A listening socket on `addr` (use port 0 for any free port).
    pub fn listen(&self, addr: SocketAddr) -> io::Result<Listener> {
        let mut socket = TcpListener::bind(addr)?;
        let (_token, readiness) = self.register(&mut socket);
        Ok(Listener {
            socket,
            readiness,
            reactor: self.clone(),
        })
    }

    /// Connects to `addr`; the connection completes when it is writable.
    pub async fn connect(&self, addr: SocketAddr) -> io::Result<Stream> {
        let mut socket = TcpStream::connect(addr)?;
        let (_token, readiness) = self.register(&mut socket);
        let stream = Stream { socket, readiness };
        stream
            .ready(Way::Write, |s| match s.peer_addr() {
                Ok(_) => Ok(()),
                Err(e) if e.kind() == io::ErrorKind::NotConnected => {
                    Err(io::ErrorKind::WouldBlock.into())
                }
                Err(e) => Err(e),
            })
            .await?;
        Ok(stream)
    }
}

// ANCHOR: sleep
/// Completes at its deadline. Each poll hands the reactor the latest waker.
pub struct Sleep {
    reactor: ReactorHandle,
    deadline: Instant,
    id: usize,
}

impl Future for Sleep {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.deadline {
            return Poll::Ready(());
        }
        let inner = &self.reactor.inner;
        let mut timers = inner.timers.lock().unwrap();
        let earliest = timers.keys().next().is_none_or(|k| self.deadline < k.0);
        timers.insert((self.deadline, self.id), cx.waker().clone());
        drop(timers);
        if earliest {
            // The reactor may be asleep until a later deadline: ring it.
            let _ = inner.alarm.wake();
        }
        Poll::Pending
    }
}
// ANCHOR_END: sleep

impl Drop for Sleep {
    fn drop(&mut self) {
        self.reactor
            .inner
            .timers
            .lock()
            .unwrap()
            .remove(&(self.deadline, self.id));
    }
}

/// A listening socket.
pub struct Listener {
    socket: TcpListener,
    readiness: Arc<Readiness>,
    reactor: ReactorHandle,
}

impl Listener {
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket.local_addr()
    }

    /// The next connection.
    pub async fn accept(&self) -> io::Result<Stream> {
        let readiness = self.readiness.clone();
        let (mut socket, _) = WhenReady {
            direction: &readiness.read,
            attempt: || self.socket.accept(),
        }
        .await?;
        let (_token, readiness) = self.reactor.register(&mut socket);
        Ok(Stream { socket, readiness })
    }
}

/// A connected socket.
pub struct Stream {
    socket: TcpStream,
    readiness: Arc<Readiness>,
}

impl Stream {
    async fn ready<T>(
        &self,
        way: Way,
        mut attempt: impl FnMut(&TcpStream) -> io::Result<T>,
    ) -> io::Result<T> {
        let direction = match way {
            Way::Read => &self.readiness.read,
            Way::Write => &self.readiness.write,
        };
        WhenReady {
            direction,
            attempt: || attempt(&self.socket),
        }
        .await
    }

    /// Reads some bytes into `buf`; 0 means the other side closed.
    pub async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.ready(Way::Read, |mut s| s.read(buf)).await
    }

    /// Writes all of `data`.
    pub async fn write_all(&self, mut data: &[u8]) -> io::Result<()> {
        while !data.is_empty() {
            let n = self.ready(Way::Write, |mut s| s.write(data)).await?;
            data = &data[n..];
        }
        Ok(())
    }
}

/// Which way a stream is used.
#[derive(Clone, Copy)]
enum Way {
    Read,
    Write,
}

/// Retries `attempt` each time the socket is ready that way, until it stops
/// saying "would block". The ready flag is cleared before each attempt and
/// checked again after storing the waker, so an event that arrives in
/// between is not lost.
struct WhenReady<'a, F> {
    direction: &'a Direction,
    attempt: F,
}

impl<T, F: FnMut() -> io::Result<T> + Unpin> Future for WhenReady<'_, F> {
    type Output = io::Result<T>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        loop {
            self.direction.ready.store(false, SeqCst);
            match (self.attempt)() {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                done => return Poll::Ready(done),
            }
            *self.direction.waker.lock().unwrap() = Some(cx.waker().clone());
            if !self.direction.ready.load(SeqCst) {
                return Poll::Pending;
            }
        }
    }
}

//! `quinn::Runtime` on monoio: the one place where quinn meets the shard's event loop.
//!
//! quinn drives its endpoint and connections as tasks handed to [`Runtime::spawn`], waits on
//! [`AsyncTimer`]s, and does socket I/O through [`AsyncUdpSocket`]. Here tasks are
//! `monoio::spawn`ed on the current shard, timers are monoio sleeps, and datagrams go through
//! quinn-udp's non-blocking `sendmsg`/`recvmsg` (GSO/GRO, ECN, pktinfo) with monoio's readiness
//! (`readable`/`writable`, an io_uring poll) to wait when the socket would block.
//!
//! quinn's traits demand `Send + Sync`, but monoio's sockets and timers are bound to the thread
//! whose driver registered them. `ShardLocal` bridges the two; it is sound only because every
//! value built here is created on one monoio thread and used only there, which is the contract of
//! the `unsafe` [`MonoioRuntime::new`].
use quinn::udp::{RecvMeta, Transmit, UdpSockRef, UdpSocketState};
use quinn::{AsyncTimer, AsyncUdpSocket, Runtime, UdpPoller};
use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

/// A value that quinn's trait bounds require to be `Send + Sync` but that never leaves the
/// shard thread that made it.
struct ShardLocal<T>(T);

// SAFETY: a `ShardLocal` is only built inside this module, by `MonoioRuntime` methods that quinn
// calls from the task that owns the endpoint. Whoever made the runtime promised (the contract of
// `MonoioRuntime::new`) that the endpoint and everything quinn builds on it (connections, streams,
// the tasks quinn spawns, which `monoio::spawn` keeps on this thread's executor) stay on the one
// monoio thread, so the `Rc`, `RefCell` and monoio driver handles inside are never touched by
// another thread.
unsafe impl<T> Send for ShardLocal<T> {}
// SAFETY: as for `Send`: all access happens on the one shard thread, so `&ShardLocal<T>` is never
// used from two threads at once.
unsafe impl<T> Sync for ShardLocal<T> {}

type Readiness = Pin<Box<dyn Future<Output = io::Result<()>>>>;

/// A readiness wait that survives across polls: created on first need, dropped once it fires.
struct ReadySlot(RefCell<Option<Readiness>>);

impl ReadySlot {
    fn new() -> Self {
        Self(RefCell::new(None))
    }

    fn poll(&self, cx: &mut Context<'_>, make: impl FnOnce() -> Readiness) -> Poll<io::Result<()>> {
        let mut slot = self.0.borrow_mut();
        let fut = slot.get_or_insert_with(make);
        let r = fut.as_mut().poll(cx);
        if r.is_ready() {
            *slot = None;
        }
        r
    }
}

/// quinn's runtime for a monoio shard (io_uring or the epoll fallback).
#[derive(Debug)]
pub struct MonoioRuntime(());

impl MonoioRuntime {
    /// A runtime for quinn endpoints on the current monoio thread.
    ///
    /// # Safety
    /// The caller must be on a monoio runtime thread, and the `quinn::Endpoint` made with this
    /// runtime — and every `Connection`, stream and h3 handle built on it — must be created,
    /// used and dropped only on that same thread (quinn's types are `Send`, so the compiler does
    /// not check this).
    pub unsafe fn new() -> Self {
        Self(())
    }
}

impl Runtime for MonoioRuntime {
    fn new_timer(&self, at: Instant) -> Pin<Box<dyn AsyncTimer>> {
        Box::pin(Timer(ShardLocal(Box::pin(monoio::time::sleep_until(at.into())))))
    }

    fn spawn(&self, future: Pin<Box<dyn Future<Output = ()> + Send>>) {
        // quinn's endpoint and connection drivers: a panic in one ends that driver, not the shard.
        monoio::spawn(async move {
            if let Err(panic) = crate::guard::catch_unwind(future).await {
                tracing::error!(%panic, "quinn task panicked");
            }
        });
    }

    fn wrap_udp_socket(&self, sock: std::net::UdpSocket) -> io::Result<Arc<dyn AsyncUdpSocket>> {
        sock.set_nonblocking(true)?;
        let state = UdpSocketState::new((&sock).into())?;
        // Two descriptors for one socket: quinn-udp does sendmsg/recvmsg on `sock`, monoio
        // registers the duplicate only to wait for readiness (same open file, same readiness).
        let io = Rc::new(monoio::net::udp::UdpSocket::from_std(sock.try_clone()?)?);
        Ok(Arc::new(Socket { state, sock, io: ShardLocal(io), recv_ready: ShardLocal(ReadySlot::new()) }))
    }
}

struct Timer(ShardLocal<Pin<Box<monoio::time::Sleep>>>);

impl fmt::Debug for Timer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("monoio::Timer")
    }
}

impl AsyncTimer for Timer {
    fn reset(mut self: Pin<&mut Self>, at: Instant) {
        self.0 .0.as_mut().reset(at.into());
    }

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.0 .0.as_mut().poll(cx)
    }
}

struct Socket {
    state: UdpSocketState,
    sock: std::net::UdpSocket,
    io: ShardLocal<Rc<monoio::net::udp::UdpSocket>>,
    recv_ready: ShardLocal<ReadySlot>,
}

impl fmt::Debug for Socket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("monoio::UdpSocket").field("local", &self.sock.local_addr().ok()).finish()
    }
}

impl AsyncUdpSocket for Socket {
    fn create_io_poller(self: Arc<Self>) -> Pin<Box<dyn UdpPoller>> {
        Box::pin(WritePoller { io: ShardLocal(self.io.0.clone()), ready: ShardLocal(ReadySlot::new()) })
    }

    fn try_send(&self, t: &Transmit<'_>) -> io::Result<()> {
        self.state.send(UdpSockRef::from(&self.sock), t)
    }

    fn poll_recv(&self, cx: &mut Context<'_>, bufs: &mut [io::IoSliceMut<'_>], meta: &mut [RecvMeta]) -> Poll<io::Result<usize>> {
        loop {
            match self.state.recv(UdpSockRef::from(&self.sock), bufs, meta) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                r => return Poll::Ready(r),
            }
            let io = self.io.0.clone();
            match self.recv_ready.0.poll(cx, move || Box::pin(async move { io.readable(false).await })) {
                Poll::Ready(Ok(())) => continue,
                other => return other.map(|r| r.map(|()| 0)),
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.sock.local_addr()
    }

    fn may_fragment(&self) -> bool {
        self.state.may_fragment()
    }

    fn max_transmit_segments(&self) -> usize {
        self.state.max_gso_segments()
    }

    fn max_receive_segments(&self) -> usize {
        self.state.gro_segments()
    }
}

struct WritePoller {
    io: ShardLocal<Rc<monoio::net::udp::UdpSocket>>,
    ready: ShardLocal<ReadySlot>,
}

impl fmt::Debug for WritePoller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("monoio::WritePoller")
    }
}

impl UdpPoller for WritePoller {
    fn poll_writable(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let io = self.io.0.clone();
        self.ready.0.poll(cx, move || Box::pin(async move { io.writable(false).await }))
    }
}

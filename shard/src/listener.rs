//! Per-shard sockets: every shard binds its own socket to the same address with SO_REUSEPORT,
//! so the kernel spreads connections (or datagrams) across shards with no shared accept queue.
use socket2::{Domain, Protocol, Socket, Type};
use std::io;
use std::net::SocketAddr;

/// Options for a shard's listening socket.
#[derive(Debug, Clone, Copy)]
pub struct ListenOpts {
    /// listen(2) backlog.
    pub backlog: i32,
    /// Set SO_INCOMING_CPU to this CPU, so the kernel prefers this shard for connections whose
    /// packets arrive on that CPU (keeps a connection's softirq and its shard on one core).
    pub incoming_cpu: Option<usize>,
}

impl Default for ListenOpts {
    fn default() -> Self {
        Self { backlog: 4096, incoming_cpu: None }
    }
}

fn socket(addr: SocketAddr, ty: Type, proto: Protocol) -> io::Result<Socket> {
    let s = Socket::new(Domain::for_address(addr), ty, Some(proto))?;
    s.set_reuse_address(true)?;
    s.set_reuse_port(true)?;
    if addr.is_ipv6() {
        s.set_only_v6(true)?;
    }
    s.set_nonblocking(true)?;
    Ok(s)
}

/// A non-blocking SO_REUSEPORT TCP listener bound to `addr`.
pub fn tcp(addr: SocketAddr, opts: ListenOpts) -> io::Result<std::net::TcpListener> {
    let s = socket(addr, Type::STREAM, Protocol::TCP)?;
    if let Some(cpu) = opts.incoming_cpu {
        s.set_cpu_affinity(cpu)?;
    }
    s.bind(&addr.into())?;
    s.listen(opts.backlog)?;
    Ok(s.into())
}

/// A non-blocking SO_REUSEPORT UDP socket bound to `addr`.
pub fn udp(addr: SocketAddr, opts: ListenOpts) -> io::Result<std::net::UdpSocket> {
    let s = socket(addr, Type::DGRAM, Protocol::UDP)?;
    if let Some(cpu) = opts.incoming_cpu {
        s.set_cpu_affinity(cpu)?;
    }
    s.bind(&addr.into())?;
    Ok(s.into())
}

/// Bind one SO_REUSEPORT UDP socket per shard, in shard order, from this thread.
///
/// The kernel keeps a reuseport group's sockets in an array in the order they joined, and a
/// reuseport BPF program ([`attach_reuseport_cbpf`]) answers with an index into that array; binding
/// them one after another here makes index `i` shard `i`'s socket (shards binding their own
/// sockets on their own threads would join in whatever order the threads ran).
pub fn udp_group(addr: SocketAddr, n: usize, opts: ListenOpts) -> io::Result<Vec<std::net::UdpSocket>> {
    (0..n).map(|_| udp(addr, opts)).collect()
}

/// Attach a classic BPF program to `sock`'s SO_REUSEPORT group (SO_ATTACH_REUSEPORT_CBPF).
///
/// For each datagram the kernel runs `prog` with the packet data starting at the UDP payload;
/// its return value picks the group's socket by index, and an index past the end falls back to
/// the usual 4-tuple hash. `sock` must already be bound with SO_REUSEPORT.
pub fn attach_reuseport_cbpf(sock: &std::net::UdpSocket, prog: &[libc::sock_filter]) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let len = u16::try_from(prog.len()).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "BPF program too long"))?;
    let fprog = libc::sock_fprog { len, filter: prog.as_ptr().cast_mut() };
    // SAFETY: `fprog` points at `prog`, which outlives the call; the kernel copies the program
    // during setsockopt and keeps no pointer to our memory. The fd is open for `sock`'s lifetime.
    let rc = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_ATTACH_REUSEPORT_CBPF,
            (&raw const fprog).cast(),
            std::mem::size_of::<libc::sock_fprog>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Resolve port 0 to a concrete free port that every shard can then bind with SO_REUSEPORT.
/// The returned socket is bound but not listening (so it receives nothing); keep it until the
/// shards have bound, then drop it.
pub fn reserve(addr: SocketAddr) -> io::Result<(SocketAddr, Socket)> {
    let s = socket(addr, Type::STREAM, Protocol::TCP)?;
    s.bind(&addr.into())?;
    let local = s.local_addr()?.as_socket().ok_or_else(|| io::Error::other("not an IP socket"))?;
    Ok((local, s))
}

//! Non-blocking socket calls on a connection's descriptor. The runtime is used for readiness
//! only (`readable`/`writable`), so no read buffer is pinned while a connection is idle: bytes
//! are read into the shard's one scratch buffer when they are there.
use std::io;
use std::os::fd::RawFd;

/// What a non-blocking call did.
pub(crate) enum Io {
    /// Moved this many bytes (for `recv`, 0 means EOF).
    Done(usize),
    /// Nothing to do now (EAGAIN): wait for readiness.
    WouldBlock,
}

fn result(n: isize) -> io::Result<Io> {
    if n >= 0 {
        return Ok(Io::Done(n as usize));
    }
    let e = io::Error::last_os_error();
    match e.kind() {
        io::ErrorKind::WouldBlock => Ok(Io::WouldBlock),
        io::ErrorKind::Interrupted => Ok(Io::WouldBlock),
        _ => Err(e),
    }
}

/// `recv(2)` with MSG_DONTWAIT into `buf`.
pub(crate) fn recv(fd: RawFd, buf: &mut [u8]) -> io::Result<Io> {
    // SAFETY: `buf` is valid for writes of `buf.len()` bytes for the duration of the call; the
    // kernel writes at most that many. `fd` is owned by a live TcpStream of the caller.
    let n = unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), libc::MSG_DONTWAIT) };
    result(n)
}

/// `send(2)` with MSG_DONTWAIT | MSG_NOSIGNAL from `buf`.
pub(crate) fn send(fd: RawFd, buf: &[u8]) -> io::Result<Io> {
    // SAFETY: `buf` is valid for reads of `buf.len()` bytes for the duration of the call. `fd`
    // is owned by a live TcpStream of the caller.
    let n = unsafe { libc::send(fd, buf.as_ptr().cast(), buf.len(), libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL) };
    result(n)
}

/// Half-close: no more writes (our FIN follows the close frame).
pub(crate) fn shutdown_write(fd: RawFd) {
    // SAFETY: shutdown(2) on a descriptor owned by a live TcpStream; no memory is passed.
    unsafe {
        libc::shutdown(fd, libc::SHUT_WR);
    }
}

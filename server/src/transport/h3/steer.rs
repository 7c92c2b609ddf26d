//! Keeping a QUIC connection's packets on the shard that owns it.
//!
//! SO_REUSEPORT alone picks a shard's UDP socket by hashing the 4-tuple. That holds while the
//! client's address holds, but a NAT rebinding (or a deliberate migration) changes the source port
//! and the hash, and the packets land on a shard whose quinn endpoint has never heard of the
//! connection: it answers with a stateless reset and the connection dies.
//!
//! So every connection ID a shard issues starts with the shard's index ([`ShardCid`]; this is
//! QUIC-LB's "plaintext" server-ID scheme, so the first byte tells an observer which shard,
//! nothing more: the remaining 7 bytes are random), and a classic BPF program on the reuseport
//! group ([`PROGRAM`]) reads that byte from every short-header packet and returns it as the
//! socket index. Long-header packets (the handshake) carry a client-chosen destination ID, so
//! they fall back to the hash; QUIC does not allow migration before the handshake completes, so
//! the hash is stable for them.
//!
//! The socket index is the order in which sockets joined the group, which is why the server binds
//! every shard's UDP socket in order from one thread (`shard::listener::udp_group`). It also means
//! steering assumes one process owns the port: with several processes sharing it (or an old one
//! still draining during a restart) the indices no longer match, so it can be turned off
//! (`--h3-steer false`).
use quinn_proto::{ConnectionId, ConnectionIdGenerator, RandomConnectionIdGenerator};
use std::time::Duration;

/// Connection IDs are this long: the shard byte and 7 random bytes.
pub(crate) const CID_LEN: usize = 8;

/// Most shards steering can address (one byte of the connection ID).
pub(crate) const MAX_SHARDS: usize = 256;

/// Issues connection IDs whose first byte is the shard index.
#[derive(Debug)]
pub(crate) struct ShardCid {
    shard: u8,
    random: RandomConnectionIdGenerator,
}

impl ShardCid {
    pub(crate) fn new(shard: u8) -> Self {
        Self { shard, random: RandomConnectionIdGenerator::new(CID_LEN) }
    }
}

impl ConnectionIdGenerator for ShardCid {
    fn generate_cid(&mut self) -> ConnectionId {
        let mut b = [0u8; CID_LEN];
        b.copy_from_slice(&self.random.generate_cid());
        b[0] = self.shard;
        ConnectionId::new(&b)
    }

    fn cid_len(&self) -> usize {
        CID_LEN
    }

    fn cid_lifetime(&self) -> Option<Duration> {
        None
    }
}

const fn insn(code: u16, jt: u8, jf: u8, k: u32) -> libc::sock_filter {
    libc::sock_filter { code, jt, jf, k }
}

const LD_B_ABS: u16 = (libc::BPF_LD | libc::BPF_B | libc::BPF_ABS) as u16;
const JSET_K: u16 = (libc::BPF_JMP | libc::BPF_JSET | libc::BPF_K) as u16;
const RET_A: u16 = (libc::BPF_RET | libc::BPF_A) as u16;
const RET_K: u16 = (libc::BPF_RET | libc::BPF_K) as u16;

/// The reuseport program; it sees the UDP payload, i.e. the QUIC packet.
///
/// ```text
/// 0: A = pkt[0]                       first byte: header form in the top bit
/// 1: if A & 0x80 goto 4               long header → the hash
/// 2: A = pkt[1]                       short header: first byte of the destination CID
/// 3: return A                         = our shard index (past the end → the hash)
/// 4: return 0xffffffff                past the end → the hash
/// ```
/// A packet too short to load from ends the program with 0 (shard 0 drops it).
pub(crate) const PROGRAM: [libc::sock_filter; 5] =
    [insn(LD_B_ABS, 0, 0, 0), insn(JSET_K, 2, 0, 0x80), insn(LD_B_ABS, 0, 0, 1), insn(RET_A, 0, 0, 0), insn(RET_K, 0, 0, u32::MAX)];

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{SocketAddr, UdpSocket};
    use std::time::Duration;

    #[test]
    fn ids_carry_the_shard_and_are_otherwise_random() {
        let mut g = ShardCid::new(5);
        let (a, b) = (g.generate_cid(), g.generate_cid());
        assert_eq!((a.len(), a[0], b[0]), (CID_LEN, 5, 5));
        assert_ne!(a[1..], b[1..]);
    }

    /// Which socket of `group` gets `payload` sent from a fresh source port.
    fn receiver(group: &[UdpSocket], payload: &[u8]) -> usize {
        let to: SocketAddr = group[0].local_addr().unwrap();
        let client = UdpSocket::bind("127.0.0.1:0").unwrap();
        client.send_to(payload, to).unwrap();
        let mut buf = [0u8; 64];
        for _ in 0..200 {
            for (i, s) in group.iter().enumerate() {
                if s.recv_from(&mut buf).is_ok() {
                    return i;
                }
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        panic!("datagram {payload:?} never arrived");
    }

    /// The real kernel runs the program: short headers go to the socket named by the CID's first
    /// byte whatever the source port; long headers are spread by the hash.
    #[test]
    fn kernel_steers_short_headers_by_cid_and_hashes_long_ones() {
        let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let first = shard::listener::udp(addr, Default::default()).unwrap();
        let addr = first.local_addr().unwrap();
        let mut group = vec![first];
        group.extend(shard::listener::udp_group(addr, 2, Default::default()).unwrap());
        shard::listener::attach_reuseport_cbpf(&group[0], &PROGRAM).unwrap();
        for round in 0..8 {
            for shard in 0..3u8 {
                // Short header (top bit clear, QUIC bit set), then an 8-byte CID naming `shard`.
                let pkt = [0x40, shard, 1, 2, 3, 4, 5, 6, 7, round];
                assert_eq!(receiver(&group, &pkt), usize::from(shard), "round {round}");
            }
        }
        // An index past the group's end falls back to the hash instead of being dropped.
        let _ = receiver(&group, &[0x40, 200, 0, 0]);
        let long: std::collections::BTreeSet<usize> = (0..40).map(|_| receiver(&group, &[0xc0, 0, 0, 0, 1, 8, 2])).collect();
        assert!(long.len() > 1, "long headers all went to {long:?}: not hashed");
    }
}

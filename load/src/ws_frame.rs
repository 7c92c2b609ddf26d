//! The client side of RFC 6455 framing, sans-IO: encode masked client frames, parse the
//! server's (unmasked) frames from the front of a buffer.
//!
//! Only what a load client needs: no extensions (the server declines permessage-deflate), and
//! reassembly of fragmented messages is left to the caller (a frame says whether it is the last
//! one of its message). The parser never reads a socket or a clock; it looks at the bytes it is
//! given and says how long the frame at their front is, or that more bytes are needed.

/// Frame opcodes.
pub mod op {
    pub const CONTINUATION: u8 = 0x0;
    pub const TEXT: u8 = 0x1;
    pub const BINARY: u8 = 0x2;
    pub const CLOSE: u8 = 0x8;
    pub const PING: u8 = 0x9;
    pub const PONG: u8 = 0xA;
}

/// A complete server frame at the front of a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame {
    pub fin: bool,
    pub opcode: u8,
    /// The payload is `buf[payload_start..len]`.
    pub payload_start: usize,
    /// Header plus payload: consume this many bytes.
    pub len: usize,
}

impl Frame {
    pub fn payload<'a>(&self, buf: &'a [u8]) -> &'a [u8] {
        &buf[self.payload_start..self.len]
    }
}

/// What the server sent that a client must not accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameError {
    /// RSV bits set (no extension was negotiated).
    Reserved,
    /// Opcode 3–7 or 0xB–0xF.
    BadOpcode,
    /// A server frame with the mask bit set.
    Masked,
    /// A control frame longer than 125 bytes or not final.
    BadControl,
    /// Payload longer than the caller's limit.
    TooBig,
}

impl FrameError {
    /// The error kind counted in reports.
    pub fn as_str(self) -> &'static str {
        "protocol"
    }
}

/// Parse the frame at the front of `buf`. `Ok(None)`: incomplete, read more. Payloads longer
/// than `max_payload` are refused before they arrive.
pub fn parse(buf: &[u8], max_payload: u64) -> Result<Option<Frame>, FrameError> {
    if buf.len() < 2 {
        return Ok(None);
    }
    let (b0, b1) = (buf[0], buf[1]);
    if b0 & 0x70 != 0 {
        return Err(FrameError::Reserved);
    }
    let fin = b0 & 0x80 != 0;
    let opcode = b0 & 0x0F;
    match opcode {
        op::CONTINUATION | op::TEXT | op::BINARY => {}
        op::CLOSE | op::PING | op::PONG => {
            if !fin || b1 & 0x7F > 125 {
                return Err(FrameError::BadControl);
            }
        }
        _ => return Err(FrameError::BadOpcode),
    }
    if b1 & 0x80 != 0 {
        return Err(FrameError::Masked);
    }
    let (len, hdr) = match b1 & 0x7F {
        126 => {
            if buf.len() < 4 {
                return Ok(None);
            }
            (u64::from(u16::from_be_bytes([buf[2], buf[3]])), 4)
        }
        127 => {
            if buf.len() < 10 {
                return Ok(None);
            }
            let mut b = [0u8; 8];
            b.copy_from_slice(&buf[2..10]);
            (u64::from_be_bytes(b), 10)
        }
        n => (u64::from(n), 2),
    };
    // RFC 6455 §5.2: the 64-bit length's most significant bit is 0.
    if len > max_payload || len > i64::MAX as u64 {
        return Err(FrameError::TooBig);
    }
    let total = hdr as u64 + len;
    if (buf.len() as u64) < total {
        return Ok(None);
    }
    Ok(Some(Frame { fin, opcode, payload_start: hdr, len: total as usize }))
}

/// Append one final, masked client frame to `out`.
pub fn encode(opcode: u8, payload: &[u8], mask: [u8; 4], out: &mut Vec<u8>) {
    encode_header(opcode, payload.len(), mask, out);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i & 3]));
}

/// Append a final, masked client frame whose payload is already in `out[start..]`: the header
/// is inserted in front of it and the payload masked in place (no copy of the payload).
pub fn frame_in_place(opcode: u8, mask: [u8; 4], out: &mut Vec<u8>, start: usize) {
    let n = out.len() - start;
    let mut hdr = Vec::with_capacity(14);
    encode_header(opcode, n, mask, &mut hdr);
    for (i, b) in out[start..].iter_mut().enumerate() {
        *b ^= mask[i & 3];
    }
    out.splice(start..start, hdr);
}

fn encode_header(opcode: u8, n: usize, mask: [u8; 4], out: &mut Vec<u8>) {
    out.push(0x80 | opcode);
    if n < 126 {
        out.push(0x80 | n as u8);
    } else if n <= 0xFFFF {
        out.push(0x80 | 126);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(0x80 | 127);
        out.extend_from_slice(&(n as u64).to_be_bytes());
    }
    out.extend_from_slice(&mask);
}

/// The close code in a close frame's payload (`None`: no code).
pub fn close_code(payload: &[u8]) -> Option<u16> {
    (payload.len() >= 2).then(|| u16::from_be_bytes([payload[0], payload[1]]))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server frame (unmasked), as a server would write it.
    fn server_frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
        let mut v = vec![if fin { 0x80 } else { 0 } | opcode];
        let n = payload.len();
        if n < 126 {
            v.push(n as u8);
        } else if n <= 0xFFFF {
            v.push(126);
            v.extend_from_slice(&(n as u16).to_be_bytes());
        } else {
            v.push(127);
            v.extend_from_slice(&(n as u64).to_be_bytes());
        }
        v.extend_from_slice(payload);
        v
    }

    /// Decode a masked client frame independently of `parse` (which refuses masked frames).
    fn unmask_client(buf: &[u8]) -> (u8, Vec<u8>) {
        assert_eq!(buf[0] & 0xF0, 0x80, "final, no RSV");
        assert_eq!(buf[1] & 0x80, 0x80, "client frames are masked");
        let (n, mut i) = match buf[1] & 0x7F {
            126 => (u16::from_be_bytes([buf[2], buf[3]]) as usize, 4),
            127 => (u64::from_be_bytes(buf[2..10].try_into().unwrap()) as usize, 10),
            n => (n as usize, 2),
        };
        let mask = [buf[i], buf[i + 1], buf[i + 2], buf[i + 3]];
        i += 4;
        assert_eq!(buf.len(), i + n);
        (buf[0] & 0x0F, buf[i..].iter().enumerate().map(|(k, b)| b ^ mask[k & 3]).collect())
    }

    #[test]
    fn every_length_class_split_at_every_offset() {
        for n in [0usize, 1, 125, 126, 127, 1000, 65535, 65536, 70_000] {
            let payload: Vec<u8> = (0..n).map(|i| (i * 31 % 251) as u8).collect();
            let mut stream = server_frame(true, op::TEXT, &payload);
            stream.extend(server_frame(true, op::PING, b"p"));
            let first_len = stream.len() - 3;
            // Every prefix shorter than the first frame is incomplete; the full one parses.
            let step = if n > 2000 { 997 } else { 1 };
            for cut in (0..first_len).step_by(step).chain([first_len - 1]) {
                assert_eq!(parse(&stream[..cut], u64::MAX), Ok(None), "n={n} cut={cut}");
            }
            let f = parse(&stream, u64::MAX).unwrap().unwrap();
            assert_eq!((f.fin, f.opcode, f.len), (true, op::TEXT, first_len));
            assert_eq!(f.payload(&stream), &payload[..]);
            // The next frame starts where the first ended.
            let g = parse(&stream[f.len..], u64::MAX).unwrap().unwrap();
            assert_eq!((g.opcode, g.payload(&stream[f.len..])), (op::PING, &b"p"[..]));
        }
    }

    #[test]
    fn byte_by_byte_stream_of_mixed_frames() {
        let frames = [
            (false, op::TEXT, b"hel".to_vec()),
            (true, op::CONTINUATION, b"lo".to_vec()),
            (true, op::PONG, vec![]),
            (true, op::CLOSE, vec![0x03, 0xE8]),
        ];
        let wire: Vec<u8> = frames.iter().flat_map(|(f, o, p)| server_frame(*f, *o, p)).collect();
        let (mut buf, mut got) = (Vec::new(), Vec::new());
        for b in wire {
            buf.push(b);
            while let Some(f) = parse(&buf, 1 << 20).unwrap() {
                got.push((f.fin, f.opcode, f.payload(&buf).to_vec()));
                buf.drain(..f.len);
            }
        }
        assert_eq!(got, frames);
        assert_eq!(close_code(&got[3].2), Some(1000));
        assert_eq!(close_code(&[]), None);
    }

    #[test]
    fn bad_frames_are_refused() {
        assert_eq!(parse(&[0x81 | 0x40, 0], 10), Err(FrameError::Reserved));
        assert_eq!(parse(&[0x83, 0], 10), Err(FrameError::BadOpcode));
        assert_eq!(parse(&[0x81, 0x80, 0, 0, 0, 0], 10), Err(FrameError::Masked));
        assert_eq!(parse(&[0x09, 0], 10), Err(FrameError::BadControl));
        assert_eq!(parse(&[0x89, 126, 0, 200], 1000), Err(FrameError::BadControl));
        assert_eq!(parse(&[0x81, 11], 10), Err(FrameError::TooBig));
        assert_eq!(parse(&[0x82, 127, 0xFF, 0, 0, 0, 0, 0, 0, 0], u64::MAX), Err(FrameError::TooBig));
        assert_eq!(parse(&[0x82, 127, 0x7F, 0, 0, 0, 0, 0, 0, 0], u64::MAX), Ok(None));
        assert_eq!(FrameError::Masked.as_str(), "protocol");
    }

    #[test]
    fn client_frames_round_trip_at_every_length_class() {
        for n in [0usize, 5, 125, 126, 65535, 65536] {
            let payload: Vec<u8> = (0..n).map(|i| (i % 256) as u8).collect();
            let mask = [0x12, 0x34, 0x56, (n % 256) as u8];
            let mut a = Vec::new();
            encode(op::TEXT, &payload, mask, &mut a);
            assert_eq!(unmask_client(&a), (op::TEXT, payload.clone()));
            // In place, after something already queued: identical bytes.
            let mut b = b"xyz".to_vec();
            b.extend_from_slice(&payload);
            frame_in_place(op::TEXT, mask, &mut b, 3);
            assert_eq!(&b[..3], b"xyz");
            assert_eq!(&b[3..], &a[..]);
        }
    }
}

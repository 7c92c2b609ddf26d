//! Frame headers (RFC 6455 §5.2): parse the client's, write the server's.

use super::CloseCode;

/// Frame opcodes a peer may send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Opcode {
    Continuation,
    Text,
    Binary,
    Close,
    Ping,
    Pong,
}

impl Opcode {
    fn from_bits(b: u8) -> Option<Self> {
        Some(match b {
            0x0 => Self::Continuation,
            0x1 => Self::Text,
            0x2 => Self::Binary,
            0x8 => Self::Close,
            0x9 => Self::Ping,
            0xA => Self::Pong,
            _ => return None,
        })
    }

    pub(crate) fn bits(self) -> u8 {
        match self {
            Self::Continuation => 0x0,
            Self::Text => 0x1,
            Self::Binary => 0x2,
            Self::Close => 0x8,
            Self::Ping => 0x9,
            Self::Pong => 0xA,
        }
    }

    pub(crate) fn is_control(self) -> bool {
        matches!(self, Self::Close | Self::Ping | Self::Pong)
    }
}

/// A parsed client frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) fin: bool,
    pub(crate) opcode: Opcode,
    pub(crate) mask: [u8; 4],
    pub(crate) len: u64,
    /// Bytes taken by the header itself (2..=14).
    pub(crate) size: usize,
}

/// Parse a client frame header from the start of `buf`.
/// `Ok(None)`: not enough bytes yet. `Err`: the close code the connection fails with.
/// Checks that do not need connection state: reserved bits (no extension is negotiated),
/// opcode, masking, control-frame rules, the 64-bit length's top bit, and `max_frame`.
pub(crate) fn parse_header(buf: &[u8], max_frame: u64) -> Result<Option<Header>, CloseCode> {
    let (Some(&b0), Some(&b1)) = (buf.first(), buf.get(1)) else {
        return Ok(None);
    };
    if b0 & 0x70 != 0 {
        return Err(CloseCode::PROTOCOL);
    }
    let fin = b0 & 0x80 != 0;
    let opcode = Opcode::from_bits(b0 & 0x0F).ok_or(CloseCode::PROTOCOL)?;
    if b1 & 0x80 == 0 {
        return Err(CloseCode::PROTOCOL); // §5.1: a client must mask every frame
    }
    let (len, ext) = match b1 & 0x7F {
        126 => (0, 2),
        127 => (0, 8),
        n => (u64::from(n), 0),
    };
    if opcode.is_control() && (!fin || ext != 0) {
        return Err(CloseCode::PROTOCOL); // §5.5: not fragmented, payload ≤ 125
    }
    if buf.len() < 2 + ext {
        return Ok(None);
    }
    let len = match ext {
        2 => u64::from(u16::from_be_bytes([buf[2], buf[3]])),
        8 => {
            let mut b = [0u8; 8];
            b.copy_from_slice(&buf[2..10]);
            let n = u64::from_be_bytes(b);
            if n >> 63 != 0 {
                return Err(CloseCode::PROTOCOL);
            }
            n
        }
        _ => len,
    };
    if len > max_frame {
        return Err(CloseCode::TOO_BIG);
    }
    let size = 2 + ext + 4;
    if buf.len() < size {
        return Ok(None);
    }
    let mut mask = [0u8; 4];
    mask.copy_from_slice(&buf[size - 4..size]);
    Ok(Some(Header { fin, opcode, mask, len, size }))
}

/// XOR `data` with `mask`, where `data[0]` is payload byte number `offset`.
pub(crate) fn apply_mask(data: &mut [u8], mask: [u8; 4], offset: usize) {
    let m = u32::from_ne_bytes(rotate(mask, offset));
    let mut chunks = data.chunks_exact_mut(4);
    for c in &mut chunks {
        let mut w = [0u8; 4];
        w.copy_from_slice(c);
        c.copy_from_slice(&(u32::from_ne_bytes(w) ^ m).to_ne_bytes());
    }
    let mb = m.to_ne_bytes();
    for (i, b) in chunks.into_remainder().iter_mut().enumerate() {
        *b ^= mb[i];
    }
}

fn rotate(mask: [u8; 4], offset: usize) -> [u8; 4] {
    let k = offset % 4;
    [mask[k], mask[(k + 1) % 4], mask[(k + 2) % 4], mask[(k + 3) % 4]]
}

/// Append an unmasked, final server frame with `payload` to `out`.
pub(crate) fn write_frame(out: &mut Vec<u8>, opcode: Opcode, payload: &[u8]) {
    write_frame_parts(out, opcode, &[payload]);
}

/// Like [`write_frame`] with the payload given in parts (e.g. close code + reason).
pub(crate) fn write_frame_parts(out: &mut Vec<u8>, opcode: Opcode, parts: &[&[u8]]) {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    out.reserve(len + 10);
    out.push(0x80 | opcode.bits());
    if len < 126 {
        out.push(len as u8);
    } else if let Ok(n) = u16::try_from(len) {
        out.push(126);
        out.extend_from_slice(&n.to_be_bytes());
    } else {
        out.push(127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    for p in parts {
        out.extend_from_slice(p);
    }
}

/// Build a masked client frame (for tests and test clients).
pub fn client_frame(fin: bool, opcode: u8, payload: &[u8], mask: [u8; 4]) -> Vec<u8> {
    let mut out = vec![(u8::from(fin) << 7) | (opcode & 0x0F)];
    let len = payload.len();
    if len < 126 {
        out.push(0x80 | len as u8);
    } else if let Ok(n) = u16::try_from(len) {
        out.push(0x80 | 126);
        out.extend_from_slice(&n.to_be_bytes());
    } else {
        out.push(0x80 | 127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    out.extend_from_slice(&mask);
    let start = out.len();
    out.extend_from_slice(payload);
    apply_mask(&mut out[start..], mask, 0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mask_is_its_own_inverse_at_any_offset() {
        let mask = [1, 2, 3, 0xFF];
        let data: Vec<u8> = (0..=40u8).collect();
        let mut whole = data.clone();
        apply_mask(&mut whole, mask, 0);
        for cut in 0..data.len() {
            let mut parts = data.clone();
            let (a, b) = parts.split_at_mut(cut);
            apply_mask(a, mask, 0);
            apply_mask(b, mask, cut);
            assert_eq!(parts, whole, "cut {cut}");
        }
    }

    #[test]
    fn header_rules() {
        let f = client_frame(true, 1, b"hi", [9; 4]);
        let h = parse_header(&f, 100).unwrap().unwrap();
        assert_eq!((h.fin, h.opcode, h.len, h.size), (true, Opcode::Text, 2, 6));
        for cut in 0..6 {
            assert_eq!(parse_header(&f[..cut], 100), Ok(None));
        }
        assert_eq!(parse_header(&[0x81, 0x02], 100), Err(CloseCode::PROTOCOL), "unmasked");
        assert_eq!(parse_header(&[0xC1, 0x82], 100), Err(CloseCode::PROTOCOL), "rsv1");
        assert_eq!(parse_header(&[0x83, 0x82], 100), Err(CloseCode::PROTOCOL), "opcode 3");
        assert_eq!(parse_header(&[0x09, 0x80], 100), Err(CloseCode::PROTOCOL), "fragmented ping");
        assert_eq!(parse_header(&[0x89, 0xFE], 100), Err(CloseCode::PROTOCOL), "long ping");
        let big = client_frame(true, 2, &[0; 200], [0; 4]);
        assert_eq!(parse_header(&big, 100), Err(CloseCode::TOO_BIG));
        let mut huge = vec![0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(parse_header(&huge, u64::MAX), Err(CloseCode::PROTOCOL), "64-bit top bit");
        huge[2] = 0;
        assert_eq!(parse_header(&huge, u64::MAX).unwrap().unwrap().len, 0);
    }

    #[test]
    fn server_frame_lengths() {
        for len in [0usize, 125, 126, 65535, 65536] {
            let mut out = Vec::new();
            write_frame(&mut out, Opcode::Binary, &vec![7; len]);
            let hdr = match len {
                0..=125 => 2,
                126..=65535 => 4,
                _ => 10,
            };
            assert_eq!(out.len(), hdr + len);
            assert_eq!(out[0], 0x82);
        }
    }
}

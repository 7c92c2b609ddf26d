//! Response body compression, negotiated from `Accept-Encoding` (RFC 9110 §12.5.3): brotli or
//! gzip for JSON and text bodies from `--compress-min-bytes` up. The levels favour CPU over the
//! last percent of size (docs/performance.md has the measured bytes and CPU of each): a chart
//! is computed in about a microsecond, so a slow level would be most of the request.
use crate::http::{Coding, Req, Resp};
use crate::stats::Stats;
use bytes::Bytes;
use std::io::Write;

/// brotli quality (0..=11).
const BROTLI_QUALITY: u32 = 4;
/// brotli window (log2 of bytes); our bodies are far smaller than 2^18.
const BROTLI_LGWIN: u32 = 18;
/// gzip level (0..=9).
const GZIP_LEVEL: u32 = 1;

/// Compress `resp`'s body when the client accepts a coding we produce, the type is
/// compressible and the body is at least `min` bytes; the representation then varies with
/// `Accept-Encoding`, which `Vary` says.
pub(crate) fn negotiate(req: &Req<'_>, mut resp: Resp, min: Option<usize>, stats: &Stats) -> Resp {
    let Some(min) = min else { return resp };
    let compressible = resp.content_type.starts_with("application/json") || resp.content_type.starts_with("text/");
    if !compressible || resp.body.len() < min || resp.header("content-encoding").is_some() {
        return resp;
    }
    resp = resp.with("vary", Bytes::from_static(b"accept-encoding"));
    let Some(coding) = Coding::negotiate(req.accept_encoding) else { return resp };
    let Some(body) = encode(coding, &resp.body) else { return resp };
    stats.compressed.add(1);
    stats.compress_in_bytes.add(resp.body.len() as u64);
    stats.compress_out_bytes.add(body.len() as u64);
    resp.body = body.into();
    resp.with("content-encoding", Bytes::from_static(coding.token().as_bytes()))
}

/// `body` in `coding`; None if the encoder failed (the body then goes uncompressed).
pub(crate) fn encode(coding: Coding, body: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(body.len() / 4 + 64);
    match coding {
        Coding::Gzip => {
            let mut e = flate2::write::GzEncoder::new(out, flate2::Compression::new(GZIP_LEVEL));
            e.write_all(body).ok()?;
            e.finish().ok()
        }
        Coding::Br => {
            {
                let mut w = brotli::CompressorWriter::new(&mut out, 4096, BROTLI_QUALITY, BROTLI_LGWIN);
                w.write_all(body).ok()?;
                w.flush().ok()?;
            }
            Some(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Method;
    use std::io::Read;

    fn req(accept: Option<&'static [u8]>) -> Req<'static> {
        Req { method: Method::Get, path: "/", query: "", content_type: None, accept_encoding: accept, body: b"" }
    }

    #[test]
    fn round_trips_and_negotiates() {
        let body = serde_json::to_vec(&vec![serde_json::json!({"hanja": "庚辰", "hangul": "경진"}); 200]).unwrap();
        let stats = Stats::new();
        let plain = Resp::new(200, crate::http::JSON, body.clone());
        let gz = negotiate(&req(Some(b"gzip")), plain.clone(), Some(1024), &stats);
        assert_eq!(gz.header("content-encoding"), Some(&b"gzip"[..]));
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&gz.body[..]).read_to_end(&mut back).unwrap();
        assert_eq!(back, body);
        let br = negotiate(&req(Some(b"gzip, br")), plain.clone(), Some(1024), &stats);
        assert_eq!(br.header("content-encoding"), Some(&b"br"[..]));
        let mut back = Vec::new();
        brotli::Decompressor::new(&br.body[..], 4096).read_to_end(&mut back).unwrap();
        assert_eq!(back, body);
        assert!(br.body.len() < body.len() / 4, "{} of {}", br.body.len(), body.len());
        assert_eq!(stats.compressed.get(), 2);
        // Not asked, too small, not compressible, or off: untouched (Vary only when it could vary).
        let none = negotiate(&req(None), plain.clone(), Some(1024), &stats);
        assert_eq!((none.header("content-encoding"), none.header("vary")), (None, Some(&b"accept-encoding"[..])));
        assert_eq!(negotiate(&req(Some(b"gzip")), plain.clone(), Some(1 << 20), &stats).header("vary"), None);
        assert_eq!(negotiate(&req(Some(b"gzip")), plain.clone(), None, &stats).body, body);
        let png = Resp::new(200, "image/png", body.clone());
        assert_eq!(negotiate(&req(Some(b"gzip")), png, Some(16), &stats).header("content-encoding"), None);
    }
}

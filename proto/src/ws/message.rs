//! Message assembly: a fragmented message in progress ([`Partial`]) with its incremental UTF-8
//! check, and close-frame payload rules.

use super::CloseCode;

/// A message being assembled from fragments.
#[derive(Debug)]
pub(super) struct Partial {
    pub(super) text: bool,
    pub(super) data: Vec<u8>,
    /// `data[..valid_to]` is known-valid UTF-8 (text only).
    pub(super) valid_to: usize,
}

impl Partial {
    /// Validate the UTF-8 received so far; an incomplete sequence at the end is fine
    /// until the final fragment.
    pub(super) fn check_utf8(&mut self, fin: bool) -> Result<(), CloseCode> {
        if !self.text {
            return Ok(());
        }
        match std::str::from_utf8(&self.data[self.valid_to..]) {
            Ok(_) => self.valid_to = self.data.len(),
            Err(e) if e.error_len().is_none() && !fin => self.valid_to += e.valid_up_to(),
            Err(_) => return Err(CloseCode::INVALID_DATA),
        }
        Ok(())
    }
}

/// The code of a received close frame (`None`: no code). 1 byte, an invalid code → 1002;
/// a reason that is not UTF-8 → 1007.
pub(super) fn parse_close(data: &[u8]) -> Result<Option<CloseCode>, CloseCode> {
    match data {
        [] => Ok(None),
        [_] => Err(CloseCode::PROTOCOL),
        [a, b, reason @ ..] => {
            let code = CloseCode(u16::from_be_bytes([*a, *b]));
            if !code.is_valid_on_wire() {
                return Err(CloseCode::PROTOCOL);
            }
            std::str::from_utf8(reason).map_err(|_| CloseCode::INVALID_DATA)?;
            Ok(Some(code))
        }
    }
}

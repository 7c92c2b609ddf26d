//! Pure routing: which shard owns a key. No state, no clock, so every shard (and every client
//! that wants to pre-route) computes the same answer.
use std::hash::{Hash, Hasher};

/// The shard that owns `key` among `nshards` (FNV-1a of the key's `Hash` bytes, then a
/// multiply-shift reduction, which is unbiased enough and avoids a division).
pub fn shard_for<K: Hash + ?Sized>(key: &K, nshards: usize) -> usize {
    assert!(nshards > 0, "shard_for needs at least one shard");
    let mut h = Fnv(0xcbf2_9ce4_8422_2325);
    key.hash(&mut h);
    ((u128::from(h.0) * nshards as u128) >> 64) as usize
}

struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_and_in_range() {
        for n in 1..9 {
            for k in 0..1000u32 {
                let s = shard_for(&k, n);
                assert!(s < n);
                assert_eq!(s, shard_for(&k, n));
            }
        }
    }

    #[test]
    fn spreads_keys() {
        let mut counts = [0usize; 4];
        for k in 0..40_000u32 {
            counts[shard_for(&k, 4)] += 1;
        }
        for c in counts {
            assert!((9_000..11_000).contains(&c), "{counts:?}");
        }
    }
}

//! The scalar kernel: plain integer arithmetic, one item at a time. It is the oracle the SIMD
//! kernels are tested against, and it is itself tested against `crate::four_pillars`.
use super::{check_lengths, tables, Inputs, Outputs, JIE_A, JIE_B, NJIE};

const DAY_MS: i64 = 86_400_000;
const HOUR_MS: i64 = 3_600_000;
/// `(days since 1970-01-01 + DAY_OFFSET) mod 60` is the day pillar (1970-01-01 = 辛巳 = 17).
pub(crate) const DAY_OFFSET: i64 = 17;

/// Computes the pillars of every item (see [`super`] for what and the domain).
///
/// # Panics
/// If the slices' lengths differ.
pub fn pillars(inp: &Inputs<'_>, out: &mut Outputs<'_>) {
    check_lengths(inp, out);
    let t = tables();
    let last = NJIE as i64 - 1;
    for i in 0..inp.len() {
        let t_ms = inp.utc_s[i].wrapping_mul(1000);
        // 節 index: linear estimate within ±1 (see `super::tests::estimate_within_one`), then
        // one compare on each side. Clamped so that any input stays in bounds.
        let est = (t_ms.wrapping_sub(JIE_A)).div_euclid(JIE_B).clamp(0, last);
        #[allow(clippy::cast_sign_loss, clippy::cast_possible_truncation)] // clamped to 0..NJIE
        let e = est as usize;
        let idx = (est - i64::from(t_ms < t.jie_ms[e]) + i64::from(t_ms >= t.jie_ms[e + 1])).clamp(0, last);
        #[allow(clippy::cast_sign_loss, clippy::cast_possible_truncation)]
        let ym = t.ym[idx as usize];

        let local = t_ms.wrapping_add(i64::from(inp.shift_ms[i]));
        let days = local.div_euclid(DAY_MS);
        let h = local.rem_euclid(DAY_MS) / HOUR_MS;
        let day = (days + DAY_OFFSET).rem_euclid(60);
        let day23 = (days + DAY_OFFSET + i64::from(h == 23)).rem_euclid(60);
        let branch = (h + 1) / 2 % 12;
        #[allow(clippy::cast_sign_loss, clippy::cast_possible_truncation)] // all in 0..60
        {
            out.year[i] = (ym & 0xff) as u8;
            out.month[i] = (ym >> 8 & 0xff) as u8;
            out.day[i] = day as u8;
            out.hour[i] = ((day23 * 12 + branch) % 60) as u8;
            out.day23[i] = day23 as u8;
        }
    }
}

//! The AVX-512 kernel: 8 items per step in f64 lanes (AVX-512 F + DQ for the i64 ↔ f64
//! conversions, VL + BW for the 8-lane byte stores); the tail is the same step under a lane
//! mask, so every length runs the vector code.
use crate::arch::{check_lengths, tables, Inputs, Outputs, PillarsFn, Tables, JIE_A, JIE_B, NJIE};
use core::arch::x86_64::*;

/// Proof that this CPU runs AVX-512 F/DQ/VL/BW: only [`Avx512::new`] makes one.
#[derive(Debug, Clone, Copy)]
pub struct Avx512(());

impl Avx512 {
    /// Whether this CPU has every feature the kernel uses.
    #[must_use]
    pub fn is_available() -> bool {
        std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512dq")
            && std::arch::is_x86_feature_detected!("avx512vl")
            && std::arch::is_x86_feature_detected!("avx512bw")
            && std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma")
    }

    /// The kernel, if this CPU can run it.
    #[must_use]
    pub fn new() -> Option<Self> {
        Self::is_available().then_some(Self(()))
    }

    /// Runs the kernel.
    ///
    /// # Panics
    /// If the slices' lengths differ.
    pub fn pillars(self, inp: &Inputs<'_>, out: &mut Outputs<'_>) {
        // SAFETY: `self` exists only if `is_available()` said the CPU has the features.
        unsafe { pillars_avx512(inp, out) }
    }

    /// The entry point as a plain function pointer (for the cached dispatch).
    #[must_use]
    pub fn as_fn(self) -> PillarsFn {
        entry
    }
}

/// Only reachable through [`Avx512::as_fn`], which takes the proof token.
fn entry(inp: &Inputs<'_>, out: &mut Outputs<'_>) {
    // SAFETY: this function pointer is handed out only by `Avx512::as_fn`, whose receiver can
    // only be built by `Avx512::new` after the feature check.
    unsafe { pillars_avx512(inp, out) }
}

const FLOOR: i32 = _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC;

/// `⌊(x + c) / d⌋` for an exact integer `x` in f64 (|x| < 2^51), an integer offset `c` and a
/// positive integer `d` (`inv` = 1/d): one fused multiply-add, `x·(1/d) + (c + ½)·(1/d)`, then
/// floor. The true quotient `(x + c + ½)/d` is at least `½/d` from any integer, and the
/// rounding of the reciprocal, of the constant and of the FMA together stay below 2^-50 ·
/// |x|/d, far smaller, so the floor is exact without a correction step.
#[inline]
#[target_feature(enable = "avx512f,fma")]
fn div(x: __m512d, c: f64, inv: f64) -> __m512d {
    _mm512_roundscale_pd::<FLOOR>(_mm512_fmadd_pd(x, _mm512_set1_pd(inv), _mm512_set1_pd((c + 0.5) * inv)))
}

/// `(x + c) mod d` (non-negative), same conditions as [`div`].
#[inline]
#[target_feature(enable = "avx512f,fma")]
fn rem(x: __m512d, c: f64, d: f64, inv: f64) -> __m512d {
    _mm512_add_pd(_mm512_fnmadd_pd(div(x, c, inv), _mm512_set1_pd(d), x), _mm512_set1_pd(c))
}

/// # Safety
/// The CPU must have AVX-512 F, DQ, VL, BW, AVX2 and FMA.
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
unsafe fn pillars_avx512(inp: &Inputs<'_>, out: &mut Outputs<'_>) {
    check_lengths(inp, out);
    let t = tables();
    let n = inp.len();
    let mut i = 0;
    while i + 8 <= n {
        // SAFETY: lanes i..i + 8 are in bounds of every slice (lengths checked above).
        unsafe { step(t, inp, out, i, 0xff) };
        i += 8;
    }
    if i < n {
        #[allow(clippy::cast_possible_truncation)] // n − i < 8
        let mask: __mmask8 = (1u8 << (n - i)) - 1;
        // SAFETY: only lanes i..n (set in `mask`) are loaded or stored; masked-off lanes of a
        // masked load/store are not accessed (no fault, no read).
        unsafe { step(t, inp, out, i, mask) };
    }
}

/// One step of 8 lanes starting at item `i`; lanes off in `mask` are neither read nor written.
///
/// # Safety
/// Every lane set in `mask` (lane `j` is item `i + j`) must be in bounds of every slice, and
/// the CPU must have AVX-512 F, DQ, VL, BW, AVX2 and FMA.
#[inline]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
unsafe fn step(t: &Tables, inp: &Inputs<'_>, out: &mut Outputs<'_>, i: usize, mask: __mmask8) {
    // SAFETY: the caller guarantees lanes in `mask` are in bounds; masked-off lanes are zeroed,
    // not read.
    let (utc, shift) = unsafe {
        (
            _mm512_maskz_loadu_epi64(mask, inp.utc_s.as_ptr().add(i).cast()),
            _mm256_maskz_loadu_epi32(mask, inp.shift_ms.as_ptr().add(i).cast()),
        )
    };
    let t_ms = _mm512_mul_pd(_mm512_cvtepi64_pd(utc), _mm512_set1_pd(1000.0));

    // Year and month: estimate the 節 index, clamp, correct by one each way, clamp.
    #[allow(clippy::cast_precision_loss)]
    let (a, inv_b, last) = (JIE_A as f64, 1.0 / JIE_B as f64, (NJIE - 1) as f64);
    let zero = _mm512_setzero_pd();
    let lastv = _mm512_set1_pd(last);
    let one = _mm512_set1_pd(1.0);
    // Only needs to land within the ±1 the correction absorbs (margin ≥ 0.4), not to be exact.
    let est = _mm512_roundscale_pd::<FLOOR>(_mm512_fmadd_pd(t_ms, _mm512_set1_pd(inv_b), _mm512_set1_pd(-a * inv_b)));
    let est = _mm512_min_pd(_mm512_max_pd(est, zero), lastv);
    let ei: __m256i = _mm512_cvttpd_epi32(est);
    // SAFETY: every index is in 0..NJIE (clamped above; masked-off lanes computed from 0, also
    // clamped), and `jie_f64` has NJIE + 1 entries, so `ei` and `ei + 1` are in bounds.
    let (j0, j1) = unsafe {
        (
            _mm512_i32gather_pd::<8>(ei, t.jie_f64.as_ptr().cast()),
            _mm512_i32gather_pd::<8>(_mm256_add_epi32(ei, _mm256_set1_epi32(1)), t.jie_f64.as_ptr().cast()),
        )
    };
    let before = _mm512_cmp_pd_mask::<_CMP_LT_OQ>(t_ms, j0);
    let after = _mm512_cmp_pd_mask::<_CMP_GE_OQ>(t_ms, j1);
    let idx = _mm512_mask_add_pd(_mm512_mask_sub_pd(est, before, est, one), after, est, one);
    // `before` and `after` exclude each other (j0 < j1), so the blend above is est − 1, est + 1 or est.
    // No second clamp: `idx` indexes no memory (inside the domain it is already in 0..NJIE).
    // Year and month are linear in the 節 index i (checked against the scalar kernel's table
    // by `arch::tests::ym_is_linear`): year = (35 + ⌊(i − 1)/12⌋) mod 60, month = (i + 1) mod 60.
    let year = rem(div(idx, -1.0, 1.0 / 12.0), 35.0, 60.0, 1.0 / 60.0);
    let month = rem(idx, 1.0, 60.0, 1.0 / 60.0);

    // Day and hour from the clock: days since 1970 and the ms of the day.
    let local = _mm512_add_pd(t_ms, _mm512_cvtepi32_pd(shift));
    let days = div(local, 0.0, 1.0 / 86_400_000.0);
    let sod = _mm512_fnmadd_pd(days, _mm512_set1_pd(86_400_000.0), local);
    let is23 = _mm512_cmp_pd_mask::<_CMP_GE_OQ>(sod, _mm512_set1_pd(82_800_000.0));
    let day = rem(days, 17.0, 60.0, 1.0 / 60.0);
    // day23 = day + 1 from 23:00, wrapping 60 → 0.
    let day23 = _mm512_mask_add_pd(day, is23, day, one);
    let day23 = _mm512_mask_blend_pd(_mm512_cmp_pd_mask::<_CMP_EQ_OQ>(day23, _mm512_set1_pd(60.0)), day23, zero);
    // Branch ⌊(h + 1)/2⌋ mod 12 = ⌊(sod + 1 h) / 2 h⌋, where only 23:00–23:59 wraps (12 → 0).
    let branch = div(sod, 3_600_000.0, 1.0 / 7_200_000.0);
    let branch = _mm512_mask_blend_pd(is23, branch, zero);
    // 12·day23 mod 60 = 12·(day23 mod 5).
    let hour = _mm512_fmadd_pd(rem(day23, 0.0, 5.0, 1.0 / 5.0), _mm512_set1_pd(12.0), branch);
    // Narrow in registers: year | month << 8 | day << 16 | hour << 24 is exact in f64 and fits
    // an i32, so one conversion, one in-lane byte shuffle and one cross-lane dword permute give
    // the four outputs as the four 64-bit elements of one vector (8 bytes each).
    let packed = _mm512_fmadd_pd(
        _mm512_fmadd_pd(_mm512_fmadd_pd(hour, _mm512_set1_pd(256.0), day), _mm512_set1_pd(256.0), month),
        _mm512_set1_pd(256.0),
        year,
    );
    let v = _mm512_cvttpd_epi32(packed);
    let v = _mm256_shuffle_epi8(
        v,
        _mm256_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15, 0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15),
    );
    let v = _mm256_permutevar8x32_epi32(v, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    let (lo, hi) = (_mm256_castsi256_si128(v), _mm256_extracti128_si256::<1>(v));
    let d23 = _mm256_cvtepi32_epi8(_mm512_cvttpd_epi32(day23));
    let outs = [
        (&mut *out.year, lo),
        (&mut *out.month, _mm_unpackhi_epi64(lo, lo)),
        (&mut *out.day, hi),
        (&mut *out.hour, _mm_unpackhi_epi64(hi, hi)),
        (&mut *out.day23, d23),
    ];
    for (o, b) in outs {
        // SAFETY: the caller guarantees lanes in `mask` are in bounds of every output; with a
        // full mask all 8 bytes are, otherwise masked-off bytes are not written.
        unsafe {
            if mask == 0xff {
                _mm_storel_epi64(o.as_mut_ptr().add(i).cast(), b);
            } else {
                _mm_mask_storeu_epi8(o.as_mut_ptr().add(i).cast(), __mmask16::from(mask), b);
            }
        }
    }
}

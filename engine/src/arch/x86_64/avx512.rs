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

/// `⌊x / d⌋` for an exact integer `x` in f64 (|x| < 2^51) and a positive integer `d`:
/// `(x + ½)/d` is at least `½/d` away from any integer, far more than the rounding error of
/// the reciprocal product (< 2^-51 · |x|/d), so its floor is exact without a correction step.
#[inline]
#[target_feature(enable = "avx512f")]
fn div(x: __m512d, inv: f64) -> __m512d {
    _mm512_roundscale_pd::<FLOOR>(_mm512_mul_pd(_mm512_add_pd(x, _mm512_set1_pd(0.5)), _mm512_set1_pd(inv)))
}

/// `x mod d` (non-negative) for an exact integer `x` in f64 (|x| < 2^51).
#[inline]
#[target_feature(enable = "avx512f,fma")]
fn rem(x: __m512d, d: f64, inv: f64) -> __m512d {
    _mm512_fnmadd_pd(div(x, inv), _mm512_set1_pd(d), x)
}

#[inline]
#[target_feature(enable = "avx512f,fma")]
fn mod60(x: __m512d) -> __m512d {
    rem(x, 60.0, 1.0 / 60.0)
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
    let est = _mm512_roundscale_pd::<FLOOR>(_mm512_mul_pd(_mm512_sub_pd(t_ms, _mm512_set1_pd(a)), _mm512_set1_pd(inv_b)));
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
    let idx = _mm512_min_pd(_mm512_max_pd(idx, zero), lastv);
    // Year and month are linear in the 節 index i (checked against the scalar kernel's table
    // by `arch::tests::ym_is_linear`): year = (35 + ⌊(i − 1)/12⌋) mod 60, month = (i + 1) mod 60.
    let year = mod60(_mm512_add_pd(div(_mm512_sub_pd(idx, one), 1.0 / 12.0), _mm512_set1_pd(35.0)));
    let month = mod60(_mm512_add_pd(idx, one));

    // Day and hour from the clock.
    let local = _mm512_add_pd(t_ms, _mm512_cvtepi32_pd(shift));
    let days = div(local, 1.0 / 86_400_000.0);
    let sod = _mm512_fnmadd_pd(days, _mm512_set1_pd(86_400_000.0), local);
    let h = div(sod, 1.0 / 3_600_000.0);
    let is23 = _mm512_cmp_pd_mask::<_CMP_EQ_OQ>(h, _mm512_set1_pd(23.0));
    let day = mod60(_mm512_add_pd(days, _mm512_set1_pd(17.0)));
    // day23 = day + 1 at 23:00, wrapping 60 → 0.
    let day23 = _mm512_mask_add_pd(day, is23, day, one);
    let day23 = _mm512_mask_blend_pd(_mm512_cmp_pd_mask::<_CMP_EQ_OQ>(day23, _mm512_set1_pd(60.0)), day23, zero);
    // Branch ⌊(h + 1)/2⌋ mod 12: (h + 1)/2 is exact; only h = 23 wraps (12 → 0).
    let branch = _mm512_roundscale_pd::<FLOOR>(_mm512_mul_pd(_mm512_add_pd(h, one), _mm512_set1_pd(0.5)));
    let branch = _mm512_mask_blend_pd(is23, branch, zero);
    // 12·day23 mod 60 = 12·(day23 mod 5).
    let hour = _mm512_fmadd_pd(rem(day23, 5.0, 1.0 / 5.0), _mm512_set1_pd(12.0), branch);
    let [year, month, day, hour, day23] = [year, month, day, hour, day23].map(|v| _mm512_cvttpd_epi32(v));

    // Narrow to bytes in registers (a store-narrowing VPMOVDB to memory is slow on some
    // cores), then one 8-byte store per output, masked only for the tail.
    let outs = [&mut *out.year, &mut *out.month, &mut *out.day, &mut *out.hour, &mut *out.day23];
    for (o, v) in outs.into_iter().zip([year, month, day, hour, day23]) {
        let b = _mm256_cvtepi32_epi8(v);
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

//! The AVX-512 kernel: 8 items per step in f64 lanes (AVX-512 F + DQ for the i64 ↔ f64
//! conversions, VL + BW for the 8-lane byte stores); the tail is the same step under a lane
//! mask, so every length runs the vector code.
use crate::arch::{check_lengths, tables, Inputs, Outputs, PillarsFn, Tables, JIE_A, JIE_B, NJIE};
use core::arch::x86_64::{
    __m256i, __m512d, __mmask8, _mm256_add_epi32, _mm256_and_si256, _mm256_i32gather_epi32,
    _mm256_mask_cvtepi32_storeu_epi8, _mm256_maskz_loadu_epi32, _mm256_set1_epi32, _mm256_srli_epi32,
    _mm512_add_pd, _mm512_cmp_pd_mask, _mm512_cvtepi32_pd, _mm512_cvtepi64_pd, _mm512_cvttpd_epi32,
    _mm512_i32gather_pd, _mm512_mask_add_pd, _mm512_mask_blend_pd, _mm512_mask_sub_pd, _mm512_max_pd,
    _mm512_maskz_loadu_epi64, _mm512_min_pd, _mm512_mul_pd, _mm512_roundscale_pd, _mm512_set1_pd,
    _mm512_setzero_pd, _mm512_sub_pd, _CMP_EQ_OQ, _CMP_GE_OQ, _CMP_LT_OQ, _MM_FROUND_NO_EXC,
    _MM_FROUND_TO_NEG_INF,
};

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

/// `⌊x / d⌋` and `x − d·⌊x / d⌋` for exact integers `x` in f64 (|x| < 2^52) and a positive
/// integer `d`: the reciprocal product may land one off at multiples of `d`; one compare each
/// way fixes it.
#[inline]
#[target_feature(enable = "avx512f")]
fn div_floor(x: __m512d, d: f64, inv: f64) -> (__m512d, __m512d) {
    let one = _mm512_set1_pd(1.0);
    let dv = _mm512_set1_pd(d);
    let mut q = _mm512_roundscale_pd::<FLOOR>(_mm512_mul_pd(x, _mm512_set1_pd(inv)));
    let mut r = _mm512_sub_pd(x, _mm512_mul_pd(q, dv));
    let neg = _mm512_cmp_pd_mask::<_CMP_LT_OQ>(r, _mm512_setzero_pd());
    q = _mm512_mask_sub_pd(q, neg, q, one);
    r = _mm512_mask_add_pd(r, neg, r, dv);
    let over = _mm512_cmp_pd_mask::<_CMP_GE_OQ>(r, dv);
    q = _mm512_mask_add_pd(q, over, q, one);
    r = _mm512_mask_sub_pd(r, over, r, dv);
    (q, r)
}

#[inline]
#[target_feature(enable = "avx512f")]
fn mod60(x: __m512d) -> __m512d {
    div_floor(x, 60.0, 1.0 / 60.0).1
}

/// # Safety
/// The CPU must have AVX-512 F, DQ, VL, BW and AVX2.
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2")]
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
/// the CPU must have AVX-512 F, DQ, VL, BW and AVX2.
#[inline]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2")]
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
    // SAFETY: idx is clamped to 0..NJIE and `ym` has NJIE entries.
    let ym = unsafe { _mm256_i32gather_epi32::<4>(t.ym.as_ptr(), _mm512_cvttpd_epi32(idx)) };
    let year = _mm256_and_si256(ym, _mm256_set1_epi32(0xff));
    let month = _mm256_and_si256(_mm256_srli_epi32::<8>(ym), _mm256_set1_epi32(0xff));

    // Day and hour from the clock.
    let local = _mm512_add_pd(t_ms, _mm512_cvtepi32_pd(shift));
    let (days, sod) = div_floor(local, 86_400_000.0, 1.0 / 86_400_000.0);
    let (h, _) = div_floor(sod, 3_600_000.0, 1.0 / 3_600_000.0);
    let is23 = _mm512_cmp_pd_mask::<_CMP_EQ_OQ>(h, _mm512_set1_pd(23.0));
    let d17 = _mm512_add_pd(days, _mm512_set1_pd(17.0));
    let day = mod60(d17);
    let day23 = mod60(_mm512_mask_add_pd(d17, is23, d17, one));
    // Branch ⌊(h + 1)/2⌋ mod 12: (h + 1)/2 is exact; only h = 23 wraps (12 → 0).
    let branch = _mm512_roundscale_pd::<FLOOR>(_mm512_mul_pd(_mm512_add_pd(h, one), _mm512_set1_pd(0.5)));
    let branch = _mm512_mask_blend_pd(is23, branch, zero);
    let hour = mod60(_mm512_add_pd(_mm512_mul_pd(day23, _mm512_set1_pd(12.0)), branch));

    // SAFETY: the caller guarantees lanes in `mask` are in bounds of every output; masked-off
    // lanes are not written.
    unsafe {
        _mm256_mask_cvtepi32_storeu_epi8(out.year.as_mut_ptr().add(i).cast(), mask, year);
        _mm256_mask_cvtepi32_storeu_epi8(out.month.as_mut_ptr().add(i).cast(), mask, month);
        _mm256_mask_cvtepi32_storeu_epi8(out.day.as_mut_ptr().add(i).cast(), mask, _mm512_cvttpd_epi32(day));
        _mm256_mask_cvtepi32_storeu_epi8(out.hour.as_mut_ptr().add(i).cast(), mask, _mm512_cvttpd_epi32(hour));
        _mm256_mask_cvtepi32_storeu_epi8(out.day23.as_mut_ptr().add(i).cast(), mask, _mm512_cvttpd_epi32(day23));
    }
}

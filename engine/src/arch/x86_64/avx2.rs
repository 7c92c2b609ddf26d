//! The AVX2 kernel: 4 items per step in f64 lanes. AVX2 has no i64 → f64 conversion, so the
//! instants go through the 2^52 + 2^51 "magic number" (exact for |x| < 2^51). The tail (< 4
//! items) is copied into a padded block and run through the same vector step.
use crate::arch::{check_lengths, tables, Inputs, Outputs, PillarsFn, Tables, JIE_A, JIE_B, NJIE};
use core::arch::x86_64::*;

/// Proof that this CPU runs AVX2: only [`Avx2::new`] makes one.
#[derive(Debug, Clone, Copy)]
pub struct Avx2(());

impl Avx2 {
    /// Whether this CPU has AVX2 and FMA.
    #[must_use]
    pub fn is_available() -> bool {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
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
        // SAFETY: `self` exists only if `is_available()` said the CPU has AVX2 and FMA.
        unsafe { pillars_avx2(inp, out) }
    }

    /// The entry point as a plain function pointer (for the cached dispatch).
    #[must_use]
    pub fn as_fn(self) -> PillarsFn {
        entry
    }
}

/// Only reachable through [`Avx2::as_fn`], which takes the proof token.
fn entry(inp: &Inputs<'_>, out: &mut Outputs<'_>) {
    // SAFETY: this function pointer is handed out only by `Avx2::as_fn`, whose receiver can
    // only be built by `Avx2::new` after the feature check.
    unsafe { pillars_avx2(inp, out) }
}

/// # Safety
/// The CPU must have AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
unsafe fn pillars_avx2(inp: &Inputs<'_>, out: &mut Outputs<'_>) {
    check_lengths(inp, out);
    let t = tables();
    let n = inp.len();
    let mut i = 0;
    while i + 4 <= n {
        // SAFETY: items i..i + 4 are in bounds of every slice (lengths checked above).
        let r =
            unsafe { step(t, _mm256_loadu_si256(inp.utc_s.as_ptr().add(i).cast()), _mm_loadu_si128(inp.shift_ms.as_ptr().add(i).cast())) };
        for (k, o) in [&mut *out.year, &mut *out.month, &mut *out.day, &mut *out.hour, &mut *out.day23].into_iter().enumerate() {
            o[i..i + 4].copy_from_slice(&r[k]);
        }
        i += 4;
    }
    if i < n {
        let m = n - i;
        let (mut u, mut s) = ([0i64; 4], [0i32; 4]);
        u[..m].copy_from_slice(&inp.utc_s[i..]);
        s[..m].copy_from_slice(&inp.shift_ms[i..]);
        // SAFETY: `u` and `s` are 4-element local arrays.
        let r = unsafe { step(t, _mm256_loadu_si256(u.as_ptr().cast()), _mm_loadu_si128(s.as_ptr().cast())) };
        for (k, o) in [&mut *out.year, &mut *out.month, &mut *out.day, &mut *out.hour, &mut *out.day23].into_iter().enumerate() {
            o[i..].copy_from_slice(&r[k][..m]);
        }
    }
}

/// `⌊(x + c) / d⌋` for an exact integer `x` in f64 (|x| < 2^51): one FMA and a floor (see
/// the AVX-512 kernel's `div` for why no correction step is needed).
#[inline]
#[target_feature(enable = "avx2,fma")]
fn div(x: __m256d, c: f64, inv: f64) -> __m256d {
    _mm256_floor_pd(_mm256_fmadd_pd(x, _mm256_set1_pd(inv), _mm256_set1_pd((c + 0.5) * inv)))
}

/// `(x + c) mod d` (non-negative), same conditions as [`div`].
#[inline]
#[target_feature(enable = "avx2,fma")]
fn rem(x: __m256d, c: f64, d: f64, inv: f64) -> __m256d {
    _mm256_add_pd(_mm256_fnmadd_pd(div(x, c, inv), _mm256_set1_pd(d), x), _mm256_set1_pd(c))
}

/// Four i32 lanes (each 0..60) → four bytes.
#[inline]
#[target_feature(enable = "avx2")]
fn bytes(v: __m128i) -> [u8; 4] {
    let b = _mm_packus_epi16(_mm_packs_epi32(v, v), _mm_packs_epi32(v, v));
    _mm_cvtsi128_si32(b).to_le_bytes()
}

/// One step of 4 items: returns year, month, day, hour, day23.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn step(t: &Tables, utc: core::arch::x86_64::__m256i, shift: __m128i) -> [[u8; 4]; 5] {
    // i64 → f64, exact for |x| < 2^51: add x to the bits of 2^52 + 2^51, subtract the magic.
    const MAGIC: f64 = 6_755_399_441_055_744.0;
    #[allow(clippy::cast_possible_wrap)]
    let magic_bits = _mm256_set1_epi64x(MAGIC.to_bits() as i64);
    let utc_f = _mm256_sub_pd(_mm256_castsi256_pd(_mm256_add_epi64(utc, magic_bits)), _mm256_set1_pd(MAGIC));
    let t_ms = _mm256_mul_pd(utc_f, _mm256_set1_pd(1000.0));

    #[allow(clippy::cast_precision_loss)]
    let (a, inv_b, last) = (JIE_A as f64, 1.0 / JIE_B as f64, (NJIE - 1) as f64);
    let zero = _mm256_setzero_pd();
    let one = _mm256_set1_pd(1.0);
    let lastv = _mm256_set1_pd(last);
    let est = _mm256_floor_pd(_mm256_fmadd_pd(t_ms, _mm256_set1_pd(inv_b), _mm256_set1_pd(-a * inv_b)));
    let est = _mm256_min_pd(_mm256_max_pd(est, zero), lastv);
    let ei = _mm256_cvttpd_epi32(est);
    // SAFETY: `ei` is clamped to 0..NJIE and `jie_f64` has NJIE + 1 entries.
    let (j0, j1) = unsafe {
        (
            _mm256_i32gather_pd::<8>(t.jie_f64.as_ptr(), ei),
            _mm256_i32gather_pd::<8>(t.jie_f64.as_ptr(), _mm_add_epi32(ei, _mm_set1_epi32(1))),
        )
    };
    let before = _mm256_cmp_pd::<_CMP_LT_OQ>(t_ms, j0);
    let after = _mm256_cmp_pd::<_CMP_GE_OQ>(t_ms, j1);
    let idx = _mm256_add_pd(_mm256_sub_pd(est, _mm256_and_pd(before, one)), _mm256_and_pd(after, one));
    // Year and month are linear in the 節 index (see the AVX-512 kernel).
    let year = rem(div(idx, -1.0, 1.0 / 12.0), 35.0, 60.0, 1.0 / 60.0);
    let month = rem(idx, 1.0, 60.0, 1.0 / 60.0);

    let local = _mm256_add_pd(t_ms, _mm256_cvtepi32_pd(shift));
    let days = div(local, 0.0, 1.0 / 86_400_000.0);
    let sod = _mm256_fnmadd_pd(days, _mm256_set1_pd(86_400_000.0), local);
    let is23 = _mm256_cmp_pd::<_CMP_GE_OQ>(sod, _mm256_set1_pd(82_800_000.0));
    let day = rem(days, 17.0, 60.0, 1.0 / 60.0);
    let day23 = _mm256_add_pd(day, _mm256_and_pd(is23, one));
    let day23 = _mm256_blendv_pd(day23, zero, _mm256_cmp_pd::<_CMP_EQ_OQ>(day23, _mm256_set1_pd(60.0)));
    let branch = _mm256_blendv_pd(div(sod, 3_600_000.0, 1.0 / 7_200_000.0), zero, is23);
    let hour = _mm256_fmadd_pd(rem(day23, 0.0, 5.0, 1.0 / 5.0), _mm256_set1_pd(12.0), branch);
    // year | month << 8 | day << 16 | hour << 24 is exact and fits an i32: one conversion, one
    // byte shuffle to [y0..y3 m0..m3 d0..d3 h0..h3], four 4-byte groups.
    let packed = _mm256_fmadd_pd(
        _mm256_fmadd_pd(_mm256_fmadd_pd(hour, _mm256_set1_pd(256.0), day), _mm256_set1_pd(256.0), month),
        _mm256_set1_pd(256.0),
        year,
    );
    let v = _mm_shuffle_epi8(_mm256_cvttpd_epi32(packed), _mm_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15));
    let mut b = [0u8; 16];
    // SAFETY: `b` is 16 bytes.
    unsafe { _mm_storeu_si128(b.as_mut_ptr().cast(), v) };
    let group = |k: usize| [b[4 * k], b[4 * k + 1], b[4 * k + 2], b[4 * k + 3]];
    [group(0), group(1), group(2), group(3), bytes(_mm256_cvttpd_epi32(day23))]
}

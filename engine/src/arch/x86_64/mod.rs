//! x86-64 SIMD kernels. Both follow the scalar kernel step by step in exact f64 arithmetic:
//! every quantity is an integer below 2^53 (instants in ms are below 2^43), so additions,
//! subtractions and products by integer constants are exact, and each division is a multiply
//! by the reciprocal, floored, then corrected by one compare each way — the same result as the
//! scalar kernel's integer `div_euclid`.
pub mod avx2;
pub mod avx512;

//! x86-64 SIMD kernels. Both compute what the scalar kernel computes in exact f64 arithmetic:
//! every quantity is an integer below 2^51 (instants in ms are below 2^43), so additions,
//! subtractions and products by integer constants are exact, and each floor division
//! `⌊(x + c)/d⌋` is one FMA, `x·(1/d) + (c + ½)·(1/d)`, and a floor: the true quotient sits at
//! least `½/d` from an integer, far more than the roundings involved, so the result equals the
//! scalar kernel's integer `div_euclid` with no correction step.
pub mod avx2;
pub mod avx512;

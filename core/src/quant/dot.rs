//! The int8 inner product: zero-point-corrected activations (`i16`) against `i8` weights,
//! accumulated in `i32`. Every target computes the same integers.

/// `Σ x[i] · w[i]` over the shorter of the two.
#[inline(always)]
pub fn dot(x: &[i16], w: &[u8]) -> i32 {
    x.iter().zip(w).map(|(&x, &w)| i32::from(x) * i32::from(w as i8)).sum()
}

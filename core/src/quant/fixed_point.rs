//! TFLite's fixed-point requantization: a real factor `M` as a 32-bit multiplier `m` in
//! [2³⁰, 2³¹) (negated for a negative `M`) and a power-of-two `shift`, so that
//! `x · M ≈ x · m · 2^(shift − 31)` (TFLite's `QuantizeMultiplier`), applied with one 64-bit
//! product and one rounding shift (its `MultiplyByQuantizedMultiplier` built with
//! `TFLITE_SINGLE_ROUNDING`, as TFLite Micro's optimized kernels round).

/// The smallest multiplier magnitude a file may hold (2³⁰).
pub const MULTIPLIER_MIN: i32 = 1 << 30;
/// Shifts a file may hold: a right shift of at most 31 bits, a left shift of at most 30.
pub const SHIFT_RANGE: core::ops::RangeInclusive<i32> = -31..=30;

/// `factor` as (multiplier, shift); `None` when it is not finite, or too large for 32 bits.
/// Zero (and anything under 2⁻³², which rounds to nothing) is (0, 0).
pub fn quantize_multiplier(factor: f64) -> Option<(i32, i32)> {
    if !factor.is_finite() {
        return None;
    }
    let magnitude = factor.abs();
    if magnitude < 1.0 / (1u64 << 32) as f64 {
        return Some((0, 0));
    }
    // magnitude = q · 2^shift with q in [0.5, 1).
    let mut shift = 0i32;
    let mut q = magnitude;
    while q >= 1.0 {
        q /= 2.0;
        shift += 1;
    }
    while q < 0.5 {
        q *= 2.0;
        shift -= 1;
    }
    let mut m = libm::round(q * (1u64 << 31) as f64) as i64;
    if m == 1 << 31 {
        m /= 2;
        shift += 1;
    }
    if shift < -31 {
        // Below 2⁻³¹ the shift saturates: the multiplier takes the rest (TFLite does the same).
        m >>= -31 - shift;
        shift = -31;
        if m == 0 {
            return Some((0, 0));
        }
    }
    if shift > *SHIFT_RANGE.end() {
        return None;
    }
    let m = m as i32;
    Some((if factor < 0.0 { -m } else { m }, shift))
}

/// Whether (multiplier, shift) is one [`quantize_multiplier`] can give.
pub fn valid_multiplier(multiplier: i32, shift: i32) -> bool {
    SHIFT_RANGE.contains(&shift)
        && (multiplier == 0
            || (multiplier.unsigned_abs() >= MULTIPLIER_MIN as u32 && multiplier != i32::MIN)
            || shift == *SHIFT_RANGE.start())
}

/// `x · multiplier · 2^(shift − 31)` rounded to nearest, ties up: TFLite's single-rounding
/// `MultiplyByQuantizedMultiplier` (`TFLITE_SINGLE_ROUNDING`), one 64-bit product and one
/// shift. A result beyond `i32` (only from a factor far above 1) wraps; callers add with
/// saturation and clamp.
#[inline(always)]
pub fn requantize(x: i32, multiplier: i32, shift: i32) -> i32 {
    let total = Rounding::new(shift);
    total.apply(x, multiplier)
}

/// The shift of a requantization, ready to apply: `31 − shift` in 1..=62 and half its unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rounding {
    total: u32,
    half: i64,
}

impl Rounding {
    /// For `shift` in [`SHIFT_RANGE`] (others are clamped into it).
    #[inline(always)]
    pub fn new(shift: i32) -> Self {
        let total = (31 - shift).clamp(1, 62) as u32;
        Rounding { total, half: 1i64 << (total - 1) }
    }

    /// `round(x · multiplier / 2^total)`, ties up.
    #[inline(always)]
    pub fn apply(self, x: i32, multiplier: i32) -> i32 {
        ((i64::from(x) * i64::from(multiplier) + self.half) >> self.total) as i32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipliers_are_tflites() {
        // TFLite's QuantizeMultiplier: 0.5 → (2³⁰, 0); 1.0 → (2³⁰, 1); 0.25 → (2³⁰, −1).
        assert_eq!(quantize_multiplier(0.5), Some((1 << 30, 0)));
        assert_eq!(quantize_multiplier(1.0), Some((1 << 30, 1)));
        assert_eq!(quantize_multiplier(0.25), Some((1 << 30, -1)));
        assert_eq!(quantize_multiplier(-0.75), Some((-(3 << 29), 0)));
        assert_eq!(quantize_multiplier(0.0), Some((0, 0)));
        assert_eq!(quantize_multiplier(f64::NAN), None);
        assert_eq!(quantize_multiplier(1e12), None);
        // Rounding the mantissa up to 2³¹ carries into the shift.
        assert_eq!(quantize_multiplier(1.0 - 1e-12), Some((1 << 30, 1)));
    }

    #[test]
    fn requantization_rounds_the_real_product_to_nearest() {
        let mut seed = 11u64;
        for _ in 0..20_000 {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let factor = f64::from((seed >> 40) as u32) / f64::from(1u32 << 24) * 4.0 + 1e-6;
            let x = ((seed >> 8) as i32) >> 12;
            let (m, s) = quantize_multiplier(factor).unwrap();
            assert!(valid_multiplier(m, s));
            let got = f64::from(requantize(x, m, s));
            // The multiplier holds the factor to 2⁻³¹ of itself; then one rounding.
            let want = f64::from(x) * factor;
            assert!((got - want).abs() <= 0.5 + want.abs() * 1e-9, "{x} · {factor}: {got} vs {want}");
        }
    }

    #[test]
    fn ties_round_up_and_large_shifts_hold() {
        let (half, s) = quantize_multiplier(0.5).unwrap();
        assert_eq!([1, -1, 3, -3].map(|x| requantize(x, half, s)), [1, 0, 2, -1]);
        let (tiny, s) = quantize_multiplier(1e-9).unwrap();
        assert_eq!(requantize(i32::MAX, tiny, s), 2);
        assert_eq!(requantize(i32::MIN, tiny, s), -2);
        let (one, s) = quantize_multiplier(1.0).unwrap();
        assert_eq!(requantize(-77, one, s), -77);
    }
}

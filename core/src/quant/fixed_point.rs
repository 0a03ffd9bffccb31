//! TFLite's fixed-point requantization: a real factor `M` as a 32-bit multiplier `m` in
//! [2³⁰, 2³¹) (negated for a negative `M`) and a power-of-two `shift`, so that
//! `x · M ≈ x · m · 2^(shift − 31)`, applied with one rounding doubling high multiply and one
//! rounding right shift (TFLite's `QuantizeMultiplier` and `MultiplyByQuantizedMultiplier`).

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

/// `x · multiplier · 2^(shift − 31)`, rounded as TFLite rounds it.
#[inline(always)]
pub fn multiply_by_quantized_multiplier(x: i32, multiplier: i32, shift: i32) -> i32 {
    let (left, right) = if shift > 0 { (shift, 0) } else { (0, -shift) };
    let x = x.saturating_mul(1 << left);
    rounding_divide_by_power_of_two(saturating_rounding_doubling_high_mul(x, multiplier), right)
}

/// `round(a · b / 2³¹)`, saturating the one overflow (`i32::MIN · i32::MIN`).
#[inline(always)]
pub fn saturating_rounding_doubling_high_mul(a: i32, b: i32) -> i32 {
    if a == i32::MIN && b == i32::MIN {
        return i32::MAX;
    }
    let ab = a as i64 * b as i64;
    let nudge: i64 = if ab >= 0 { 1 << 30 } else { 1 - (1 << 30) };
    ((ab + nudge) / (1i64 << 31)) as i32
}

/// `x / 2^exponent` rounded to nearest, ties away from zero.
#[inline(always)]
pub fn rounding_divide_by_power_of_two(x: i32, exponent: i32) -> i32 {
    if exponent <= 0 {
        return x;
    }
    let exponent = exponent.min(31) as u32;
    let mask = ((1i64 << exponent) - 1) as i32;
    let remainder = x & mask;
    let threshold = (mask >> 1) + i32::from(x < 0);
    (x >> exponent) + i32::from(remainder > threshold)
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
    fn requantization_matches_the_real_product_within_one() {
        let mut seed = 11u64;
        for _ in 0..20_000 {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let factor = f64::from((seed >> 40) as u32) / f64::from(1u32 << 24) * 4.0 + 1e-6;
            let x = ((seed >> 8) as i32) >> 12;
            let (m, s) = quantize_multiplier(factor).unwrap();
            assert!(valid_multiplier(m, s));
            let got = multiply_by_quantized_multiplier(x, m, s) as f64;
            let want = x as f64 * factor;
            if want.abs() < 1e9 {
                assert!((got - want).abs() <= 1.0 + want.abs() * 1e-8, "{x} · {factor}: {got} vs {want}");
            }
        }
    }

    #[test]
    fn rounding_is_to_nearest_with_ties_away_from_zero() {
        assert_eq!(rounding_divide_by_power_of_two(5, 1), 3);
        assert_eq!(rounding_divide_by_power_of_two(-5, 1), -3);
        assert_eq!(rounding_divide_by_power_of_two(4, 1), 2);
        assert_eq!(rounding_divide_by_power_of_two(-7, 2), -2);
        assert_eq!(rounding_divide_by_power_of_two(i32::MIN, 31), -1);
        assert_eq!(saturating_rounding_doubling_high_mul(i32::MIN, i32::MIN), i32::MAX);
        assert_eq!(saturating_rounding_doubling_high_mul(1 << 30, 1 << 30), 1 << 29);
    }
}

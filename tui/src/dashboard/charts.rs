//! Chart data: per-step losses reduced to what a terminal can show, and a smoothed line.

/// Averages `values` (one per step, the first at step `first_step`) into at most `max`
/// buckets of consecutive steps; each point is (the bucket's middle step, its mean).
pub fn downsample(values: &[f64], first_step: u64, max: usize) -> Vec<(f64, f64)> {
    if values.is_empty() || max == 0 {
        return Vec::new();
    }
    let per = values.len().div_ceil(max);
    values
        .chunks(per)
        .enumerate()
        .map(|(i, chunk)| {
            let mid = first_step as f64 + (i * per) as f64 + (chunk.len() as f64 - 1.0) / 2.0;
            (mid, chunk.iter().sum::<f64>() / chunk.len() as f64)
        })
        .collect()
}

/// TensorBoard's smoothing: an exponential moving average with weight `weight` (0 = none),
/// debiased so the first values are not pulled toward zero.
pub fn smooth(points: &[(f64, f64)], weight: f64) -> Vec<(f64, f64)> {
    let mut ema = 0.0;
    let mut norm = 0.0;
    points
        .iter()
        .map(|&(x, y)| {
            ema = weight * ema + (1.0 - weight) * y;
            norm = weight * norm + (1.0 - weight);
            (x, ema / norm)
        })
        .collect()
}

/// `[min, max]` of the y values, padded by 5% (or ±0.5 when flat); `[0, 1]` when empty.
pub fn y_bounds(points: &[(f64, f64)]) -> [f64; 2] {
    let (lo, hi) =
        points.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &(_, y)| (l.min(y), h.max(y)));
    if !lo.is_finite() || !hi.is_finite() {
        return [0.0, 1.0];
    }
    let pad = if hi > lo { (hi - lo) * 0.05 } else { 0.5 };
    [(lo - pad).max(0.0), hi + pad]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downsampling_averages_buckets_at_their_middle_step() {
        let v: Vec<f64> = (0..10).map(f64::from).collect();
        assert_eq!(downsample(&v, 0, 20).len(), 10);
        assert_eq!(
            downsample(&v, 100, 5),
            [(100.5, 0.5), (102.5, 2.5), (104.5, 4.5), (106.5, 6.5), (108.5, 8.5)]
        );
        // The last bucket may be shorter.
        assert_eq!(downsample(&v, 0, 3), [(1.5, 1.5), (5.5, 5.5), (8.5, 8.5)]);
        assert!(downsample(&[], 0, 3).is_empty());
    }

    #[test]
    fn smoothing_is_debiased_and_lags_behind_changes() {
        let p = [(0.0, 2.0), (1.0, 2.0), (2.0, 0.0)];
        let s = smooth(&p, 0.6);
        assert!((s[0].1 - 2.0).abs() < 1e-12 && (s[1].1 - 2.0).abs() < 1e-12);
        assert!(s[2].1 > 0.0 && s[2].1 < 2.0);
        assert_eq!(smooth(&p, 0.0), p);
    }

    #[test]
    fn bounds_pad_the_data() {
        assert_eq!(y_bounds(&[]), [0.0, 1.0]);
        assert_eq!(y_bounds(&[(0.0, 1.0), (1.0, 3.0)]), [0.9, 3.1]);
        assert_eq!(y_bounds(&[(0.0, 0.2)]), [0.0, 0.7]);
    }
}

//! Single-threaded, deterministic inference kernels on NCHW `f32` slices, without `std`:
//! direct convolution whose weights may stay in a file's bytes, with batch norm and ReLU
//! folded into its per-channel epilogue; batch norm on its own, ReLU, global average
//! pooling, linear, add. (Max-pooling is [`crate::ops::reference::max_pool2d`].)

use alloc::vec;
use alloc::vec::Vec;

use crate::checkpoint::Floats;
use crate::ops::Geometry2d;

/// What follows a convolution or stands alone for a batch norm: `y = scale[c] * x +
/// shift[c]`, then ReLU if `relu`.
#[derive(Clone, Debug, PartialEq)]
pub struct Epilogue {
    /// Per-channel factor; `None` is 1.
    pub scale: Option<Vec<f32>>,
    /// Per-channel offset (a convolution's bias, a batch norm's shift).
    pub shift: Vec<f32>,
    /// Whether a ReLU follows.
    pub relu: bool,
}

impl Epilogue {
    /// Applies the epilogue to one channel's plane.
    #[inline]
    fn apply(&self, channel: usize, plane: &mut [f32]) {
        let a = self.scale.as_ref().and_then(|s| s.get(channel)).copied().unwrap_or(1.0);
        let b = self.shift.get(channel).copied().unwrap_or(0.0);
        for v in plane {
            let y = a * *v + b;
            *v = if self.relu { y.max(0.0) } else { y };
        }
    }
}

/// Convolution by direct accumulation: for each output channel, input channel and kernel
/// tap, a weight times a shifted row of the input, then the epilogue.
///
/// # Shapes
/// `x`: (N, C, H, W), `weight`: (O, C, K, K) as `g` says; returns (N, O, OH, OW).
pub fn conv2d(x: &[f32], weight: Floats<'_>, g: &Geometry2d, epilogue: &Epilogue) -> Vec<f32> {
    let mut y = vec![0.0f32; g.output_len()];
    let (k, s) = (g.kernel, g.stride);
    for n in 0..g.batch {
        for o in 0..g.out_channels {
            let out = &mut y[(n * g.out_channels + o) * g.out_plane()..][..g.out_plane()];
            for c in 0..g.in_channels {
                let plane = &x[(n * g.in_channels + c) * g.in_plane()..][..g.in_plane()];
                for u in 0..k {
                    for v in 0..k {
                        let w = weight.at(((o * g.in_channels + c) * k + u) * k + v);
                        // Output columns whose tap falls inside the row: j*s + v - p in [0, W).
                        let (j0, j1) = taps_inside(g.out_width, g.width, s, v, g.padding);
                        for i in 0..g.out_height {
                            let Some(r) = g.source(i, u, g.height) else { continue };
                            let row = &plane[r * g.width..][..g.width];
                            let out_row = &mut out[i * g.out_width..][..g.out_width];
                            if j0 >= j1 {
                                continue;
                            }
                            let inputs = row[j0 * s + v - g.padding..].iter().step_by(s);
                            for (y, x) in out_row[j0..j1].iter_mut().zip(inputs) {
                                *y += w * x;
                            }
                        }
                    }
                }
            }
            epilogue.apply(o, out);
        }
    }
    y
}

/// The range of output positions `j` in `0..out` whose input `j*s + t - p` lies in `0..extent`.
fn taps_inside(out: usize, extent: usize, s: usize, t: usize, p: usize) -> (usize, usize) {
    // First j with j*s + t >= p, and one past the last with j*s + t - p < extent.
    let first = if t >= p { 0 } else { (p - t).div_ceil(s) };
    let last = if extent + p > t { (extent + p - t).div_ceil(s) } else { 0 };
    (first.min(out), last.min(out).max(first.min(out)))
}

/// The epilogue on every plane in place (a batch norm not after a convolution).
///
/// # Shapes
/// `x`: (N, C, H, W) with `plane` = H·W.
pub fn affine(x: &mut [f32], channels: usize, plane: usize, epilogue: &Epilogue) {
    if channels == 0 || plane == 0 {
        return;
    }
    for (i, p) in x.chunks_mut(plane).enumerate() {
        epilogue.apply(i % channels, p);
    }
}

/// `max(x, 0)` in place.
pub fn relu(x: &mut [f32]) {
    for v in x {
        *v = v.max(0.0);
    }
}

/// The mean of each plane.
///
/// # Shapes
/// `x`: (N, C, H, W) with `plane` = H·W; returns (N, C).
pub fn global_avg_pool(x: &[f32], plane: usize) -> Vec<f32> {
    if plane == 0 {
        return Vec::new();
    }
    x.chunks(plane).map(|p| p.iter().sum::<f32>() / plane as f32).collect()
}

/// `x · weightᵀ + bias`.
///
/// # Shapes
/// `x`: (N, I), `weight`: (O, I), `bias`: (O,); returns (N, O).
pub fn linear(x: &[f32], inputs: usize, weight: Floats<'_>, bias: Floats<'_>) -> Vec<f32> {
    let outputs = bias.len();
    let mut y = Vec::with_capacity(x.len() / inputs.max(1) * outputs);
    for row in x.chunks(inputs.max(1)) {
        for o in 0..outputs {
            let dot: f32 = row.iter().enumerate().map(|(i, v)| v * weight.at(o * inputs + i)).sum();
            y.push(dot + bias.at(o));
        }
    }
    y
}

/// `a += b`, element by element.
pub fn add(a: &mut [f32], b: &[f32]) {
    for (a, b) in a.iter_mut().zip(b) {
        *a += b;
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;
    use crate::ops::reference;

    fn le(v: &[f32]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    #[test]
    fn direct_convolution_equals_the_definition_for_every_window() {
        let mut seed = 7u32;
        let mut next = move || {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (seed >> 8) as f32 / (1 << 24) as f32 - 0.5
        };
        for &(k, s, p, h) in
            &[(3, 1, 1, 5), (3, 2, 1, 7), (1, 2, 0, 6), (7, 2, 3, 9), (3, 1, 0, 4), (1, 1, 0, 3)]
        {
            let g = Geometry2d::new([2, 3, h, h + 1], 4, [k, s, p]);
            let x: Vec<f32> = (0..g.input_len()).map(|_| next()).collect();
            let w: Vec<f32> = (0..g.weight_len()).map(|_| next()).collect();
            let bias: Vec<f32> = (0..4).map(|_| next()).collect();
            let bytes = le(&w);
            let epilogue = Epilogue { scale: None, shift: bias.clone(), relu: false };
            let got = conv2d(&x, Floats::from_le_bytes(&bytes), &g, &epilogue);
            let want = reference::conv2d(&x, &w, Some(&bias), &g);
            for (a, b) in got.iter().zip(&want) {
                assert!((a - b).abs() < 1e-5, "k{k} s{s} p{p}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn the_epilogue_scales_shifts_and_rectifies_per_channel() {
        let e = Epilogue { scale: Some(vec![2.0, -1.0]), shift: vec![1.0, 0.5], relu: true };
        let mut x = vec![1.0, -3.0, 2.0, 4.0];
        affine(&mut x, 2, 2, &e);
        assert_eq!(x, [3.0, 0.0, 0.0, 0.0]);
        assert_eq!(global_avg_pool(&[1.0, 2.0, 3.0, 6.0], 2), [1.5, 4.5]);
        let (w, b) = (le(&[1.0, 2.0, 0.0, -1.0]), le(&[0.5, 0.0]));
        assert_eq!(
            linear(&[1.0, 1.0, 2.0, 3.0], 2, Floats::from_le_bytes(&w), Floats::from_le_bytes(&b)),
            [3.5, -1.0, 8.5, -3.0]
        );
    }
}

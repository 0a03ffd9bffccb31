//! Naive reference implementations of the window ops: the definition written as loops, used
//! to test the fast and the device-generic paths. Slow on purpose; never used for training.

use alloc::vec;
use alloc::vec::Vec;

use super::Geometry2d;

/// Convolution by definition: `y[n,o,i,j] = b[o] + sum_{c,u,v} w[o,c,u,v] x[n,c,iS+u-P,jS+v-P]`
/// with zero padding.
///
/// # Shapes
/// `x`: (N, C, H, W), `weight`: (O, C, K, K), `bias`: (O,), returns (N, O, OH, OW).
pub fn conv2d(x: &[f32], weight: &[f32], bias: Option<&[f32]>, g: &Geometry2d) -> Vec<f32> {
    let mut y = vec![0.0f32; g.output_len()];
    let k = g.kernel;
    for n in 0..g.batch {
        for o in 0..g.out_channels {
            for i in 0..g.out_height {
                for j in 0..g.out_width {
                    let mut acc = bias.map_or(0.0, |b| b[o]) as f64;
                    for c in 0..g.in_channels {
                        for u in 0..k {
                            for v in 0..k {
                                let (Some(r), Some(s)) = (g.source(i, u, g.height), g.source(j, v, g.width))
                                else {
                                    continue;
                                };
                                let xv = x[((n * g.in_channels + c) * g.height + r) * g.width + s];
                                let wv = weight[((o * g.in_channels + c) * k + u) * k + v];
                                acc += (xv as f64) * (wv as f64);
                            }
                        }
                    }
                    y[((n * g.out_channels + o) * g.out_height + i) * g.out_width + j] = acc as f32;
                }
            }
        }
    }
    y
}

/// Max-pooling by definition: the maximum over each window, padding counting as `-inf`.
///
/// # Shapes
/// `x`: (N, C, H, W), returns (N, C, OH, OW).
pub fn max_pool2d(x: &[f32], g: &Geometry2d) -> Vec<f32> {
    let mut y = vec![f32::NEG_INFINITY; g.output_len()];
    for plane in 0..g.batch * g.in_channels {
        for i in 0..g.out_height {
            for j in 0..g.out_width {
                let out = &mut y[(plane * g.out_height + i) * g.out_width + j];
                for u in 0..g.kernel {
                    for v in 0..g.kernel {
                        if let (Some(r), Some(s)) = (g.source(i, u, g.height), g.source(j, v, g.width)) {
                            *out = out.max(x[(plane * g.height + r) * g.width + s]);
                        }
                    }
                }
            }
        }
    }
    y
}

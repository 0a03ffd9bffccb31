//! A convolution case for the channels-last kernels' tests: seeded operands and the tape's
//! NCHW answers (im2row + gemm), the reference those kernels are held to.

use alloc::vec;
use alloc::vec::Vec;

use super::conv2d as nchw;
use crate::ops::test_support::{swap_axes, uniform};
use crate::ops::Geometry2d;

/// Seeded operands of one convolution and the NCHW kernels' forward and backward results.
///
/// # Shapes
/// `x`: (N, C, H, W), `w`: (O, C, K, K), `b`: (O,), `y`: (N, O, OH, OW); `gx`, `gw` and `gb`
/// as `x`, `w` and `b`; `x_last`: (N, H, W, C); `gy_last`: (N, OH, OW, O), the output gradient.
pub struct ConvCase {
    pub x: Vec<f32>,
    pub w: Vec<f32>,
    pub b: Vec<f32>,
    pub y: Vec<f32>,
    pub gx: Vec<f32>,
    pub gw: Vec<f32>,
    pub gb: Vec<f32>,
    pub x_last: Vec<f32>,
    pub gy_last: Vec<f32>,
}

impl ConvCase {
    /// Operands uniform in [-1, 1) (seeds 1 to 4) for `g`, and the tape's answers.
    pub fn new(g: &Geometry2d) -> Self {
        let (n, c, o) = (g.batch, g.in_channels, g.out_channels);
        let (x, w, b, gy) = (
            uniform(g.input_len(), 1),
            uniform(g.weight_len(), 2),
            uniform(o, 3),
            uniform(g.output_len(), 4),
        );
        let mut y = vec![0.0; g.output_len()];
        nchw::forward(&x, &w, Some(&b), g, &mut y);
        let (mut gx, mut gw, mut gb) = (vec![0.0; x.len()], vec![0.0; w.len()], vec![0.0; o]);
        nchw::backward(&x, &w, g, &gy, &mut gx, &mut gw, Some(&mut gb));
        let x_last = swap_axes(&x, [n, c, g.in_plane()]);
        let gy_last = swap_axes(&gy, [n, o, g.out_plane()]);
        Self { x, w, b, y, gx, gw, gb, x_last, gy_last }
    }
}

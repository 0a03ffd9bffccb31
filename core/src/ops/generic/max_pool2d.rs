//! Max-pooling composed only of dfdx's public differentiable ops (permute, reshape, concat,
//! gather, max-reduce), so it runs unchanged on any dfdx device, `Cuda` included.

use dfdx::prelude::*;

use super::index::{padded_rows, patches_by_window};
use crate::ops::Geometry2d;

/// `y = max over each window of x` on any device; padding counts as `-inf`.
///
/// Where a window holds several equal maxima, dfdx's max-reduce sends the gradient to each
/// of them (the fast CPU path sends it to the first, as PyTorch does).
///
/// # Shapes
/// `x`: (N, C, H, W), returns (N, C, OH, OW) with the dimension types of `y_shape`.
pub fn try_max_pool2d<X, Y, D, T>(
    x: Tensor<X, f32, D, T>,
    g: Geometry2d,
    y_shape: Y,
) -> Result<Tensor<Y, f32, D, T>, D::Err>
where
    X: Shape,
    Y: Shape,
    D: Device<f32>,
    T: Tape<f32, D>,
{
    let dev = x.device().clone();
    let (n, c) = (g.batch, g.in_channels);
    let (kk, oh, ow) = (g.kernel * g.kernel, g.out_height, g.out_width);
    let padded = padded_rows(x, &g, f32::NEG_INFINITY)?;
    let index = dev.try_tensor_from_vec(patches_by_window(&g), (c * oh * ow * kk,))?;
    let windows: Tensor<(usize, usize), f32, D, T> = padded.try_gather(index)?;
    windows
        .try_reshape_like(&(c * oh * ow, kk, n))?
        .try_max::<(usize, usize), Axis<1>>()?
        .try_reshape_like(&(c, oh, ow, n))?
        .try_permute::<(usize, usize, usize, usize), Axes4<3, 0, 1, 2>>()?
        .try_reshape_like(&y_shape)
}

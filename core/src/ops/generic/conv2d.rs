//! Convolution composed only of dfdx's public differentiable ops (permute, reshape, concat,
//! gather, matmul, broadcast-add), so it runs unchanged on any dfdx device, `Cuda` included,
//! and dfdx derives its backward pass.

use dfdx::prelude::*;

use super::index::{padded_rows, patches_by_tap};
use crate::ops::ConvParams;

/// `y = conv(x, weight) + bias` on any device: gather-based im2col, then one matmul.
///
/// # Shapes
/// `x`: (N, C, H, W), `p.weight`: (O, C, K, K), `p.bias`: (O,), returns (N, O, OH, OW) with
/// the dimension types of `y_shape`.
pub fn try_conv2d<X, Wt, Bs, Y, D, T>(
    x: Tensor<X, f32, D, T>,
    p: ConvParams<'_, Wt, Bs, D>,
    y_shape: Y,
) -> Result<Tensor<Y, f32, D, T>, D::Err>
where
    X: Shape,
    Wt: Shape,
    Bs: Shape,
    Y: Shape,
    D: Device<f32>,
    T: Tape<f32, D>,
{
    let ConvParams { weight, bias, g } = p;
    let dev = x.device().clone();
    let n = g.batch;
    let (o, ckk, oh, ow) = (g.out_channels, g.patch_len(), g.out_height, g.out_width);
    let padded = padded_rows(x, &g, 0.0)?;
    let index = patches_by_tap(&g);
    let index = dev.try_tensor_from_vec(index, (ckk * oh * ow,))?;
    let cols: Tensor<(usize, usize), f32, D, T> = padded.try_gather(index)?;
    let cols = cols.try_reshape_like(&(ckk, oh * ow * n))?;
    let w_mat = weight.retaped::<T>().try_reshape_like(&(o, ckk))?;
    let y = w_mat
        .try_matmul(cols)?
        .try_reshape_like(&(o, oh, ow, n))?
        .try_permute::<(usize, usize, usize, usize), Axes4<3, 0, 1, 2>>()?;
    let y = match bias {
        Some(b) => {
            let b = b.retaped::<T>().try_reshape_like(&(o,))?;
            y.try_add(b.try_broadcast_like::<_, Axes3<0, 2, 3>>(&(n, o, oh, ow))?)?
        }
        None => y,
    };
    y.try_reshape_like(&y_shape)
}

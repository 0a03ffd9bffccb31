//! Batch normalisation composed of dfdx's public ops (as dfdx's own `BatchNorm2D` does it),
//! so it runs on any dfdx device.

use dfdx::prelude::*;

use crate::ops::{NormParams, Running};

type Nchw = (usize, usize, usize);

/// Training-mode batch norm; see [`BatchNormKernel`](crate::ops::BatchNormKernel).
///
/// # Shapes
/// `x`: (N, C, H, W); per-channel tensors (C,).
pub fn try_batch_norm_train<X: Shape, P: Shape, D: Device<f32>, T: Tape<f32, D>>(
    x: Tensor<X, f32, D, T>,
    p: NormParams<'_, P, D>,
    running: Running<&mut Tensor<P, f32, D>>,
) -> Result<Tensor<X, f32, D, T>, D::Err> {
    let (x_shape, g, momentum) = (*x.shape(), p.g, p.momentum);
    let shape: Nchw = (g.batch, g.channels, g.plane);
    let per_channel = (g.channels,);
    let x = x.try_reshape_like(&shape)?;
    let n = g.per_channel() as f64;
    let mean = x.retaped::<T>().try_mean::<(usize,), Axes2<0, 2>>()?;
    let batch_mean = mean.retaped::<NoneTape>().try_reshape_like(running.mean.shape())?;
    running.mean.try_axpy(1.0 - momentum, &batch_mean, momentum)?;
    let centered = x.try_sub(mean.try_broadcast_like::<_, Axes2<0, 2>>(&shape)?)?;
    let var = centered.retaped::<T>().try_square()?.try_mean::<(usize,), Axes2<0, 2>>()?;
    let batch_var = var.retaped::<NoneTape>().try_reshape_like(running.var.shape())?;
    running.var.try_axpy(1.0 - momentum, &batch_var, momentum * n / (n - 1.0).max(1.0))?;
    let std = var.try_add(p.epsilon as f32)?.try_sqrt()?;
    let scale = p.scale.retaped::<T>().try_reshape_like(&per_channel)?;
    let scale = scale.try_div(std)?.try_broadcast_like::<_, Axes2<0, 2>>(&shape)?;
    let bias =
        p.bias.retaped::<T>().try_reshape_like(&per_channel)?.try_broadcast_like::<_, Axes2<0, 2>>(&shape)?;
    centered.try_mul(scale)?.try_add(bias)?.try_reshape_like(&x_shape)
}

/// Inference-mode batch norm; see [`BatchNormKernel`](crate::ops::BatchNormKernel).
///
/// # Shapes
/// `x`: (N, C, H, W); per-channel tensors (C,).
pub fn try_batch_norm_infer<X: Shape, P: Shape, D: Device<f32>>(
    x: Tensor<X, f32, D>,
    p: NormParams<'_, P, D>,
    running: Running<&Tensor<P, f32, D>>,
) -> Result<Tensor<X, f32, D>, D::Err> {
    let (x_shape, g) = (*x.shape(), p.g);
    let shape: Nchw = (g.batch, g.channels, g.plane);
    let per_channel = (g.channels,);
    let channel = |t: &Tensor<P, f32, D>| t.clone().try_reshape_like(&per_channel);
    let x = x.try_reshape_like(&shape)?;
    let std = channel(running.var)?.try_add(p.epsilon as f32)?.try_sqrt()?;
    let scale = channel(p.scale)?.try_div(std)?.try_broadcast_like::<_, Axes2<0, 2>>(&shape)?;
    let x = x.try_sub(channel(running.mean)?.try_broadcast_like::<_, Axes2<0, 2>>(&shape)?)?;
    let bias = channel(p.bias)?.try_broadcast_like::<_, Axes2<0, 2>>(&shape)?;
    x.try_mul(scale)?.try_add(bias)?.try_reshape_like(&x_shape)
}

//! 2-D batch normalisation as a differentiable op (PyTorch's `F.batch_norm`): statistics
//! per channel over (N, H, W); in training the batch's, with the running ones updated, in
//! inference the running ones.

use dfdx::prelude::*;

/// The sizes of a batch-norm call: N × C × (H·W).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NormGeometry {
    /// N.
    pub batch: usize,
    /// C.
    pub channels: usize,
    /// H × W.
    pub plane: usize,
}

impl NormGeometry {
    /// Elements per channel: N·H·W.
    pub const fn per_channel(&self) -> usize {
        self.batch * self.plane
    }
}

/// What a batch-norm call reads besides `x`: the layer's per-channel tensors (of shape `P`,
/// i.e. (C,)), its ε and momentum, and the call's sizes.
#[derive(Debug)]
pub struct NormParams<'a, P: Shape, D: Storage<f32>> {
    /// γ, (C,).
    pub scale: &'a Tensor<P, f32, D>,
    /// β, (C,).
    pub bias: &'a Tensor<P, f32, D>,
    /// ε added to the variance.
    pub epsilon: f64,
    /// How far training moves the running statistics toward the batch's (inference ignores it).
    pub momentum: f64,
    /// N × C × (H·W) of `x`.
    pub g: NormGeometry,
}

/// A batch norm layer's running statistics, (C,) each: `&mut` tensors in training, which
/// moves them, `&` ones in inference, which reads them.
#[derive(Debug)]
pub struct Running<T> {
    /// The running mean.
    pub mean: T,
    /// The running (unbiased) variance.
    pub var: T,
}

/// A device that can run batch normalisation forward and backward.
///
/// `Cpu` overrides it with a fused kernel (statistics in one parallel pass over channels,
/// normalisation in another, the backward in closed form); any other device gets the
/// default, [`generic::batch_norm`](super::generic::batch_norm), composed of dfdx ops, from
/// an empty `impl`.
pub trait BatchNormKernel: Device<f32> {
    /// Training mode: normalises with the batch's mean and (biased) variance, and moves the
    /// running statistics toward them by `p.momentum` (the running variance is unbiased, as
    /// in PyTorch). The backward pass reaches `x`, `scale` and `bias`.
    ///
    /// # Shapes
    /// `x`: (N, C, H, W) with the dims of `X`; `running`: (C,) each.
    fn try_batch_norm_train<X: Shape, P: Shape, T: Tape<f32, Self>>(
        x: Tensor<X, f32, Self, T>,
        p: NormParams<'_, P, Self>,
        running: Running<&mut Tensor<P, f32, Self>>,
    ) -> Result<Tensor<X, f32, Self, T>, Self::Err> {
        super::generic::batch_norm::try_batch_norm_train(x, p, running)
    }

    /// Inference mode: normalises with the running statistics.
    ///
    /// # Shapes
    /// `x`: (N, C, H, W) with the dims of `X`; `running`: (C,) each.
    fn try_batch_norm_infer<X: Shape, P: Shape>(
        x: Tensor<X, f32, Self>,
        p: NormParams<'_, P, Self>,
        running: Running<&Tensor<P, f32, Self>>,
    ) -> Result<Tensor<X, f32, Self>, Self::Err> {
        super::generic::batch_norm::try_batch_norm_infer(x, p, running)
    }
}

//! `MaxPool2D`: 2-D max-pooling, PyTorch's `nn.MaxPool2d(K, stride=S, padding=P)`.

use dfdx::nn::modules::*;
use dfdx::prelude::*;

use crate::ops::{max_pool2d, MaxPool2dKernel};
use crate::shape::{SpatialMap, Window, WindowOut};

/// Max-pooling with a `K`×`K` window, stride `S` (default `K`) and padding `P` (default 0).
/// Has no parameters; it is its own builder.
///
/// As in PyTorch, the padding must be at most half the kernel (`2P ≤ K`); a larger padding
/// fails to compile.
///
/// # Shapes
/// Input (N, C, H, W) or (C, H, W); output (N, C, OH, OW) or (C, OH, OW).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MaxPool2D<const K: usize, const S: usize = K, const P: usize = 0>;

impl<const K: usize, const S: usize, const P: usize> MaxPool2D<K, S, P> {
    /// Evaluated (at compile time) by every forward: rejects a padding over half the kernel.
    const PADDING_AT_MOST_HALF_KERNEL: () = assert!(2 * P <= K, "MaxPool2D needs padding <= kernel / 2");
}

impl<const K: usize, const S: usize, const P: usize> ZeroSizedModule for MaxPool2D<K, S, P> {}
impl<const K: usize, const S: usize, const P: usize> NonMutableModule for MaxPool2D<K, S, P> {}

impl<B, C, H, W, D, T, const K: usize, const S: usize, const P: usize> Module<Tensor<(B, C, H, W), f32, D, T>>
    for MaxPool2D<K, S, P>
where
    B: Dim,
    C: Dim,
    H: Dim,
    W: Dim,
    D: MaxPool2dKernel,
    T: Tape<f32, D>,
    Window<K, S, P>: SpatialMap<H> + SpatialMap<W>,
{
    type Output = Tensor<(B, C, WindowOut<H, K, S, P>, WindowOut<W, K, S, P>), f32, D, T>;
    type Error = D::Err;

    fn try_forward(&self, x: Tensor<(B, C, H, W), f32, D, T>) -> Result<Self::Output, D::Err> {
        let () = Self::PADDING_AT_MOST_HALF_KERNEL;
        max_pool2d(x, Window::<K, S, P>)
    }
}

impl<C, H, W, D, T, const K: usize, const S: usize, const P: usize> Module<Tensor<(C, H, W), f32, D, T>>
    for MaxPool2D<K, S, P>
where
    C: Dim,
    H: Dim,
    W: Dim,
    D: MaxPool2dKernel,
    T: Tape<f32, D>,
    Window<K, S, P>: SpatialMap<H> + SpatialMap<W>,
{
    type Output = Tensor<(C, WindowOut<H, K, S, P>, WindowOut<W, K, S, P>), f32, D, T>;
    type Error = D::Err;

    fn try_forward(&self, x: Tensor<(C, H, W), f32, D, T>) -> Result<Self::Output, D::Err> {
        let (c, h, w) = *x.shape();
        let y = self.try_forward(x.try_reshape_like(&(Const::<1>, c, h, w))?)?;
        let (_, c, oh, ow) = *y.shape();
        y.try_reshape_like(&(c, oh, ow))
    }
}

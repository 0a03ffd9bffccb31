//! `Flatten2D`: drops the 1×1 spatial axes left by global pooling, PyTorch's `nn.Flatten()`
//! after `AdaptiveAvgPool2d((1, 1))`.

use dfdx::nn::modules::*;
use dfdx::prelude::*;

/// Flattens (N, C, 1, 1) to (N, C), keeping the channel count in the type so that a
/// `Linear<C, _>` can follow. (A general flatten would need `Const<C·H·W>`, which stable Rust
/// cannot compute from const generics.)
///
/// # Shapes
/// Input (N, C, 1, 1); output (N, C).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flatten2D;

impl ZeroSizedModule for Flatten2D {}
impl NonMutableModule for Flatten2D {}

impl<B: Dim, C: Dim, D: Device<f32>, T: Tape<f32, D>> Module<Tensor<(B, C, Const<1>, Const<1>), f32, D, T>>
    for Flatten2D
{
    type Output = Tensor<(B, C), f32, D, T>;
    type Error = D::Err;

    fn try_forward(&self, x: Tensor<(B, C, Const<1>, Const<1>), f32, D, T>) -> Result<Self::Output, D::Err> {
        let (b, c, _, _) = *x.shape();
        x.try_reshape_like(&(b, c))
    }
}

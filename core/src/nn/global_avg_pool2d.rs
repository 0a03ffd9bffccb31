//! `GlobalAvgPool2D`: the mean of each channel over its plane, keeping 1×1 spatial dims,
//! PyTorch's `nn.AdaptiveAvgPool2d((1, 1))`. Built on dfdx's `AvgPoolGlobal`.

use dfdx::nn::modules::*;
use dfdx::prelude::*;

/// Global average pooling that keeps the spatial axes as 1×1 (as PyTorch's
/// `AdaptiveAvgPool2d((1, 1))` does); follow it with [`super::Flatten2D`].
///
/// # Shapes
/// Input (N, C, H, W); output (N, C, 1, 1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GlobalAvgPool2D;

impl ZeroSizedModule for GlobalAvgPool2D {}
impl NonMutableModule for GlobalAvgPool2D {}

impl<B: Dim, C: Dim, H: Dim, W: Dim, D: Device<f32>, T: Tape<f32, D>> Module<Tensor<(B, C, H, W), f32, D, T>>
    for GlobalAvgPool2D
{
    type Output = Tensor<(B, C, Const<1>, Const<1>), f32, D, T>;
    type Error = D::Err;

    fn try_forward(&self, x: Tensor<(B, C, H, W), f32, D, T>) -> Result<Self::Output, D::Err> {
        let (b, c, _, _) = *x.shape();
        AvgPoolGlobal.try_forward(x)?.try_reshape_like(&(b, c, Const, Const))
    }
}

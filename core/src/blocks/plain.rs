//! The paper's "plain" block (He et al., 2016, section 4.1, Figure 4): the chapter's
//! residual block with its shortcut taken away, the baseline against which residual
//! learning is measured.

use alloc::format;
use alloc::string::String;

use dfdx::nn::BuildOnDevice;
use dfdx::tensor_ops::Device;

use super::{ResidualBlock, ResidualMain};
use crate::nn::builders::ReLU;

/// [`super::Residual`] without the shortcut: `ReLU(BN(conv3x3(ReLU(BN(conv3x3/S(x))))))`.
/// Stacked into stages like the residual blocks, it makes the paper's plain networks
/// (`plain18`, `plain34`), which have the same layers, save the 1×1 shortcut convolutions.
///
/// # Shapes
/// (N, I, H, W) → (N, O, H', W'): H' is H for stride 1, `Half<H>` (⌈H/2⌉) for stride 2.
///
/// ```
/// use resnet_core::prelude::*;
/// let dev = Cpu::default();
/// let blk = dev.build_module::<Plain<3, 6, 2>, f32>();
/// let x: Tensor<Rank4<2, 3, 6, 6>, f32, _> = dev.sample_normal();
/// assert_eq!(blk.forward(x).shape().concrete(), [2, 6, 3, 3]);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Plain<const I: usize, const O: usize, const S: usize = 1>;

impl<const I: usize, const O: usize, const S: usize> ResidualBlock for Plain<I, O, S> {
    type Layers = (ResidualMain<I, O, S>, ReLU);
    const KIND: &'static str = "plain";

    fn describe() -> String {
        format!("plain {I}->{O}, stride {S}, no shortcut")
    }
}

impl<const I: usize, const O: usize, const S: usize, D: Device<f32>> BuildOnDevice<D, f32> for Plain<I, O, S>
where
    (ResidualMain<I, O, S>, ReLU): BuildOnDevice<D, f32>,
{
    type Built = <(ResidualMain<I, O, S>, ReLU) as BuildOnDevice<D, f32>>::Built;
}

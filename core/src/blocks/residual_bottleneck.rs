//! The paper's bottleneck block in the chapter's style (the exercise's "bottleneck"):
//! convolutions with bias, the stride on the first 1×1 convolution as in He et al. (2016)
//! Table 1 ("v1"), and the chapter's 1×1-conv shortcut.

use alloc::format;
use alloc::string::String;
use core::marker::PhantomData;

use crate::nn::builders::Join;

use super::block::build_as_layers;
use super::{Identity, ResidualBlock, Shortcut};
use crate::nn::builders::{BatchNorm2D, Conv2D, ReLU};
use crate::nn::Biased;

/// The paper's bottleneck, chapter style: 1×1/S conv from `I` to `MID` channels, 3×3 conv,
/// 1×1 conv to `O`, each followed by batch norm (and ReLU, but the last), plus the
/// shortcut, then ReLU. Its multiply-accumulates are the paper's Table 1.
///
/// # Shapes
/// (N, I, H, W) → (N, O, H', W'): H' is H for stride 1, `Half<H>` (⌈H/2⌉) for stride 2.
///
/// ```
/// use resnet_core::prelude::*;
/// let dev = Cpu::default();
/// let blk = dev.build_module::<ResidualBottleneck<8, 4, 16, 2, Conv1x1>, f32>();
/// let x: Tensor<Rank4<2, 8, 7, 7>, f32, _> = dev.sample_normal();
/// assert_eq!(blk.forward(x).shape().concrete(), [2, 16, 4, 4]);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResidualBottleneck<
    const I: usize,
    const MID: usize,
    const O: usize,
    const S: usize = 1,
    Sc: Shortcut<I, O, S> = Identity,
>(PhantomData<Sc>);

/// A bottleneck's main path: (conv1x1/`S1`, BN, ReLU), (conv3x3/`S3`, BN, ReLU),
/// (conv1x1, BN), the convolutions with bias `B`. One of the strides is the block's, the
/// other 1: the paper strides the first 1×1, torchvision ([`super::BottleneckMain`]) the 3×3.
pub type BottleneckPath<
    const I: usize,
    const MID: usize,
    const O: usize,
    const S1: usize,
    const S3: usize,
    B = Biased,
> = (
    (Conv2D<I, MID, 1, S1, 0, B>, BatchNorm2D<MID>, ReLU),
    (Conv2D<MID, MID, 3, S3, 1, B>, BatchNorm2D<MID>, ReLU),
    (Conv2D<MID, O, 1, 1, 0, B>, BatchNorm2D<O>),
);

/// The main path of [`ResidualBottleneck`]: (conv1x1/S, BN, ReLU), (conv3x3, BN, ReLU),
/// (conv1x1, BN).
pub type ResidualBottleneckMain<const I: usize, const MID: usize, const O: usize, const S: usize> =
    BottleneckPath<I, MID, O, S, 1>;

impl<const I: usize, const MID: usize, const O: usize, const S: usize, Sc: Shortcut<I, O, S>> ResidualBlock
    for ResidualBottleneck<I, MID, O, S, Sc>
{
    type Layers = (Join<ResidualBottleneckMain<I, MID, O, S>, Sc::Builder>, ReLU);

    fn describe() -> String {
        format!("residual bottleneck {I}->{MID}->{O}, stride {S}, {}", Sc::DESCRIPTION)
    }
}

build_as_layers!(ResidualBottleneck<I, MID, O, S>);

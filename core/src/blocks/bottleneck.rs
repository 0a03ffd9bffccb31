//! torchvision's `Bottleneck` ("ResNet v1.5"): 1×1 conv reducing to `MID` channels, 3×3
//! conv with the block's stride, 1×1 conv expanding to `O` (= 4·MID in the models), each
//! followed by batch norm, convolutions without bias.

use alloc::format;
use alloc::string::String;
use core::marker::PhantomData;

use crate::nn::builders::{Join, ReLU};

use super::block::build_as_layers;
use super::{BottleneckPath, Identity, ResidualBlock, Shortcut};
use crate::nn::NoBias;

/// torchvision's `Bottleneck(I, MID, stride=S, downsample=...)` with `O = 4·MID` outputs:
/// `ReLU(BN(conv1x1(ReLU(BN(conv3x3/S(ReLU(BN(conv1x1(x)))))))) + shortcut(x))`.
/// The stride sits on the 3×3 convolution (torchvision's "v1.5"; the paper's v1 is
/// [`super::ResidualBottleneck`]). A shortcut whose channels or stride disagree with the
/// main path does not compile.
///
/// # Shapes
/// (N, I, H, W) → (N, O, H', W'): H' is H for stride 1, `Half<H>` (⌈H/2⌉) for stride 2.
///
/// ```
/// use resnet_core::prelude::*;
/// let dev = Cpu::default();
/// let blk = dev.build_module::<Bottleneck<64, 16, 64>, f32>();
/// assert_eq!(blk.num_trainable_params(), 64 * 16 + 16 * 16 * 9 + 16 * 64 + 2 * (16 + 16 + 64));
/// let blk = dev.build_module::<Bottleneck<8, 4, 16, 2, Projection>, f32>();
/// let x: Tensor<Rank4<2, 8, 7, 7>, f32, _> = dev.sample_normal();
/// assert_eq!(blk.forward(x).shape().concrete(), [2, 16, 4, 4]);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Bottleneck<
    const I: usize,
    const MID: usize,
    const O: usize,
    const S: usize = 1,
    Sc: Shortcut<I, O, S> = Identity,
>(PhantomData<Sc>);

/// The main path of [`Bottleneck`]: (conv1x1, BN, ReLU), (conv3x3/S, BN, ReLU),
/// (conv1x1, BN), without biases.
pub type BottleneckMain<const I: usize, const MID: usize, const O: usize, const S: usize> =
    BottleneckPath<I, MID, O, 1, S, NoBias>;

impl<const I: usize, const MID: usize, const O: usize, const S: usize, Sc: Shortcut<I, O, S>> ResidualBlock
    for Bottleneck<I, MID, O, S, Sc>
{
    type Layers = (Join<BottleneckMain<I, MID, O, S>, Sc::Builder>, ReLU);

    fn describe() -> String {
        format!("bottleneck {I}->{MID}->{O}, stride {S}, {}", Sc::DESCRIPTION)
    }
}

build_as_layers!(Bottleneck<I, MID, O, S>);

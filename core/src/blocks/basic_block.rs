//! torchvision's `BasicBlock`: the chapter's residual block with bias-free convolutions and
//! a projection shortcut (1×1 conv + batch norm) where channels or stride change.

use alloc::format;
use alloc::string::String;
use core::marker::PhantomData;

use crate::nn::builders::{Join, ReLU};

use super::block::build_as_layers;
use super::{Identity, ResidualBlock, ResidualMain, Shortcut};
use crate::nn::NoBias;

/// torchvision's `BasicBlock(I, O, stride=S, downsample=...)`:
/// `ReLU(BN(conv3x3(ReLU(BN(conv3x3/S(x))))) + shortcut(x))`, convolutions without bias.
/// `BasicBlock<64, 128, 2, Projection>` is layer2's first block of torchvision's ResNet-18.
///
/// # Shapes
/// (N, I, H, W) → (N, O, H', W'): H' is H for stride 1, `Half<H>` (⌈H/2⌉) for stride 2.
///
/// ```
/// use resnet_core::prelude::*;
/// let dev = Cpu::default();
/// let blk = dev.build_module::<BasicBlock<3, 6, 2, Projection>, f32>();
/// let x: Tensor<Rank4<2, 3, 6, 6>, f32, _> = dev.sample_normal();
/// assert_eq!(blk.forward(x).shape().concrete(), [2, 6, 3, 3]);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BasicBlock<const I: usize, const O: usize, const S: usize = 1, Sc: Shortcut<I, O, S> = Identity>(
    PhantomData<Sc>,
);

/// The main path of [`BasicBlock`]: the chapter's conv3x3/S → BN → ReLU → conv3x3 → BN
/// ([`ResidualMain`]), without biases.
pub type BasicMain<const I: usize, const O: usize, const S: usize> = ResidualMain<I, O, S, NoBias>;

impl<const I: usize, const O: usize, const S: usize, Sc: Shortcut<I, O, S>> ResidualBlock
    for BasicBlock<I, O, S, Sc>
{
    type Layers = (Join<BasicMain<I, O, S>, Sc::Builder>, ReLU);

    fn describe() -> String {
        format!("basic block {I}->{O}, stride {S}, {}", Sc::DESCRIPTION)
    }
}

build_as_layers!(BasicBlock<I, O, S>);

//! The chapter's residual block (He et al., 2016, <https://arxiv.org/abs/1512.03385>):
//! two 3×3 convolutions with batch norm on the main path, an identity or 1×1-conv shortcut,
//! and a ReLU after the sum.

use alloc::format;
use alloc::string::String;
use core::marker::PhantomData;

use crate::nn::builders::Join;

use super::block::build_as_layers;
use super::{Identity, ResidualBlock, Shortcut};
use crate::nn::builders::{BatchNorm2D, Conv2D, ReLU};
use crate::nn::Biased;

/// The residual block of d2l's ResNet chapter, as a type:
/// `ReLU(BN(conv3x3(ReLU(BN(conv3x3/S(x))))) + shortcut(x))`.
///
/// `Residual<3, 3>` is the chapter's `Residual(3, 3)`;
/// `Residual<3, 6, 2, Conv1x1>` is `Residual(3, 6, use_1x1conv=True, strides=2)`.
/// A shortcut that cannot match the main path (an identity with `I != O` or `S != 1`) does
/// not compile.
///
/// # Shapes
/// (N, I, H, W) → (N, O, H', W'): H' is H for stride 1, `Half<H>` (⌈H/2⌉) for stride 2.
///
/// ```
/// use resnet_core::prelude::*;
/// let dev = Cpu::default();
/// let blk = dev.build_module::<Residual<3, 6, 2, Conv1x1>, f32>();
/// let x: Tensor<(usize, Const<3>, usize, usize), f32, _> = dev.sample_normal_like(&(4, Const, 6, 6));
/// let y = blk.forward(x);
/// assert_eq!(y.shape().concrete(), [4, 6, 3, 3]);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Residual<const I: usize, const O: usize, const S: usize = 1, Sc: Shortcut<I, O, S> = Identity>(
    PhantomData<Sc>,
);

/// The main path of [`Residual`]: conv3x3/S → BN → ReLU → conv3x3 → BN, the convolutions
/// with bias `B` (torchvision's [`super::BasicBlock`] has the same path without).
pub type ResidualMain<const I: usize, const O: usize, const S: usize, B = Biased> =
    (Conv2D<I, O, 3, S, 1, B>, BatchNorm2D<O>, ReLU, Conv2D<O, O, 3, 1, 1, B>, BatchNorm2D<O>);

impl<const I: usize, const O: usize, const S: usize, Sc: Shortcut<I, O, S>> ResidualBlock
    for Residual<I, O, S, Sc>
{
    type Layers = (Join<ResidualMain<I, O, S>, Sc::Builder>, ReLU);

    fn describe() -> String {
        format!("residual {I}->{O}, stride {S}, {}", Sc::DESCRIPTION)
    }
}

build_as_layers!(Residual<I, O, S>);

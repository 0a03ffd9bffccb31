//! The pre-activation bottleneck of He et al., "Identity Mappings in Deep Residual
//! Networks" (2016), chapter style (convolutions with bias), stride on the 3×3 as in the
//! authors' code.

use alloc::format;
use alloc::string::String;
use core::marker::PhantomData;

use super::block::build_as_layers;
use super::{Identity, PreActivation, ResidualBlock, Shortcut};
use crate::nn::builders::{BatchNorm2D, Conv2D, ReLU};

/// A pre-activation bottleneck: `x + F(x)` with F = conv1x1 to `MID` → BN → ReLU →
/// conv3x3/S → BN → ReLU → conv1x1 to `O`, after a BN → ReLU pre-activation; a projection
/// shortcut takes the pre-activated input.
///
/// # Shapes
/// (N, I, H, W) → (N, O, H', W'): H' is H for stride 1, `Half<H>` (⌈H/2⌉) for stride 2.
///
/// ```
/// use resnet_core::prelude::*;
/// let dev = Cpu::default();
/// let blk = dev.build_module::<PreActBottleneck<8, 4, 16, 2, Conv1x1>, f32>();
/// let x: Tensor<Rank4<2, 8, 7, 7>, f32, _> = dev.sample_normal();
/// assert_eq!(blk.forward(x).shape().concrete(), [2, 16, 4, 4]);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PreActBottleneck<
    const I: usize,
    const MID: usize,
    const O: usize,
    const S: usize = 1,
    Sc: Shortcut<I, O, S> = Identity,
>(PhantomData<Sc>);

/// The rest of [`PreActBottleneck`]'s main path: (conv1x1, BN, ReLU), (conv3x3/S, BN,
/// ReLU), conv1x1.
pub type PreActBottleneckMain<const I: usize, const MID: usize, const O: usize, const S: usize> = (
    (Conv2D<I, MID, 1, 1, 0>, BatchNorm2D<MID>, ReLU),
    (Conv2D<MID, MID, 3, S, 1>, BatchNorm2D<MID>, ReLU),
    Conv2D<MID, O, 1, 1, 0>,
);

impl<const I: usize, const MID: usize, const O: usize, const S: usize, Sc: Shortcut<I, O, S>> ResidualBlock
    for PreActBottleneck<I, MID, O, S, Sc>
{
    type Layers = Sc::PreActivated<PreActivation<I>, PreActBottleneckMain<I, MID, O, S>>;

    fn describe() -> String {
        format!("pre-activation bottleneck {I}->{MID}->{O}, stride {S}, {}", Sc::DESCRIPTION)
    }
}

build_as_layers!(PreActBottleneck<I, MID, O, S>);

//! The pre-activation residual block of He et al., "Identity Mappings in Deep Residual
//! Networks" (2016, <https://arxiv.org/abs/1603.05027>), chapter style (convolutions with
//! bias): BN → ReLU → conv3x3/S → BN → ReLU → conv3x3, plus the shortcut, no ReLU after.

use alloc::format;
use alloc::string::String;
use core::marker::PhantomData;

use super::block::build_as_layers;
use super::{Identity, ResidualBlock, Shortcut};
use crate::nn::builders::{BatchNorm2D, Conv2D, ReLU};

/// A pre-activation residual block: `x + F(x)` with
/// `F = conv3x3(ReLU(BN(conv3x3/S(ReLU(BN(x))))))`. An identity shortcut adds `x` itself; a
/// `Conv1x1` shortcut projects the pre-activated `ReLU(BN(x))`. Models built from it end
/// with a final BN → ReLU ([`crate::models::PreActHead`]).
///
/// # Shapes
/// (N, I, H, W) → (N, O, H', W'): H' is H for stride 1, `Half<H>` (⌈H/2⌉) for stride 2.
///
/// ```
/// use resnet_core::prelude::*;
/// let dev = Cpu::default();
/// let blk = dev.build_module::<PreActResidual<3, 6, 2, Conv1x1>, f32>();
/// let x: Tensor<Rank4<2, 3, 6, 6>, f32, _> = dev.sample_normal();
/// assert_eq!(blk.forward(x).shape().concrete(), [2, 6, 3, 3]);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PreActResidual<
    const I: usize,
    const O: usize,
    const S: usize = 1,
    Sc: Shortcut<I, O, S> = Identity,
>(PhantomData<Sc>);

/// The pre-activation of a block taking `C` channels: BN → ReLU.
pub type PreActivation<const C: usize> = (BatchNorm2D<C>, ReLU);

/// The rest of [`PreActResidual`]'s main path: conv3x3/S → BN → ReLU → conv3x3.
pub type PreActMain<const I: usize, const O: usize, const S: usize> =
    (Conv2D<I, O, 3, S, 1>, BatchNorm2D<O>, ReLU, Conv2D<O, O, 3, 1, 1>);

impl<const I: usize, const O: usize, const S: usize, Sc: Shortcut<I, O, S>> ResidualBlock
    for PreActResidual<I, O, S, Sc>
{
    type Layers = Sc::PreActivated<PreActivation<I>, PreActMain<I, O, S>>;

    fn describe() -> String {
        format!("pre-activation residual {I}->{O}, stride {S}, {}", Sc::DESCRIPTION)
    }
}

build_as_layers!(PreActResidual<I, O, S>);

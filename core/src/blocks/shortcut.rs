//! The shortcut (skip) branch of a residual block: the identity, the chapter's 1×1
//! convolution (`use_1x1conv=True`), or torchvision's projection (1×1 conv + batch norm).

use crate::nn::builders::Join;
use dfdx::nn::modules::*;
use dfdx::prelude::*;

use crate::nn::builders::{BatchNorm2D, Conv2D};
use crate::nn::NoBias;

/// The identity shortcut: the block's input is added unchanged. Needs the block to keep its
/// channels and its spatial size (stride 1).
///
/// # Shapes
/// Output = input.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Identity;

impl ZeroSizedModule for Identity {}
impl NonMutableModule for Identity {}

impl<X: HasErr> Module<X> for Identity {
    type Output = X;
    type Error = X::Err;

    fn try_forward(&self, x: X) -> Result<X, X::Err> {
        Ok(x)
    }
}

/// The chapter's projection shortcut: a 1×1 convolution with the block's stride and bias,
/// no batch norm (`nn.Conv2d(input_channels, num_channels, kernel_size=1, stride=strides)`).
///
/// # Shapes
/// (N, I, H, W) → (N, O, H', W'), H' = H for stride 1, `Half<H>` for stride 2.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Conv1x1;

/// torchvision's `downsample`: a bias-free 1×1 convolution with the block's stride, then
/// batch norm (`nn.Sequential(conv1x1(inplanes, planes * expansion, stride), norm_layer(...))`).
///
/// # Shapes
/// (N, I, H, W) → (N, O, H', W'), H' = H for stride 1, `Half<H>` for stride 2.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Projection;

/// A shortcut kind that can join a residual block from `I` to `O` channels with stride `S`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be the shortcut of a residual block from {I} to {O} channels with stride {S}",
    label = "shortcut does not fit the main path",
    note = "an identity shortcut needs input channels == output channels and stride 1; \
            use `Conv1x1` (the chapter's use_1x1conv=True) or `Projection` (torchvision's \
            downsample) to change channels or stride"
)]
pub trait Shortcut<const I: usize, const O: usize, const S: usize> {
    /// The layer (builder) that computes the shortcut branch.
    type Builder;
    /// A pre-activation block with this shortcut, from the pre-activation `Pre` (batch norm,
    /// ReLU) and the rest of the main path `Main`: the identity skips both, a projection
    /// branches off after `Pre`, as in He et al.'s code for "Identity Mappings in Deep
    /// Residual Networks".
    type PreActivated<Pre, Main>;
    /// The shortcut in words, for model outlines.
    const DESCRIPTION: &'static str;
}

impl<const C: usize> Shortcut<C, C, 1> for Identity {
    type Builder = Identity;
    type PreActivated<Pre, Main> = Join<(Pre, Main), Identity>;
    const DESCRIPTION: &'static str = "identity shortcut";
}

impl<const I: usize, const O: usize, const S: usize> Shortcut<I, O, S> for Conv1x1 {
    type Builder = Conv2D<I, O, 1, S, 0>;
    type PreActivated<Pre, Main> = (Pre, Join<Main, Self::Builder>);
    const DESCRIPTION: &'static str = "1x1 conv shortcut";
}

impl<const I: usize, const O: usize, const S: usize> Shortcut<I, O, S> for Projection {
    type Builder = (Conv2D<I, O, 1, S, 0, NoBias>, BatchNorm2D<O>);
    type PreActivated<Pre, Main> = (Pre, Join<Main, Self::Builder>);
    const DESCRIPTION: &'static str = "projection shortcut";
}

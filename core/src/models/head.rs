//! The classifier head of a ResNet: global average pooling, flatten, linear
//! (`nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Linear(C, CLASSES)`), and the
//! pre-activation models' head, which first applies the last BN → ReLU.

use dfdx::nn::modules::Linear;
use dfdx::prelude::*;

use crate::nn::modules::BatchNorm2D;
use crate::nn::{Flatten2D, GlobalAvgPool2D};
use crate::ops::ReluKernel;

/// The head from `C` feature channels to `CLASSES` logits (a builder).
///
/// # Shapes
/// (N, C, H, W) → (N, CLASSES).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Head<const C: usize, const CLASSES: usize>;

impl<const C: usize, const CLASSES: usize, D: Device<f32>> BuildOnDevice<D, f32> for Head<C, CLASSES> {
    type Built = HeadModule<C, CLASSES, f32, D>;
}

/// A built [`Head`]; its only parameters are the linear layer's, named `fc.*`.
#[derive(Debug, Clone)]
pub struct HeadModule<const C: usize, const CLASSES: usize, E: Dtype, D: Storage<E>> {
    /// The final linear layer (PyTorch's default init: uniform ±1/sqrt(C)).
    pub fc: Linear<C, CLASSES, E, D>,
}

impl<const C: usize, const CLASSES: usize, D: Device<f32>> TensorCollection<f32, D>
    for HeadModule<C, CLASSES, f32, D>
{
    type To<E2: Dtype, D2: Device<E2>> = HeadModule<C, CLASSES, E2, D2>;

    fn iter_tensors<V: ModuleVisitor<Self, f32, D>>(
        visitor: &mut V,
    ) -> Result<Option<Self::To<V::E2, V::D2>>, V::Err> {
        visitor.visit_fields(Self::module("fc", |s| &s.fc, |s| &mut s.fc), |fc| HeadModule { fc })
    }
}

impl<const C: usize, const CLASSES: usize, E: Dtype, D: Storage<E>> dfdx::nn::NonMutableModule
    for HeadModule<C, CLASSES, E, D>
{
}

impl<B: Dim, H: Dim, W: Dim, D: Device<f32>, T: Tape<f32, D>, const C: usize, const CLASSES: usize>
    Module<Tensor<(B, Const<C>, H, W), f32, D, T>> for HeadModule<C, CLASSES, f32, D>
{
    type Output = Tensor<(B, Const<CLASSES>), f32, D, T>;
    type Error = D::Err;

    fn try_forward(&self, x: Tensor<(B, Const<C>, H, W), f32, D, T>) -> Result<Self::Output, D::Err> {
        let x = GlobalAvgPool2D.try_forward(x)?;
        self.fc.try_forward(Flatten2D.try_forward(x)?)
    }
}

/// The head of a pre-activation ResNet: BN → ReLU on the last block's sum, then [`Head`]
/// (a builder).
///
/// # Shapes
/// (N, C, H, W) → (N, CLASSES).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PreActHead<const C: usize, const CLASSES: usize>;

impl<const C: usize, const CLASSES: usize, D: Device<f32>> BuildOnDevice<D, f32> for PreActHead<C, CLASSES> {
    type Built = PreActHeadModule<C, CLASSES, f32, D>;
}

/// A built [`PreActHead`]: parameters `bn.*` and `fc.*`.
#[derive(Debug, Clone)]
pub struct PreActHeadModule<const C: usize, const CLASSES: usize, E: Dtype, D: Storage<E>> {
    /// The final batch norm.
    pub bn: BatchNorm2D<C, E, D>,
    /// Pooling, flatten and the final linear layer.
    pub head: HeadModule<C, CLASSES, E, D>,
}

impl<const C: usize, const CLASSES: usize, D: Device<f32>> TensorCollection<f32, D>
    for PreActHeadModule<C, CLASSES, f32, D>
{
    type To<E2: Dtype, D2: Device<E2>> = PreActHeadModule<C, CLASSES, E2, D2>;

    fn iter_tensors<V: ModuleVisitor<Self, f32, D>>(
        visitor: &mut V,
    ) -> Result<Option<Self::To<V::E2, V::D2>>, V::Err> {
        visitor.visit_fields(
            (
                Self::module("bn", |s| &s.bn, |s| &mut s.bn),
                Self::module("head", |s| &s.head, |s| &mut s.head),
            ),
            |(bn, head)| PreActHeadModule { bn, head },
        )
    }
}

/// Implements `$trait` (`Module` or `ModuleMut`) for [`PreActHeadModule`] with `$forward`:
/// batch norm (in evaluation or training mode) → ReLU → [`HeadModule`].
macro_rules! preact_head_forward {
    ($trait:ident, $forward:ident $(, $mut:ident)?) => {
        impl<B, H, W, D, T, const C: usize, const CLASSES: usize> $trait<Tensor<(B, Const<C>, H, W), f32, D, T>>
            for PreActHeadModule<C, CLASSES, f32, D>
        where
            B: Dim,
            H: Dim,
            W: Dim,
            D: ReluKernel,
            T: Tape<f32, D>,
            BatchNorm2D<C, f32, D>: $trait<
                Tensor<(B, Const<C>, H, W), f32, D, T>,
                Output = Tensor<(B, Const<C>, H, W), f32, D, T>,
                Error = D::Err,
            >,
        {
            type Output = Tensor<(B, Const<CLASSES>), f32, D, T>;
            type Error = D::Err;

            fn $forward(&$($mut)? self, x: Tensor<(B, Const<C>, H, W), f32, D, T>) -> Result<Self::Output, D::Err> {
                self.head.try_forward(D::try_relu_op(self.bn.$forward(x)?)?)
            }
        }
    };
}

preact_head_forward!(Module, try_forward);
preact_head_forward!(ModuleMut, try_forward_mut, mut);

//! The classifier head of a ResNet: global average pooling, flatten, linear
//! (`nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Linear(C, CLASSES)`).

use dfdx::nn::modules::Linear;
use dfdx::prelude::*;

use crate::nn::{Flatten2D, GlobalAvgPool2D};

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

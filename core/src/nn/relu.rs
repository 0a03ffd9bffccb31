//! `ReLU`: `max(x, 0)` as this crate's [`ReluKernel`] op (parallel on `Cpu`), in place of
//! dfdx's `ReLU`, whose name and place in a model it takes (it holds no tensors).

use dfdx::nn::modules::*;
use dfdx::prelude::*;

use crate::ops::ReluKernel;

/// The rectified linear unit, PyTorch's `nn.ReLU`.
///
/// # Shapes
/// Any input shape; the output has the same.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReLU;

impl ZeroSizedModule for ReLU {}
impl NonMutableModule for ReLU {}

impl<S: Shape, D: ReluKernel, T: Tape<f32, D>> Module<Tensor<S, f32, D, T>> for ReLU {
    type Output = Tensor<S, f32, D, T>;
    type Error = D::Err;

    fn try_forward(&self, x: Tensor<S, f32, D, T>) -> Result<Self::Output, D::Err> {
        D::try_relu_op(x)
    }
}

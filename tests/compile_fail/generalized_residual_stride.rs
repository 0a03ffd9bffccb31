// dfdx's GeneralizedResidual: a stride-2 main path and a stride-1 shortcut give different
// spatial types (Half<usize> vs usize), so the sum does not type-check.
use resnet_core::dfdx::nn::builders::{BatchNorm2D, GeneralizedResidual};
use resnet_core::prelude::*;

type Block = GeneralizedResidual<(Conv2D<3, 3, 3, 2, 1>, BatchNorm2D<3>), Conv2D<3, 3, 1, 1, 0>>;

fn main() {
    let dev = Cpu::default();
    let blk = dev.build_module::<Block, f32>();
    let x: Tensor<(usize, Const<3>, usize, usize), f32, _> = dev.zeros_like(&(2, Const, 8, 8));
    let _y = blk.forward(x);
}

// The chapter's two residual blocks, and a projection block whose branches both halve.
use resnet_core::dfdx::nn::builders::{BatchNorm2D, GeneralizedResidual};
use resnet_core::prelude::*;

type Projection = GeneralizedResidual<(Conv2D<3, 6, 3, 2, 1>, BatchNorm2D<6>), Conv2D<3, 6, 1, 2, 0>>;

fn main() {
    let dev = Cpu::default();
    let x: Tensor<Rank4<4, 3, 6, 6>, f32, _> = dev.zeros();
    let y: Tensor<Rank4<4, 3, 6, 6>, f32, _> = dev.build_module::<Residual<3, 3>, f32>().forward(x.clone());
    assert_eq!(y.shape().concrete(), [4, 3, 6, 6]);
    let y = dev.build_module::<Residual<3, 6, 2, Conv1x1>, f32>().forward(x.clone());
    let _: &Tensor<(Const<4>, Const<6>, Half<Const<6>>, Half<Const<6>>), f32, _> = &y;
    assert_eq!(y.shape().concrete(), [4, 6, 3, 3]);
    let y = dev.build_module::<Projection, f32>().forward(x);
    assert_eq!(y.shape().concrete(), [4, 6, 3, 3]);
}

// The family's blocks with matching shortcuts: bottleneck (torchvision v1.5 and the
// chapter's), pre-activation basic and bottleneck, each keeping or halving the image.
use resnet_core::prelude::*;

fn main() {
    let dev = Cpu::default();
    let x: Tensor<Rank4<2, 64, 8, 8>, f32, _> = dev.zeros();
    let y = dev.build_module::<Bottleneck<64, 16, 64>, f32>().forward(x.clone());
    assert_eq!(y.shape().concrete(), [2, 64, 8, 8]);
    let y = dev.build_module::<Bottleneck<64, 32, 128, 2, Projection>, f32>().forward(x.clone());
    let _: &Tensor<(Const<2>, Const<128>, Half<Const<8>>, Half<Const<8>>), f32, _> = &y;
    let y = dev.build_module::<ResidualBottleneck<64, 16, 256, 1, Conv1x1>, f32>().forward(x.clone());
    assert_eq!(y.shape().concrete(), [2, 256, 8, 8]);
    let y = dev.build_module::<PreActResidual<64, 64>, f32>().forward(x.clone());
    assert_eq!(y.shape().concrete(), [2, 64, 8, 8]);
    let y = dev.build_module::<PreActBottleneck<64, 32, 128, 2, Conv1x1>, f32>().forward(x);
    assert_eq!(y.shape().concrete(), [2, 128, 4, 4]);
}

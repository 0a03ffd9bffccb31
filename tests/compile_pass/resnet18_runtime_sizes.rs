// ResNet18<1, 10> on a tensor whose batch and image sizes are known only at run time.
use resnet_core::prelude::*;

fn main() {
    let dev = Cpu::default();
    let model = dev.build_module::<ResNet18<1, 10>, f32>();
    let side = std::env::args().count() + 31; // 32, decided at run time
    let x: Tensor<(usize, Const<1>, usize, usize), f32, _> = dev.zeros_like(&(3, Const, side, side));
    let y: Tensor<(usize, Const<10>), f32, _> = model.forward(x);
    assert_eq!(y.shape().concrete(), [3, 10]);
}

// ResNet18<1, 10> takes 1-channel images; a 3-channel image does not compile.
use resnet_core::prelude::*;

fn main() {
    let dev = Cpu::default();
    let model = dev.build_module::<ResNet18<1, 10>, f32>();
    let x: Tensor<(usize, Const<3>, usize, usize), f32, _> = dev.zeros_like(&(1, Const, 96, 96));
    let _y = model.forward(x);
}

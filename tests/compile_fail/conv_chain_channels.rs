// A conv producing 8 channels cannot feed a conv taking 16.
use resnet_core::prelude::*;

fn main() {
    let dev = Cpu::default();
    let model = dev.build_module::<(Conv2D<3, 8, 3, 1, 1>, Conv2D<16, 8, 3, 1, 1>), f32>();
    let x: Tensor<Rank4<1, 3, 8, 8>, f32, _> = dev.zeros();
    let _y = model.forward(x);
}

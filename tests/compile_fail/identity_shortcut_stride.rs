// An identity shortcut cannot follow a main path that halves the image (stride 2).
use resnet_core::prelude::*;

fn main() {
    let dev = Cpu::default();
    let _blk = dev.build_module::<Residual<3, 3, 2>, f32>();
}

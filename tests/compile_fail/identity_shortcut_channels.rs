// An identity shortcut cannot join 3 input channels to 6 output channels.
use resnet_core::prelude::*;

fn main() {
    let dev = Cpu::default();
    let _blk = dev.build_module::<Residual<3, 6>, f32>();
}

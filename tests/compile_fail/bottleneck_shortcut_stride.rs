// A bottleneck whose 3x3 conv halves the image cannot add an identity shortcut (stride 1).
use resnet_core::prelude::*;

fn main() {
    let dev = Cpu::default();
    let _blk = dev.build_module::<Bottleneck<256, 64, 256, 2, Identity>, f32>();
}

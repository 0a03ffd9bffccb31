// A bottleneck that widens 64 -> 256 channels cannot add an identity shortcut (64 channels).
use resnet_core::prelude::*;

fn main() {
    let dev = Cpu::default();
    let _blk = dev.build_module::<Bottleneck<64, 64, 256, 1, Identity>, f32>();
}

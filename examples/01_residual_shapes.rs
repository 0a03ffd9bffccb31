//! The chapter's residual-block shape checks: `Residual(3, 3)` keeps a (4, 3, 6, 6) input's
//! shape; `Residual(3, 6, use_1x1conv=True, strides=2)` halves it and doubles the channels.
//!
//! `cargo run --release --example 01_residual_shapes`

use resnet_core::prelude::*;

fn main() {
    let dev = Cpu::default();
    let x: Tensor<Rank4<4, 3, 6, 6>, f32, _> = dev.sample_uniform();

    // blk = Residual(3, 3)
    let blk = dev.build_module::<Residual<3, 3>, f32>();
    let y = blk.forward(x.clone());
    println!("Residual<3, 3>:              {:?}", y.shape().concrete());

    // blk = Residual(3, 6, use_1x1conv=True, strides=2)
    let blk = dev.build_module::<Residual<3, 6, 2, Conv1x1>, f32>();
    let y = blk.forward(x);
    println!("Residual<3, 6, 2, Conv1x1>:  {:?}", y.shape().concrete());
}

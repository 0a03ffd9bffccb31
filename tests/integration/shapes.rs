//! The chapter's shape examples, by real forward passes, and the ResNet-18 table.

use resnet_core::prelude::*;
use resnet_core::summary::{Dims, ModelRows, ModelShape};

#[test]
fn residual_3_3_keeps_the_shape() {
    let dev = Cpu::default();
    let blk = dev.build_module::<Residual<3, 3>, f32>();
    let x: Tensor<Rank4<4, 3, 6, 6>, f32, _> = dev.sample_uniform();
    let y: Tensor<Rank4<4, 3, 6, 6>, f32, _> = blk.forward(x);
    assert_eq!(y.shape().concrete(), [4, 3, 6, 6]);
}

#[test]
fn residual_3_6_stride_2_with_1x1_conv_halves_and_widens() {
    let dev = Cpu::default();
    let blk = dev.build_module::<Residual<3, 6, 2, Conv1x1>, f32>();
    let x: Tensor<(usize, Const<3>, usize, usize), f32, _> = dev.sample_uniform_like(&(4, Const, 6, 6));
    let y: Tensor<(usize, Const<6>, Half<usize>, Half<usize>), f32, _> = blk.forward(x);
    assert_eq!(y.shape().concrete(), [4, 6, 3, 3]);
}

#[test]
fn resnet18_table_matches_a_forward_pass_at_224_and_96() {
    let dev = Cpu::default();
    let model = dev.build_module::<ResNet18<1, 10>, f32>();
    let expected_224: [&[usize]; 8] = [
        &[1, 64, 56, 56],
        &[1, 64, 56, 56],
        &[1, 128, 28, 28],
        &[1, 256, 14, 14],
        &[1, 512, 7, 7],
        &[1, 512, 1, 1],
        &[1, 512],
        &[1, 10],
    ];
    let x: Tensor<(usize, Const<1>, usize, usize), f32, _> = dev.zeros_like(&(1, Const, 224, 224));
    let measured = model.forward_table(x).unwrap();
    let shapes: Vec<&[usize]> = measured.iter().map(|m| m.output.as_slice()).collect();
    assert_eq!(shapes, expected_224);
    let params: Vec<usize> = measured.iter().map(|m| m.params).collect();
    assert_eq!(params, [3_328, 148_224, 525_952, 2_100_480, 8_395_264, 0, 0, 5_130]);
    assert_eq!(model.num_trainable_params(), 11_178_378);

    // The training size: the stem's conv gives 48, then 24, 24, 12, 6, 3.
    let stem_conv = dev.build_module::<Conv2D<1, 64, 7, 2, 3>, f32>();
    let x: Tensor<(usize, Const<1>, usize, usize), f32, _> = dev.zeros_like(&(2, Const, 96, 96));
    assert_eq!(stem_conv.forward(x.clone()).shape().concrete(), [2, 64, 48, 48]);
    let sides: Vec<usize> = model.forward_table(x).unwrap()[..5].iter().map(|m| m.output[2]).collect();
    assert_eq!(sides, [24, 24, 12, 6, 3]);
    let table = ResNet18::<1, 10>::table(Dims::of([2, 1, 96, 96])).unwrap();
    assert_eq!(table.iter().map(|r| r.output.as_slice()[2]).take(5).collect::<Vec<_>>(), sides);
}

//! Full training steps on ResNet-18 with dfdx's tape, optimizer and loss, on CPU.

use resnet_core::prelude::*;

type Model = Built<ResNet18<1, 10>, Cpu>;

/// Sizes known only at run time, as a data loader produces them.
fn batch(
    dev: &Cpu,
    n: usize,
    side: usize,
) -> (Tensor<(usize, Const<1>, usize, usize), f32, Cpu>, Tensor<(usize, Const<10>), f32, Cpu>) {
    let x = dev.sample_uniform_like(&(n, Const, side, side));
    let labels: Vec<usize> = (0..n).map(|i| i % 10).collect();
    let mut one_hot = vec![0.0f32; n * 10];
    for (i, &l) in labels.iter().enumerate() {
        one_hot[i * 10 + l] = 1.0;
    }
    (x, dev.tensor_from_vec(one_hot, (n, Const)))
}

fn loss_of(
    model: &Model,
    x: Tensor<(usize, Const<1>, usize, usize), f32, Cpu>,
    y: Tensor<(usize, Const<10>), f32, Cpu>,
) -> f32 {
    cross_entropy_with_logits_loss(model.forward(x), y).array()
}

#[test]
fn resnet18_forward_backward_at_batch_8_96x96() {
    let dev = Cpu::seed_from_u64(1);
    let mut model = dev.build_module::<ResNet18<1, 10>, f32>();
    let mut grads = model.alloc_grads();
    let (x, y) = batch(&dev, 8, 96);
    let logits = model.forward_mut(x.traced(grads));
    assert_eq!(logits.shape().concrete(), [8, 10]);
    let loss = cross_entropy_with_logits_loss(logits, y);
    assert!(loss.array().is_finite());
    grads = loss.backward();
    // Every trainable tensor got a finite gradient, and the stem's filters a non-zero one.
    let stem = grads.get(&model.0 .0.weight).as_vec();
    assert!(stem.iter().all(|g| g.is_finite()));
    assert!(stem.iter().any(|&g| g != 0.0));
    let fc = grads.get(&model.5.fc.weight).as_vec();
    assert!(fc.iter().any(|&g| g != 0.0));
}

#[test]
fn sgd_steps_fit_a_fixed_batch() {
    let dev = Cpu::seed_from_u64(2);
    let mut model = dev.build_module::<ResNet18<1, 10>, f32>();
    let mut grads = model.alloc_grads();
    let mut sgd = Sgd::new(&model, SgdConfig { lr: 0.01, momentum: None, weight_decay: None });
    let (x, y) = batch(&dev, 16, 28);
    let mut losses = Vec::new();
    for _ in 0..5 {
        let loss = cross_entropy_with_logits_loss(model.forward_mut(x.trace(grads)), y.clone());
        losses.push(loss.array());
        grads = loss.backward();
        sgd.update(&mut model, &grads).unwrap();
        model.zero_grads(&mut grads);
    }
    // Memorising 16 random images: every step lowers the loss, and it ends far below ln 10.
    assert!(losses.windows(2).all(|w| w[1] < w[0]), "loss did not fall at every step: {losses:?}");
    assert!(losses[4] < 0.1 * losses[0], "loss fell too little: {losses:?}");
    // Inference mode (running statistics) runs and gives a finite loss.
    assert!(loss_of(&model, x, y).is_finite());
}

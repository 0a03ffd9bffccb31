//! One training smoke test per block kind: a small network of that block (a 3×3 conv stem,
//! a stage of two blocks, the matching head) trains with SGD on real Fashion-MNIST, and its
//! loss falls.

use resnet_core::data::{epoch_order, make_batch, Resizer};
use resnet_core::nn::init::xavier_uniform;
use resnet_core::prelude::*;
use resnet_core::train::loss::{cross_entropy, one_hot};
use resnet_core::train::{SgdSettings, TorchSgd};

use crate::support::real_data;

type Images<T> = Tensor<(usize, Const<1>, usize, usize), f32, Cpu, T>;
type Logits<T> = Tensor<(usize, Const<10>), f32, Cpu, T>;

/// A stem, the stage `S`, the head `H`.
type Tiny<S, H> = ((Conv2D<1, 16, 3, 1, 1>, BatchNorm2D<16>, ReLU), S, H);

const STEPS: usize = 60;

/// Trains `M` for [`STEPS`] steps of 64 images at 28×28; returns the step losses.
fn train<M>() -> Vec<f32>
where
    M: BuildOnDevice<Cpu, f32>,
    M::Built: TensorCollection<f32, Cpu>
        + Clone
        + ModuleMut<Images<OwnedTape<f32, Cpu>>, Output = Logits<OwnedTape<f32, Cpu>>>
        + Module<Images<NoneTape>, Output = Logits<NoneTape>>,
{
    let dev = Cpu::seed_from_u64(7);
    let mut model = dev.build_module::<M, f32>();
    xavier_uniform(&mut model).unwrap();
    let mut grads = model.alloc_grads();
    let mut sgd = TorchSgd::new(SgdSettings { momentum: 0.9, nesterov: false, weight_decay: 0.0 });
    let (data, resizer) = (real_data(), Resizer::new(28, 28));
    let order = epoch_order(data.train.len(), 7, 0);
    let mut losses = Vec::new();
    for indices in order.chunks(64).take(STEPS) {
        let batch = make_batch(&data.train, indices, &resizer);
        let n = batch.len();
        let x: Images<NoneTape> = dev.tensor_from_vec(batch.images, (n, Const, 28, 28));
        let y = one_hot::<10, _>(&dev, &batch.labels).unwrap();
        let loss = cross_entropy(model.forward_mut(x.traced(grads)), y).unwrap();
        losses.push(loss.array());
        grads = loss.backward();
        sgd.update(&mut model, &mut grads, 0.05).unwrap();
        model.zero_grads(&mut grads);
    }
    // Inference mode (running statistics) gives finite logits.
    let test = make_batch(&data.test, &(0..32).collect::<Vec<_>>(), &resizer);
    let x: Images<NoneTape> = dev.tensor_from_vec(test.images, (32, Const, 28, 28));
    assert!(model.forward(x).as_vec().iter().all(|v| v.is_finite()));
    losses
}

/// The mean loss of the last 10 steps is at least 20% below that of the first 10 (ln 10 ≈ 2.3).
fn assert_learns(what: &str, losses: &[f32]) {
    let mean = |l: &[f32]| l.iter().sum::<f32>() / l.len() as f32;
    let (first, last) = (mean(&losses[..10]), mean(&losses[losses.len() - 10..]));
    assert!(losses.iter().all(|l| l.is_finite()), "{what}: {losses:?}");
    assert!(last < 0.8 * first, "{what}: loss {first} -> {last}: {losses:?}");
}

/// One test per block kind: `test name: "block", stage, head;`.
macro_rules! trains {
    ($($name:ident: $what:literal, $stage:ty, $head:ty;)*) => {$(
        #[test]
        fn $name() {
            assert_learns($what, &train::<Tiny<$stage, $head>>());
        }
    )*};
}

trains! {
    residual_trains: "Residual",
        Stage<Residual<16, 32, 2, Conv1x1>, Residual<32, 32>, 2>, Head<32, 10>;
    basic_block_trains: "BasicBlock",
        Stage<BasicBlock<16, 32, 2, Projection>, BasicBlock<32, 32>, 2>, Head<32, 10>;
    bottleneck_trains: "Bottleneck",
        Stage<Bottleneck<16, 8, 32, 2, Projection>, Bottleneck<32, 8, 32>, 2>, Head<32, 10>;
    residual_bottleneck_trains: "ResidualBottleneck",
        Stage<ResidualBottleneck<16, 8, 32, 2, Conv1x1>, ResidualBottleneck<32, 8, 32>, 2>, Head<32, 10>;
    preact_residual_trains: "PreActResidual",
        Stage<PreActResidual<16, 32, 2, Conv1x1>, PreActResidual<32, 32>, 2>, PreActHead<32, 10>;
    preact_bottleneck_trains: "PreActBottleneck",
        Stage<PreActBottleneck<16, 8, 32, 2, Conv1x1>, PreActBottleneck<32, 8, 32>, 2>, PreActHead<32, 10>;
}

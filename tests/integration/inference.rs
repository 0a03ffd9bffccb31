//! Inference without std (`resnet_core::infer`), and compiled for the CPU
//! (`infer::Compiled`), against dfdx's evaluation-mode forward pass with the std build's
//! kernels: every catalog model, random weights and batch-norm statistics, from a
//! weights-only file and from a checkpoint's bytes; hostile files.

use resnet_core::checkpoint::{encode, named_tensors, Header, NamedTensor};
use resnet_core::infer::{self, Network, Op};
use resnet_core::models::{ModelName, ResNet8};
use resnet_core::prelude::*;
use resnet_core::train::{Checkpoint, Position, TrainConfig};

/// A model of type `M` with random weights and random running statistics, its tensors.
pub(crate) fn random_model<M, const IN: usize>(seed: u64) -> (Built<M, Cpu>, Vec<NamedTensor>)
where
    M: BuildOnDevice<Cpu, f32>,
{
    let dev = Cpu::seed_from_u64(seed);
    let mut model = dev.build_module::<M, f32>();
    let mut tensors = named_tensors(&model).unwrap();
    let mut state = seed.wrapping_add(1);
    let mut next = move || {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (state >> 40) as f32 / (1u64 << 24) as f32
    };
    for t in &mut tensors {
        if t.name.ends_with("running_mean") || t.name.ends_with(".bias") && t.shape.len() == 1 {
            t.data.iter_mut().for_each(|v| *v = next() - 0.5);
        } else if t.name.ends_with("running_var") || t.name.ends_with(".scale") {
            t.data.iter_mut().for_each(|v| *v = 0.5 + next());
        }
    }
    resnet_core::checkpoint::load_named(&mut model, &tensors, "random").unwrap();
    (model, tensors)
}

pub(crate) fn images<const IN: usize>(n: usize, side: usize) -> Vec<f32> {
    (0..n * IN * side * side).map(|i| ((i * 7919) % 256) as f32 / 255.0).collect()
}

fn assert_close(got: &[f32], want: &[f32], tolerance: f32, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}");
    let scale = want.iter().fold(1.0f32, |m, v| m.max(v.abs()));
    for (i, (a, b)) in got.iter().zip(want).enumerate() {
        assert!((a - b).abs() <= tolerance * scale, "{what}: logit {i}: {a} vs {b} (scale {scale})");
    }
}

/// `infer::logits` on a weights-only file of `name` equals dfdx's `forward` of type `M`.
fn infers_like_dfdx<M, const IN: usize>(name: ModelName, side: usize, tolerance: f32)
where
    M: BuildOnDevice<Cpu, f32> + infer::Infer,
    Built<M, Cpu>: Module<
        Tensor<(usize, Const<IN>, usize, usize), f32, Cpu>,
        Output = Tensor<(usize, Const<10>), f32, Cpu>,
    >,
{
    let (model, tensors) = random_model::<M, IN>(11);
    let x = images::<IN>(2, side);
    let dev = Cpu::default();
    let input = dev.tensor_from_vec(x.clone(), (2, Const::<IN>, side, side));
    let want = model.forward(input).as_vec();
    let file = encode(&Header::weights(name, IN, 10), &tensors).unwrap();
    let got = infer::logits(&file, &x, [2, IN, side, side]).unwrap();
    assert_close(&got, &want, tolerance, &name.to_string());
    let compiled = Network::<M>::from_bytes(&file).unwrap().compile([IN, side, side]).unwrap();
    assert_close(&compiled.logits(&x, 2).unwrap(), &want, tolerance, &format!("{name}, compiled"));
    let header = Header::weights(name, IN, 10);
    let of_model = infer::Compiled::of_model::<M, Cpu>(&header, &model, [IN, side, side]).unwrap();
    assert_close(
        &of_model.logits(&x, 2).unwrap(),
        &want,
        tolerance,
        &format!("{name}, compiled from the model"),
    );
}

#[test]
fn every_catalog_model_infers_without_std_as_dfdx_does() {
    use resnet_core::models::{d2l, Arch, Flavor};
    let m = |arch, flavor| ModelName::new(arch, flavor).unwrap();
    infers_like_dfdx::<d2l::ResNet8<1, 10>, 1>(m(Arch::ResNet8, Flavor::D2l), 28, 1e-5);
    infers_like_dfdx::<d2l::ResNet18<1, 10>, 1>(m(Arch::ResNet18, Flavor::D2l), 32, 1e-5);
    infers_like_dfdx::<d2l::ResNet34<3, 10>, 3>(m(Arch::ResNet34, Flavor::D2l), 32, 1e-5);
    infers_like_dfdx::<d2l::ResNet50<1, 10>, 1>(m(Arch::ResNet50, Flavor::D2l), 32, 1e-4);
    infers_like_dfdx::<d2l::ResNet101<1, 10>, 1>(m(Arch::ResNet101, Flavor::D2l), 32, 1e-4);
    infers_like_dfdx::<d2l::ResNet152<1, 10>, 1>(m(Arch::ResNet152, Flavor::D2l), 32, 1e-4);
    infers_like_dfdx::<d2l::PreActResNet18<2, 10>, 2>(m(Arch::PreActResNet18, Flavor::D2l), 32, 1e-5);
    infers_like_dfdx::<d2l::PreActResNet50<1, 10>, 1>(m(Arch::PreActResNet50, Flavor::D2l), 32, 1e-4);
    infers_like_dfdx::<d2l::Plain18<1, 10>, 1>(m(Arch::Plain18, Flavor::D2l), 32, 1e-5);
    infers_like_dfdx::<d2l::Plain34<1, 10>, 1>(m(Arch::Plain34, Flavor::D2l), 32, 1e-5);
    infers_like_dfdx::<torchvision::ResNet18<3, 10>, 3>(m(Arch::ResNet18, Flavor::Torchvision), 32, 1e-5);
    infers_like_dfdx::<torchvision::ResNet34<1, 10>, 1>(m(Arch::ResNet34, Flavor::Torchvision), 32, 1e-5);
    infers_like_dfdx::<torchvision::ResNet50<1, 10>, 1>(m(Arch::ResNet50, Flavor::Torchvision), 32, 1e-4);
    infers_like_dfdx::<torchvision::ResNet101<4, 10>, 4>(m(Arch::ResNet101, Flavor::Torchvision), 32, 1e-4);
    infers_like_dfdx::<torchvision::ResNet152<1, 10>, 1>(m(Arch::ResNet152, Flavor::Torchvision), 32, 1e-4);
}

fn resnet8_file() -> (Vec<NamedTensor>, Vec<u8>) {
    let (_, tensors) = random_model::<ResNet8<1, 10>, 1>(5);
    let file = encode(
        &Header::weights(ModelName::new("resnet8".parse().unwrap(), Default::default()).unwrap(), 1, 10),
        &tensors,
    )
    .unwrap();
    (tensors, file)
}

#[test]
fn a_checkpoint_and_its_weights_only_file_give_the_same_logits_and_the_typed_route_agrees() {
    let (tensors, weights) = resnet8_file();
    let model = ModelName::new("resnet8".parse().unwrap(), Default::default()).unwrap();
    let ckpt = Checkpoint {
        header: Checkpoint::header(model, 1, 10),
        config: TrainConfig { model, ..TrainConfig::default() },
        position: Position { epoch: 1, ..Position::default() },
        velocity: Some(tensors.clone()),
        params: tensors,
        history: Vec::new(),
    };
    let x = images::<1>(3, 28);
    let from_weights = infer::logits(&weights, &x, [3, 1, 28, 28]).unwrap();
    let from_ckpt = infer::logits(&ckpt.to_bytes().unwrap(), &x, [3, 1, 28, 28]).unwrap();
    assert_eq!(from_weights, from_ckpt);
    let net = Network::<ResNet8<1, 10>>::from_bytes(&weights).unwrap();
    assert_eq!(net.logits(&x, [3, 1, 28, 28]).unwrap(), from_weights);
    // Every batch norm of ResNet-8 follows a convolution and folds into it, as do the ReLUs
    // after them; only the ReLUs after the residual sums stand alone.
    let kind = |op: &Op| match op {
        Op::Conv { epilogue, .. } => {
            if epilogue.relu {
                "conv+bn+relu"
            } else {
                "conv+bn"
            }
        }
        Op::Residual { .. } => "residual",
        Op::Relu => "relu",
        Op::GlobalAvgPool => "pool",
        Op::Flatten => "flatten",
        Op::Linear { .. } => "linear",
        other => panic!("unexpected {other:?}"),
    };
    let kinds: Vec<&str> = net.ops().iter().map(kind).collect();
    assert_eq!(
        kinds,
        [
            "conv+bn+relu",
            "residual",
            "relu",
            "residual",
            "relu",
            "residual",
            "relu",
            "pool",
            "flatten",
            "linear"
        ]
    );
    let Op::Residual { main, .. } = &net.ops()[1] else { panic!("{:?}", net.ops()[1]) };
    assert_eq!(main.iter().map(kind).collect::<Vec<_>>(), ["conv+bn+relu", "conv+bn"]);
    // A weights-only file cannot resume a run.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.bin");
    std::fs::write(&path, &weights).unwrap();
    let err = Checkpoint::load(&path).unwrap_err().to_string();
    assert!(err.ends_with("holds a model's weights only (written by `export --format postcard`); a run cannot resume from it"), "{err}");
}

#[test]
fn bad_inputs_and_hostile_files_are_errors_not_panics() {
    let (tensors, file) = resnet8_file();
    let x = images::<1>(1, 28);
    let err = |bytes: &[u8], x: &[f32], shape| infer::logits(bytes, x, shape).unwrap_err().to_string();
    assert_eq!(
        err(&file, &x[1..], [1, 1, 28, 28]),
        "the images hold 783 values, but shape 1x1x28x28 needs 784 (N×C×H×W, none 0)"
    );
    assert_eq!(
        err(&file, &[], [0, 1, 28, 28]),
        "the images hold 0 values, but shape 0x1x28x28 needs 0 (N×C×H×W, none 0)"
    );
    assert_eq!(err(&file, &x, [1, 3, 28, 28 / 3]), "the model's input expects 1 input channels, got 3");
    // ResNet-8's windows are all padded: even a 2×2 image goes through.
    assert_eq!(infer::logits(&file, &x[..4], [1, 1, 2, 2]).unwrap().len(), 10);
    // Truncations and flipped bytes: every one refused.
    for end in [0, 7, 8, 20, file.len() / 2, file.len() - 1] {
        assert!(infer::logits(&file[..end], &x, [1, 1, 28, 28]).is_err(), "truncated at {end}");
    }
    let mut flipped = file.clone();
    flipped[file.len() / 2] ^= 1;
    assert_eq!(
        err(&flipped, &x, [1, 1, 28, 28]),
        "weights: checkpoint is truncated or corrupt (checksum mismatch)"
    );
    // A file of another model, a tensor missing, a tensor too many, a misshapen tensor.
    let r18 = ModelName::RESNET18;
    let other = encode(&Header::weights(r18, 1, 10), &tensors).unwrap();
    assert_eq!(
        err(&other, &x, [1, 1, 28, 28]),
        "weights: tensor `0.0.weight` has shape [16, 1, 3, 3], this model needs [64, 1, 7, 7]"
    );
    let model = ModelName::new("resnet8".parse().unwrap(), Default::default()).unwrap();
    let missing = encode(&Header::weights(model, 1, 10), &tensors[1..].to_vec()).unwrap();
    assert_eq!(
        err(&missing, &x, [1, 1, 28, 28]),
        "weights: tensor `0.0.weight` of this model is missing (is the file from another model?)"
    );
    let mut extra = tensors.clone();
    extra.push(NamedTensor { name: "9.fc.weight".into(), shape: vec![1], data: vec![0.0] });
    let extra = encode(&Header::weights(model, 1, 10), &extra).unwrap();
    assert_eq!(
        err(&extra, &x, [1, 1, 28, 28]),
        "weights: tensors this model does not have: 9.fc.weight (is the file from another model?)"
    );
    // A header that declares a huge tensor count: refused before anything is allocated.
    let mut huge = postcard::to_stdvec(&Header::weights(model, 1, 10)).unwrap();
    huge.extend([0xff, 0xff, 0xff, 0xff, 0x0f]);
    let crc = crc32fast::hash(&huge);
    huge.extend(crc.to_le_bytes());
    assert_eq!(err(&huge, &x, [1, 1, 28, 28]), "weights: checkpoint tensors are truncated or corrupt");
}

//! The torchvision flavour against torchvision itself (fixture from
//! `scripts/fixtures/torchvision_reference.py`): every model's exported names, dtypes and
//! shapes are its `state_dict()`'s, and weights written by PyTorch give torchvision's logits.

use std::path::Path;

use resnet_core::checkpoint::pytorch::{export_safetensors, import_safetensors, Layout};
use resnet_core::checkpoint::{load_named, named_tensors};
use resnet_core::models::{Arch, Flavor, ModelName};
use resnet_core::prelude::*;
use resnet_core::train::Checkpoint;
use safetensors::SafeTensors;

use crate::pytorch::{assert_close, parse_entry, relative_error, write_formula_weights, Entry, Reference};

/// torchvision's `state_dict()` entries of `model`, in order.
fn state_dict(model: &str) -> Vec<Entry> {
    std::fs::read_to_string("tests/data/torchvision_state_dicts.txt")
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix(model)?.strip_prefix(' ').map(parse_entry))
        .collect()
}

/// Exports `M` (3 input channels, 1000 classes) and checks the file against torchvision's
/// `state_dict()` of `name`: the same names, dtypes and shapes.
fn assert_exports_state_dict_of<M>(name: &str, layout: Layout)
where
    M: BuildOnDevice<Cpu, f32>,
    M::Built: TensorCollection<f32, Cpu>,
{
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("export.safetensors");
    let model = Cpu::default().build_module::<M, f32>();
    export_safetensors(layout, &named_tensors(&model).unwrap(), 0, &out).unwrap();
    let bytes = std::fs::read(&out).unwrap();
    let file = SafeTensors::deserialize(&bytes).unwrap();
    let mut ours: Vec<Entry> = file
        .tensors()
        .into_iter()
        .map(|(n, v)| {
            let dtype = match v.dtype() {
                safetensors::Dtype::F32 => "float32",
                safetensors::Dtype::I64 => "int64",
                other => panic!("{n}: unexpected {other:?}"),
            };
            (n, dtype.to_string(), v.shape().to_vec())
        })
        .collect();
    let mut theirs = state_dict(name);
    assert!(!theirs.is_empty(), "{name} is not in the fixture");
    ours.sort();
    theirs.sort();
    assert_eq!(ours, theirs, "{name}");
}

#[test]
fn exports_use_torchvisions_state_dict_names_for_every_model() {
    use resnet_core::models::torchvision as tv;
    assert_exports_state_dict_of::<tv::ResNet18<3, 1000>>("resnet18", Layout::TorchvisionBasic);
    assert_exports_state_dict_of::<tv::ResNet34<3, 1000>>("resnet34", Layout::TorchvisionBasic);
    assert_exports_state_dict_of::<tv::ResNet50<3, 1000>>("resnet50", Layout::TorchvisionBottleneck);
    assert_exports_state_dict_of::<tv::ResNet101<3, 1000>>("resnet101", Layout::TorchvisionBottleneck);
    assert_exports_state_dict_of::<tv::ResNet152<3, 1000>>("resnet152", Layout::TorchvisionBottleneck);
    let names = state_dict("resnet50").into_iter().map(|(n, ..)| n).collect::<Vec<_>>();
    for expected in ["conv1.weight", "layer1.0.bn1.running_var", "layer2.0.downsample.0.weight", "fc.bias"] {
        assert!(names.iter().any(|n| n == expected), "{expected}");
    }
}

/// Loads the formula's weights, written under torchvision's names, into `M` and compares its
/// inference-mode logits with torchvision's.
fn assert_logits_match<M>(name: &str, layout: Layout)
where
    M: BuildOnDevice<Cpu, f32>,
    M::Built: TensorCollection<f32, Cpu>
        + Module<Tensor<Rank4<2, 3, 64, 64>, f32, Cpu>, Output = Tensor<Rank2<2, 1000>, f32, Cpu>>,
{
    let dir = tempfile::tempdir().unwrap();
    let weights = dir.path().join(format!("{name}.safetensors"));
    write_formula_weights(&state_dict(name), &weights);
    let reference = Reference::load_from("tests/data/torchvision_reference.safetensors");
    let dev = Cpu::default();
    let mut model = dev.build_module::<M, f32>();
    load_named(&mut model, &import_safetensors(layout, &weights).unwrap(), name).unwrap();
    let x = dev
        .tensor_from_vec(reference.get("input").to_vec(), (Const::<2>, Const::<3>, Const::<64>, Const::<64>));
    assert_close(name, &model.forward(x).as_vec(), reference.get(&format!("logits.{name}")), 1e-4);
}

#[test]
fn torchvision_weights_give_torchvisions_logits() {
    use resnet_core::models::torchvision as tv;
    assert_logits_match::<tv::ResNet18<3, 1000>>("resnet18", Layout::TorchvisionBasic);
    assert_logits_match::<tv::ResNet50<3, 1000>>("resnet50", Layout::TorchvisionBottleneck);
}

/// torchvision's own ResNets, 3-channel stem and 1000 classes, imported as a user would
/// (`resnet_core::interop::import_checkpoint`, the counts read from the file), then run by
/// the no_std network from a weights-only file: torchvision's logits.
#[test]
fn torchvisions_3_channel_1000_class_resnets_import_and_run_without_std() {
    let dir = tempfile::tempdir().unwrap();
    let reference = Reference::load_from("tests/data/torchvision_reference.safetensors");
    for (name, arch) in [("resnet18", Arch::ResNet18), ("resnet50", Arch::ResNet50)] {
        let weights = dir.path().join(format!("{name}.safetensors"));
        write_formula_weights(&state_dict(name), &weights);
        let model = ModelName::new(arch, Flavor::Torchvision).unwrap();
        let ckpt = resnet_core::interop::import_checkpoint(model, &weights).unwrap();
        assert_eq!((ckpt.header.in_channels, ckpt.header.classes), (3, 1000), "{name}");
        let file = resnet_core::interop::weights_file(&ckpt, &weights).unwrap();
        let logits = resnet_core::infer::logits(&file, reference.get("input"), [2, 3, 64, 64]).unwrap();
        let theirs = reference.get(&format!("logits.{name}"));
        assert_close(name, &logits, theirs, 1e-4);
        let relative = relative_error(&logits, theirs);
        println!("{name} (3 channels, 1000 classes): relative error {relative:e} against torchvision");
        assert!(relative <= 2e-6, "{name}: {relative:e}");
    }
    // A stem of 5 channels is no model this build instantiates: a one-line reason.
    let mut dict = state_dict("resnet18");
    dict[0].2[1] = 5;
    let weights = dir.path().join("five.safetensors");
    write_formula_weights(&dict, &weights);
    let model = ModelName::new(Arch::ResNet18, Flavor::Torchvision).unwrap();
    let e = resnet_core::interop::import_checkpoint(model, &weights).unwrap_err().to_string();
    assert_eq!(e, "5 input channels is not available; use 1, 2, 3 or 4 input channels");
}

#[test]
fn chapter_flavour_of_deeper_models_refuses_export_with_a_reason() {
    let model = ModelName::new(Arch::ResNet50, Flavor::D2l).unwrap();
    let dev = Cpu::default();
    let net = dev.build_module::<resnet_core::models::d2l::ResNet50<1, 10>, f32>();
    let ckpt = Checkpoint {
        header: Checkpoint::header(model, 1, 10),
        config: resnet_core::train::TrainConfig { model, ..resnet_core::train::TrainConfig::d2l() },
        position: Default::default(),
        params: named_tensors(&net).unwrap(),
        velocity: None,
        history: Vec::new(),
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.safetensors");
    let err = resnet_core::interop::export_checkpoint(&ckpt, Path::new("x.ckpt"), &out).unwrap_err();
    assert_eq!(
        err.to_string(),
        "resnet50 (d2l flavor) has no PyTorch counterpart; export and import work for the d2l resnet18 and every torchvision model"
    );
    assert!(!out.exists());
}

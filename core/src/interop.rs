//! Whole checkpoints to and from PyTorch safetensors files, in the model's [`Layout`], and
//! out to weights-only files for [`crate::infer`] and int8 models for [`crate::quant`]: a
//! run's state ([`crate::train`]) meets the file formats ([`crate::checkpoint`]).

use std::borrow::Cow;
use std::path::Path;

use dfdx::prelude::*;

use crate::checkpoint::pytorch::{export_safetensors, import_safetensors, Layout};
use crate::checkpoint::{
    encode, load_named, named_tensor_names, named_tensors, write_atomic, Header, NamedTensor,
};
use crate::models::{with_model, ModelName};
use crate::train::{Checkpoint, Position, TrainConfig, CLASSES, IN_CHANNELS};
use crate::{infer, Error};

/// The PyTorch layout of `model`, or an error saying which models have one.
pub fn layout_of(model: ModelName) -> Result<Layout, Error> {
    Layout::of(model).ok_or_else(|| Error::NoPyTorchLayout { model: model.to_string() })
}

/// `tensors` (from `source`) checked to be exactly the tensors of `model` with `channels`
/// input channels and `classes` outputs, with its shapes, in the model's order (borrowed
/// where they already are).
fn model_params<'t>(
    model: ModelName,
    channels: usize,
    classes: usize,
    tensors: &'t [NamedTensor],
    source: &Path,
) -> Result<Cow<'t, [NamedTensor]>, Error> {
    if (channels, classes) != (IN_CHANNELS, CLASSES) {
        // The trainer's dfdx models are built for Fashion-MNIST's counts only; the no_std
        // network is instantiated for every supported count, and checks the same.
        let bytes = encode(&Header::weights(model, channels, classes), &tensors)?;
        infer::check(&bytes, &source.display().to_string())?;
        return Ok(Cow::Borrowed(tensors));
    }
    with_model!(model, M => {
        let mut net = Cpu::default().try_build_module::<M<IN_CHANNELS, CLASSES>, f32>()?;
        load_named(&mut net, tensors, &source.display().to_string())?;
        named_tensors(&net).map(Cow::Owned)
    })
}

/// The input channels and classes of `model` whose tensors are `tensors`: its first
/// convolution's input channels and its last layer's outputs (Fashion-MNIST's counts where
/// either tensor is missing, for [`model_params`] to name it).
fn counts_of(model: ModelName, tensors: &[NamedTensor]) -> Result<(usize, usize), Error> {
    let names = with_model!(model, M => Ok::<_, Error>(named_tensor_names::<<M<IN_CHANNELS, CLASSES> as BuildOnDevice<Cpu, f32>>::Built, Cpu>()))?;
    let weights = || names.iter().filter(|n| n.ends_with("weight"));
    let shape = |name: Option<&String>| {
        name.and_then(|name| tensors.iter().find(|t| &t.name == name)).map(|t| t.shape.as_slice())
    };
    match (shape(weights().next()), shape(weights().next_back())) {
        (Some(&[_, channels, _, _]), Some(&[classes, _])) => Ok((channels, classes)),
        _ => Ok((IN_CHANNELS, CLASSES)),
    }
}

/// Writes `ckpt` (read from `source`)'s weights to `out` with its model's PyTorch
/// `state_dict()` names (each batch norm's `num_batches_tracked` = the checkpoint's step);
/// returns the layout written. The tensors are first checked to be exactly the model's.
pub fn export_checkpoint(ckpt: &Checkpoint, source: &Path, out: &Path) -> Result<Layout, Error> {
    let model = ckpt.header.model;
    let layout = layout_of(model)?;
    model_params(model, ckpt.header.in_channels, ckpt.header.classes, &ckpt.params, source)?;
    let tracked = i64::try_from(ckpt.position.step).unwrap_or(i64::MAX);
    export_safetensors(layout, &ckpt.params, tracked, out)?;
    Ok(layout)
}

/// Writes `ckpt` (read from `source`)'s weights alone to `out`, atomically, as a
/// weights-only file (the checkpoint format's framing, [`crate::checkpoint::WEIGHTS_MAGIC`]):
/// what [`crate::infer`] reads without `std`. Returns the bytes written.
pub fn export_weights(ckpt: &Checkpoint, source: &Path, out: &Path) -> Result<usize, Error> {
    let bytes = weights_file(ckpt, source)?;
    write_atomic(out, &bytes)?;
    Ok(bytes.len())
}

/// `ckpt` (read from `source`)'s weights-only file, in memory; its tensors are first
/// checked to be exactly the model's.
pub fn weights_file(ckpt: &Checkpoint, source: &Path) -> Result<Vec<u8>, Error> {
    let h = &ckpt.header;
    let params = model_params(h.model, h.in_channels, h.classes, &ckpt.params, source)?;
    encode(&Header::weights(h.model, h.in_channels, h.classes), &params)
}

/// Writes the model of `weights` (a weights-only file's bytes, [`weights_file`]) quantized
/// to int8 to `out`, atomically: an int8 model file for [`crate::quant`], calibrated on
/// `calibration`. Returns its bytes.
///
/// # Shapes
/// `calibration`: (N, C, H, W) as `shape` says, pixels scaled as in training; the model
/// is quantized for (C, H, W).
pub fn export_int8(
    weights: &[u8],
    calibration: &[f32],
    shape: [usize; 4],
    out: &Path,
) -> Result<Vec<u8>, Error> {
    let int8 = crate::quant::quantize(weights, calibration, shape)?;
    write_atomic(out, &int8)?;
    Ok(int8)
}

/// A checkpoint of `model` at step 0 with the d2l recipe, its weights read from PyTorch's
/// safetensors file `weights` (every tensor of the model must be there, in the right shape);
/// its input channels and classes are the file's (its first convolution's and last layer's).
pub fn import_checkpoint(model: ModelName, weights: &Path) -> Result<Checkpoint, Error> {
    let tensors = import_safetensors(layout_of(model)?, weights)?;
    let (channels, classes) = counts_of(model, &tensors)?;
    let params = model_params(model, channels, classes, &tensors, weights)?.into_owned();
    Ok(Checkpoint {
        header: Checkpoint::header(model, channels, classes),
        config: TrainConfig { model, ..TrainConfig::d2l() },
        position: Position::default(),
        params,
        velocity: None,
        history: Vec::new(),
    })
}

//! Whole checkpoints to and from PyTorch safetensors files, in the model's [`Layout`], and
//! out to weights-only files for [`crate::infer`] and int8 models for [`crate::quant`]: a
//! run's state ([`crate::train`]) meets the file formats ([`crate::checkpoint`]).

use std::path::Path;

use dfdx::prelude::*;

use crate::checkpoint::pytorch::{export_safetensors, import_safetensors, Layout};
use crate::checkpoint::{encode, load_named, named_tensors, write_atomic, Header, NamedTensor};
use crate::models::{with_model, ModelName};
use crate::train::{Checkpoint, Position, TrainConfig, CLASSES, IN_CHANNELS};
use crate::Error;

/// The PyTorch layout of `model`, or an error saying which models have one.
pub fn layout_of(model: ModelName) -> Result<Layout, Error> {
    Layout::of(model).ok_or_else(|| Error::NoPyTorchLayout { model: model.to_string() })
}

/// `tensors` (from `source`) loaded into `model` and read back in the model's order: an
/// error unless they are exactly the model's tensors, with its shapes.
fn model_params(model: ModelName, tensors: &[NamedTensor], source: &Path) -> Result<Vec<NamedTensor>, Error> {
    with_model!(model, M => {
        let mut net = Cpu::default().try_build_module::<M<IN_CHANNELS, CLASSES>, f32>()?;
        load_named(&mut net, tensors, &source.display().to_string())?;
        named_tensors(&net)
    })
}

/// Writes `ckpt` (read from `source`)'s weights to `out` with its model's PyTorch
/// `state_dict()` names (each batch norm's `num_batches_tracked` = the checkpoint's step);
/// returns the layout written. The tensors are first checked to be exactly the model's.
pub fn export_checkpoint(ckpt: &Checkpoint, source: &Path, out: &Path) -> Result<Layout, Error> {
    let model = ckpt.header.model;
    let layout = layout_of(model)?;
    ckpt.header.expect_model(model, IN_CHANNELS, CLASSES, &source.display().to_string())?;
    model_params(model, &ckpt.params, source)?;
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
    h.expect_model(h.model, IN_CHANNELS, CLASSES, &source.display().to_string())?;
    let params = model_params(h.model, &ckpt.params, source)?;
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
/// safetensors file `weights` (every tensor of the model must be there, in the right shape).
pub fn import_checkpoint(model: ModelName, weights: &Path) -> Result<Checkpoint, Error> {
    let tensors = import_safetensors(layout_of(model)?, weights)?;
    let params = model_params(model, &tensors, weights)?;
    Ok(Checkpoint {
        header: Checkpoint::header(model, IN_CHANNELS, CLASSES),
        config: TrainConfig { model, ..TrainConfig::d2l() },
        position: Position::default(),
        params,
        velocity: None,
        history: Vec::new(),
    })
}

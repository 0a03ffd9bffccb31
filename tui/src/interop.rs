//! `resnet-tui export` and `import`: checkpoints to and from PyTorch's safetensors.

use resnet_core::checkpoint::pytorch::{export_safetensors, import_safetensors};
use resnet_core::checkpoint::{load_named, named_tensors, Checkpoint, Position};
use resnet_core::dfdx::prelude::*;
use resnet_core::models::ModelName;
use resnet_core::prelude::ResNet18;
use resnet_core::train::{TrainConfig, CLASSES, IN_CHANNELS};

use crate::cli::{ExportArgs, ImportArgs};
use crate::headless::Failure;

/// Writes the checkpoint's weights with the seed's PyTorch names; returns a report line.
pub fn export(args: &ExportArgs) -> Result<String, Failure> {
    let ckpt = Checkpoint::load(&args.checkpoint).map_err(|e| Failure::Usage(e.to_string()))?;
    ckpt.expect_model(ModelName::ResNet18, IN_CHANNELS, CLASSES, &args.checkpoint)
        .map_err(|e| Failure::Usage(e.to_string()))?;
    let tracked = i64::try_from(ckpt.position.step).unwrap_or(i64::MAX);
    export_safetensors(&ckpt.params, tracked, &args.out).map_err(|e| Failure::Training(e.to_string()))?;
    Ok(format!("wrote {} ({} tensors, PyTorch state_dict names)", args.out.display(), ckpt.params.len()))
}

/// Makes a checkpoint (at step 0, d2l's recipe) from PyTorch weights; returns a report line.
pub fn import(args: &ImportArgs) -> Result<String, Failure> {
    let usage = |e: resnet_core::Error| Failure::Usage(e.to_string());
    let tensors = import_safetensors(&args.weights).map_err(usage)?;
    let dev = Cpu::default();
    let mut model = dev.build_module::<ResNet18<IN_CHANNELS, CLASSES>, f32>();
    load_named(&mut model, &tensors, &args.weights.display().to_string()).map_err(usage)?;
    let ckpt = Checkpoint {
        header: Checkpoint::header(ModelName::ResNet18, IN_CHANNELS, CLASSES),
        config: TrainConfig::d2l(),
        position: Position::default(),
        params: named_tensors(&model).map_err(usage)?,
        velocity: None,
        history: Vec::new(),
    };
    ckpt.save(&args.out).map_err(|e| Failure::Training(e.to_string()))?;
    Ok(format!("wrote {} from {} ({} tensors)", args.out.display(), args.weights.display(), tensors.len()))
}

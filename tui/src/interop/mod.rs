//! `resnet-tui export` and `import`: checkpoints to and from PyTorch's safetensors, and out
//! to weights-only files for inference without std (int8 ones: `quantize`).

mod quantize;

use resnet_core::interop::{export_checkpoint, export_weights, import_checkpoint};
use resnet_core::models::ModelName;
use resnet_core::train::Checkpoint;

use crate::cli::{ExportArgs, ExportFormat, ImportArgs};
use crate::failure::Failure;

/// Writes the checkpoint's weights with its model's PyTorch names, or alone in the
/// checkpoint format; returns a report line.
pub fn export(args: &ExportArgs) -> Result<String, Failure> {
    let ckpt = Checkpoint::load(&args.checkpoint).map_err(|e| Failure::Usage(e.to_string()))?;
    if args.quantize.is_some() {
        if args.format != ExportFormat::Postcard {
            return Err(Failure::Usage("--quantize writes a postcard file: add --format postcard".into()));
        }
        return quantize::export(args, &ckpt);
    }
    if args.format == ExportFormat::Postcard {
        let bytes = export_weights(&ckpt, &args.checkpoint, &args.out)
            .map_err(|e| Failure::Training(e.to_string()))?;
        return Ok(format!(
            "wrote {} ({}, {} tensors, {bytes} bytes: weights only, for resnet_core::infer)",
            args.out.display(),
            ckpt.header.model,
            ckpt.params.len()
        ));
    }
    let layout =
        export_checkpoint(&ckpt, &args.checkpoint, &args.out).map_err(|e| Failure::Usage(e.to_string()))?;
    Ok(format!(
        "wrote {} ({} tensors, state_dict names of {})",
        args.out.display(),
        ckpt.params.len(),
        layout.describe()
    ))
}

/// Makes a checkpoint (at step 0, d2l's recipe) from PyTorch weights; returns a report line.
pub fn import(args: &ImportArgs) -> Result<String, Failure> {
    let model = ModelName::new(args.model, args.flavor).map_err(|e| Failure::Usage(e.to_string()))?;
    let ckpt = import_checkpoint(model, &args.weights).map_err(|e| Failure::Usage(e.to_string()))?;
    ckpt.save(&args.out).map_err(|e| Failure::Training(e.to_string()))?;
    Ok(format!(
        "wrote {} ({model}; input channels {}, classes {}) from {} ({} tensors)",
        args.out.display(),
        ckpt.header.in_channels,
        ckpt.header.classes,
        args.weights.display(),
        ckpt.params.len()
    ))
}

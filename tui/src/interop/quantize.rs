//! `resnet-tui export --format postcard --quantize int8`: a checkpoint's model as an int8
//! model file for `resnet_core::quant`, its activation ranges calibrated on the first
//! training images at the checkpoint's image size, then scored beside the f32 model on
//! the test images through the same no_std code a microcontroller runs. A model of more
//! input channels (an imported torchvision one) sees each gray image on every channel, as
//! torchvision's `Grayscale(num_output_channels=3)` gives it.

use resnet_core::data::{make_batch, FashionMnist, Resizer, Search};
use resnet_core::infer;
use resnet_core::interop::{export_int8, weights_file};
use resnet_core::quant::Int8Model;
use resnet_core::train::{correct, Checkpoint, CLASSES};

use crate::cli::ExportArgs;
use crate::failure::Failure;
use crate::thousands::thousands;

/// Test images scored at once by the f32 model.
const BATCH: usize = 256;

/// Writes the int8 model; returns the report lines.
pub fn export(args: &ExportArgs, ckpt: &Checkpoint) -> Result<String, Failure> {
    if args.calibrate == 0 {
        return Err(Failure::Usage("--calibrate takes at least 1 training image".into()));
    }
    let (dir, _) =
        Search::standard(args.data_dir.clone(), false).locate(&mut |_| {}).map_err(Failure::usage)?;
    let data = FashionMnist::load(&dir).map_err(Failure::usage)?;
    let side = ckpt.config.resize;
    let resizer = Resizer::new(28, side);
    let n = args.calibrate.min(data.train.len());
    let channels = ckpt.header.in_channels;
    let calibration = make_batch(&data.train, &(0..n).collect::<Vec<_>>(), &resizer);
    let calibration = on_every_channel(&calibration.images, channels, side * side);
    let shape = [n, channels, side, side];
    let weights = weights_file(ckpt, &args.checkpoint).map_err(Failure::usage)?;
    let int8 = export_int8(&weights, &calibration, shape, &args.out)
        .map_err(|e| Failure::Training(e.to_string()))?;
    let model = Int8Model::parse(&int8).map_err(|e| Failure::Training(e.to_string()))?;
    let mut report = format!(
        "wrote {} ({}, int8: {} bytes, activations {} bytes; calibrated on {n} training images at {side}x{side})",
        args.out.display(),
        ckpt.header.model,
        thousands(int8.len() as u64),
        thousands(model.header.arena_len as u64),
    );
    let tested = args.evaluate.min(data.test.len());
    if tested > 0 && model.header.classes != CLASSES {
        report.push_str(&format!(
            "\nnot scored on Fashion-MNIST: the model has {} classes, the test set {CLASSES}",
            model.header.classes
        ));
    } else if tested > 0 {
        let test = make_batch(&data.test, &(0..tested).collect::<Vec<_>>(), &resizer);
        let f32_model = infer::compile(&weights, [channels, side, side]).map_err(Failure::usage)?;
        let (mut f32_logits, mut q_logits) = (Vec::with_capacity(tested * CLASSES), Vec::new());
        // A batch at a time, so that only one batch is ever copied onto every channel.
        for gray in test.images.chunks(BATCH * side * side) {
            let images = on_every_channel(gray, channels, side * side);
            f32_logits.extend(f32_model.logits(&images, gray.len() / (side * side)).map_err(Failure::usage)?);
            q_logits.extend(int8_logits(&model, &images).map_err(Failure::usage)?);
        }
        let (f, q) = (accuracy(&f32_logits, &test.labels), accuracy(&q_logits, &test.labels));
        report.push_str(&format!(
            "\ntest accuracy on {tested} images: f32 {f:.4}, int8 {q:.4} ({:+.2} points)",
            (q - f) * 100.0
        ));
    }
    Ok(report)
}

/// Gray `images` of `pixels` values each, repeated on each of `channels` channels.
///
/// # Shapes
/// `images`: (N, 1, H, W) with H×W = `pixels`; returns (N, `channels`, H, W).
fn on_every_channel(images: &[f32], channels: usize, pixels: usize) -> Vec<f32> {
    images.chunks(pixels).flat_map(|image| std::iter::repeat_n(image, channels).flatten().copied()).collect()
}

/// The int8 logits of every image, one arena per thread.
fn int8_logits(model: &Int8Model<'_>, images: &[f32]) -> Result<Vec<f32>, resnet_core::quant::Int8Error> {
    let [c, h, w] = model.header.input;
    let (per_image, classes) = (c * h * w, model.header.classes);
    let count = images.len() / per_image;
    let mut logits = vec![0.0f32; count * classes];
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per_thread = count.div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let jobs: Vec<_> = images
            .chunks(per_thread * per_image)
            .zip(logits.chunks_mut(per_thread * classes))
            .map(|(images, logits)| {
                scope.spawn(move || {
                    let mut arena = vec![0i8; model.header.arena_len];
                    for (image, out) in images.chunks(per_image).zip(logits.chunks_mut(classes)) {
                        model.logits(image, &mut arena, out)?;
                    }
                    Ok(())
                })
            })
            .collect();
        jobs.into_iter().try_for_each(|job| job.join().unwrap_or(Ok(())))
    })?;
    Ok(logits)
}

/// The share of `labels` the logits' largest class gets right.
fn accuracy(logits: &[f32], labels: &[usize]) -> f64 {
    correct(logits, labels, CLASSES) as f64 / labels.len().max(1) as f64
}

//! Int8 models (`resnet_core::quant`): every catalog model quantized from random weights and
//! batch-norm statistics follows its f32 logits within what 8 bits allow; ResNet-8's memory
//! plan; hostile int8 files refused with a one-line reason.

use resnet_core::checkpoint::{encode, Header};
use resnet_core::infer;
use resnet_core::models::{d2l, torchvision, Arch, Flavor, ModelName};
use resnet_core::prelude::*;
use resnet_core::quant::{self, Int8Error, Int8Model};

use crate::inference::{images, random_model};
use crate::support::hostile_int8_files;

/// The int8 logits of `images` (N images of `shape`) by the file `int8`.
pub(crate) fn int8_logits(int8: &[u8], images: &[f32], shape: [usize; 4]) -> Vec<f32> {
    let model = Int8Model::parse(int8).unwrap();
    let mut arena = vec![0i8; model.header.arena_len];
    let per_image = shape[1] * shape[2] * shape[3];
    let mut out = vec![0.0; shape[0] * model.header.classes];
    for (image, logits) in images.chunks(per_image).zip(out.chunks_mut(model.header.classes)) {
        model.logits(image, &mut arena, logits).unwrap();
    }
    out
}

/// The largest int8-vs-f32 logit gap of model `M` (random weights), as a fraction of the
/// largest f32 logit.
fn quantization_gap<M, const IN: usize>(name: ModelName, side: usize) -> f32
where
    M: BuildOnDevice<Cpu, f32> + infer::Infer,
{
    let (_, tensors) = random_model::<M, IN>(17);
    let file = encode(&Header::weights(name, IN, 10), &tensors).unwrap();
    let calibration = images::<IN>(8, side);
    let int8 = quant::quantize(&file, &calibration, [8, IN, side, side]).unwrap();
    let x: Vec<f32> = images::<IN>(9, side)[IN * side * side..].to_vec();
    let want = infer::logits(&file, &x, [8, IN, side, side]).unwrap();
    let got = int8_logits(&int8, &x, [8, IN, side, side]);
    let scale = want.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    got.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max) / scale
}

#[test]
fn every_catalog_model_quantizes_and_its_int8_logits_follow_the_f32_ones() {
    // (name, module and flavour, architecture (the type's name), input channels, image side):
    // the chapter's family, then torchvision's flavour
    macro_rules! gap {
        ($name:literal, $module:ident $flavor:ident, $arch:ident, $in:literal, $side:literal) => {{
            let model = ModelName::new(Arch::$arch, Flavor::$flavor).unwrap();
            ($name, quantization_gap::<$module::$arch<$in, 10>, $in>(model, $side))
        }};
    }
    let chapter = [
        gap!("resnet8", d2l D2l, ResNet8, 1, 28),
        gap!("resnet18", d2l D2l, ResNet18, 1, 32),
        gap!("resnet34", d2l D2l, ResNet34, 3, 32),
        gap!("resnet50", d2l D2l, ResNet50, 1, 32),
        gap!("resnet101", d2l D2l, ResNet101, 1, 32),
        gap!("resnet152", d2l D2l, ResNet152, 1, 32),
        gap!("preact18", d2l D2l, PreActResNet18, 2, 32),
        gap!("preact50", d2l D2l, PreActResNet50, 1, 32),
        gap!("plain18", d2l D2l, Plain18, 1, 32),
        gap!("plain34", d2l D2l, Plain34, 1, 32),
    ];
    let torchvision = [
        gap!("tv-resnet18", torchvision Torchvision, ResNet18, 3, 32),
        gap!("tv-resnet50", torchvision Torchvision, ResNet50, 1, 32),
    ];
    println!("{chapter:?} {torchvision:?}");
    // Each tensor rounds to 1/255 of its range; over up to 150 layers the rounding adds up
    // to a few per cent of the logits' scale (0.2-2.5% measured), never to nothing.
    for (name, gap) in chapter.into_iter().chain(torchvision) {
        assert!(gap > 0.0 && gap < 0.05, "{name}: int8 logits are {gap} of the f32 scale away");
    }
}

fn resnet8_int8() -> (Vec<u8>, Vec<u8>) {
    let name = ModelName::new(Arch::ResNet8, Flavor::D2l).unwrap();
    let (_, tensors) = random_model::<d2l::ResNet8<1, 10>, 1>(23);
    let file = encode(&Header::weights(name, 1, 10), &tensors).unwrap();
    let int8 = quant::quantize(&file, &images::<1>(4, 28), [4, 1, 28, 28]).unwrap();
    (file, int8)
}

#[test]
fn resnet8_needs_two_28x28x16_activations_and_a_quarter_of_its_f32_weights() {
    let (f32_file, int8) = resnet8_int8();
    let model = Int8Model::parse(&int8).unwrap();
    let h = model.header;
    assert_eq!((h.model, h.input, h.classes, h.steps), ("resnet8", [1, 28, 28], 10, 11));
    // The widest stage's block holds its input and its middle activation, nothing more.
    assert_eq!(h.arena_len, 2 * 28 * 28 * 16);
    // As `resnet-tui shapes --model resnet8` counts them (its convolutions and linear layer).
    assert_eq!(model.multiply_accumulates(), 9_345_920);
    // 77,898 parameters: int8 weights, int32 biases and requantization per channel.
    assert!(int8.len() < 90_000 && int8.len() * 3 < f32_file.len(), "{} vs {}", int8.len(), f32_file.len());
    let kinds: Vec<&str> = model
        .steps()
        .map(|s| match s {
            quant::Step::Conv(c) if c.residual.is_some() => "conv+add",
            quant::Step::Conv(_) => "conv",
            quant::Step::Affine(_) => "affine",
            quant::Step::MaxPool(..) => "maxpool",
            quant::Step::AvgPool(_) => "avgpool",
            quant::Step::Linear(_) => "linear",
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "conv", "conv", "conv+add", "conv", "conv", "conv+add", "conv", "conv", "conv+add", "avgpool",
            "linear"
        ][..]
    );
}

#[test]
fn hostile_int8_files_are_refused_with_a_one_line_reason() {
    let (f32_file, int8) = resnet8_int8();
    let refuse = |bytes: &[u8]| Int8Model::parse(bytes).map(|_| ()).unwrap_err();
    for len in [0, 7, 12, 40, int8.len() / 2, int8.len() - 1] {
        let e = refuse(&int8[..len]);
        assert!(
            matches!(e, Int8Error::Truncated | Int8Error::Checksum | Int8Error::BadMagic),
            "{len} bytes: {e}"
        );
    }
    for (bytes, reason) in hostile_int8_files(&int8, &f32_file) {
        assert_eq!(refuse(&bytes).to_string(), reason);
    }
    // The f32 reader names the int8 file for what it is.
    let e = infer::logits(&int8, &images::<1>(1, 28), [1, 1, 28, 28]).unwrap_err().to_string();
    assert!(e.contains("is an int8 model"), "{e}");
    // Buffers that do not fit.
    let model = Int8Model::parse(&int8).unwrap();
    let mut small = vec![0i8; model.header.arena_len - 1];
    let image = images::<1>(1, 28);
    assert_eq!(
        model.logits(&image, &mut small, &mut [0.0; 10]).unwrap_err().to_string(),
        "the activation arena has 25087 bytes; this int8 model needs 25088"
    );
    let mut arena = vec![0i8; model.header.arena_len];
    assert_eq!(
        model.logits(&image[1..], &mut arena, &mut [0.0; 10]).unwrap_err(),
        Int8Error::Input { expected: 784, found: 783 }
    );
    assert_eq!(
        model.logits(&image, &mut arena, &mut [0.0; 9]).unwrap_err(),
        Int8Error::Logits { expected: 10, found: 9 }
    );
}

//! The embedded proofs, on a ResNet-8 this test trains on real Fashion-MNIST:
//! 1. a `#![no_std]` staticlib (tests/no_std_check), linked into a C program with `cc`,
//!    classifies the first 1,000 test images like dfdx's forward pass (logits within 1e-4,
//!    the trainer's reported accuracy);
//! 2. a Cortex-M4F firmware (firmware/) with the weights in flash, under
//!    `qemu-system-arm` (MPS2-AN386, semihosting), prints the host's logits bit for bit,
//!    within 1 MiB of flash and 256 KiB of RAM.
//!
//! Slow (two cross builds): `cargo test --test integration -- --ignored embedded --nocapture`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use resnet_core::checkpoint::load_named;
use resnet_core::dfdx::prelude::*;
use resnet_core::interop::export_weights;
use resnet_core::models::{ModelName, ResNet8};
use resnet_core::train::{predictions, train, Checkpoint, Control, RunPlan, Saving, Session, TrainConfig};

use crate::support::real_data;

/// Images the C program classifies: the trainer's `--limit-test`.
const TESTED: usize = 1000;
/// Images the firmware classifies.
const ON_DEVICE: usize = 16;

/// Trains ResNet-8 for one epoch on 4,000 images, tested on the first 1,000 test images;
/// returns the checkpoint.
fn trained_resnet8(dir: &Path) -> Checkpoint {
    let model = ModelName::new("resnet8".parse().unwrap(), Default::default()).unwrap();
    let config = TrainConfig {
        model,
        epochs: 1,
        resize: 28,
        batch_size: 100,
        momentum: 0.9,
        limit_train: Some(4000),
        limit_test: Some(TESTED),
        ..TrainConfig::d2l()
    };
    let path = dir.join("resnet8.ckpt");
    let saving = Saving { checkpoint: Some(path.clone()), ..Saving::default() };
    let plan = RunPlan::new(config, saving, None).unwrap();
    let session = Session { plan, data: Arc::new(real_data().clone()), data_source: "embedded".into() };
    train::<Cpu>(&session, &Control::new(), &mut |_| {}).unwrap();
    Checkpoint::load(&path).unwrap()
}

/// Test image `i`'s pixels scaled to [0, 1], as the trainer scales them at 28×28.
fn test_images(n: usize) -> Vec<f32> {
    real_data().test.images[..n * 784].iter().map(|&p| p as f32 / 255.0).collect()
}

/// dfdx's evaluation-mode forward pass (the std build's kernels) of the checkpoint.
fn dfdx_logits(ckpt: &Checkpoint, images: &[f32]) -> Vec<f32> {
    let dev = Cpu::default();
    let mut model = dev.build_module::<ResNet8<1, 10>, f32>();
    load_named(&mut model, &ckpt.params, "resnet8.ckpt").unwrap();
    let n = images.len() / 784;
    model.forward(dev.tensor_from_vec(images.to_vec(), (n, Const::<1>, 28, 28))).as_vec()
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{cmd:?} failed:\n{text}\n{}", String::from_utf8_lossy(&out.stderr));
    text
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn f32_file(path: &Path, values: &[f32]) {
    std::fs::write(path, values.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>()).unwrap();
}

#[test]
#[ignore = "builds a staticlib and a firmware; run by .ci/run"]
fn embedded_no_std_staticlib_and_cortex_m_firmware_classify_like_the_host() {
    let dir = tempfile::tempdir().unwrap();
    let ckpt = trained_resnet8(dir.path());
    let weights = dir.path().join("model.bin");
    export_weights(&ckpt, &dir.path().join("resnet8.ckpt"), &weights).unwrap();
    let labels: Vec<usize> = real_data().test.labels[..TESTED].iter().map(|&l| l as usize).collect();

    // 1. The C program over the no_std staticlib.
    let images = test_images(TESTED);
    let host = dfdx_logits(&ckpt, &images);
    let target = root().join("target/no_std_check");
    run(Command::new("cargo")
        .args(["build", "--release", "--manifest-path", "tests/no_std_check/Cargo.toml", "--target-dir"])
        .arg(&target)
        .current_dir(root()));
    let program = dir.path().join("classify");
    run(Command::new("cc")
        .arg(root().join("tests/no_std_check/classify.c"))
        .arg(target.join("release/libno_std_check.a"))
        .arg("-o")
        .arg(&program));
    let (image_file, logits_file) = (dir.path().join("images.f32"), dir.path().join("logits.f32"));
    f32_file(&image_file, &images);
    let said = run(Command::new(&program)
        .arg(&weights)
        .arg(&image_file)
        .args([TESTED.to_string().as_str(), "1", "28", "28"])
        .arg(&logits_file));
    println!("C program: {}", said.trim());
    let c_logits: Vec<f32> = std::fs::read(&logits_file)
        .unwrap()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect();
    assert_eq!(c_logits.len(), host.len());
    let worst = c_logits.iter().zip(&host).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    assert!(worst <= 1e-4, "the C program's logits differ from dfdx's by {worst}");
    let correct = predictions(&c_logits, 10).iter().zip(&labels).filter(|(p, l)| p == l).count();
    let reported = ckpt.history.last().unwrap().test_acc;
    println!(
        "C program: accuracy {correct}/{TESTED}, trainer reported {reported}, largest logit gap {worst:e}"
    );
    assert_eq!(correct as f64 / TESTED as f64, reported);
    // A corrupt file: a clear message and a non-zero exit, no crash.
    let corrupt = dir.path().join("corrupt.bin");
    let mut bytes = std::fs::read(&weights).unwrap();
    bytes[100] ^= 0xff;
    std::fs::write(&corrupt, bytes).unwrap();
    let out = Command::new(&program)
        .arg(&corrupt)
        .arg(&image_file)
        .args(["1000", "1", "28", "28"])
        .arg(&logits_file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "classify: weights: checkpoint is truncated or corrupt (checksum mismatch)\n"
    );

    // 2. The firmware under QEMU.
    let pixels = dir.path().join("images.u8");
    std::fs::write(&pixels, &real_data().test.images[..ON_DEVICE * 784]).unwrap();
    // An explicit target directory: the caller's CARGO_TARGET_DIR (or none) must not move it.
    let firmware_target = root().join("target/firmware");
    run(Command::new("cargo")
        .args(["build", "--release", "--target-dir"])
        .arg(&firmware_target)
        .env("RESNET8_WEIGHTS", &weights)
        .env("RESNET8_IMAGES", &pixels)
        .current_dir(root().join("firmware")));
    let elf = firmware_target.join("thumbv7em-none-eabihf/release/resnet-firmware");
    let printed = run(Command::new("qemu-system-arm")
        .args(["-machine", "mps2-an386", "-cpu", "cortex-m4", "-nographic"])
        .args(["-semihosting-config", "enable=on,target=native", "-kernel"])
        .arg(&elf));
    let expected = resnet_core::infer::logits(
        &std::fs::read(&weights).unwrap(),
        &images[..ON_DEVICE * 784],
        [ON_DEVICE, 1, 28, 28],
    )
    .unwrap();
    let classes = predictions(&expected, 10);
    let mut lines = printed.lines();
    for (i, row) in expected.chunks(10).enumerate() {
        let bits: Vec<String> = row.iter().map(|l| format!("{:08x}", l.to_bits())).collect();
        assert_eq!(
            lines.next(),
            Some(format!("image {i}: class {}, logits {}", classes[i], bits.join(" ")).as_str()),
            "firmware output:\n{printed}"
        );
    }
    // The host's no_std path equals dfdx's too.
    let worst = expected.iter().zip(&host).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    assert!(worst <= 1e-4, "{worst}");
    let figure = |key: &str| -> usize {
        let line = printed.lines().find(|l| l.starts_with(key)).unwrap_or_else(|| panic!("{key}: {printed}"));
        line[key.len()..].split_whitespace().next().unwrap().parse().unwrap()
    };
    let (flash, ram_static, heap, stack) =
        (figure("flash "), figure("ram static "), figure("peak heap "), figure("peak stack "));
    println!("firmware: {}", printed.lines().skip(ON_DEVICE).collect::<Vec<_>>().join("; "));
    assert!(flash <= 1 << 20, "flash {flash}");
    assert!(ram_static + stack <= 256 << 10, "ram {ram_static} + stack {stack}");
    assert!(heap > 0);
}

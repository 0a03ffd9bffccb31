//! The embedded proofs, on a ResNet-8 this test trains on real Fashion-MNIST:
//! 1. a `#![no_std]` staticlib (tests/no_std_check), linked into a C program with `cc`,
//!    classifies the first 1,000 test images like dfdx's forward pass (logits within 1e-4,
//!    the trainer's reported accuracy), and with the model quantized to int8 like the host's
//!    int8 path (bit for bit, no heap), refusing hostile int8 files with one line;
//! 2. Cortex-M4F firmwares (firmware/) with the model in flash, under `qemu-system-arm`
//!    (MPS2-AN386, semihosting), print the host's logits bit for bit: ResNet-8 in f32
//!    within 1 MiB of flash and 256 KiB of RAM, and quantized to int8 with no heap within
//!    128 KiB of flash and 32 KiB of RAM; a QEMU plugin (firmware/counter) counts the
//!    instructions of each inference.
//!
//! Slow (three cross builds): `cargo test --test integration -- --ignored embedded --nocapture`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use resnet_core::checkpoint::load_named;
use resnet_core::dfdx::prelude::*;
use resnet_core::interop::export_weights;
use resnet_core::models::{ModelName, ResNet8};
use resnet_core::train::{predictions, train, Checkpoint, Control, RunPlan, Saving, Session, TrainConfig};

use crate::quantized::int8_logits;
use crate::support::{hostile_int8_files, real_data};

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

fn read_f32(path: &Path) -> Vec<f32> {
    std::fs::read(path).unwrap().chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect()
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
    let weight_bytes = std::fs::read(&weights).unwrap();
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
    let c_logits = read_f32(&logits_file);
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
    // `classify [--int8] BYTES ...` with a model of `bytes`: exit 1 and one line, `reason`.
    let refused = |flags: &[&str], bytes: Vec<u8>, reason: &str| {
        std::fs::write(&corrupt, bytes).unwrap();
        let out = Command::new(&program)
            .args(flags)
            .arg(&corrupt)
            .arg(&image_file)
            .args(["1000", "1", "28", "28"])
            .arg(&logits_file)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{reason}");
        assert_eq!(String::from_utf8_lossy(&out.stderr), format!("classify: {reason}\n"));
    };
    let mut bytes = weight_bytes.clone();
    bytes[100] ^= 0xff;
    refused(&[], bytes, "weights: checkpoint is truncated or corrupt (checksum mismatch)");

    // The C program over the int8 model: no heap, the host's int8 logits bit for bit.
    let int8_file = dir.path().join("model.int8");
    let calibration: Vec<f32> =
        real_data().train.images[..500 * 784].iter().map(|&p| p as f32 / 255.0).collect();
    let int8 =
        resnet_core::interop::export_int8(&weight_bytes, &calibration, [500, 1, 28, 28], &int8_file).unwrap();
    let model = resnet_core::quant::Int8Model::parse(&int8).unwrap();
    let int8_host = int8_logits(&int8, &images, [TESTED, 1, 28, 28]);
    let said = run(Command::new(&program)
        .arg("--int8")
        .arg(&int8_file)
        .arg(&image_file)
        .args([TESTED.to_string().as_str(), "1", "28", "28"])
        .arg(&logits_file));
    println!("C program, int8: {}", said.trim());
    assert!(
        said.ends_with(&format!("int8 arena {} bytes, peak heap 0 bytes\n", model.header.arena_len)),
        "{said}"
    );
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<u32>>();
    assert_eq!(bits(&read_f32(&logits_file)), bits(&int8_host));
    let int8_correct = predictions(&int8_host, 10).iter().zip(&labels).filter(|(p, l)| p == l).count();
    println!("C program, int8: accuracy {int8_correct}/{TESTED} (f32 {correct}/{TESTED})");
    // Hostile int8 files: the no_std reader's one-line reason, exit 1.
    let mut hostile = hostile_int8_files(&int8, &weight_bytes);
    hostile.push((int8[..int8.len() / 2].to_vec(), "int8 model is truncated or corrupt (checksum mismatch)"));
    for (bytes, reason) in hostile {
        refused(&["--int8"], bytes, reason);
    }

    // 2. The firmwares under QEMU, each inference's instructions counted.
    let pixels = dir.path().join("images.u8");
    std::fs::write(&pixels, &real_data().test.images[..ON_DEVICE * 784]).unwrap();
    let firmware = build_firmware(&weights, &int8_file, &pixels);
    let counter = counter_plugin();

    // f32: the host's no_std logits, bit for bit.
    let (printed, f32_counts) = run_counted(&counter, &firmware.join("resnet8_f32"));
    let expected =
        resnet_core::infer::logits(&weight_bytes, &images[..ON_DEVICE * 784], [ON_DEVICE, 1, 28, 28])
            .unwrap();
    assert_lines(&printed, &expected);
    // The host's no_std path equals dfdx's too.
    let worst = expected.iter().zip(&host).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    assert!(worst <= 1e-4, "{worst}");
    let (flash, ram_static, stack) =
        (figure(&printed, "flash "), figure(&printed, "ram static "), figure(&printed, "peak stack "));
    println!("f32 firmware: {}", printed.lines().skip(ON_DEVICE).collect::<Vec<_>>().join("; "));
    assert!(flash <= 1 << 20, "flash {flash}");
    assert!(ram_static + stack <= 256 << 10, "ram {ram_static} + stack {stack}");
    assert!(figure(&printed, "peak heap ") > 0);

    // int8: the host's int8 logits, bit for bit, in 128 KiB of flash and 32 KiB of RAM.
    let (printed, int8_counts) = run_counted(&counter, &firmware.join("resnet8_int8"));
    assert_lines(&printed, &int8_host[..ON_DEVICE * 10]);
    let (flash, ram_static, stack) =
        (figure(&printed, "flash "), figure(&printed, "ram static "), figure(&printed, "peak stack "));
    println!("int8 firmware: {}", printed.lines().skip(ON_DEVICE).collect::<Vec<_>>().join("; "));
    // The test images built in are no part of a deployed firmware.
    let deployed = flash - figure(&printed, "test images ");
    assert!(deployed <= 128 << 10, "flash {flash}, {deployed} without the test images");
    assert!(ram_static + stack <= 32 << 10, "ram {ram_static} + stack {stack}");
    assert!(printed.contains("heap 0 bytes (no allocator)"), "{printed}");

    // Instructions per multiply-accumulate: every inference runs the same instructions.
    let macs = model.multiply_accumulates() as f64;
    for (kind, counts) in [("f32", &f32_counts), ("int8", &int8_counts)] {
        assert_eq!(counts.len(), ON_DEVICE, "{kind}: {counts:?}");
        let (least, most) = (counts.iter().min().unwrap(), counts.iter().max().unwrap());
        assert!(most - least <= most / 1000, "{kind}: {counts:?}");
        println!(
            "{kind} firmware: {most} instructions per inference, {:.2} per multiply-accumulate ({macs} MACs; \
             instructions executed in QEMU, not cycles)",
            *most as f64 / macs
        );
        assert!(*least as f64 >= macs, "{kind}: fewer instructions than multiply-accumulates");
    }
    // The int8 kernels' milestone: two instructions per multiply-accumulate (the goal is 1.2).
    let int8_per_mac = int8_counts[0] as f64 / macs;
    assert!(int8_per_mac <= 2.0, "int8: {int8_per_mac:.3} instructions per multiply-accumulate");

    // A corrupt int8 model: the firmware says why and exits non-zero.
    let mut bytes = int8.clone();
    bytes[1000] ^= 0x10;
    std::fs::write(&int8_file, bytes).unwrap();
    let firmware = build_firmware(&weights, &int8_file, &pixels);
    let out = qemu(&firmware.join("resnet8_int8")).output().unwrap();
    assert!(!out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "error: int8 model is truncated or corrupt (checksum mismatch)\n"
    );
}

/// Builds both firmwares (f32 `weights`, int8 `int8`, `images`) into their own target
/// directory (the caller's CARGO_TARGET_DIR, or none, must not move them); returns the
/// directory of their ELFs.
fn build_firmware(weights: &Path, int8: &Path, images: &Path) -> PathBuf {
    let target = root().join("target/firmware");
    run(Command::new("cargo")
        .args(["build", "--release", "--target-dir"])
        .arg(&target)
        .env("RESNET8_WEIGHTS", weights)
        .env("RESNET8_INT8", int8)
        .env("RESNET8_IMAGES", images)
        .current_dir(root().join("firmware")));
    target.join("thumbv7em-none-eabihf/release")
}

/// firmware/counter's QEMU plugin, built (its header fetched once) into target/counter.
fn counter_plugin() -> PathBuf {
    let out = root().join("target/counter");
    run(Command::new(root().join("firmware/counter/build.sh")).arg(&out));
    out.join("libcounter.so")
}

fn qemu(elf: &Path) -> Command {
    let mut cmd = Command::new("qemu-system-arm");
    cmd.args(["-machine", "mps2-an386", "-cpu", "cortex-m4", "-nographic"])
        .args(["-semihosting-config", "enable=on,target=native", "-kernel"])
        .arg(elf);
    cmd
}

/// Runs `elf` under QEMU with the counter gated on its `inference_start`/`inference_end`;
/// returns what it printed and the instructions of each inference.
fn run_counted(plugin: &Path, elf: &Path) -> (String, Vec<u64>) {
    let symbols = run(Command::new("readelf").arg("-sW").arg(elf));
    let entry = |name: &str| -> u64 {
        let line = symbols
            .lines()
            .find(|l| l.split_whitespace().nth(7) == Some(name) && l.contains("FUNC"))
            .unwrap_or_else(|| panic!("no {name} in {}", elf.display()));
        let value = line.split_whitespace().nth(1).unwrap();
        u64::from_str_radix(value, 16).unwrap() & !1
    };
    let counts = elf.with_extension("counts");
    let mut cmd = qemu(elf);
    cmd.arg("-plugin").arg(format!(
        "{},start={:#x},end={:#x},out={}",
        plugin.display(),
        entry("inference_start"),
        entry("inference_end"),
        counts.display()
    ));
    let printed = run(&mut cmd);
    let windows = std::fs::read_to_string(&counts).unwrap();
    let counts = windows
        .lines()
        .filter_map(|l| l.strip_prefix("window "))
        .map(|l| l.split_whitespace().nth(1).unwrap().parse().unwrap())
        .collect();
    (printed, counts)
}

/// Checks the firmware's first lines: `image I: class K, logits BITS...` per row of `expected`.
fn assert_lines(printed: &str, expected: &[f32]) {
    let classes = predictions(expected, 10);
    let mut lines = printed.lines();
    for (i, row) in expected.chunks(10).enumerate() {
        let bits: Vec<String> = row.iter().map(|l| format!("{:08x}", l.to_bits())).collect();
        assert_eq!(
            lines.next(),
            Some(format!("image {i}: class {}, logits {}", classes[i], bits.join(" ")).as_str()),
            "firmware output:\n{printed}"
        );
    }
}

/// The number after `key` on the line that starts with it.
fn figure(printed: &str, key: &str) -> usize {
    let line = printed.lines().find(|l| l.starts_with(key)).unwrap_or_else(|| panic!("{key}: {printed}"));
    line[key.len()..].split_whitespace().next().unwrap().parse().unwrap()
}

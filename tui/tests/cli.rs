//! The `resnet-tui` binary as a user runs it: output, errors and exit codes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Output;

use common::REAL_DATA;

fn resnet_tui(args: &[&str]) -> Output {
    common::resnet_tui(args).output().expect("run resnet-tui")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn shapes_json_gives_the_chapters_table() {
    let out =
        resnet_tui(&["shapes", "--json", "--model", "resnet18", "--input", "1x1x224x224", "--classes", "10"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["model"], "resnet18");
    assert_eq!(doc["input"], serde_json::json!([1, 1, 224, 224]));
    assert_eq!(doc["total_params"], 11_178_378);
    let rows: Vec<(String, Vec<u64>, u64)> = doc["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            let output = l["output"].as_array().unwrap().iter().map(|d| d.as_u64().unwrap()).collect();
            (l["name"].as_str().unwrap().to_string(), output, l["params"].as_u64().unwrap())
        })
        .collect();
    let expected: Vec<(&str, Vec<u64>, u64)> = vec![
        ("b1", vec![1, 64, 56, 56], 3_328),
        ("b2", vec![1, 64, 56, 56], 148_224),
        ("b3", vec![1, 128, 28, 28], 525_952),
        ("b4", vec![1, 256, 14, 14], 2_100_480),
        ("b5", vec![1, 512, 7, 7], 8_395_264),
        ("global average pool", vec![1, 512, 1, 1], 0),
        ("flatten", vec![1, 512], 0),
        ("linear", vec![1, 10], 5_130),
    ];
    let got: Vec<(&str, Vec<u64>, u64)> = rows.iter().map(|(n, o, p)| (n.as_str(), o.clone(), *p)).collect();
    assert_eq!(got, expected);
}

#[test]
fn shapes_prints_a_readable_table_by_default() {
    let out = resnet_tui(&["shapes", "--input", "1x1x96x96"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("resnet18, input (1, 1, 96, 96), 10 classes\n"), "{text}");
    assert!(text.contains("b5                    (1, 512, 3, 3)"), "{text}");
    assert!(text.lines().last().unwrap().contains("11,178,378"), "{text}");
}

#[test]
fn shapes_covers_the_family_with_torchvisions_counts() {
    for (model, params, macs, last_stage) in [
        ("resnet34", 21_797_672u64, 3_663_761_408u64, [1, 512, 7, 7]),
        ("resnet152", 60_192_808, 11_513_626_624, [1, 2048, 7, 7]),
    ] {
        let out = resnet_tui(&[
            "shapes",
            "--json",
            "--model",
            model,
            "--flavor",
            "torchvision",
            "--input",
            "1x3x224x224",
            "--classes",
            "1000",
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!((doc["model"].as_str(), doc["flavor"].as_str()), (Some(model), Some("torchvision")));
        assert_eq!((doc["total_params"].as_u64(), doc["total_macs"].as_u64()), (Some(params), Some(macs)));
        assert_eq!(doc["layers"][4]["output"], serde_json::json!(last_stage), "{model}");
    }
    let out = resnet_tui(&["shapes", "--model", "preact-resnet50", "--input", "1x1x96x96"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("preact-resnet50, input (1, 1, 96, 96), 10 classes\n"), "{text}");
    assert!(text.lines().next_back().unwrap().starts_with("total "), "{text}");
}

#[test]
fn bad_arguments_give_one_line_and_exit_2() {
    for (args, expected) in [
        (&["shapes", "--input", "1x1x0x5"][..], "invalid shape `1x1x0x5`: every size must be at least 1"),
        (&["shapes", "--input", "cat"][..], "invalid shape `cat`: sizes must be whole numbers"),
        (&["shapes", "--model", "vgg16"][..], "unknown model `vgg16`; known models: resnet18"),
        (&["shapes", "--input", "1x1x28"][..], "need 4 sizes NxCxHxW, got 3"),
        (&["shapes", "--classes", "11"][..], "11 classes is not available"),
        (&["shapes", "--input", "1x7x28x28"][..], "7 input channels is not available"),
        (&["shapes", "--bogus"][..], "unexpected argument '--bogus'"),
        (
            &["export", "--out", "x.safetensors"][..],
            "required arguments were not provided: --checkpoint <FILE>",
        ),
        (
            &["shapes", "--model", "preact-resnet18", "--flavor", "torchvision"][..],
            "preact-resnet18 has no torchvision flavor; it comes in the d2l flavor only",
        ),
        (
            &["shapes", "--flavor", "keras"][..],
            "unknown flavor `keras`; use d2l (the chapter's) or torchvision",
        ),
    ] {
        let out = resnet_tui(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{args:?}: not one line: {err}");
        assert!(err.starts_with("error: ") && err.contains(expected), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

/// A quick headless run on a slice of the real data.
fn quick_train(extra: &[&str]) -> Output {
    let mut args = vec![
        "train",
        "--headless",
        "--preset",
        "quick",
        "--epochs",
        "1",
        "--limit-train",
        "256",
        "--limit-test",
        "128",
        "--batch-size",
        "64",
        "--data-dir",
        REAL_DATA,
        "--no-download",
    ];
    args.extend_from_slice(extra);
    resnet_tui(&args)
}

/// The kinds of a metrics file's rows, in order, and its rows.
fn metrics_kinds(path: &std::path::Path) -> (Vec<String>, Vec<serde_json::Value>) {
    let rows: Vec<serde_json::Value> = std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    (rows.iter().map(|r| r["kind"].as_str().unwrap().to_string()).collect(), rows)
}

#[test]
fn headless_training_prints_d2l_lines_progress_json_metrics_and_tensorboard_events() {
    let dir = tempfile::tempdir().unwrap();
    let metrics = dir.path().join("m.jsonl");
    let ckpt = dir.path().join("c.ckpt");
    let tensorboard = dir.path().join("tb");
    let out = quick_train(&[
        "--metrics-out",
        metrics.to_str().unwrap(),
        "--checkpoint",
        ckpt.to_str().unwrap(),
        "--tensorboard",
        tensorboard.to_str().unwrap(),
        "--log-every",
        "2",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("training resnet18 on cpu: 256 training and 128 test images from /usr/share/datasets/fashion-mnist"), "{text}");
    let epoch = lines[1];
    assert!(
        epoch.starts_with("epoch 1/1: loss ")
            && epoch.contains(", train acc ")
            && epoch.contains(", test acc "),
        "{epoch}"
    );
    assert!(epoch.ends_with(" examples/sec on cpu"), "{epoch}");
    assert!(lines[2].starts_with("loss ") && lines[3].ends_with("examples/sec on cpu"), "{text}");
    // Piped stderr: a plain progress line at the first step, then every 2 steps (of 4).
    let err = stderr(&out);
    let progress: Vec<&str> = err.lines().filter(|l| l.starts_with("epoch 1/1, step ")).collect();
    assert_eq!(progress.len(), 2, "{err}");
    assert!(
        progress[0].starts_with("epoch 1/1, step 1/4: loss ")
            && progress[1].starts_with("epoch 1/1, step 3/4: ")
    );
    assert!(progress.iter().all(|l| l.contains(" examples/sec, ETA ")), "{err}");
    assert!(!err.contains('\r'), "no bar when stderr is not a terminal: {err:?}");
    // The metrics file: a row per step, then the epoch's.
    let (kinds, rows) = metrics_kinds(&metrics);
    // The metrics file: a row per step, the blocks' gradient flow after the first, the epoch's.
    assert_eq!(kinds, ["step", "blocks", "step", "step", "step", "epoch"]);
    let blocks: Vec<&str> =
        rows[1]["blocks"].as_array().unwrap().iter().map(|b| b["name"].as_str().unwrap()).collect();
    assert_eq!(blocks, ["b1", "b2.0", "b2.1", "b3.0", "b3.1", "b4.0", "b4.1", "b5.0", "b5.1", "head"]);
    assert_eq!(rows[1]["step"].as_u64(), Some(1));
    let rows: Vec<_> = rows.into_iter().filter(|r| r["kind"] != "blocks").collect();
    for (i, row) in rows[..4].iter().enumerate() {
        assert_eq!(
            (row["epoch"].as_u64(), row["batch"].as_u64(), row["batches"].as_u64()),
            (Some(1), Some(i as u64 + 1), Some(4))
        );
        assert_eq!(row["step"].as_u64(), Some(i as u64 + 1));
        for key in ["loss", "train_acc", "lr", "examples_per_sec"] {
            assert!(row[key].is_number(), "{key} missing in {row}");
        }
    }
    for key in ["epoch", "loss", "train_acc", "test_acc", "examples_per_sec", "seconds"] {
        assert!(rows[4][key].is_number(), "{key} missing in {}", rows[4]);
    }
    assert!(err.contains(&format!("saved checkpoint {} (end of epoch, step 4)", ckpt.display())));
    // One TensorBoard event file, named on stderr (its contents: TensorBoard's reader in
    // tensorboard.rs's ignored test and .ci/run).
    let events: Vec<_> = std::fs::read_dir(&tensorboard).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(events.len(), 1, "{events:?}");
    assert!(err.contains(&format!("writing TensorBoard events to {}", events[0].display())), "{err}");
    assert!(std::fs::metadata(&events[0]).unwrap().len() > 16 * 4 * 4, "scalars were written");
}

#[test]
fn resnet8_trains_and_exports_weights_that_infer_reads_without_std() {
    let dir = tempfile::tempdir().unwrap();
    let ckpt = dir.path().join("r8.ckpt");
    let out = quick_train(&["--model", "resnet8", "--checkpoint", ckpt.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let weights = dir.path().join("model.bin");
    let export = |out_file: &std::path::Path| {
        resnet_tui(&[
            "export",
            "--format",
            "postcard",
            "--checkpoint",
            ckpt.to_str().unwrap(),
            "--out",
            out_file.to_str().unwrap(),
        ])
    };
    let out = export(&weights);
    assert!(out.status.success(), "{}", stderr(&out));
    let bytes = std::fs::read(&weights).unwrap();
    assert!(
        stdout(&out).starts_with(&format!(
            "wrote {} (resnet8, 48 tensors, {} bytes",
            weights.display(),
            bytes.len()
        )),
        "{}",
        stdout(&out)
    );
    assert!(bytes.starts_with(b"RESNWGTS"));
    // Smaller than the checkpoint (no momentum, no history), and the same logits.
    let ckpt_bytes = std::fs::read(&ckpt).unwrap();
    assert!(bytes.len() < ckpt_bytes.len());
    let images: Vec<f32> = (0..2 * 784).map(|i| (i % 255) as f32 / 255.0).collect();
    let from_weights = resnet_core::infer::logits(&bytes, &images, [2, 1, 28, 28]).unwrap();
    assert_eq!(from_weights, resnet_core::infer::logits(&ckpt_bytes, &images, [2, 1, 28, 28]).unwrap());
    // A weights file is not a checkpoint: neither resumed nor exported again.
    let out = resnet_tui(&["train", "--headless", "--resume", weights.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("holds a model's weights only"), "{}", stderr(&out));
    let out = resnet_tui(&[
        "export",
        "--format",
        "postcard",
        "--checkpoint",
        weights.to_str().unwrap(),
        "--out",
        dir.path().join("again.bin").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("holds a model's weights only"), "{}", stderr(&out));
}

#[test]
fn resnet8_quantizes_to_int8_and_reports_its_accuracy_beside_the_f32_models() {
    let dir = tempfile::tempdir().unwrap();
    let ckpt = dir.path().join("r8.ckpt");
    let out = quick_train(&["--model", "resnet8", "--checkpoint", ckpt.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let int8 = dir.path().join("model.int8");
    let quantize = |extra: &[&str]| {
        let mut args =
            vec!["export", "--checkpoint", ckpt.to_str().unwrap(), "--out", int8.to_str().unwrap()];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--quantize", "int8", "--data-dir", REAL_DATA]);
        resnet_tui(&args)
    };
    let out = quantize(&["--format", "postcard", "--calibrate", "64", "--evaluate", "300"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let bytes = std::fs::read(&int8).unwrap();
    let model = resnet_core::quant::Int8Model::parse(&bytes).unwrap();
    let lines: Vec<String> = stdout(&out).lines().map(String::from).collect();
    let size = format!("wrote {} (resnet8, int8: ", int8.display());
    let shown = lines[0].strip_prefix(&size).and_then(|rest| rest.split(' ').next()).unwrap_or_default();
    assert_eq!(shown.replace(',', "").parse::<usize>().ok(), Some(bytes.len()), "{}", lines[0]);
    assert!(
        lines[0].ends_with(" bytes, activations 25,088 bytes; calibrated on 64 training images at 28x28)"),
        "{}",
        lines[0]
    );
    // Both models scored on the same 300 test images: 8 bits cost a few points at most.
    let (f32_acc, int8_acc) = scores(&lines[1]);
    assert!(lines[1].starts_with("test accuracy on 300 images: f32 "), "{}", lines[1]);
    assert!((f32_acc - int8_acc).abs() <= 0.05, "{}", lines[1]);
    // Its logits follow the f32 model's.
    let image: Vec<f32> = (0..784).map(|i| (i % 255) as f32 / 255.0).collect();
    let mut arena = vec![0i8; model.header.arena_len];
    let mut logits = [0.0f32; 10];
    model.logits(&image, &mut arena, &mut logits).unwrap();
    let want = resnet_core::infer::logits(&std::fs::read(&ckpt).unwrap(), &image, [1, 1, 28, 28]).unwrap();
    let scale = want.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    assert!(logits.iter().zip(&want).all(|(a, b)| (a - b).abs() <= 0.05 * scale), "{logits:?} vs {want:?}");
    // An int8 file is no checkpoint, --quantize needs the postcard format, and 0 images
    // calibrate nothing: one line each, exit 2.
    let out = resnet_tui(&["train", "--headless", "--resume", int8.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("is an int8 model"), "{}", stderr(&out));
    let out = quantize(&[]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stderr(&out), "error: --quantize writes a postcard file: add --format postcard\n");
    let out = quantize(&["--format", "postcard", "--calibrate", "0"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stderr(&out), "error: --calibrate takes at least 1 training image\n");
}

/// The f32 and int8 accuracies of a `test accuracy on N images: f32 A, int8 B (...)` line.
fn scores(line: &str) -> (f64, f64) {
    let number = |key: &str| -> f64 {
        let at = line.find(key).unwrap_or_else(|| panic!("{key} in {line}")) + key.len();
        line[at..].split([',', ' ']).next().unwrap().parse().unwrap()
    };
    (number("f32 "), number("int8 "))
}

#[test]
fn export_gives_pytorch_names_and_import_reads_them_back() {
    let dir = tempfile::tempdir().unwrap();
    let ckpt = dir.path().join("c.ckpt");
    assert!(quick_train(&["--checkpoint", ckpt.to_str().unwrap()]).status.success());
    let weights = dir.path().join("w.safetensors");
    let out =
        resnet_tui(&["export", "--checkpoint", ckpt.to_str().unwrap(), "--out", weights.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let bytes = std::fs::read(&weights).unwrap();
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + header_len]).unwrap();
    for name in [
        "0.0.weight",
        "1.0.conv1.weight",
        "1.0.bn1.running_mean",
        "2.0.conv3.weight",
        "7.bias",
        "4.1.bn2.num_batches_tracked",
    ] {
        assert!(header.get(name).is_some(), "{name} missing");
    }
    assert_eq!(header["4.1.bn2.num_batches_tracked"]["dtype"], "I64");
    let back = dir.path().join("back.ckpt");
    let out =
        resnet_tui(&["import", "--weights", weights.to_str().unwrap(), "--out", back.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = resnet_tui(&["import", "--weights", ckpt.to_str().unwrap(), "--out", back.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not a valid safetensors file"), "{}", stderr(&out));
}

#[test]
fn torchvision_flavour_exports_torchvision_names_and_imports_them_back() {
    let dir = tempfile::tempdir().unwrap();
    let ckpt = dir.path().join("tv.ckpt");
    let out = quick_train(&[
        "--model",
        "resnet18",
        "--flavor",
        "torchvision",
        "--checkpoint",
        ckpt.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let weights = dir.path().join("tv.safetensors");
    let out =
        resnet_tui(&["export", "--checkpoint", ckpt.to_str().unwrap(), "--out", weights.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("state_dict names of torchvision's resnet18/34"));
    let bytes = std::fs::read(&weights).unwrap();
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + header_len]).unwrap();
    for name in ["conv1.weight", "layer1.0.bn1.running_var", "layer2.0.downsample.0.weight", "fc.bias"] {
        assert!(header.get(name).is_some(), "{name} missing");
    }
    let back = dir.path().join("back.ckpt");
    let import = |flavor: &str| {
        resnet_tui(&[
            "import",
            "--weights",
            weights.to_str().unwrap(),
            "--model",
            "resnet18",
            "--flavor",
            flavor,
            "--out",
            back.to_str().unwrap(),
        ])
    };
    let out = import("torchvision");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout)
        .contains("(resnet18 (torchvision); input channels 1, classes 10)"));
    std::fs::remove_file(&back).unwrap();
    let out = import("d2l");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("is not a tensor of the seed's ResNet-18"), "{}", stderr(&out));
    assert!(!back.exists());
}

/// A safetensors file with the tensors of `model`'s torchvision `state_dict()` (the
/// fixture's names and shapes: a 3-channel stem, 1000 classes), small varied values,
/// running variances 1.
fn torchvision_state_dict_file(model: &str, path: &std::path::Path) {
    let dicts = std::fs::read_to_string("../tests/data/torchvision_state_dicts.txt").unwrap();
    let (mut header, mut data) = (serde_json::Map::new(), Vec::new());
    for line in dicts.lines().filter_map(|l| l.strip_prefix(model)?.strip_prefix(' ')) {
        let [name, dtype, shape] = line.split(' ').collect::<Vec<_>>()[..] else { panic!("{line}") };
        let shape: Vec<usize> =
            if shape == "scalar" { vec![] } else { shape.split('x').map(|d| d.parse().unwrap()).collect() };
        let n: usize = shape.iter().product();
        let start = data.len();
        if dtype == "int64" {
            data.extend(std::iter::repeat_n(0u8, 8 * n));
        } else {
            let value = |i: usize| {
                if name.ends_with("running_var") {
                    1.0
                } else {
                    ((i * 7919 % 1000) as f32 - 500.0) * 1e-4
                }
            };
            data.extend((0..n).flat_map(|i| value(i).to_le_bytes()));
        }
        let dtype = if dtype == "int64" { "I64" } else { "F32" };
        header.insert(
            name.into(),
            serde_json::json!({"dtype": dtype, "shape": shape, "data_offsets": [start, data.len()]}),
        );
    }
    let header = serde_json::to_vec(&header).unwrap();
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend(header);
    bytes.extend(data);
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn import_takes_input_channels_and_classes_from_torchvisions_own_resnet18() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    torchvision_state_dict_file("resnet18", &dir.path().join("tv.safetensors"));
    let ckpt = path("tv.ckpt");
    let tv = path("tv.safetensors");
    let out = resnet_tui(&[
        "import",
        "--weights",
        &tv,
        "--model",
        "resnet18",
        "--flavor",
        "torchvision",
        "--out",
        &ckpt,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("(resnet18 (torchvision); input channels 3, classes 1000)"),
        "{}",
        stdout(&out)
    );
    // Out again to PyTorch, to a weights-only file for no_std inference, and to int8.
    let back = path("back.safetensors");
    let out = resnet_tui(&["export", "--checkpoint", &ckpt, "--out", &back]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out =
        resnet_tui(&["export", "--format", "postcard", "--checkpoint", &ckpt, "--out", &path("tv.bin")]);
    assert!(out.status.success(), "{}", stderr(&out));
    let int8 = path("tv.int8");
    let args =
        ["export", "--format", "postcard", "--quantize", "int8", "--calibrate", "4", "--data-dir", REAL_DATA];
    let out = resnet_tui(&[&args[..], &["--checkpoint", &ckpt, "--out", &int8]].concat());
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("calibrated on 4 training images at 96x96)\nnot scored on Fashion-MNIST: the model has 1000 classes, the test set 10"),
        "{}",
        stdout(&out)
    );
    // Fashion-MNIST's trainer cannot take it: one line, exit 2.
    let out = resnet_tui(&["train", "--headless", "--resume", &ckpt, "--data-dir", REAL_DATA]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
    assert!(
        stderr(&out).ends_with(
            "tv.ckpt: resnet18 (torchvision) with 3 input channels, 1000 classes cannot train on \
             Fashion-MNIST (1 channel, 10 classes); it runs through `export` (PyTorch, weights-only or int8)\n"
        ),
        "{}",
        stderr(&out)
    );
}

/// The real files in a temp dir, with `name` replaced by `bytes`.
fn data_with(name: &str, bytes: Option<&[u8]>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for stem in [
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    ] {
        let file = format!("{stem}.gz");
        if !name.starts_with(stem) {
            std::fs::copy(format!("{REAL_DATA}/{file}"), dir.path().join(&file)).unwrap();
        }
    }
    if let Some(bytes) = bytes {
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    dir
}

fn gunzip(path: &str) -> Vec<u8> {
    let mut out = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap()),
        &mut out,
    )
    .unwrap();
    out
}

#[test]
fn bad_data_checkpoints_and_flags_are_one_line_errors_and_lose_nothing() {
    let labels = gunzip(&format!("{REAL_DATA}/t10k-labels-idx1-ubyte.gz"));
    let gz = std::fs::read(format!("{REAL_DATA}/t10k-images-idx3-ubyte.gz")).unwrap();
    let mut bad_magic = labels.clone();
    bad_magic[3] = 3;
    let mut label_11 = labels.clone();
    label_11[8 + 7] = 11;
    let short_count = [&labels[..4], &9_000u32.to_be_bytes()[..], &labels[8..9_008]].concat();
    let dirs = [
        (None, "no such directory"),
        (
            Some(data_with("t10k-images-idx3-ubyte.gz", Some(&gz[..gz.len() / 2]))),
            "t10k-images-idx3-ubyte.gz",
        ),
        (Some(data_with("t10k-labels-idx1-ubyte", Some(&bad_magic))), "magic number 2051, expected 2049"),
        (
            Some(data_with("t10k-labels-idx1-ubyte", Some(&label_11))),
            "label 11 of example 7 is outside 0..10",
        ),
        (Some(data_with("t10k-labels-idx1-ubyte", Some(&short_count))), "has 10000 images but"),
        (Some(data_with("t10k-labels-idx1-ubyte", None)), "missing t10k-labels-idx1-ubyte"),
    ];
    for (dir, expected) in &dirs {
        let path = dir.as_ref().map_or("/nonexistent/fashion".into(), |d| d.path().display().to_string());
        let out = resnet_tui(&["train", "--headless", "--data-dir", &path, "--no-download"]);
        assert_eq!(out.status.code(), Some(2), "{expected}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.starts_with("error: ") && err.contains(expected) && err.lines().count() == 1,
            "{expected}: {err}"
        );
    }

    // Checkpoints: a good one stays byte-identical whatever goes wrong with the others.
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.ckpt");
    assert!(quick_train(&["--checkpoint", good.to_str().unwrap()]).status.success());
    let before = std::fs::read(&good).unwrap();
    let truncated = dir.path().join("truncated.ckpt");
    std::fs::write(&truncated, &before[..before.len() / 3]).unwrap();
    let shapes = dir.path().join("shapes.json");
    std::fs::write(&shapes, b"{\"model\": \"resnet18\"}").unwrap();
    let g = good.to_str().unwrap();
    for (args, expected) in [
        (vec!["--resume", truncated.to_str().unwrap(), "--checkpoint", g], "checksum mismatch"),
        (
            vec!["--resume", shapes.to_str().unwrap(), "--checkpoint", g],
            "not a resnet-dfdx checkpoint (bad magic number)",
        ),
        (vec!["--momentum", "1.5", "--checkpoint", g], "invalid momentum: must be in [0, 1)"),
        (vec!["--device", "cuda", "--checkpoint", g], "this build has no CUDA support"),
        (vec!["--schedule", "sometimes"], "`sometimes` is not constant, cosine or step:EVERY:GAMMA"),
    ] {
        let out = quick_train(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains(expected) && err.lines().count() == 1, "{args:?}: {err}");
    }
    let out = resnet_tui(&["train", "--headless", "--resume", g, "--lr", "0.1", "--data-dir", REAL_DATA]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        format!(
            "error: cannot resume {g} with another recipe: lr 0.05 saved, 0.1 requested (only the epochs \
             may change; for a new recipe, start a new run with another checkpoint file)\n"
        )
    );
    let out = quick_train(&["--resume", g, "--lr", "0.1", "--resize", "32"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("lr 0.05 saved, 0.1 requested; resize 28 saved, 32 requested"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read(&good).unwrap(), before, "the good checkpoint changed");
}

#[test]
fn the_same_command_with_resume_added_continues_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let ckpt = dir.path().join("run.ckpt");
    let c = ckpt.to_str().unwrap();
    let command = |epochs: &str, extra: &[&str]| {
        let mut args =
            vec!["train", "--headless", "--preset", "quick", "--epochs", epochs, "--limit-train", "128"];
        args.extend(["--limit-test", "64", "--batch-size", "64", "--data-dir", REAL_DATA, "--checkpoint", c]);
        args.extend_from_slice(extra);
        resnet_tui(&args)
    };
    let metrics = dir.path().join("run.jsonl");
    let m = metrics.to_str().unwrap();
    let first = command("1", &["--metrics-out", m]);
    assert!(first.status.success(), "{}", stderr(&first));
    assert_eq!(metrics_kinds(&metrics).0, ["step", "blocks", "step", "epoch"]);
    // Every recipe flag equals the saved recipe: accepted, and there is nothing left to do.
    let again = command("1", &["--resume", c]);
    assert!(again.status.success(), "{}", stderr(&again));
    let text = String::from_utf8_lossy(&again.stdout);
    assert!(text.starts_with(&format!("resuming {c} at epoch 2, batch 0\n")), "{text}");
    // More epochs continue it.
    let more = command("2", &["--resume", c, "--metrics-out", m]);
    assert!(more.status.success(), "{}", stderr(&more));
    let text = String::from_utf8_lossy(&more.stdout);
    assert!(text.contains("epoch 2/2: loss ") && !text.contains("epoch 1/2"), "{text}");
    // The resumed run kept the metrics rows of the first one and appended its own.
    let (kinds, rows) = metrics_kinds(&metrics);
    assert_eq!(kinds, ["step", "blocks", "step", "epoch", "step", "step", "epoch"]);
    let steps: Vec<_> = rows.iter().map(|r| (r["epoch"].as_u64(), r["step"].as_u64())).collect();
    assert_eq!(steps[4..6], [(Some(2), Some(3)), (Some(2), Some(4))]);
    let saved = resnet_core::train::Checkpoint::load(&ckpt).unwrap();
    assert_eq!((saved.position.epoch, saved.history.len()), (2, 2));
    // Fewer epochs than completed: one line naming both.
    let fewer = command("1", &["--resume", c]);
    assert_eq!(fewer.status.code(), Some(2));
    assert_eq!(
        stderr(&fewer),
        format!("error: invalid epochs: {c} already has 2 completed epochs; ask for at least 2\n")
    );
}

#[test]
fn bench_prints_one_json_line_and_a_profile() {
    // The program is the default engine; each engine reports its phases.
    let args = ["bench", "--res", "16", "--batch", "4", "--steps", "1", "--threads", "1"];
    let out = resnet_tui(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    let speed: serde_json::Value = serde_json::from_str(&String::from_utf8(out.stdout).unwrap()).unwrap();
    assert_eq!(speed["engine"], "program");
    assert!(speed["train_img_per_s"].as_f64().is_some_and(|v| v > 0.0), "{speed}");
    let out = resnet_tui(&[&args[..], &["--engine", "jit"]].concat());
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("unknown engine `jit` (known: program, tape)"), "{}", stderr(&out));
    let out = resnet_tui(&[&args[..], &["--profile", "--engine", "tape"]].concat());
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    let speed: serde_json::Value = serde_json::from_str(lines.next().unwrap()).unwrap();
    assert_eq!(
        (speed["bench"].as_str(), speed["res"].as_u64(), speed["batch"].as_u64()),
        (Some("speed"), Some(16), Some(4))
    );
    assert_eq!((&speed["threads"], &speed["engine"]), (&serde_json::json!(1), &serde_json::json!("tape")));
    for key in ["train_img_per_s", "infer_img_per_s", "peak_rss_mb"] {
        assert!(speed[key].as_f64().is_some_and(|v| v > 0.0), "{key}: {speed}");
    }
    let phases: Vec<serde_json::Value> = lines.map(|l| serde_json::from_str(l).unwrap()).collect();
    let names: Vec<&str> = phases.iter().map(|p| p["phase"].as_str().unwrap()).collect();
    for phase in ["conv forward: gemm", "batch norm backward", "sgd update + zeroing gradients"] {
        assert!(names.contains(&phase), "{phase}: {names:?}");
    }
    assert_eq!(names.last(), Some(&"whole step"));
    // The program reports its own phases, and the head it runs without dfdx.
    let out = resnet_tui(&[&args[..], &["--profile"]].concat());
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    let names: Vec<String> = text
        .lines()
        .skip(1)
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["phase"].as_str().unwrap().to_owned())
        .collect();
    for phase in
        ["conv backward: weight gemm", "global pool, flatten, linear, loss", "sgd update + zeroing gradients"]
    {
        assert!(names.iter().any(|n| n == phase), "{phase}: {names:?}");
    }
    assert!(names.iter().all(|n| !n.contains("dfdx")), "{names:?}");
    assert_eq!(names.last().map(String::as_str), Some("whole step"));
    let out = resnet_tui(&["bench", "--batch", "0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--batch"), "{}", stderr(&out));
}

#[test]
fn bad_checkpoints_and_weights_from_the_corpus_are_one_line_errors_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/bad");
    let mut tried = 0;
    for entry in std::fs::read_dir(&corpus).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let out_file = dir.path().join("out");
        let file = path.to_str().unwrap();
        let out = match name.split('.').next_back() {
            Some("ckpt") => {
                resnet_tui(&["export", "--checkpoint", file, "--out", out_file.to_str().unwrap()])
            }
            Some("safetensors") => {
                resnet_tui(&["import", "--weights", file, "--out", out_file.to_str().unwrap()])
            }
            _ => continue,
        };
        tried += 1;
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        assert_eq!(err.lines().count(), 1, "{name}: {err}");
        assert!(err.starts_with("error: ") && err.contains(&name), "{name}: {err}");
        assert!(!out_file.exists(), "{name}: something was written");
    }
    assert_eq!(tried, 13);
}

/// A run's metrics file as `--metrics-out` writes it: step rows at every batch of 4, a
/// blocks row every other batch (when `blocks` is given), an epoch row per epoch.
fn metrics_rows(epochs: usize, blocks: &[&str]) -> String {
    let mut rows = Vec::new();
    for epoch in 1..=epochs {
        for batch in 1..=4 {
            let step = (epoch - 1) * 4 + batch;
            let loss = 2.0 / step as f64;
            rows.push(format!(
                r#"{{"kind":"step","epoch":{epoch},"batch":{batch},"batches":4,"step":{step},"loss":{loss},"train_acc":0.5,"lr":0.05,"examples_per_sec":100.0}}"#
            ));
            if !blocks.is_empty() && batch % 2 == 0 {
                let stats: Vec<String> = blocks
                    .iter()
                    .enumerate()
                    .map(|(i, name)| {
                        let norm = 0.1 * (i + 1) as f64 / step as f64;
                        format!(
                            r#"{{"name":"{name}","grad_norm":{norm},"weight_norm":5.0,"update_ratio":0.001}}"#
                        )
                    })
                    .collect();
                rows.push(format!(
                    r#"{{"kind":"blocks","epoch":{epoch},"batch":{batch},"batches":4,"step":{step},"blocks":[{}]}}"#,
                    stats.join(",")
                ));
            }
        }
        rows.push(format!(
            r#"{{"kind":"epoch","epoch":{epoch},"loss":0.5,"train_acc":0.8,"test_acc":0.75,"examples_per_sec":100.0,"seconds":1.0,"lr":0.05}}"#
        ));
    }
    rows.join("\n") + "\n"
}

/// A metrics file written before rows had kinds: epoch rows without `"kind"`.
const OLD_METRICS: &str = r#"{"epoch":1,"loss":0.9,"train_acc":0.7,"test_acc":0.72,"examples_per_sec":500.0,"seconds":60.0,"lr":0.05}
{"epoch":2,"loss":0.5,"train_acc":0.82,"test_acc":0.8,"examples_per_sec":500.0,"seconds":60.0,"lr":0.05}
"#;

/// Writes `text` to `dir/name` (making folders) and returns the path as a string.
fn fixture(dir: &std::path::Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

/// The width and height in a PNG's header (IHDR, the first chunk).
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    assert_eq!(&bytes[12..16], b"IHDR");
    let be = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    (be(16), be(20))
}

/// An SVG's texts as plotters writes them: (x, y, text), in drawing order.
fn plot_texts(svg: &str) -> Vec<(i64, i64, String)> {
    let attr = |tag: &str, name: &str| -> i64 {
        let at = tag.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
        tag[at..].split('"').next().unwrap().parse().unwrap()
    };
    svg.split("<text")
        .skip(1)
        .map(|t| {
            let (tag, rest) = t.split_once('>').unwrap();
            let text = rest.split("</text>").next().unwrap().trim().to_string();
            (attr(tag, "x"), attr(tag, "y"), text)
        })
        .collect()
}

/// Where `text` is written in an SVG, once per occurrence.
fn plot_places(svg: &str, text: &str) -> Vec<(i64, i64)> {
    plot_texts(svg).into_iter().filter(|t| t.2 == text).map(|t| (t.0, t.1)).collect()
}

/// The colours of an SVG's 2-pixel lines of exactly `points` points, in drawing order.
fn plot_lines_of(svg: &str, points: usize) -> Vec<String> {
    svg.split("<polyline")
        .skip(1)
        .filter(|p| p.contains(r#"stroke-width="2""#))
        .filter(|p| {
            p.split("points=\"").nth(1).unwrap().split('"').next().unwrap().split_whitespace().count()
                == points
        })
        .map(|p| p.split("stroke=\"").nth(1).unwrap().split('"').next().unwrap().to_string())
        .collect()
}

#[test]
fn plot_draws_runs_and_their_gradient_norms_as_one_svg() {
    let dir = tempfile::tempdir().unwrap();
    let blocks = ["b1", "b2.0", "b2.1", "head"];
    let new = fixture(dir.path(), "runs/2026-12-02-resnet34/metrics.jsonl", &metrics_rows(2, &blocks));
    let old = fixture(dir.path(), "baseline.jsonl", OLD_METRICS);
    let out = dir.path().join("curves.svg");
    let o = resnet_tui(&["plot", &new, &old, "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).starts_with(&format!("wrote {} (1280x960: 2 runs", out.display())), "{}", stdout(&o));
    let svg = std::fs::read_to_string(&out).unwrap();
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"), "{svg}");
    assert!(svg.contains(r#"width="1280" height="960""#));
    assert_eq!(
        plot_places(&svg, "epoch").len(),
        2,
        "an epoch axis under the loss and one under the accuracy"
    );
    for text in [
        "train loss",
        "2026-12-02-resnet34: gradient norm per block",
        "block, input to output",
        "gradient L2 norm (log scale)",
        "2026-12-02-resnet34 · train loss",
        "2026-12-02-resnet34 · train acc",
        "2026-12-02-resnet34 · test acc",
        "baseline · train loss",
        "baseline · test acc",
        "step 2",
        "end of epoch 1",
        "end of epoch 2",
    ] {
        assert_eq!(plot_places(&svg, text).len(), 1, "{text:?} is not in the SVG once");
    }
    assert!(!svg.contains("baseline: gradient norm"), "a gradient panel for a run without blocks rows");
    // Loss and accuracy on panels of their own, side by side.
    let x = |text: &str| plot_places(&svg, text)[0].0;
    assert!(x("2026-12-02-resnet34 · train loss") < 640 && x("baseline · train loss") < 640);
    assert!(x("2026-12-02-resnet34 · train acc") > 640 && x("baseline · test acc") > 640);
    // The gradient panel's x axis is the blocks, first to last, under the training panels.
    let ticks: Vec<(i64, i64)> = blocks.iter().map(|b| plot_places(&svg, b)[0]).collect();
    assert!(ticks.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 == w[1].1), "{ticks:?}");
    assert!(ticks[0].1 > 480, "{ticks:?}");
    // One line across the blocks per chosen report (the first, each epoch's last), each in
    // its colour.
    let lines = plot_lines_of(&svg, blocks.len());
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(lines[0] != lines[1] && lines[1] != lines[2] && lines[0] != lines[2], "{lines:?}");
    assert!(common::temporaries(dir.path()).is_empty());
}

#[test]
fn plot_of_several_runs_gives_each_its_gradient_panel_on_one_log_scale() {
    let dir = tempfile::tempdir().unwrap();
    let blocks = ["b1", "b2.0", "b2.1", "head"];
    let plain = fixture(dir.path(), "plain.jsonl", &metrics_rows(2, &blocks));
    let residual = fixture(dir.path(), "residual.jsonl", &metrics_rows(3, &blocks));
    let out = dir.path().join("curves.svg");
    let o = resnet_tui(&["plot", &plain, &residual, "--labels", "plain,res", "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let svg = std::fs::read_to_string(&out).unwrap();
    assert!(svg.contains(r#"width="1280" height="960""#));
    let (left, right) = (
        plot_places(&svg, "plain: gradient norm per block"),
        plot_places(&svg, "res: gradient norm per block"),
    );
    assert!(left.len() == 1 && right.len() == 1 && left[0].0 < 640 && right[0].0 > 640, "{left:?} {right:?}");
    assert!(left[0].1 == right[0].1 && left[0].1 > 480, "side by side under the training panels");
    // Each panel ticks the blocks by name.
    for block in blocks {
        let places = plot_places(&svg, block);
        assert!(places.len() == 2 && places[0].0 < 640 && places[1].0 > 640, "{block}: {places:?}");
    }
    // One y scale: the same decades at the same heights in both panels, though only the
    // longer run's norms reach below 0.01; a log axis: decades equally apart.
    let below = |text: &str| plot_places(&svg, text).into_iter().filter(|p| p.1 > 480).collect::<Vec<_>>();
    let decades = ["0.001", "0.01", "0.1", "1"].map(below);
    for (d, places) in decades.iter().enumerate() {
        assert!(places.len() == 2 && places[0].1 == places[1].1, "decade {d}: {places:?}");
    }
    let steps: Vec<i64> = decades.windows(2).map(|w| w[0][0].1 - w[1][0].1).collect();
    assert!(steps[0] > 20 && steps.iter().all(|s| (s - steps[0]).abs() <= 1), "{steps:?}");
    // A line per chosen report per run: 3 for two epochs, 4 for three; a report's place in
    // training has one colour in both panels.
    let lines = plot_lines_of(&svg, blocks.len());
    assert_eq!(lines.len(), 3 + 4, "{lines:?}");
    assert_eq!(lines[..3], lines[3..6]);
    for legend in ["step 2", "end of epoch 1", "end of epoch 2"] {
        assert_eq!(plot_places(&svg, legend).len(), 2, "{legend}");
    }
    assert_eq!(plot_places(&svg, "end of epoch 3").len(), 1);
}

#[test]
fn plot_of_one_run_without_blocks_is_d2ls_figure_alone_and_labels_can_be_given() {
    let dir = tempfile::tempdir().unwrap();
    let old = fixture(dir.path(), "old.jsonl", OLD_METRICS);
    let out = dir.path().join("curves.svg");
    let o = resnet_tui(&["plot", &old, "--labels", "resnet18 (2025)", "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let svg = std::fs::read_to_string(&out).unwrap();
    assert!(svg.contains(r#"width="1280" height="480""#));
    for text in [
        "resnet18 (2025): train loss",
        "resnet18 (2025): accuracy",
        ">\ntrain loss\n<",
        ">\ntrain acc\n<",
        ">\ntest acc\n<",
    ] {
        assert!(svg.contains(text), "no {text:?} in the SVG");
    }
    // The loss on its axis (up to 0.9), the accuracy on its own (up to 1).
    let loss = plot_places(&svg, "resnet18 (2025): train loss")[0];
    let accuracy = plot_places(&svg, "resnet18 (2025): accuracy")[0];
    assert!(loss.0 < 640 && accuracy.0 > 640 && loss.1 == accuracy.1, "{loss:?} {accuracy:?}");
    assert!(plot_places(&svg, "loss").len() == 1 && plot_places(&svg, "accuracy").len() == 1);
    assert!(!svg.contains("gradient norm"), "a gradient panel without blocks rows");
}

#[test]
fn plot_writes_a_png_of_the_asked_size() {
    let dir = tempfile::tempdir().unwrap();
    let run = fixture(dir.path(), "run.jsonl", &metrics_rows(3, &["b1", "head"]));
    let out = dir.path().join("curves.png");
    let o = resnet_tui(&["plot", &run, "--out", out.to_str().unwrap(), "--width", "900", "--height", "400"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let png = std::fs::read(&out).unwrap();
    assert_eq!(png_size(&png), (900, 400));
    // Two panels of curves, text and legends: far from a blank image.
    assert!(png.len() > 10_000, "{} bytes", png.len());
}

#[test]
fn plot_refuses_bad_input_in_one_line_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let good = fixture(dir.path(), "good.jsonl", OLD_METRICS);
    let text = fixture(dir.path(), "notes.jsonl", "epoch 1: loss 0.5\n");
    let empty = fixture(dir.path(), "empty.jsonl", "\n");
    let blocks_only = fixture(
        dir.path(),
        "blocks.jsonl",
        r#"{"kind":"blocks","epoch":1,"batch":1,"batches":1,"step":1,"blocks":[]}"#,
    );
    let missing = dir.path().join("missing.jsonl").to_str().unwrap().to_string();
    let svg = dir.path().join("out.svg").to_str().unwrap().to_string();
    let pdf = dir.path().join("out.pdf").to_str().unwrap().to_string();
    let cases: Vec<(Vec<&str>, String)> = vec![
        (vec![&missing, "--out", &svg], format!("cannot read {missing}: No such file or directory")),
        (
            vec![&good, &text, "--out", &svg],
            format!("{text} line 1 is not a metrics row (JSON Lines from --metrics-out): expected value"),
        ),
        (
            vec![&empty, "--out", &svg],
            format!("{empty} has no epoch rows; nothing to plot (is it a --metrics-out file?)"),
        ),
        (
            vec![&blocks_only, "--out", &svg],
            format!("{blocks_only} has no epoch rows; nothing to plot (is it a --metrics-out file?)"),
        ),
        (
            vec![&good, "--out", &pdf],
            format!("cannot tell the format of {pdf}: --out must end in .svg or .png"),
        ),
        (
            vec![&good, &good, "--labels", "a", "--out", &svg],
            "--labels names 1 run but 2 metrics files".into(),
        ),
        (vec![&good, "--out", &svg, "--width", "10"], "10 is not in 200..=8000".into()),
        (vec![&good], "required arguments were not provided: --out <FILE>".into()),
        (vec!["--out", &svg], "required arguments were not provided: <RUN>...".into()),
    ];
    for (args, expected) in cases {
        let o = resnet_tui(&[&["plot"], &args[..]].concat());
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = stderr(&o);
        assert_eq!(err.lines().count(), 1, "{args:?}: not one line: {err}");
        assert!(err.starts_with("error: ") && err.contains(&expected), "{args:?}: {err}");
        assert!(o.stdout.is_empty(), "{args:?}");
        let mut files: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        assert_eq!(files, ["blocks.jsonl", "empty.jsonl", "good.jsonl", "notes.jsonl"], "{args:?}");
    }
}

/// TensorBoard's own reader (scripts/read_tensorboard.py) loads a headless run's event file:
/// the tags, and the same values at the same steps as the run's metrics file. Run by .ci/run
/// with TENSORBOARD_PYTHON set to a Python that has the `tensorboard` package.
#[test]
#[ignore = "needs TENSORBOARD_PYTHON (a Python with the tensorboard package); run by .ci/run"]
fn tensorboard_reads_a_headless_runs_scalars() {
    let python = std::env::var_os("TENSORBOARD_PYTHON").expect("TENSORBOARD_PYTHON is not set");
    let dir = tempfile::tempdir().unwrap();
    let (metrics, tensorboard) = (dir.path().join("m.jsonl"), dir.path().join("tb"));
    let out = quick_train(&[
        "--metrics-out",
        metrics.to_str().unwrap(),
        "--tensorboard",
        tensorboard.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/read_tensorboard.py");
    let read = std::process::Command::new(&python).arg(script).arg(&tensorboard).output().unwrap();
    assert!(read.status.success(), "{}", String::from_utf8_lossy(&read.stderr));
    let scalars: std::collections::BTreeMap<String, Vec<(u64, f64)>> =
        serde_json::from_slice(&read.stdout).unwrap();
    let tags: Vec<&str> = scalars.keys().map(String::as_str).filter(|t| !t.starts_with("blocks/")).collect();
    assert_eq!(
        tags,
        [
            "epoch/train_acc",
            "epoch/train_loss",
            "examples_per_sec",
            "lr",
            "test/acc",
            "train/acc",
            "train/loss"
        ]
    );
    let (_, rows) = metrics_kinds(&metrics);
    // The blocks' gradient flow after step 1, as the metrics file has it.
    let report = rows.iter().find(|r| r["kind"] == "blocks").unwrap();
    for block in report["blocks"].as_array().unwrap() {
        let name = block["name"].as_str().unwrap();
        for key in ["grad_norm", "update_ratio"] {
            let read = &scalars[&format!("blocks/{key}/{name}")];
            assert_eq!(read.len(), 1, "{key} {name}");
            assert_eq!(
                (read[0].0, read[0].1 as f32),
                (1, block[key].as_f64().unwrap() as f32),
                "{key} {name}"
            );
        }
    }
    let rows: Vec<_> = rows.into_iter().filter(|r| r["kind"] != "blocks").collect();
    let f32_of = |v: &serde_json::Value| v.as_f64().unwrap() as f32;
    let from_metrics = |key: &str| -> Vec<(u64, f32)> {
        rows[..4].iter().map(|r| (r["step"].as_u64().unwrap(), f32_of(&r[key]))).collect()
    };
    let from_tensorboard = |tag: &str| -> Vec<(u64, f32)> {
        scalars[tag].iter().map(|&(step, value)| (step, value as f32)).collect()
    };
    for (tag, key) in [("train/loss", "loss"), ("train/acc", "train_acc"), ("lr", "lr")] {
        assert_eq!(from_tensorboard(tag), from_metrics(key), "{tag}");
    }
    assert_eq!(from_tensorboard("test/acc"), [(4, f32_of(&rows[4]["test_acc"]))]);
}

#[test]
fn headless_run_directory_holds_checkpoint_metrics_and_events_and_resume_continues_it() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("runs/mine");
    let r = run.to_str().unwrap();
    let first = quick_train(&["--run-dir", r]);
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(stderr(&first).starts_with(&format!("run directory: {r}\n")), "{}", stderr(&first));
    let (kinds, _) = metrics_kinds(&run.join("metrics.jsonl"));
    assert_eq!(kinds, ["step", "blocks", "step", "step", "step", "epoch"]);
    assert_eq!(resnet_core::train::Checkpoint::load(&run.join("checkpoint.ckpt")).unwrap().position.step, 4);
    let events = |n: usize| {
        let names: Vec<_> = std::fs::read_dir(&run).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(
            names.iter().filter(|n| n.to_string_lossy().starts_with("events.out.tfevents.")).count(),
            n
        );
    };
    events(1);
    // `--resume DIR`: its checkpoint, and the run goes on writing there.
    let more = resnet_tui(&[
        "train",
        "--headless",
        "--epochs",
        "2",
        "--resume",
        r,
        "--data-dir",
        REAL_DATA,
        "--no-download",
    ]);
    assert!(more.status.success(), "{}", stderr(&more));
    assert!(String::from_utf8_lossy(&more.stdout)
        .starts_with(&format!("resuming {r}/checkpoint.ckpt at epoch 2")));
    let (kinds, _) = metrics_kinds(&run.join("metrics.jsonl"));
    assert_eq!(kinds.len(), 11, "{kinds:?}");
    assert_eq!(resnet_core::train::Checkpoint::load(&run.join("checkpoint.ckpt")).unwrap().history.len(), 2);
    events(2);
    // A directory without a checkpoint: one line.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let none = quick_train(&["--resume", empty.to_str().unwrap()]);
    assert_eq!(none.status.code(), Some(2));
    let err = stderr(&none);
    assert!(
        err.starts_with("error: ") && err.contains("empty/checkpoint.ckpt") && err.lines().count() == 1,
        "{err}"
    );
}

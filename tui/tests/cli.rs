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

#[test]
fn headless_training_prints_d2l_lines_and_json_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let metrics = dir.path().join("m.jsonl");
    let ckpt = dir.path().join("c.ckpt");
    let out =
        quick_train(&["--metrics-out", metrics.to_str().unwrap(), "--checkpoint", ckpt.to_str().unwrap()]);
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
    let record: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(&metrics).unwrap().trim()).unwrap();
    for key in ["epoch", "loss", "train_acc", "test_acc", "examples_per_sec", "seconds"] {
        assert!(record[key].is_number(), "{key} missing in {record}");
    }
    assert!(stderr(&out).contains(&format!("saved checkpoint {} (end of epoch, step 4)", ckpt.display())));
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
    assert!(String::from_utf8_lossy(&out.stdout).contains("(resnet18 (torchvision))"));
    std::fs::remove_file(&back).unwrap();
    let out = import("d2l");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("is not a tensor of the seed's ResNet-18"), "{}", stderr(&out));
    assert!(!back.exists());
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
    let first = command("1", &[]);
    assert!(first.status.success(), "{}", stderr(&first));
    // Every recipe flag equals the saved recipe: accepted, and there is nothing left to do.
    let again = command("1", &["--resume", c]);
    assert!(again.status.success(), "{}", stderr(&again));
    let text = String::from_utf8_lossy(&again.stdout);
    assert!(text.starts_with(&format!("resuming {c} at epoch 2, batch 0\n")), "{text}");
    // More epochs continue it.
    let more = command("2", &["--resume", c]);
    assert!(more.status.success(), "{}", stderr(&more));
    let text = String::from_utf8_lossy(&more.stdout);
    assert!(text.contains("epoch 2/2: loss ") && !text.contains("epoch 1/2"), "{text}");
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
    let out =
        resnet_tui(&["bench", "--res", "16", "--batch", "4", "--steps", "1", "--threads", "1", "--profile"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    let speed: serde_json::Value = serde_json::from_str(lines.next().unwrap()).unwrap();
    assert_eq!(
        (speed["bench"].as_str(), speed["res"].as_u64(), speed["batch"].as_u64()),
        (Some("speed"), Some(16), Some(4))
    );
    assert_eq!(speed["threads"], 1);
    for key in ["train_img_per_s", "infer_img_per_s", "peak_rss_mb"] {
        assert!(speed[key].as_f64().is_some_and(|v| v > 0.0), "{key}: {speed}");
    }
    let phases: Vec<serde_json::Value> = lines.map(|l| serde_json::from_str(l).unwrap()).collect();
    let names: Vec<&str> = phases.iter().map(|p| p["phase"].as_str().unwrap()).collect();
    assert!(names.contains(&"conv forward: gemm") && names.contains(&"batch norm backward"), "{names:?}");
    assert_eq!(names.last(), Some(&"whole step"));
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

//! The `resnet-tui` binary as a user runs it: output, errors and exit codes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Output};

fn resnet_tui(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_resnet-tui")).args(args).output().expect("run resnet-tui")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
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
fn bad_arguments_give_one_line_and_exit_2() {
    for (args, expected) in [
        (&["shapes", "--input", "1x1x0x5"][..], "invalid shape `1x1x0x5`: every size must be at least 1"),
        (&["shapes", "--input", "cat"][..], "invalid shape `cat`: sizes must be whole numbers"),
        (&["shapes", "--model", "vgg16"][..], "unknown model `vgg16`; known models: resnet18"),
        (&["shapes", "--input", "1x1x28"][..], "need 4 sizes NxCxHxW, got 3"),
        (&["shapes", "--classes", "11"][..], "11 classes is not available"),
        (&["shapes", "--input", "1x7x28x28"][..], "7 input channels is not available"),
        (&["shapes", "--bogus"][..], "unexpected argument '--bogus'"),
    ] {
        let out = resnet_tui(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{args:?}: not one line: {err}");
        assert!(err.starts_with("error: ") && err.contains(expected), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

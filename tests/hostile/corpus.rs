//! The corpus of crafted bad files in `tests/data/bad/`, each with the error it must give
//! (`EXPECTED.txt`: `file<TAB>kind<TAB>text the one-line error contains`). The files are
//! written by the ignored test `write_the_corpus` (run it after a format change:
//! `cargo test --test hostile -- --ignored write_the_corpus`), then committed.

use std::path::{Path, PathBuf};

use flate2::Compression;

use resnet_core::checkpoint::load_named;
use resnet_core::data::idx::{read_images, read_labels};
use resnet_core::prelude::*;
use resnet_core::train::Checkpoint;

use crate::checkpoints::{valid_checkpoint, Tiny};
use crate::idx_files::{gzip, idx};
use crate::meter::{budget, peak_of};
use crate::safetensors_files::{import_into_tiny, valid_safetensors};

const DIR: &str = "tests/data/bad";

/// Reads `path` as `kind`; returns the error text (or `None` if it was accepted).
fn read_as(kind: &str, path: &Path) -> Option<String> {
    let result = match kind {
        "images" => read_images(path).map(|_| ()),
        "labels" => read_labels(path).map(|_| ()),
        "checkpoint" => Checkpoint::load(path).and_then(|c| {
            let mut model = Cpu::default().build_module::<Tiny, f32>();
            load_named(&mut model, &c.params, &path.display().to_string())
        }),
        "safetensors" => import_into_tiny(path).0,
        other => panic!("unknown kind {other}"),
    };
    result.err().map(|e| e.to_string())
}

#[test]
fn every_bad_file_gives_its_expected_one_line_error_within_budget() {
    let expected = std::fs::read_to_string(Path::new(DIR).join("EXPECTED.txt")).unwrap();
    let mut listed = Vec::new();
    for line in expected.lines().filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let [file, kind, text]: [&str; 3] = line.split('\t').collect::<Vec<_>>().try_into().unwrap();
        let path = Path::new(DIR).join(file);
        let size = std::fs::metadata(&path).unwrap().len() as usize;
        let (err, peak) = peak_of(|| read_as(kind, &path));
        let err = err.unwrap_or_else(|| panic!("{file} was accepted"));
        assert!(err.contains(text), "{file}: {err:?} does not contain {text:?}");
        assert_eq!(err.lines().count(), 1, "{file}: {err:?}");
        assert!(err.contains(file), "{file}: the error does not name the file: {err:?}");
        assert!(peak <= budget(size), "{file}: {peak} bytes allocated");
        listed.push(file.to_string());
    }
    let mut present: Vec<String> = std::fs::read_dir(DIR)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "EXPECTED.txt")
        .collect();
    present.sort();
    listed.sort();
    assert_eq!(present, listed, "every file in {DIR} has an expected error, and every listed file exists");
}

/// `bytes` with a CRC recomputed over all but its last 4 bytes.
fn with_crc(mut bytes: Vec<u8>) -> Vec<u8> {
    let n = bytes.len() - 4;
    let crc = crc32fast::hash(&bytes[..n]);
    bytes[n..].copy_from_slice(&crc.to_le_bytes());
    bytes
}

/// A safetensors file from a raw JSON header and data.
fn safetensors(header: &str, data: &[u8]) -> Vec<u8> {
    let mut b = (header.len() as u64).to_le_bytes().to_vec();
    b.extend_from_slice(header.as_bytes());
    b.extend_from_slice(data);
    b
}

#[test]
#[ignore = "writes tests/data/bad: run alone, after a format change; .ci/run runs it and checks the files do not change"]
fn write_the_corpus() {
    let images = (0..3 * 784).map(|i| (i % 251) as u8).collect::<Vec<u8>>();
    let valid_images = idx(&[2051, 3, 28, 28], &images);
    let ckpt = valid_checkpoint().to_bytes().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let st = valid_safetensors(tmp.path());

    // The first tensor's data length (postcard varint 18 after "0.0.weight" and shape [2,1,3,3]),
    // rewritten to claim 2^40 floats.
    let name = b"0.0.weight";
    let at = ckpt.windows(name.len()).position(|w| w == name).unwrap() + name.len();
    assert_eq!(&ckpt[at..at + 6], &[4, 2, 1, 3, 3, 18]);
    let mut claim = ckpt[..at + 5].to_vec();
    claim.extend([0x80, 0x80, 0x80, 0x80, 0x80, 0x20]); // 2^40 as LEB128
    claim.extend_from_slice(&ckpt[at + 6..]);
    // The same tensor with a shape of 5x5 kernels and 50 values: valid postcard, wrong model.
    let mut wrong_shape = valid_checkpoint();
    wrong_shape.params[0].shape = vec![2, 1, 5, 5];
    wrong_shape.params[0].data = vec![0.5; 50];
    let mut version = valid_checkpoint();
    version.header.version = 99;
    let mut flipped = ckpt.clone();
    flipped[ckpt.len() / 2] ^= 0x40;

    let f32s = |n: usize| vec![0u8; 4 * n];
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("empty.idx", vec![]),
        ("images-bad-magic.idx", idx(&[2049, 3, 28, 28], &images)),
        ("images-count-4g.idx", idx(&[2051, u32::MAX, 28, 28], &images)),
        ("images-rows-1e9.idx", idx(&[2051, 3, 1_000_000_000, 28], &images)),
        ("images-truncated.idx", valid_images[..16 + 784 * 5 / 2].to_vec()),
        ("images-trailing-bytes.idx", [&valid_images[..], b"extra"].concat()),
        ("images-truncated.gz", {
            let g = gzip(&valid_images, Compression::default());
            g[..g.len() / 2].to_vec()
        }),
        ("images-gzip-garbage.gz", [&[0x1f, 0x8b, 8, 0][..], &[0xff; 64][..]].concat()),
        ("labels-label-11.idx", idx(&[2049, 3], &[3, 11, 4])),
        ("labels-count-1m-claimed.gz", gzip(&idx(&[2049, 1_000_000], &[1, 2, 3]), Compression::default())),
        ("ckpt-bad-magic.ckpt", [&b"NOTACKPT"[..], &ckpt[8..]].concat()),
        ("ckpt-truncated.ckpt", ckpt[..ckpt.len() * 2 / 3].to_vec()),
        ("ckpt-flipped-byte.ckpt", flipped),
        ("ckpt-version-99.ckpt", version.to_bytes().unwrap()),
        ("ckpt-length-claims-4tb.ckpt", with_crc(claim)),
        ("ckpt-wrong-shape.ckpt", wrong_shape.to_bytes().unwrap()),
        ("st-header-length-huge.safetensors", [&u64::MAX.to_le_bytes()[..], &st[8..]].concat()),
        ("st-header-not-json.safetensors", safetensors("{\"0.0.weight\": [1, 2", &f32s(18))),
        (
            "st-offsets-outside.safetensors",
            safetensors(
                r#"{"0.0.bias":{"dtype":"F32","shape":[2],"data_offsets":[0,4000000000]}}"#,
                &f32s(2),
            ),
        ),
        (
            "st-float64.safetensors",
            safetensors(r#"{"0.0.bias":{"dtype":"F64","shape":[2],"data_offsets":[0,16]}}"#, &f32s(4)),
        ),
        (
            "st-unknown-name.safetensors",
            safetensors(
                r#"{"layer9.0.conv1.weight":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#,
                &f32s(2),
            ),
        ),
        (
            "st-missing-tensors.safetensors",
            safetensors(r#"{"0.0.bias":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}}"#, &f32s(3)),
        ),
        ("st-truncated.safetensors", st[..st.len() / 2].to_vec()),
    ];
    let dir = PathBuf::from(DIR);
    std::fs::create_dir_all(&dir).unwrap();
    for (name, bytes) in files {
        std::fs::write(dir.join(name), bytes).unwrap();
        let kind = if name.starts_with("images") || name == "empty.idx" {
            "images"
        } else if name.starts_with("labels") {
            "labels"
        } else if name.starts_with("ckpt") {
            "checkpoint"
        } else {
            "safetensors"
        };
        println!("{name}\t{kind}\t{}", read_as(kind, &dir.join(name)).unwrap_or_else(|| "ACCEPTED".into()));
    }
}

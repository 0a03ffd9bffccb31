//! IDX files (raw and gzip) with flipped bytes, cut tails, extra bytes and header fields
//! that claim anything up to 4 G examples.

use std::io::{Read, Write};
use std::path::Path;

use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use proptest::prelude::*;
use resnet_core::data::idx::{read_images, read_labels, MAX_EXAMPLES, SIDE};

use crate::meter::{budget, peak_of};
use crate::mutation::{apply, config, mutations, Mutation};

/// `bytes` gzip-compressed at `level`.
pub fn gzip(bytes: &[u8], level: flate2::Compression) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), level);
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// An IDX file: big-endian u32 header fields, then the payload.
pub fn idx(header: &[u32], payload: &[u8]) -> Vec<u8> {
    header.iter().flat_map(|v| v.to_be_bytes()).chain(payload.iter().copied()).collect()
}

/// A valid file: three images (or labels) of the real format.
fn valid(images: bool) -> Vec<u8> {
    if images {
        let pixels: Vec<u8> = (0..3 * SIDE * SIDE).map(|i| (i * 7 % 256) as u8).collect();
        idx(&[2051, 3, 28, 28], &pixels)
    } else {
        idx(&[2049, 3], &[3, 1, 4])
    }
}

/// How compression is involved: none, mutate then compress, compress then mutate.
#[derive(Clone, Copy, Debug)]
pub enum Packing {
    Raw,
    GzipOfMutated,
    MutatedGzip,
}

fn packing() -> impl Strategy<Value = Packing> {
    prop_oneof![Just(Packing::Raw), Just(Packing::GzipOfMutated), Just(Packing::MutatedGzip)]
}

/// The bytes a reader can get out of `file` (decompressed if gzip), capped.
fn content_len(file: &[u8]) -> usize {
    if file.starts_with(&[0x1f, 0x8b]) {
        let mut sink = Vec::new();
        let _ = GzDecoder::new(file).take(1 << 30).read_to_end(&mut sink);
        sink.len()
    } else {
        file.len()
    }
}

/// Reads `file` as images or labels: the result is valid or a one-line error, and the
/// reader allocated no more than the content justifies.
fn check(file: &[u8], images: bool, dir: &Path) -> Result<(), TestCaseError> {
    let path = dir.join(if images { "images.idx" } else { "labels.idx" });
    std::fs::write(&path, file).unwrap();
    let (outcome, peak) = peak_of(|| {
        if images {
            read_images(&path).map(|(n, px)| {
                assert_eq!(px.len(), n * SIDE * SIDE);
                n
            })
        } else {
            read_labels(&path).map(|l| l.len())
        }
    });
    match outcome {
        Ok(n) => prop_assert!(n <= MAX_EXAMPLES),
        Err(e) => {
            let text = e.to_string();
            prop_assert!(!text.is_empty() && text.lines().count() == 1, "{text:?}");
        }
    }
    let allowed = budget(file.len() + content_len(file));
    prop_assert!(
        peak <= allowed,
        "allocated {peak} bytes for a {}-byte file (allowed {allowed})",
        file.len()
    );
    Ok(())
}

fn mutated(images: bool, packing: Packing, mutations: &[Mutation]) -> Vec<u8> {
    let mut bytes = valid(images);
    match packing {
        Packing::Raw => mutations.iter().for_each(|m| apply(&mut bytes, m)),
        Packing::GzipOfMutated => {
            mutations.iter().for_each(|m| apply(&mut bytes, m));
            bytes = gzip(&bytes, flate2::Compression::fast());
        }
        Packing::MutatedGzip => {
            bytes = gzip(&bytes, flate2::Compression::fast());
            mutations.iter().for_each(|m| apply(&mut bytes, m));
        }
    }
    bytes
}

/// Reads a file mutated as `packing` and `mutations` say, as images or labels.
fn check_mutated(images: bool, packing: Packing, mutations: &[Mutation]) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    check(&mutated(images, packing, mutations), images, dir.path())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn mutated_image_files_are_read_or_refused(packing in packing(), mutations in mutations(1..5)) {
        check_mutated(true, packing, &mutations)?;
    }

    #[test]
    fn mutated_label_files_are_read_or_refused(packing in packing(), mutations in mutations(1..5)) {
        check_mutated(false, packing, &mutations)?;
    }
}

#[test]
fn a_header_claiming_gigabytes_allocates_only_what_is_there() {
    let dir = tempfile::tempdir().unwrap();
    for count in [999_999u32, 1_000_000] {
        let mut file = valid(true);
        file[4..8].copy_from_slice(&count.to_be_bytes());
        let path = dir.path().join("claim.idx");
        std::fs::write(&path, &file).unwrap();
        let (result, peak) = peak_of(|| read_images(&path));
        let err = result.unwrap_err().to_string();
        assert!(err.contains("truncated") || err.contains("bytes"), "{err}");
        assert!(peak <= budget(file.len()), "{peak} bytes allocated for {} claimed images", count);
    }
}

//! Safetensors files as PyTorch writes them, damaged: header lengths claiming gigabytes,
//! broken JSON, offsets outside the file, wrong dtypes, names and shapes.

use std::path::Path;

use proptest::prelude::*;
use resnet_core::checkpoint::pytorch::{export_safetensors, import_safetensors, Layout};
use resnet_core::checkpoint::{load_named, named_tensors};
use resnet_core::prelude::*;

use crate::checkpoints::Tiny;
use crate::meter::{budget, peak_of};
use crate::mutation::{apply, config, mutations};

/// A valid file of [`Tiny`]'s weights with the seed's names (`0.0.weight`, `0.1.running_var`, ...).
pub fn valid_safetensors(dir: &Path) -> Vec<u8> {
    let model = Cpu::seed_from_u64(2).build_module::<Tiny, f32>();
    let path = dir.join("valid.safetensors");
    export_safetensors(Layout::Seed, &named_tensors(&model).unwrap(), 3, &path).unwrap();
    std::fs::read(&path).unwrap()
}

/// Imports `bytes` and restores [`Tiny`]: a value or a one-line error, within budget.
pub fn import_into_tiny(path: &Path) -> (Result<(), resnet_core::Error>, usize) {
    peak_of(|| {
        let tensors = import_safetensors(Layout::Seed, path)?;
        let mut model = Cpu::default().build_module::<Tiny, f32>();
        load_named(&mut model, &tensors, &path.display().to_string())
    })
}

/// Values for the 8-byte little-endian header length.
fn header_claim() -> impl Strategy<Value = Option<u64>> {
    prop_oneof![
        3 => Just(None),
        1 => prop_oneof![Just(0u64), Just(1), Just(7), Just(1 << 30), Just(100_000_001), Just(u64::MAX), any::<u64>()]
            .prop_map(Some),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn damaged_safetensors_files_are_refused(
        claim in header_claim(),
        mutations in mutations(0..5),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut bytes = valid_safetensors(dir.path());
        mutations.iter().for_each(|m| apply(&mut bytes, m));
        if let (Some(n), true) = (claim, bytes.len() >= 8) {
            bytes[..8].copy_from_slice(&n.to_le_bytes());
        }
        let path = dir.path().join("hostile.safetensors");
        std::fs::write(&path, &bytes).unwrap();
        let (outcome, peak) = import_into_tiny(&path);
        if let Err(e) = outcome {
            let text = e.to_string();
            prop_assert!(text.lines().count() == 1 && text.contains("hostile.safetensors"), "{text:?}");
        }
        prop_assert!(peak <= budget(bytes.len()), "allocated {peak} bytes for a {}-byte file", bytes.len());
    }
}

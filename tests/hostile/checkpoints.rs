//! Checkpoints with damage the CRC catches, and damage behind a recomputed CRC that only
//! the postcard decoder and the model's own checks can catch (lengths claiming terabytes,
//! wrong shapes, wrong names).

use std::path::Path;

use proptest::prelude::*;
use resnet_core::checkpoint::{load_named, named_tensors};
use resnet_core::models::ModelName;
use resnet_core::prelude::*;
use resnet_core::train::TrainConfig;
use resnet_core::train::{Checkpoint, Position};

use crate::meter::{budget, peak_of};
use crate::mutation::{apply, config, mutations, Mutation};

/// A model small enough for thousands of cases, with a convolution and a batch norm.
pub type Tiny = ((Conv2D<1, 2, 3, 1, 1>, BatchNorm2D<2>), ReLU);

/// A valid checkpoint of [`Tiny`], with momentum buffers and a history entry.
pub fn valid_checkpoint() -> Checkpoint {
    let model = Cpu::seed_from_u64(1).build_module::<Tiny, f32>();
    let params = named_tensors(&model).unwrap();
    Checkpoint {
        header: Checkpoint::header(ModelName::RESNET18, 1, 10),
        config: TrainConfig::quick(),
        position: Position::default(),
        velocity: Some(params.clone()),
        params,
        history: Vec::new(),
    }
}

/// Parses `bytes` and restores [`Tiny`] from them: a value or a one-line error, within budget.
fn check(bytes: &[u8]) -> Result<(), TestCaseError> {
    let (outcome, peak) = peak_of(|| {
        let ckpt = Checkpoint::from_bytes(bytes, Path::new("hostile.ckpt"))?;
        let mut model = Cpu::default().build_module::<Tiny, f32>();
        load_named(&mut model, &ckpt.params, "hostile.ckpt")?;
        if let Some(v) = &ckpt.velocity {
            load_named(&mut model, v, "hostile.ckpt")?;
        }
        Ok::<_, resnet_core::Error>(())
    });
    if let Err(e) = outcome {
        let text = e.to_string();
        prop_assert!(text.starts_with("hostile.ckpt") && text.lines().count() == 1, "{text:?}");
    }
    // The model itself (a few hundred bytes) is built inside the measurement.
    prop_assert!(peak <= budget(bytes.len()), "allocated {peak} bytes for a {}-byte file", bytes.len());
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn damaged_checkpoints_are_refused(mutations in mutations(1..5)) {
        let mut bytes = valid_checkpoint().to_bytes().unwrap();
        mutations.iter().for_each(|m| apply(&mut bytes, m));
        check(&bytes)?;
    }

    #[test]
    fn damage_behind_a_valid_crc_is_refused(mutations in mutations(1..5)) {
        let bytes = valid_checkpoint().to_bytes().unwrap();
        let mut body = bytes[..bytes.len() - 4].to_vec();
        mutations.iter().filter(|m| !matches!(m, Mutation::Truncate(_))).for_each(|m| apply(&mut body, m));
        let crc = crc32fast::hash(&body);
        body.extend_from_slice(&crc.to_le_bytes());
        check(&body)?;
    }
}

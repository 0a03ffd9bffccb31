//! Checkpoints: everything needed to continue a run exactly (weights, batch-norm statistics,
//! momentum buffers, configuration, position in the data, metric history), as postcard
//! bytes with a magic number, a format version and a CRC-32, written atomically.
//!
//! Layout: `postcard(Header) ++ postcard(Body) ++ crc32(all preceding bytes, little-endian)`.
//! The header is read and checked first, so a file of another kind, another version or
//! another model is refused before its body is parsed.

mod atomic;
mod exchange;
pub mod pytorch;
mod tensors;

use std::path::Path;

use serde::{Deserialize, Serialize};

pub use atomic::{older_version, remove_stale_temps, write_atomic, write_atomic_keeping};
pub use exchange::{export_checkpoint, import_checkpoint, layout_of};
pub use tensors::{load_named, named_tensor_names, named_tensors, NamedTensor};

use crate::models::ModelName;
use crate::train::{EpochMetrics, EpochTotals, TrainConfig};
use crate::Error;

/// First bytes of every checkpoint.
pub const MAGIC: [u8; 8] = *b"RESNDFDX";
/// The format version this build writes and reads.
pub const VERSION: u32 = 1;
/// The most bytes a checkpoint may have (ResNet-152 with momentum is about 500 MB).
pub const MAX_BYTES: u64 = 4 << 30;

/// What the checkpoint holds, checked before anything else is read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// [`MAGIC`].
    pub magic: [u8; 8],
    /// [`VERSION`].
    pub version: u32,
    /// The model's name.
    pub model: ModelName,
    /// Input channels of the model.
    pub in_channels: usize,
    /// Classes of the model.
    pub classes: usize,
}

/// Where a run stands. Every random choice of a run derives from the seed, the epoch and
/// the batch, so this is also the random generator's state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Position {
    /// 0-based epoch to continue in.
    pub epoch: usize,
    /// Batches of that epoch already trained.
    pub batch: usize,
    /// Training steps done since the start of the run.
    pub step: u64,
    /// That epoch's running totals.
    pub totals: EpochTotals,
}

/// A complete checkpoint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Kind, version and model.
    pub header: Header,
    /// The run's configuration.
    pub config: TrainConfig,
    /// Where the run stands.
    pub position: Position,
    /// Every model tensor (weights, biases, batch-norm scale, shift and running statistics).
    pub params: Vec<NamedTensor>,
    /// SGD momentum buffers, by the same names, if the run uses momentum.
    pub velocity: Option<Vec<NamedTensor>>,
    /// Metrics of every completed epoch.
    pub history: Vec<EpochMetrics>,
}

#[derive(Serialize, Deserialize)]
struct Body {
    config: TrainConfig,
    position: Position,
    params: Vec<NamedTensor>,
    velocity: Option<Vec<NamedTensor>>,
    history: Vec<EpochMetrics>,
}

fn corrupt(path: &Path, reason: impl Into<String>) -> Error {
    Error::Checkpoint { path: path.display().to_string(), reason: reason.into() }
}

impl Checkpoint {
    /// The header for `model` in this format version.
    pub fn header(model: ModelName, in_channels: usize, classes: usize) -> Header {
        Header { magic: MAGIC, version: VERSION, model, in_channels, classes }
    }

    /// The file's bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>, Error> {
        let body = Body {
            config: self.config.clone(),
            position: self.position,
            params: self.params.clone(),
            velocity: self.velocity.clone(),
            history: self.history.clone(),
        };
        let encode =
            |e: postcard::Error| Error::Checkpoint { path: "checkpoint".into(), reason: e.to_string() };
        let mut bytes = postcard::to_stdvec(&self.header).map_err(encode)?;
        bytes.extend(postcard::to_stdvec(&body).map_err(encode)?);
        let crc = crc32fast::hash(&bytes);
        bytes.extend_from_slice(&crc.to_le_bytes());
        Ok(bytes)
    }

    /// Writes the checkpoint to `path` atomically (the previous file survives any crash).
    pub fn save(&self, path: &Path) -> Result<(), Error> {
        write_atomic(path, &self.to_bytes()?)
    }

    /// As [`Checkpoint::save`], keeping the `keep - 1` previous files as `path.1`, `path.2`, ...
    pub fn save_keeping(&self, path: &Path, keep: usize) -> Result<(), Error> {
        write_atomic_keeping(path, &self.to_bytes()?, keep)
    }

    /// Parses a checkpoint, checking magic, version, model and CRC; `path` names it in errors.
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<Self, Error> {
        if !bytes.starts_with(&MAGIC) {
            return Err(corrupt(path, "not a resnet-dfdx checkpoint (bad magic number)"));
        }
        let (header, rest) = postcard::take_from_bytes::<Header>(bytes)
            .map_err(|_| corrupt(path, "checkpoint header is truncated or corrupt"))?;
        if header.version != VERSION {
            return Err(corrupt(
                path,
                format!(
                    "checkpoint format version {} is not supported (this build reads {VERSION})",
                    header.version
                ),
            ));
        }
        let Some(body_len) = rest.len().checked_sub(4) else {
            return Err(corrupt(path, "checkpoint is truncated"));
        };
        let (payload, crc) = bytes.split_at(bytes.len() - 4);
        let stored = u32::from_le_bytes([crc[0], crc[1], crc[2], crc[3]]);
        if crc32fast::hash(payload) != stored {
            return Err(corrupt(path, "checkpoint is truncated or corrupt (checksum mismatch)"));
        }
        let (body, left) = postcard::take_from_bytes::<Body>(&rest[..body_len])
            .map_err(|e| corrupt(path, format!("checkpoint body is corrupt ({e})")))?;
        if !left.is_empty() {
            return Err(corrupt(path, "checkpoint has trailing bytes"));
        }
        Ok(Self {
            header,
            config: body.config,
            position: body.position,
            params: body.params,
            velocity: body.velocity,
            history: body.history,
        })
    }

    /// Reads and checks a checkpoint file.
    pub fn load(path: &Path) -> Result<Self, Error> {
        let len = std::fs::metadata(path).map_err(|e| Error::io(path, "open", &e))?.len();
        if len > MAX_BYTES {
            return Err(corrupt(
                path,
                format!("{len} bytes is larger than any checkpoint ({MAX_BYTES} at most)"),
            ));
        }
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, "read", &e))?;
        Self::from_bytes(&bytes, path)
    }

    /// Checks that this checkpoint is of `model` with `in_channels` and `classes`.
    pub fn expect_model(
        &self,
        model: ModelName,
        in_channels: usize,
        classes: usize,
        path: &Path,
    ) -> Result<(), Error> {
        let h = &self.header;
        if (h.model, h.in_channels, h.classes) != (model, in_channels, classes) {
            return Err(corrupt(
                path,
                format!(
                    "checkpoint is of {} ({} input channels, {} classes), not of {model} ({in_channels}, {classes})",
                    h.model, h.in_channels, h.classes
                ),
            ));
        }
        Ok(())
    }
}

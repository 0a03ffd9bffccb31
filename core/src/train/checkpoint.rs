//! A run's saved state: everything needed to continue it exactly (weights, batch-norm
//! statistics, momentum buffers, configuration, position in the data, metric history), in
//! the [`crate::checkpoint`] file format.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{EpochMetrics, Position, TrainConfig};
use crate::checkpoint::{
    corrupt, decode, encode, read_file, write_atomic_keeping, Header, NamedTensor, WEIGHTS_MAGIC,
};
use crate::models::ModelName;
use crate::Error;

/// A complete checkpoint of a run.
#[derive(Clone, Debug, PartialEq)]
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

/// What follows the header in the file (field order is the format: do not reorder).
#[derive(Serialize, Deserialize)]
struct Body {
    config: TrainConfig,
    position: Position,
    params: Vec<NamedTensor>,
    velocity: Option<Vec<NamedTensor>>,
    history: Vec<EpochMetrics>,
}

impl Checkpoint {
    /// The header for `model` in this format version.
    pub fn header(model: ModelName, in_channels: usize, classes: usize) -> Header {
        Header::new(model, in_channels, classes)
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
        encode(&self.header, &body)
    }

    /// Writes the checkpoint to `path` atomically (the previous file survives any crash).
    pub fn save(&self, path: &Path) -> Result<(), Error> {
        self.save_keeping(path, 1)
    }

    /// As [`Checkpoint::save`], keeping the `keep - 1` previous files as `path.1`, `path.2`, ...
    pub fn save_keeping(&self, path: &Path, keep: usize) -> Result<(), Error> {
        write_atomic_keeping(path, &self.to_bytes()?, keep)
    }

    /// Parses a checkpoint, checking magic, version, model and CRC; `path` names it in errors.
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<Self, Error> {
        let source = path.display().to_string();
        if bytes.starts_with(&WEIGHTS_MAGIC) {
            return Err(corrupt(
                path,
                "holds a model's weights only (written by `export --format postcard`); a run \
                 cannot resume from it",
            ));
        }
        let (header, body): (Header, Body) = decode(bytes, &source)?;
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
        Self::from_bytes(&read_file(path)?, path)
    }
}

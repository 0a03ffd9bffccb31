//! The checkpoint file format: postcard bytes with a magic number, a format version, the
//! model they belong to and a CRC-32, written atomically; the body is any serialisable value
//! (a run's state is the trainer's `Checkpoint`). Also named tensors and PyTorch safetensors.
//!
//! Layout: `postcard(Header) ++ postcard(Body) ++ crc32(all preceding bytes, little-endian)`.
//! The header is read and checked first, so a file of another kind, another version or
//! another model is refused before its body is parsed.

mod atomic;
pub mod pytorch;
mod tensors;

use std::path::Path;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub use atomic::{older_version, remove_stale_temps, write_atomic, write_atomic_keeping};
pub use tensors::{load_named, named_tensor_names, named_tensors, NamedTensor};

use crate::models::ModelName;
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

/// The error for a bad checkpoint file at `path`.
pub fn corrupt(path: &Path, reason: impl Into<String>) -> Error {
    Error::Checkpoint { path: path.display().to_string(), reason: reason.into() }
}

impl Header {
    /// The header for `model` in this format version.
    pub fn new(model: ModelName, in_channels: usize, classes: usize) -> Self {
        Header { magic: MAGIC, version: VERSION, model, in_channels, classes }
    }

    /// Checks that the file (`path`, for errors) is of `model` with `in_channels` and `classes`.
    pub fn expect_model(
        &self,
        model: ModelName,
        in_channels: usize,
        classes: usize,
        path: &Path,
    ) -> Result<(), Error> {
        if (self.model, self.in_channels, self.classes) != (model, in_channels, classes) {
            return Err(corrupt(
                path,
                format!(
                    "checkpoint is of {} ({} input channels, {} classes), not of {model} ({in_channels}, {classes})",
                    self.model, self.in_channels, self.classes
                ),
            ));
        }
        Ok(())
    }
}

/// The file's bytes: `header`, then `body`, then the CRC.
pub fn encode<B: Serialize>(header: &Header, body: &B) -> Result<Vec<u8>, Error> {
    let encode = |e: postcard::Error| Error::Checkpoint { path: "checkpoint".into(), reason: e.to_string() };
    let mut bytes = postcard::to_stdvec(header).map_err(encode)?;
    bytes.extend(postcard::to_stdvec(body).map_err(encode)?);
    let crc = crc32fast::hash(&bytes);
    bytes.extend_from_slice(&crc.to_le_bytes());
    Ok(bytes)
}

/// Parses a file's bytes, checking magic, version and CRC; `path` names it in errors.
pub fn decode<B: DeserializeOwned>(bytes: &[u8], path: &Path) -> Result<(Header, B), Error> {
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
    let (body, left) = postcard::take_from_bytes::<B>(&rest[..body_len])
        .map_err(|e| corrupt(path, format!("checkpoint body is corrupt ({e})")))?;
    if !left.is_empty() {
        return Err(corrupt(path, "checkpoint has trailing bytes"));
    }
    Ok((header, body))
}

/// A checkpoint file's bytes, refused unread when larger than [`MAX_BYTES`].
pub fn read_file(path: &Path) -> Result<Vec<u8>, Error> {
    let len = std::fs::metadata(path).map_err(|e| Error::io(path, "open", &e))?.len();
    if len > MAX_BYTES {
        return Err(corrupt(
            path,
            format!("{len} bytes is larger than any checkpoint ({MAX_BYTES} at most)"),
        ));
    }
    std::fs::read(path).map_err(|e| Error::io(path, "read", &e))
}

//! The checkpoint file format: postcard bytes with a magic number, a format version, the
//! model they belong to and a CRC-32; the body is any serialisable value (a run's state is
//! the trainer's `Checkpoint`; a weights-only file, [`WEIGHTS_MAGIC`], holds the model's
//! named tensors alone). Also, with `std`: atomic writes, named tensors out of and into
//! dfdx models, PyTorch safetensors.
//!
//! Layout: `postcard(Header) ++ postcard(Body) ++ crc32(all preceding bytes, little-endian)`.
//! The header is read and checked first, so a file of another kind, another version or
//! another model is refused before its body is parsed. Decoding needs no `std`.

#[cfg(feature = "std")]
mod atomic;
#[cfg(feature = "std")]
pub mod pytorch;
mod tensor_views;
#[cfg(feature = "std")]
mod tensors;

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
#[cfg(feature = "std")]
use std::path::Path;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

#[cfg(feature = "std")]
pub use atomic::{older_version, remove_stale_temps, write_atomic, write_atomic_keeping};
pub use tensor_views::{tensor_views, Floats, TensorView};
#[cfg(feature = "std")]
pub use tensors::{load_named, named_tensor_names, named_tensors, NamedTensor};

use crate::models::ModelName;
use crate::Error;

/// First bytes of every checkpoint.
pub const MAGIC: [u8; 8] = *b"RESNDFDX";
/// First bytes of a weights-only file (`resnet-tui export --format postcard`).
pub const WEIGHTS_MAGIC: [u8; 8] = *b"RESNWGTS";
/// The format version this build writes and reads.
pub const VERSION: u32 = 1;
/// The most bytes a checkpoint may have (ResNet-152 with momentum is about 500 MB).
pub const MAX_BYTES: u64 = 4 << 30;

/// What a file of this format holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A run's whole state ([`MAGIC`]).
    Checkpoint,
    /// A model's named tensors only ([`WEIGHTS_MAGIC`]).
    Weights,
}

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

/// The error for a bad checkpoint file named `source`.
pub fn corrupt_in(source: &str, reason: impl Into<String>) -> Error {
    Error::Checkpoint { path: source.into(), reason: reason.into() }
}

/// The error for a bad checkpoint file at `path`.
#[cfg(feature = "std")]
pub fn corrupt(path: &Path, reason: impl Into<String>) -> Error {
    corrupt_in(&path.display().to_string(), reason)
}

impl Header {
    /// The header of a checkpoint of `model` in this format version.
    pub fn new(model: ModelName, in_channels: usize, classes: usize) -> Self {
        Header { magic: MAGIC, version: VERSION, model, in_channels, classes }
    }

    /// The header of a weights-only file of `model` in this format version.
    pub fn weights(model: ModelName, in_channels: usize, classes: usize) -> Self {
        Header { magic: WEIGHTS_MAGIC, ..Self::new(model, in_channels, classes) }
    }

    /// What the file holds, by its magic number.
    pub fn kind(&self) -> Option<Kind> {
        match self.magic {
            MAGIC => Some(Kind::Checkpoint),
            WEIGHTS_MAGIC => Some(Kind::Weights),
            _ => None,
        }
    }

    /// Checks that the file (`source`, for errors) is of `model` with `in_channels` and
    /// `classes`.
    pub fn expect_model(
        &self,
        model: ModelName,
        in_channels: usize,
        classes: usize,
        source: &str,
    ) -> Result<(), Error> {
        if (self.model, self.in_channels, self.classes) != (model, in_channels, classes) {
            return Err(corrupt_in(
                source,
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
    let encode = |e: postcard::Error| corrupt_in("checkpoint", e.to_string());
    let mut bytes = postcard::to_allocvec(header).map_err(encode)?;
    bytes.extend(postcard::to_allocvec(body).map_err(encode)?);
    let crc = crc32fast::hash(&bytes);
    bytes.extend_from_slice(&crc.to_le_bytes());
    Ok(bytes)
}

/// Checks a file's framing (magic, version, size, CRC) and splits it into its header and
/// its body's bytes; `source` names it in errors.
pub fn frame<'a>(bytes: &'a [u8], source: &str) -> Result<(Header, &'a [u8]), Error> {
    if bytes.starts_with(&crate::quant::INT8_MAGIC) {
        return Err(corrupt_in(
            source,
            "is an int8 model (run it with resnet_core::quant); this reads f32 checkpoints and weights files",
        ));
    }
    if !bytes.starts_with(&MAGIC) && !bytes.starts_with(&WEIGHTS_MAGIC) {
        return Err(corrupt_in(source, "not a resnet-dfdx checkpoint (bad magic number)"));
    }
    if bytes.len() as u64 > MAX_BYTES {
        return Err(corrupt_in(source, too_large(bytes.len() as u64)));
    }
    let (header, rest) = postcard::take_from_bytes::<Header>(bytes)
        .map_err(|_| corrupt_in(source, "checkpoint header is truncated or corrupt"))?;
    if header.version != VERSION {
        return Err(corrupt_in(
            source,
            format!(
                "checkpoint format version {} is not supported (this build reads {VERSION})",
                header.version
            ),
        ));
    }
    let Some(body_len) = rest.len().checked_sub(4) else {
        return Err(corrupt_in(source, "checkpoint is truncated"));
    };
    let (payload, crc) = bytes.split_at(bytes.len() - 4);
    let stored = u32::from_le_bytes([crc[0], crc[1], crc[2], crc[3]]);
    if crc32fast::hash(payload) != stored {
        return Err(corrupt_in(source, "checkpoint is truncated or corrupt (checksum mismatch)"));
    }
    Ok((header, &rest[..body_len]))
}

/// Parses a file's bytes, checking magic, version and CRC; `source` names it in errors.
pub fn decode<B: DeserializeOwned>(bytes: &[u8], source: &str) -> Result<(Header, B), Error> {
    let (header, body) = frame(bytes, source)?;
    let (body, left) = postcard::take_from_bytes::<B>(body)
        .map_err(|e| corrupt_in(source, format!("checkpoint body is corrupt ({e})")))?;
    if !left.is_empty() {
        return Err(corrupt_in(source, "checkpoint has trailing bytes"));
    }
    Ok((header, body))
}

fn too_large(len: u64) -> String {
    format!("{len} bytes is larger than any checkpoint ({MAX_BYTES} at most)")
}

/// A checkpoint file's bytes, refused unread when larger than [`MAX_BYTES`].
#[cfg(feature = "std")]
pub fn read_file(path: &Path) -> Result<Vec<u8>, Error> {
    let len = std::fs::metadata(path).map_err(|e| Error::io(path, "open", &e))?.len();
    if len > MAX_BYTES {
        return Err(corrupt(path, too_large(len)));
    }
    std::fs::read(path).map_err(|e| Error::io(path, "read", &e))
}

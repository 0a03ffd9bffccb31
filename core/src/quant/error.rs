//! [`Int8Error`]: why an int8 model file, or a call that runs one, is refused: a one-line
//! reason built without allocating, so that a firmware with no heap can print it.

use core::fmt;

/// What is wrong with an int8 model file or with the buffers handed to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Int8Error {
    /// The file is an `f32` checkpoint or weights file.
    Float,
    /// The file is not a resnet-dfdx model at all.
    BadMagic,
    /// The file's format version is not this build's.
    Version(u32),
    /// The file ends before its last field.
    Truncated,
    /// The CRC-32 does not match the bytes.
    Checksum,
    /// The bytes after the last step are not the checksum.
    TrailingBytes,
    /// Step `step` (0-based; the header is `None`) holds a value no quantizer writes.
    Invalid {
        /// Which step, or `None` for the header.
        step: Option<usize>,
        /// What is wrong, e.g. "multiplier out of range".
        reason: &'static str,
    },
    /// The activation arena the caller gave is smaller than the model needs.
    Arena {
        /// Bytes the model needs.
        needed: usize,
        /// Bytes given.
        given: usize,
    },
    /// The image does not have the model's (C, H, W).
    Input {
        /// Values the model takes.
        expected: usize,
        /// Values given.
        found: usize,
    },
    /// The logits buffer does not have one value per class.
    Logits {
        /// Classes of the model.
        expected: usize,
        /// Length given.
        found: usize,
    },
}

impl fmt::Display for Int8Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Int8Error::Float => f.write_str(
                "this is an f32 checkpoint or weights file, not an int8 model \
                 (make one with `resnet-tui export --format postcard --quantize int8`)",
            ),
            Int8Error::BadMagic => f.write_str("not a resnet-dfdx int8 model (bad magic number)"),
            Int8Error::Version(v) => {
                write!(
                    f,
                    "int8 model format version {v} is not supported (this build reads {})",
                    super::VERSION
                )
            }
            Int8Error::Truncated => f.write_str("int8 model is truncated"),
            Int8Error::Checksum => f.write_str("int8 model is truncated or corrupt (checksum mismatch)"),
            Int8Error::TrailingBytes => f.write_str("int8 model has trailing bytes"),
            Int8Error::Invalid { step: Some(step), reason } => {
                write!(f, "int8 model is corrupt: step {step}: {reason}")
            }
            Int8Error::Invalid { step: None, reason } => write!(f, "int8 model is corrupt: header: {reason}"),
            Int8Error::Arena { needed, given } => {
                write!(f, "the activation arena has {given} bytes; this int8 model needs {needed}")
            }
            Int8Error::Input { expected, found } => {
                write!(f, "the image holds {found} values; this int8 model takes {expected} (C×H×W)")
            }
            Int8Error::Logits { expected, found } => {
                write!(f, "the logits buffer holds {found} values; this int8 model has {expected} classes")
            }
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for Int8Error {}

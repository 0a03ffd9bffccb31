//! The crate's one error type.

use core::fmt;

/// Everything that can go wrong in `resnet-core`, with the context needed to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A shape was written wrongly (e.g. `1x1x0x5` or `cat`).
    InvalidShape {
        /// What the user wrote.
        input: alloc::string::String,
        /// Why it is not a shape.
        reason: &'static str,
    },
    /// A layer got a tensor whose rank it does not take.
    Rank {
        /// The layer.
        layer: &'static str,
        /// The rank it takes.
        expected: usize,
        /// The rank it got.
        found: usize,
    },
    /// A layer got a different number of channels (or features) than it takes.
    Channels {
        /// The layer.
        layer: &'static str,
        /// Channels it takes.
        expected: usize,
        /// Channels it got.
        found: usize,
    },
    /// The (padded) input is smaller than a window, so the output would be empty.
    TooSmall {
        /// The layer.
        layer: &'static str,
        /// Input height and width.
        input: (usize, usize),
        /// Kernel side.
        kernel: usize,
        /// Padding on each side.
        padding: usize,
    },
    /// A layer that needs a 1×1 spatial input got a larger one.
    NotFlat {
        /// The layer.
        layer: &'static str,
        /// The spatial size it got.
        found: (usize, usize),
    },
    /// The two branches of a residual block produce different shapes.
    Branches {
        /// Output shape of the main path.
        main: alloc::vec::Vec<usize>,
        /// Output shape of the shortcut.
        shortcut: alloc::vec::Vec<usize>,
    },
    /// A value the model types are not compiled for (models are types, so each input
    /// channel count and class count must be instantiated ahead of time).
    Unsupported {
        /// What the value is.
        what: &'static str,
        /// The value asked for.
        value: usize,
        /// The values that are available, in words.
        supported: &'static str,
    },
    /// The model name is not one this crate knows.
    UnknownModel {
        /// What was asked for.
        name: alloc::string::String,
        /// The names that exist.
        known: &'static [&'static str],
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidShape { input, reason } => write!(f, "invalid shape `{input}`: {reason}"),
            Error::Rank { layer, expected, found } => {
                write!(f, "{layer} takes a rank-{expected} input, got rank {found}")
            }
            Error::Channels { layer, expected, found } => {
                write!(f, "{layer} expects {expected} input channels, got {found}")
            }
            Error::TooSmall { layer, input: (h, w), kernel, padding } => write!(
                f,
                "{layer}: a {h}x{w} input is smaller than its {kernel}x{kernel} window \
                 (padding {padding}); use a larger input"
            ),
            Error::NotFlat { layer, found: (h, w) } => {
                write!(f, "{layer} takes a 1x1 spatial input, got {h}x{w}")
            }
            Error::Branches { main, shortcut } => {
                write!(f, "residual branches disagree: main path gives {main:?}, shortcut gives {shortcut:?}")
            }
            Error::Unsupported { what, value, supported } => {
                write!(f, "{value} {what} is not available; use {supported}")
            }
            Error::UnknownModel { name, known } => {
                write!(f, "unknown model `{name}`; known models: {}", known.join(", "))
            }
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for Error {}

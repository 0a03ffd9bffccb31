//! The crate's one error type.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// Everything that can go wrong in `resnet-core`, with the context needed to fix it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// A shape was written wrongly (e.g. `1x1x0x5` or `cat`).
    InvalidShape {
        /// What the user wrote.
        input: String,
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
    /// Images whose length is not the one their shape says.
    InputLength {
        /// The shape given, (N, C, H, W).
        shape: [usize; 4],
        /// Values the images hold.
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
        main: Vec<usize>,
        /// Output shape of the shortcut.
        shortcut: Vec<usize>,
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
    /// A model cannot be quantized to int8.
    Quantize {
        /// Why, e.g. "a residual block with a ReLU before its add".
        reason: String,
    },
    /// An int8 model file is refused, or the buffers given to it do not fit.
    Int8Model {
        /// The file.
        path: String,
        /// What is wrong.
        error: crate::quant::Int8Error,
    },
    /// A file could not be opened, read, written or renamed.
    Io {
        /// The file.
        path: String,
        /// What was being done (`read`, `write`, ...).
        action: &'static str,
        /// The operating system's reason.
        reason: String,
    },
    /// A data file does not start with the magic number of its kind.
    BadMagic {
        /// The file.
        path: String,
        /// The magic number expected (2051 for IDX images, 2049 for labels).
        expected: u32,
        /// The number found.
        found: u32,
    },
    /// A field of a data file's header is not what the dataset needs.
    BadHeader {
        /// The file.
        path: String,
        /// The field (`rows`, `columns`, `count`, ...).
        field: &'static str,
        /// What it must be, in words.
        expected: String,
        /// What it is.
        found: u64,
    },
    /// A file is shorter (or longer) than its header declares.
    Truncated {
        /// The file.
        path: String,
        /// Bytes the header declares.
        expected: u64,
        /// Bytes present.
        found: u64,
    },
    /// The image and label files of a split disagree on how many examples there are.
    CountMismatch {
        /// The images file.
        images: String,
        /// The labels file.
        labels: String,
        /// Images in the images file.
        image_count: usize,
        /// Labels in the labels file.
        label_count: usize,
    },
    /// A label is outside 0..10.
    BadLabel {
        /// The labels file.
        path: String,
        /// The example's index.
        index: usize,
        /// The label found.
        label: u8,
    },
    /// No copy of the dataset was found and it could not be downloaded.
    DataNotFound {
        /// Every place tried, with why it failed.
        tried: Vec<String>,
    },
    /// A download failed.
    Download {
        /// The address.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// Downloaded or cached bytes do not have the published checksum.
    Checksum {
        /// The file.
        path: String,
        /// The published MD5.
        expected: String,
        /// The MD5 of the bytes received.
        found: String,
    },
    /// A checkpoint (or weights file) cannot be used.
    Checkpoint {
        /// The file.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A tensor in a checkpoint or weights file has the wrong shape for this model.
    TensorShape {
        /// The file.
        path: String,
        /// The tensor's name.
        name: String,
        /// The shape the model has.
        expected: Vec<usize>,
        /// The shape in the file.
        found: Vec<usize>,
    },
    /// A setting is out of range (e.g. a batch size of 0).
    Config {
        /// The setting.
        field: &'static str,
        /// Why the value is not allowed.
        reason: String,
    },
    /// A resumed run was asked to change its saved recipe.
    ResumeChanges {
        /// The checkpoint.
        path: String,
        /// Each changed setting with its saved and requested value.
        changes: String,
    },
    /// The compute device failed (e.g. out of memory).
    Device {
        /// The device's own message.
        reason: String,
    },
    /// Training produced a non-finite loss.
    Diverged {
        /// The epoch (1-based).
        epoch: usize,
        /// The step within the run (1-based).
        step: usize,
        /// The loss value.
        loss: f32,
    },
    /// A weight became infinite or NaN (found before saving it).
    NonFiniteWeights {
        /// Epoch, from 1.
        epoch: usize,
        /// Steps so far.
        step: u64,
    },
    /// The model name is not one this crate knows.
    UnknownModel {
        /// What was asked for.
        name: String,
        /// The names that exist.
        known: &'static [&'static str],
    },
    /// A flavour name that does not exist.
    UnknownFlavor {
        /// What was asked for.
        name: String,
    },
    /// A model that does not come in the flavour asked for.
    NoSuchFlavor {
        /// The model.
        model: &'static str,
        /// The flavour asked for.
        flavor: &'static str,
        /// The flavours it has.
        has: &'static str,
    },
    /// A model (of the d2l flavour) with no PyTorch counterpart whose `state_dict()` names we could write.
    NoPyTorchLayout {
        /// The model, as displayed.
        model: String,
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
            Error::InputLength { shape: [n, c, h, w], found } => write!(
                f,
                "the images hold {found} values, but shape {n}x{c}x{h}x{w} needs {} (N×C×H×W, none 0)",
                n.saturating_mul(*c).saturating_mul(*h).saturating_mul(*w)
            ),
            Error::Quantize { reason } => write!(f, "cannot quantize to int8: {reason}"),
            Error::Int8Model { path, error } => write!(f, "{path}: {error}"),
            Error::Io { path, action, reason } => write!(f, "cannot {action} {path}: {reason}"),
            Error::BadMagic { path, expected, found } => write!(
                f,
                "{path}: not an IDX file of the expected kind (magic number {found}, expected {expected})"
            ),
            Error::BadHeader { path, field, expected, found } => {
                write!(f, "{path}: header field `{field}` is {found}, expected {expected}")
            }
            Error::Truncated { path, expected, found } => write!(
                f,
                "{path}: {found} bytes of data where the header declares {expected}; the file is truncated or corrupt"
            ),
            Error::CountMismatch { images, labels, image_count, label_count } => write!(
                f,
                "{images} has {image_count} images but {labels} has {label_count} labels"
            ),
            Error::BadLabel { path, index, label } => {
                write!(f, "{path}: label {label} of example {index} is outside 0..10")
            }
            Error::DataNotFound { tried } => write!(
                f,
                "Fashion-MNIST not found (tried: {}); install the Debian package dataset-fashion-mnist, \
                 or pass --data-dir DIR with the four IDX files, or allow the download",
                tried.join("; ")
            ),
            Error::Download { url, reason } => write!(f, "download of {url} failed: {reason}"),
            Error::Checksum { path, expected, found } => {
                write!(f, "{path}: MD5 {found} does not match the published {expected}; the file is corrupt")
            }
            Error::Checkpoint { path, reason } => write!(f, "{path}: {reason}"),
            Error::TensorShape { path, name, expected, found } => write!(
                f,
                "{path}: tensor `{name}` has shape {found:?}, this model needs {expected:?}"
            ),
            Error::Config { field, reason } => write!(f, "invalid {field}: {reason}"),
            Error::ResumeChanges { path, changes } => write!(
                f,
                "cannot resume {path} with another recipe: {changes} (only the epochs may change; \
                 for a new recipe, start a new run with another checkpoint file)"
            ),
            Error::Device { reason } => write!(f, "device error: {reason}"),
            Error::Diverged { epoch, step, loss } => write!(
                f,
                "training diverged: loss {loss} at epoch {epoch}, step {step}; lower the learning rate"
            ),
            Error::NonFiniteWeights { epoch, step } => write!(
                f,
                "training diverged: weights are no longer finite at epoch {epoch}, step {step}; lower the learning rate"
            ),
            Error::UnknownModel { name, known } => {
                write!(f, "unknown model `{name}`; known models: {}", known.join(", "))
            }
            Error::UnknownFlavor { name } => {
                write!(f, "unknown flavor `{name}`; use d2l (the chapter's) or torchvision")
            }
            Error::NoSuchFlavor { model, flavor, has } => {
                write!(f, "{model} has no {flavor} flavor; it comes in the {has} flavor only")
            }
            Error::NoPyTorchLayout { model } => write!(
                f,
                "{model} (d2l flavor) has no PyTorch counterpart; export and import work for the d2l resnet18 and every torchvision model"
            ),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for Error {}

#[cfg(feature = "std")]
impl Error {
    /// An [`Error::Io`] for `path`.
    pub fn io(path: &std::path::Path, action: &'static str, e: &std::io::Error) -> Self {
        Error::Io { path: path.display().to_string(), action, reason: e.to_string() }
    }
}

impl From<dfdx::tensor::CpuError> for Error {
    fn from(e: dfdx::tensor::CpuError) -> Self {
        Error::Device { reason: alloc::format!("{e}") }
    }
}

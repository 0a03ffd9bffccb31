//! Models as types: the chapter's [`ResNet18`], built from a [`Stem`], [`Stage`]s of
//! residual blocks ([`ResnetBlock`] mirrors d2l's `resnet_block`) and a [`Head`].

mod catalog;
mod head;
mod resnet18;
mod stage;

pub use catalog::{ModelName, SUPPORTED_CHANNELS, SUPPORTED_CLASSES};
pub use head::{Head, HeadModule};
pub use resnet18::{ResNet18, Stem};
pub use stage::{FirstResnetBlock, ResnetBlock, Stage, StageModule};

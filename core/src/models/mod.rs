//! Models as types: the chapter's [`ResNet18`] and the exercises' family ([`d2l`]: ResNet-34
//! to -152 and pre-activation versions), torchvision's layout ([`torchvision`]), built from
//! a stem ([`Stem`], [`TvStem`]), [`Stage`]s of residual blocks ([`ResnetBlock`] mirrors
//! d2l's `resnet_block`) and a [`Head`] ([`PreActHead`]). [`ModelName`] names them all.

mod catalog;
pub mod d2l;
mod head;
mod stage;
mod stage_kinds;
mod stem;
pub mod torchvision;

pub(crate) use catalog::with_model;
pub use catalog::{Arch, Flavor, ModelName};
pub use d2l::{Plain18, Plain34, ResNet18, ResNet8};
pub use head::{Head, HeadModule, PreActHead, PreActHeadModule};
pub use stage::{Stage, StageModule};
pub use stage_kinds::{
    BasicLayer, BottleneckBlock, BottleneckLayer, FirstBasicLayer, FirstPlainBlock, FirstPreActBlock,
    FirstResnetBlock, PlainBlock, PreActBlock, PreActBottleneckBlock, ResnetBlock,
};
pub use stem::{Stem, TinyStem, TvStem};

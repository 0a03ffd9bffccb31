//! The models by name, as a command line takes them (`resnet50`, flavour `torchvision`),
//! their shape tables for input channel and class counts known only at run time, and
//! [`with_model!`], which runs generic code on the model type a name stands for.

use alloc::vec::Vec;
use core::fmt;
use core::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::summary::{Dims, ModelShape, Node, Row};
use crate::Error;

/// An architecture of the paper's Table 1 or its pre-activation version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Arch {
    /// 18 layers, basic blocks [2, 2, 2, 2].
    ResNet18,
    /// 34 layers, basic blocks [3, 4, 6, 3].
    ResNet34,
    /// 50 layers, bottlenecks [3, 4, 6, 3].
    ResNet50,
    /// 101 layers, bottlenecks [3, 4, 23, 3].
    ResNet101,
    /// 152 layers, bottlenecks [3, 8, 36, 3].
    ResNet152,
    /// ResNet-18 with pre-activation blocks.
    PreActResNet18,
    /// ResNet-50 with pre-activation bottlenecks.
    PreActResNet50,
}

impl Arch {
    /// Every architecture, in menu order.
    pub const ALL: &'static [Arch] = &[
        Arch::ResNet18,
        Arch::ResNet34,
        Arch::ResNet50,
        Arch::ResNet101,
        Arch::ResNet152,
        Arch::PreActResNet18,
        Arch::PreActResNet50,
    ];
    /// Every architecture's name.
    pub const NAMES: &'static [&'static str] =
        &["resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "preact-resnet18", "preact-resnet50"];

    /// The name a command line takes (`resnet50`).
    pub const fn as_str(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    /// Whether it has a torchvision flavour (torchvision has no pre-activation ResNets).
    pub const fn in_torchvision(self) -> bool {
        !matches!(self, Arch::PreActResNet18 | Arch::PreActResNet50)
    }
}

/// How a model is built: the chapter's way or torchvision's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Flavor {
    /// The chapter's: convolutions with bias, 1×1-conv shortcuts without batch norm,
    /// bottlenecks strided on their first 1×1 convolution as in the paper.
    #[default]
    D2l,
    /// torchvision's: convolutions without bias, projection shortcuts (1×1 conv + batch
    /// norm), bottlenecks strided on their 3×3 convolution ("v1.5").
    Torchvision,
}

impl Flavor {
    /// The name a command line takes.
    pub const fn as_str(self) -> &'static str {
        match self {
            Flavor::D2l => "d2l",
            Flavor::Torchvision => "torchvision",
        }
    }
}

/// A model of this crate: an architecture in a flavour.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "Stored", try_from = "Stored")]
pub struct ModelName {
    arch: Arch,
    flavor: Flavor,
}

impl ModelName {
    /// The chapter's ResNet-18.
    pub const RESNET18: ModelName = ModelName { arch: Arch::ResNet18, flavor: Flavor::D2l };

    /// Every model, in the order a menu lists them: each architecture in the chapter's
    /// flavour, then torchvision's.
    pub const ALL: &'static [ModelName] = &{
        let mut all = [Self::RESNET18; 12];
        let mut i = 0;
        while i < Stored::ALL.len() {
            all[i] = Stored::ALL[i].model();
            i += 1;
        }
        all
    };

    /// `arch` in `flavor`, or why it does not exist.
    pub fn new(arch: Arch, flavor: Flavor) -> Result<Self, Error> {
        if flavor == Flavor::Torchvision && !arch.in_torchvision() {
            return Err(Error::NoSuchFlavor { model: arch.as_str(), flavor: flavor.as_str(), has: "d2l" });
        }
        Ok(Self { arch, flavor })
    }

    /// The architecture.
    pub const fn arch(self) -> Arch {
        self.arch
    }

    /// The flavour.
    pub const fn flavor(self) -> Flavor {
        self.flavor
    }

    /// The shape table of this model for `input` (N, C, H, W) and `classes` outputs; the
    /// model's input channels are the input's C.
    pub fn table(self, input: Dims, classes: usize) -> Result<Vec<Row>, Error> {
        let [_, channels, _, _] = input.nchw("the model")?;
        with_model!(self, M => dispatch!(M::table, input, channels, classes))
    }

    /// The table's rows with the structure of each block below it (see
    /// [`ModelShape::outline`]).
    pub fn outline(self, input: Dims, classes: usize) -> Result<Vec<Node>, Error> {
        let [_, channels, _, _] = input.nchw("the model")?;
        with_model!(self, M => dispatch!(M::outline, input, channels, classes))
    }
}

impl Default for ModelName {
    fn default() -> Self {
        Self::RESNET18
    }
}

impl FromStr for Arch {
    type Err = Error;

    fn from_str(name: &str) -> Result<Self, Error> {
        Arch::ALL
            .iter()
            .copied()
            .find(|m| m.as_str().eq_ignore_ascii_case(name.trim()))
            .ok_or_else(|| Error::UnknownModel { name: name.into(), known: Arch::NAMES })
    }
}

impl FromStr for Flavor {
    type Err = Error;

    fn from_str(name: &str) -> Result<Self, Error> {
        [Flavor::D2l, Flavor::Torchvision]
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(name.trim()))
            .ok_or_else(|| Error::UnknownFlavor { name: name.into() })
    }
}

/// `resnet50` for the chapter's flavour, `resnet50 (torchvision)` for torchvision's.
impl fmt::Display for ModelName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.arch.as_str())?;
        match self.flavor {
            Flavor::D2l => Ok(()),
            Flavor::Torchvision => f.write_str(" (torchvision)"),
        }
    }
}

/// How a [`ModelName`] is stored (checkpoints, JSON): one variant a model, ResNet-18 first,
/// so that files written when it was the only model still read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
enum Stored {
    #[serde(rename = "resnet18")]
    ResNet18,
    #[serde(rename = "resnet34")]
    ResNet34,
    #[serde(rename = "resnet50")]
    ResNet50,
    #[serde(rename = "resnet101")]
    ResNet101,
    #[serde(rename = "resnet152")]
    ResNet152,
    #[serde(rename = "preact-resnet18")]
    PreActResNet18,
    #[serde(rename = "preact-resnet50")]
    PreActResNet50,
    #[serde(rename = "torchvision-resnet18")]
    TvResNet18,
    #[serde(rename = "torchvision-resnet34")]
    TvResNet34,
    #[serde(rename = "torchvision-resnet50")]
    TvResNet50,
    #[serde(rename = "torchvision-resnet101")]
    TvResNet101,
    #[serde(rename = "torchvision-resnet152")]
    TvResNet152,
}

impl Stored {
    const ALL: [Stored; 12] = [
        Stored::ResNet18,
        Stored::ResNet34,
        Stored::ResNet50,
        Stored::ResNet101,
        Stored::ResNet152,
        Stored::PreActResNet18,
        Stored::PreActResNet50,
        Stored::TvResNet18,
        Stored::TvResNet34,
        Stored::TvResNet50,
        Stored::TvResNet101,
        Stored::TvResNet152,
    ];

    /// The model: the first seven are [`Arch::ALL`] in the chapter's flavour, the rest the
    /// torchvision ones in the same order.
    const fn model(self) -> ModelName {
        let i = self as usize;
        if i < Arch::ALL.len() {
            ModelName { arch: Arch::ALL[i], flavor: Flavor::D2l }
        } else {
            ModelName { arch: Arch::ALL[i - Arch::ALL.len()], flavor: Flavor::Torchvision }
        }
    }
}

impl From<ModelName> for Stored {
    fn from(m: ModelName) -> Stored {
        let i = m.arch as usize + if m.flavor == Flavor::D2l { 0 } else { Arch::ALL.len() };
        Stored::ALL.get(i).copied().unwrap_or(Stored::ResNet18)
    }
}

impl TryFrom<Stored> for ModelName {
    type Error = Error;

    fn try_from(s: Stored) -> Result<ModelName, Error> {
        let m = s.model();
        ModelName::new(m.arch, m.flavor)
    }
}

/// Input channel counts the tables are instantiated for.
pub const SUPPORTED_CHANNELS: &str = "1, 2, 3 or 4 input channels";
/// Class counts the tables are instantiated for.
pub const SUPPORTED_CLASSES: &str = "1 to 10, 100 or 1000 classes";

/// Evaluates `$body` with `$m` a generic alias `$m<IN, CLASSES>` of the model type that the
/// [`ModelName`] `$name` stands for; `$body` is a `Result<_, Error>`.
macro_rules! with_model {
    ($name:expr, $m:ident => $body:expr) => {{
        use $crate::models::{d2l, torchvision, Arch, Flavor};
        match ($name.arch(), $name.flavor()) {
            (Arch::ResNet18, Flavor::D2l) => with_model!(@as $m = d2l::ResNet18, $body),
            (Arch::ResNet34, Flavor::D2l) => with_model!(@as $m = d2l::ResNet34, $body),
            (Arch::ResNet50, Flavor::D2l) => with_model!(@as $m = d2l::ResNet50, $body),
            (Arch::ResNet101, Flavor::D2l) => with_model!(@as $m = d2l::ResNet101, $body),
            (Arch::ResNet152, Flavor::D2l) => with_model!(@as $m = d2l::ResNet152, $body),
            (Arch::PreActResNet18, Flavor::D2l) => with_model!(@as $m = d2l::PreActResNet18, $body),
            (Arch::PreActResNet50, Flavor::D2l) => with_model!(@as $m = d2l::PreActResNet50, $body),
            (Arch::ResNet18, Flavor::Torchvision) => with_model!(@as $m = torchvision::ResNet18, $body),
            (Arch::ResNet34, Flavor::Torchvision) => with_model!(@as $m = torchvision::ResNet34, $body),
            (Arch::ResNet50, Flavor::Torchvision) => with_model!(@as $m = torchvision::ResNet50, $body),
            (Arch::ResNet101, Flavor::Torchvision) => with_model!(@as $m = torchvision::ResNet101, $body),
            (Arch::ResNet152, Flavor::Torchvision) => with_model!(@as $m = torchvision::ResNet152, $body),
            (arch @ (Arch::PreActResNet18 | Arch::PreActResNet50), flavor @ Flavor::Torchvision) => {
                Err($crate::Error::NoSuchFlavor { model: arch.as_str(), flavor: flavor.as_str(), has: "d2l" })
            }
        }
    }};
    (@as $m:ident = $($path:ident)::+, $body:expr) => {{
        #[allow(dead_code)]
        type $m<const IN: usize, const CLASSES: usize> = $($path)::+<IN, CLASSES>;
        $body
    }};
}
pub(crate) use with_model;

/// Expands to a match that calls `$model<IN, CLASSES>::$method` (of [`ModelShape`]) for the
/// supported values.
macro_rules! dispatch {
    ($model:ident :: $method:ident, $input:expr, $channels:expr, $classes:expr) => {
        match $channels {
            1 => dispatch!(@classes $model, $method, 1, $input, $classes),
            2 => dispatch!(@classes $model, $method, 2, $input, $classes),
            3 => dispatch!(@classes $model, $method, 3, $input, $classes),
            4 => dispatch!(@classes $model, $method, 4, $input, $classes),
            value => Err(Error::Unsupported { what: "input channels", value, supported: SUPPORTED_CHANNELS }),
        }
    };
    (@classes $model:ident, $method:ident, $in:literal, $input:expr, $classes:expr) => {
        dispatch!(@each $model, $method, $in, $input, $classes, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 100, 1000])
    };
    (@each $model:ident, $method:ident, $in:literal, $input:expr, $classes:expr, [$($k:literal),*]) => {
        match $classes {
            $($k => <$model<$in, $k> as ModelShape>::$method($input),)*
            value => Err(Error::Unsupported { what: "classes", value, supported: SUPPORTED_CLASSES }),
        }
    };
}
use dispatch;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_and_unknown_names_list_the_known_ones() {
        assert_eq!("resnet18".parse::<Arch>().unwrap(), Arch::ResNet18);
        assert_eq!("PreAct-ResNet50".parse::<Arch>().unwrap(), Arch::PreActResNet50);
        assert_eq!("torchvision".parse::<Flavor>().unwrap(), Flavor::Torchvision);
        let err = "vgg".parse::<Arch>().unwrap_err();
        assert_eq!(
            alloc::format!("{err}"),
            "unknown model `vgg`; known models: resnet18, resnet34, resnet50, resnet101, resnet152, \
             preact-resnet18, preact-resnet50"
        );
        let err = "keras".parse::<Flavor>().unwrap_err();
        assert_eq!(alloc::format!("{err}"), "unknown flavor `keras`; use d2l (the chapter's) or torchvision");
        let err = ModelName::new(Arch::PreActResNet18, Flavor::Torchvision).unwrap_err();
        assert_eq!(
            alloc::format!("{err}"),
            "preact-resnet18 has no torchvision flavor; it comes in the d2l flavor only"
        );
    }

    #[cfg(feature = "std")]
    #[test]
    fn every_model_is_listed_once_and_stored_by_a_stable_index() {
        assert_eq!(ModelName::ALL.len(), 12);
        for (i, m) in ModelName::ALL.iter().enumerate() {
            assert_eq!(ModelName::ALL.iter().position(|n| n == m), Some(i));
            let bytes = postcard::to_allocvec(m).unwrap();
            assert_eq!(bytes, [i as u8], "{m}");
            assert_eq!(postcard::from_bytes::<ModelName>(&bytes).unwrap(), *m);
        }
        // Index 0 is the chapter's ResNet-18, as in files written before the family existed.
        assert_eq!(postcard::from_bytes::<ModelName>(&[0]).unwrap(), ModelName::RESNET18);
        let tv50 = ModelName::new(Arch::ResNet50, Flavor::Torchvision).unwrap();
        assert_eq!(alloc::format!("{tv50}"), "resnet50 (torchvision)");
    }

    #[test]
    fn tables_follow_the_input_channels_and_class_count() {
        let rows = ModelName::RESNET18.table(Dims::of([1, 3, 224, 224]), 1000).unwrap();
        assert_eq!(rows[0].params, 3 * 64 * 49 + 64 + 128);
        assert_eq!(rows[7].output.as_slice(), &[1, 1000]);
        let err = ModelName::RESNET18.table(Dims::of([1, 5, 32, 32]), 10).unwrap_err();
        assert_eq!(
            alloc::format!("{err}"),
            "5 input channels is not available; use 1, 2, 3 or 4 input channels"
        );
        let err = ModelName::RESNET18.table(Dims::of([1, 1, 32, 32]), 11).unwrap_err();
        assert_eq!(alloc::format!("{err}"), "11 classes is not available; use 1 to 10, 100 or 1000 classes");
    }
}

//! The models by name, as a command line takes them (`resnet50`, flavour `torchvision`),
//! stored by a stable index, and [`with_model!`], which runs generic code on the model type
//! a name stands for (their shape tables by name are in the `summary` module).

use core::fmt;
use core::str::FromStr;

use serde::{Deserialize, Serialize};

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
    /// MLPerf Tiny's ResNet-8 for microcontrollers: a 3×3 stem of 16 channels, one basic
    /// block a stage on 16, 32, 64 channels.
    ResNet8,
    /// The paper's plain 18-layer network: ResNet-18 without shortcuts.
    Plain18,
    /// The paper's plain 34-layer network: ResNet-34 without shortcuts.
    Plain34,
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
        Arch::ResNet8,
        Arch::Plain18,
        Arch::Plain34,
    ];
    /// Every architecture's name.
    pub const NAMES: &'static [&'static str] = &[
        "resnet18",
        "resnet34",
        "resnet50",
        "resnet101",
        "resnet152",
        "preact-resnet18",
        "preact-resnet50",
        "resnet8",
        "plain18",
        "plain34",
    ];

    /// The name a command line takes (`resnet50`).
    pub const fn as_str(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    /// Whether it has a torchvision flavour (torchvision has no pre-activation ResNets, no
    /// ResNet-8 and no plain networks).
    pub const fn in_torchvision(self) -> bool {
        !matches!(
            self,
            Arch::PreActResNet18 | Arch::PreActResNet50 | Arch::ResNet8 | Arch::Plain18 | Arch::Plain34
        )
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
        let mut all = [Self::RESNET18; Stored::ALL.len()];
        let (mut i, mut n) = (0, 0);
        while i < 2 * Arch::ALL.len() {
            let arch = Arch::ALL[i % Arch::ALL.len()];
            if i < Arch::ALL.len() {
                all[n] = ModelName { arch, flavor: Flavor::D2l };
                n += 1;
            } else if arch.in_torchvision() {
                all[n] = ModelName { arch, flavor: Flavor::Torchvision };
                n += 1;
            }
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
    #[serde(rename = "resnet8")]
    ResNet8,
    #[serde(rename = "plain18")]
    Plain18,
    #[serde(rename = "plain34")]
    Plain34,
}

impl Stored {
    /// Every stored model, by its index in files; new models are appended.
    const ALL: [Stored; 15] = [
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
        Stored::ResNet8,
        Stored::Plain18,
        Stored::Plain34,
    ];

    /// The architecture and flavour stored as `self`.
    const fn model(self) -> ModelName {
        use {Arch as A, Flavor as F};
        let (arch, flavor) = match self {
            Stored::ResNet18 => (A::ResNet18, F::D2l),
            Stored::ResNet34 => (A::ResNet34, F::D2l),
            Stored::ResNet50 => (A::ResNet50, F::D2l),
            Stored::ResNet101 => (A::ResNet101, F::D2l),
            Stored::ResNet152 => (A::ResNet152, F::D2l),
            Stored::PreActResNet18 => (A::PreActResNet18, F::D2l),
            Stored::PreActResNet50 => (A::PreActResNet50, F::D2l),
            Stored::TvResNet18 => (A::ResNet18, F::Torchvision),
            Stored::TvResNet34 => (A::ResNet34, F::Torchvision),
            Stored::TvResNet50 => (A::ResNet50, F::Torchvision),
            Stored::TvResNet101 => (A::ResNet101, F::Torchvision),
            Stored::TvResNet152 => (A::ResNet152, F::Torchvision),
            Stored::ResNet8 => (A::ResNet8, F::D2l),
            Stored::Plain18 => (A::Plain18, F::D2l),
            Stored::Plain34 => (A::Plain34, F::D2l),
        };
        ModelName { arch, flavor }
    }
}

impl From<ModelName> for Stored {
    fn from(m: ModelName) -> Stored {
        Stored::ALL.iter().copied().find(|s| s.model() == m).unwrap_or(Stored::ResNet18)
    }
}

impl TryFrom<Stored> for ModelName {
    type Error = Error;

    fn try_from(s: Stored) -> Result<ModelName, Error> {
        let m = s.model();
        ModelName::new(m.arch, m.flavor)
    }
}

/// Evaluates `$body` with `$m` a generic alias `$m<IN, CLASSES>` of the model type that the
/// [`ModelName`] `$name` stands for; `$body` is a `Result<_, Error>`.
macro_rules! with_model {
    ($name:expr, $m:ident => $body:expr) => {
        with_model!(@match $name, $m, $body;
            d2l D2l: ResNet18 ResNet34 ResNet50 ResNet101 ResNet152 PreActResNet18 PreActResNet50 ResNet8
                Plain18 Plain34;
            torchvision Torchvision: ResNet18 ResNet34 ResNet50 ResNet101 ResNet152)
    };
    (@match $name:expr, $m:ident, $body:expr; $($module:ident $flavor:ident: $($arch:ident)+);+) => {{
        use $crate::models::{d2l, torchvision, Arch, Flavor};
        match ($name.arch(), $name.flavor()) {
            $($((Arch::$arch, Flavor::$flavor) => with_model!(@as $m = $module::$arch, $body),)+)+
            (
                arch @ (Arch::PreActResNet18
                | Arch::PreActResNet50
                | Arch::ResNet8
                | Arch::Plain18
                | Arch::Plain34),
                flavor @ Flavor::Torchvision,
            ) => {
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
             preact-resnet18, preact-resnet50, resnet8, plain18, plain34"
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
        assert_eq!(ModelName::ALL.len(), 15);
        for (i, m) in ModelName::ALL.iter().enumerate() {
            assert_eq!(ModelName::ALL.iter().position(|n| n == m), Some(i));
            let bytes = postcard::to_allocvec(m).unwrap();
            assert_eq!(postcard::from_bytes::<ModelName>(&bytes).unwrap(), *m);
        }
        // Stored indices never change: the chapter's models, torchvision's, ResNet-8, the plain networks.
        let stored: Vec<u8> = ModelName::ALL.iter().map(|m| postcard::to_allocvec(m).unwrap()[0]).collect();
        assert_eq!(stored, [0, 1, 2, 3, 4, 5, 6, 12, 13, 14, 7, 8, 9, 10, 11]);
        // Index 0 is the chapter's ResNet-18, as in files written before the family existed.
        assert_eq!(postcard::from_bytes::<ModelName>(&[0]).unwrap(), ModelName::RESNET18);
        let tv50 = ModelName::new(Arch::ResNet50, Flavor::Torchvision).unwrap();
        assert_eq!(alloc::format!("{tv50}"), "resnet50 (torchvision)");
    }
}

//! The models by name, as a command line takes them, and their shape tables for input
//! channel and class counts known only at run time.

use alloc::vec::Vec;
use core::fmt;
use core::str::FromStr;

use super::ResNet18;
use crate::summary::{Dims, ModelShape, Node, Row};
use crate::Error;

/// A model of this crate, by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelName {
    /// [`ResNet18`], the chapter's model.
    ResNet18,
}

impl ModelName {
    /// Every model, in the order a menu lists them.
    pub const ALL: &'static [ModelName] = &[ModelName::ResNet18];
    /// Every model's name.
    pub const NAMES: &'static [&'static str] = &["resnet18"];

    /// The name a command line takes (`resnet18`).
    pub const fn as_str(self) -> &'static str {
        match self {
            ModelName::ResNet18 => "resnet18",
        }
    }

    /// The shape table of this model for `input` (N, C, H, W) and `classes` outputs; the
    /// model's input channels are the input's C.
    pub fn table(self, input: Dims, classes: usize) -> Result<Vec<Row>, Error> {
        let [_, channels, _, _] = input.nchw("the model")?;
        match self {
            ModelName::ResNet18 => dispatch!(ResNet18::table, input, channels, classes),
        }
    }

    /// The table's rows with the structure of each block below it (see
    /// [`ModelShape::outline`]).
    pub fn outline(self, input: Dims, classes: usize) -> Result<Vec<Node>, Error> {
        let [_, channels, _, _] = input.nchw("the model")?;
        match self {
            ModelName::ResNet18 => dispatch!(ResNet18::outline, input, channels, classes),
        }
    }
}

impl FromStr for ModelName {
    type Err = Error;

    fn from_str(name: &str) -> Result<Self, Error> {
        ModelName::ALL
            .iter()
            .copied()
            .find(|m| m.as_str().eq_ignore_ascii_case(name.trim()))
            .ok_or_else(|| Error::UnknownModel { name: name.into(), known: ModelName::NAMES })
    }
}

impl fmt::Display for ModelName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Input channel counts the tables are instantiated for.
pub const SUPPORTED_CHANNELS: &str = "1, 2, 3 or 4 input channels";
/// Class counts the tables are instantiated for.
pub const SUPPORTED_CLASSES: &str = "1 to 10, 100 or 1000 classes";

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
        assert_eq!("resnet18".parse::<ModelName>().unwrap(), ModelName::ResNet18);
        assert_eq!("ResNet18".parse::<ModelName>().unwrap(), ModelName::ResNet18);
        let err = "vgg".parse::<ModelName>().unwrap_err();
        assert_eq!(alloc::format!("{err}"), "unknown model `vgg`; known models: resnet18");
    }

    #[test]
    fn tables_follow_the_input_channels_and_class_count() {
        let rows = ModelName::ResNet18.table(Dims::of([1, 3, 224, 224]), 1000).unwrap();
        assert_eq!(rows[0].params, 3 * 64 * 49 + 64 + 128);
        assert_eq!(rows[7].output.as_slice(), &[1, 1000]);
        let err = ModelName::ResNet18.table(Dims::of([1, 5, 32, 32]), 10).unwrap_err();
        assert_eq!(
            alloc::format!("{err}"),
            "5 input channels is not available; use 1, 2, 3 or 4 input channels"
        );
        let err = ModelName::ResNet18.table(Dims::of([1, 1, 32, 32]), 11).unwrap_err();
        assert_eq!(alloc::format!("{err}"), "11 classes is not available; use 1 to 10, 100 or 1000 classes");
    }
}

//! The shape table of a model known only by its [`ModelName`], as a command line names it,
//! for input channel and class counts known only at run time: [`table`] and [`outline`]
//! pick the model type (`with_model!`) and instantiate it for the supported counts.
//!
//! ```
//! use resnet_core::models::ModelName;
//! use resnet_core::summary::{self, Dims};
//! let rows = summary::table(ModelName::RESNET18, Dims::of([1, 3, 224, 224]), 1000).unwrap();
//! assert_eq!(rows[7].output.as_slice(), &[1, 1000]);
//! ```

use alloc::vec::Vec;

use super::{Dims, ModelShape, Node, Row};
use crate::models::{with_model, ModelName};
use crate::Error;

/// Input channel counts the tables are instantiated for.
pub const SUPPORTED_CHANNELS: &str = "1, 2, 3 or 4 input channels";
/// Class counts the tables are instantiated for.
pub const SUPPORTED_CLASSES: &str = "1 to 10, 100 or 1000 classes";

/// The shape table of `model` for `input` (N, C, H, W) and `classes` outputs; the model's
/// input channels are the input's C.
pub fn table(model: ModelName, input: Dims, classes: usize) -> Result<Vec<Row>, Error> {
    let [_, channels, _, _] = input.nchw("the model")?;
    with_model!(model, M => with_counts!(M, channels, classes, T => T::table(input)))
}

/// The table's rows with the structure of each block below it (see
/// [`ModelShape::outline`]).
pub fn outline(model: ModelName, input: Dims, classes: usize) -> Result<Vec<Node>, Error> {
    let [_, channels, _, _] = input.nchw("the model")?;
    with_model!(model, M => with_counts!(M, channels, classes, T => T::outline(input)))
}

/// Evaluates `$body` (a `Result<_, Error>`) with `$t` the model `$model<IN, CLASSES>` for
/// `$channels` and `$classes` among the supported values.
macro_rules! with_counts {
    ($model:ident, $channels:expr, $classes:expr, $t:ident => $body:expr) => {
        match $channels {
            1 => with_counts!(@classes $model, 1, $classes, $t, $body),
            2 => with_counts!(@classes $model, 2, $classes, $t, $body),
            3 => with_counts!(@classes $model, 3, $classes, $t, $body),
            4 => with_counts!(@classes $model, 4, $classes, $t, $body),
            value => Err($crate::Error::Unsupported {
                what: "input channels",
                value,
                supported: $crate::summary::SUPPORTED_CHANNELS,
            }),
        }
    };
    (@classes $model:ident, $in:literal, $classes:expr, $t:ident, $body:expr) => {
        with_counts!(@each $model, $in, $classes, $t, $body, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 100, 1000])
    };
    (@each $model:ident, $in:literal, $classes:expr, $t:ident, $body:expr, [$($k:literal),*]) => {
        match $classes {
            $($k => {
                #[allow(dead_code)]
                type $t = $model<$in, $k>;
                $body
            })*
            value => Err($crate::Error::Unsupported {
                what: "classes",
                value,
                supported: $crate::summary::SUPPORTED_CLASSES,
            }),
        }
    };
}
pub(crate) use with_counts;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_follow_the_input_channels_and_class_count() {
        let rows = table(ModelName::RESNET18, Dims::of([1, 3, 224, 224]), 1000).unwrap();
        assert_eq!(rows[0].params, 3 * 64 * 49 + 64 + 128);
        assert_eq!(rows[7].output.as_slice(), &[1, 1000]);
        let err = table(ModelName::RESNET18, Dims::of([1, 5, 32, 32]), 10).unwrap_err();
        assert_eq!(
            alloc::format!("{err}"),
            "5 input channels is not available; use 1, 2, 3 or 4 input channels"
        );
        let err = table(ModelName::RESNET18, Dims::of([1, 1, 32, 32]), 11).unwrap_err();
        assert_eq!(alloc::format!("{err}"), "11 classes is not available; use 1 to 10, 100 or 1000 classes");
    }
}

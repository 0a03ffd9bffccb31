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
    with_model!(model, M => dispatch!(M::table, input, channels, classes))
}

/// The table's rows with the structure of each block below it (see
/// [`ModelShape::outline`]).
pub fn outline(model: ModelName, input: Dims, classes: usize) -> Result<Vec<Node>, Error> {
    let [_, channels, _, _] = input.nchw("the model")?;
    with_model!(model, M => dispatch!(M::outline, input, channels, classes))
}

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

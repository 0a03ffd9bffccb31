//! The Fashion-MNIST pipeline of d2l's `load_data_fashion_mnist`: find the files, read and
//! validate them, and make shuffled, resized batches.

pub mod batches;
pub mod dataset;
pub mod download;
pub mod idx;
pub mod locate;
pub mod resize;

pub use batches::{batch_count, batch_ranges, epoch_order, make_batch, Batch};
pub use dataset::{FashionMnist, Split, CLASS_NAMES};
pub use download::{Mirror, MirrorFile, Progress};
pub use locate::{Search, Source};
pub use resize::Resizer;

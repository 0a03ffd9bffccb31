//! Fashion-MNIST in memory: both splits as bytes (70,000 × 784 B = 55 MB).

use std::path::{Path, PathBuf};

use super::idx::{read_images, read_labels, SIDE};
use crate::Error;

/// d2l's `get_fashion_mnist_labels`: the class names, by label.
pub const CLASS_NAMES: [&str; 10] =
    ["t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle boot"];

/// The file stems of the four IDX files (each may also end in `.gz`).
pub const FILES: [&str; 4] = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
];

/// One split: images as bytes (28×28 each, row-major) and their labels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Split {
    /// `len()·784` pixels, 0..=255.
    pub images: Vec<u8>,
    /// `len()` labels in 0..10.
    pub labels: Vec<u8>,
}

impl Split {
    /// Examples in the split.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether the split has no examples.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The pixels of example `i`.
    pub fn image(&self, i: usize) -> &[u8] {
        &self.images[i * SIDE * SIDE..][..SIDE * SIDE]
    }

    /// The first `n` examples (all of them if `n` is larger): d2l-style quick runs.
    pub fn truncated(mut self, n: usize) -> Self {
        let n = n.min(self.len());
        self.images.truncate(n * SIDE * SIDE);
        self.labels.truncate(n);
        self
    }

    fn load(images: &Path, labels: &Path) -> Result<Self, Error> {
        let (count, pixels) = read_images(images)?;
        let labels_data = read_labels(labels)?;
        if count != labels_data.len() {
            return Err(Error::CountMismatch {
                images: images.display().to_string(),
                labels: labels.display().to_string(),
                image_count: count,
                label_count: labels_data.len(),
            });
        }
        Ok(Self { images: pixels, labels: labels_data })
    }
}

/// Both splits of Fashion-MNIST, loaded from one directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FashionMnist {
    /// 60,000 training examples.
    pub train: Split,
    /// 10,000 test examples.
    pub test: Split,
}

/// The path of one of the four files in `dir`: `stem.gz` if present, else `stem`, or `None`.
pub fn file_in(dir: &Path, stem: &str) -> Option<PathBuf> {
    [dir.join(format!("{stem}.gz")), dir.join(stem)].into_iter().find(|p| p.is_file())
}

impl FashionMnist {
    /// Loads the four IDX files (gzip or raw) from `dir`, validating every header and label.
    pub fn load(dir: &Path) -> Result<Self, Error> {
        let path = |stem: &str| {
            file_in(dir, stem).ok_or_else(|| Error::Io {
                path: dir.join(format!("{stem}.gz")).display().to_string(),
                action: "open",
                reason: "no such file (nor without .gz)".into(),
            })
        };
        let [tr_x, tr_y, te_x, te_y] = FILES;
        Ok(Self {
            train: Split::load(&path(tr_x)?, &path(tr_y)?)?,
            test: Split::load(&path(te_x)?, &path(te_y)?)?,
        })
    }
}

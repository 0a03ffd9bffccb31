//! From a split to batches of model input, as d2l's `load_data_fashion_mnist` makes them:
//! shuffled each epoch (seeded), resized with Pillow's bilinear filter, scaled to [0, 1]
//! (`ToTensor`, no normalisation), the last partial batch kept.
//!
//! Images stay as bytes until a batch is made: the resized training set as f32 would need
//! 60,000 × 96 × 96 × 4 B = 2.2 GB.

use std::ops::Range;

use rand::seq::SliceRandom;
use rand::{rngs::StdRng, SeedableRng};
use rayon::prelude::*;

use super::dataset::Split;
use super::idx::SIDE;
use super::resize::Resizer;

/// One batch of model input.
///
/// # Shapes
/// `images`: (N, 1, side, side) as `N·side²` floats in [0, 1]; `labels`: (N,).
#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    /// Pixels / 255, image after image.
    pub images: Vec<f32>,
    /// Class of each image.
    pub labels: Vec<usize>,
    /// Image side after resizing.
    pub side: usize,
}

impl Batch {
    /// Images in the batch.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether the batch is empty.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
}

/// The order of epoch `epoch` (0-based): a permutation of `0..len` that depends only on
/// `seed` and `epoch`, so a resumed run visits the data exactly as an uninterrupted one.
pub fn epoch_order(len: usize, seed: u64, epoch: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..len).collect();
    let mut rng = StdRng::seed_from_u64(seed ^ (epoch as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    order.shuffle(&mut rng);
    order
}

/// Index ranges of consecutive batches of `batch_size` over `len` items; the last may be
/// shorter (d2l keeps it).
pub fn batch_ranges(len: usize, batch_size: usize) -> impl Iterator<Item = Range<usize>> {
    let size = batch_size.max(1);
    (0..len).step_by(size).map(move |start| start..(start + size).min(len))
}

/// Number of batches of `batch_size` over `len` items.
pub fn batch_count(len: usize, batch_size: usize) -> usize {
    len.div_ceil(batch_size.max(1))
}

/// Builds the batch of examples `indices` of `split`, resized to `resizer`'s side.
pub fn make_batch(split: &Split, indices: &[usize], resizer: &Resizer) -> Batch {
    let side = resizer.output_side();
    let plane = side * side;
    let mut images = vec![0.0f32; indices.len() * plane];
    images.par_chunks_mut(plane.max(1)).zip(indices.par_iter()).for_each_init(
        || (vec![0u8; SIDE * side], vec![0u8; plane]),
        |(row, resized), (out, &i)| {
            resizer.resize_into(split.image(i), row, resized);
            for (o, &p) in out.iter_mut().zip(resized.iter()) {
                *o = p as f32 / 255.0;
            }
        },
    );
    Batch { images, labels: indices.iter().map(|&i| split.labels[i] as usize).collect(), side }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_are_seeded_permutations_that_change_every_epoch() {
        let a = epoch_order(100, 0, 0);
        let mut sorted = a.clone();
        sorted.sort();
        assert_eq!(sorted, (0..100).collect::<Vec<_>>());
        assert_eq!(a, epoch_order(100, 0, 0));
        assert_ne!(a, epoch_order(100, 0, 1));
        assert_ne!(a, epoch_order(100, 1, 0));
    }

    #[test]
    fn the_last_partial_batch_is_kept() {
        let r: Vec<_> = batch_ranges(10, 4).collect();
        assert_eq!(r, [0..4, 4..8, 8..10]);
        assert_eq!(batch_count(10, 4), 3);
        assert_eq!(batch_count(60_000, 256), 235);
    }

    #[test]
    fn batches_scale_pixels_to_unit_range_and_carry_labels() {
        let split = Split { images: (0..2 * 784).map(|i| (i % 256) as u8).collect(), labels: vec![3, 7] };
        let b = make_batch(&split, &[1, 0], &Resizer::new(28, 28));
        assert_eq!(b.labels, [7, 3]);
        assert_eq!(b.images.len(), 2 * 784);
        assert_eq!(b.images[0], (784 % 256) as f32 / 255.0);
        assert_eq!(b.images[784 + 255], 1.0);
        let big = make_batch(&split, &[0], &Resizer::new(28, 96));
        assert_eq!((big.side, big.images.len()), (96, 96 * 96));
    }
}

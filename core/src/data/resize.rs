//! Bilinear resizing of 8-bit grayscale images, bit-exact with Pillow's `Image.resize(...,
//! BILINEAR)`, which torchvision's `transforms.Resize` calls on d2l's Fashion-MNIST images.
//!
//! Pillow separates the filter into a horizontal then a vertical pass, each with integer
//! weights of 22 fractional bits and rounding to u8 in between; this module does the same,
//! so a 96×96 image here equals d2l's byte for byte.

/// Fractional bits of Pillow's fixed-point weights for 8-bit images (`32 - 8 - 2`).
const PRECISION_BITS: u32 = 22;

/// The taps of one output pixel: the first input index and one weight per input pixel.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Taps {
    first: usize,
    weights: Vec<i32>,
}

/// A precomputed square resize from `from`×`from` to `to`×`to` pixels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resizer {
    from: usize,
    to: usize,
    taps: Vec<Taps>,
}

/// The triangle filter of bilinear interpolation.
fn triangle(x: f64) -> f64 {
    let x = x.abs();
    if x < 1.0 {
        1.0 - x
    } else {
        0.0
    }
}

/// Pillow's `precompute_coeffs` + `normalize_coeffs_8bpc` for one axis.
fn taps(from: usize, to: usize) -> Vec<Taps> {
    let scale = from as f64 / to as f64;
    let filter_scale = scale.max(1.0);
    let support = filter_scale; // the triangle's support is 1
    (0..to)
        .map(|o| {
            let center = (o as f64 + 0.5) * scale;
            // `(int)` in C truncates toward zero; both values are >= -0.5 here.
            let lo = ((center - support + 0.5) as i64).max(0) as usize;
            let hi = ((center + support + 0.5) as i64).clamp(0, from as i64) as usize;
            let raw: Vec<f64> =
                (lo..hi).map(|i| triangle((i as f64 - center + 0.5) / filter_scale)).collect();
            let total: f64 = raw.iter().sum();
            let weights = raw
                .iter()
                .map(|&w| {
                    let w = if total != 0.0 { w / total } else { w };
                    let fixed = w * (1u32 << PRECISION_BITS) as f64;
                    (if fixed < 0.0 { fixed - 0.5 } else { fixed + 0.5 }) as i32
                })
                .collect();
            Taps { first: lo, weights }
        })
        .collect()
}

/// Pillow's `clip8`: drop the fractional bits, clamp to 0..=255.
fn clip8(acc: i64) -> u8 {
    (acc >> PRECISION_BITS).clamp(0, 255) as u8
}

impl Resizer {
    /// A resize from `from`×`from` to `to`×`to`.
    pub fn new(from: usize, to: usize) -> Self {
        Self { from, to, taps: taps(from, to) }
    }

    /// Output side.
    pub fn output_side(&self) -> usize {
        self.to
    }

    /// Resizes one image: `src` is `from·from` bytes, `dst` is `to·to` bytes. `row` is
    /// scratch space of `from·to` bytes (the horizontal pass).
    pub fn resize_into(&self, src: &[u8], row: &mut [u8], dst: &mut [u8]) {
        let (from, to) = (self.from, self.to);
        if from == to {
            dst.copy_from_slice(&src[..from * from]);
            return;
        }
        let half = 1i64 << (PRECISION_BITS - 1);
        // Horizontal: from×from -> from rows of `to` pixels.
        for y in 0..from {
            let line = &src[y * from..][..from];
            for (x, t) in self.taps.iter().enumerate() {
                let acc =
                    t.weights.iter().zip(&line[t.first..]).fold(half, |a, (&w, &p)| a + w as i64 * p as i64);
                row[y * to + x] = clip8(acc);
            }
        }
        // Vertical: `from` rows -> `to` rows.
        for (y, t) in self.taps.iter().enumerate() {
            for x in 0..to {
                let acc = t
                    .weights
                    .iter()
                    .enumerate()
                    .fold(half, |a, (k, &w)| a + w as i64 * row[(t.first + k) * to + x] as i64);
                dst[y * to + x] = clip8(acc);
            }
        }
    }

    /// Resizes one image into a new buffer.
    pub fn resize(&self, src: &[u8]) -> Vec<u8> {
        let mut row = vec![0u8; self.from * self.to];
        let mut dst = vec![0u8; self.to * self.to];
        self.resize_into(src, &mut row, &mut dst);
        dst
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_of_each_output_sum_to_one() {
        for (from, to) in [(28, 96), (28, 224), (28, 14), (5, 7)] {
            for t in taps(from, to) {
                let sum: i64 = t.weights.iter().map(|&w| w as i64).sum();
                assert!((sum - (1 << PRECISION_BITS)).abs() <= t.weights.len() as i64, "{from}->{to}: {sum}");
            }
        }
    }

    #[test]
    fn constant_images_stay_constant_and_identity_is_a_copy() {
        let r = Resizer::new(28, 96);
        assert!(r.resize(&[200u8; 784]).iter().all(|&p| p == 200));
        let img: Vec<u8> = (0..784).map(|i| (i * 7 % 256) as u8).collect();
        assert_eq!(Resizer::new(28, 28).resize(&img), img);
    }
}

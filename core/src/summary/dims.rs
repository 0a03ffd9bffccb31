//! `Dims`: a small tensor shape (rank 1 to 4, batch first) that needs no allocation.

use core::fmt;

use crate::Error;

/// A tensor shape of rank 1 to 4, batch first, e.g. `(1, 64, 56, 56)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Dims {
    rank: usize,
    dims: [usize; 4],
}

impl Dims {
    /// The shape with these sizes; `None` for rank 0 or above 4.
    pub fn new(dims: &[usize]) -> Option<Self> {
        if dims.is_empty() || dims.len() > 4 {
            return None;
        }
        let mut all = [0; 4];
        all[..dims.len()].copy_from_slice(dims);
        Some(Self { rank: dims.len(), dims: all })
    }

    /// The shape with these sizes; a rank outside 1..=4 does not compile.
    pub const fn of<const R: usize>(sizes: [usize; R]) -> Self {
        const { assert!(R >= 1 && R <= 4, "Dims holds rank 1 to 4") };
        let mut dims = [0; 4];
        let mut i = 0;
        while i < R {
            dims[i] = sizes[i];
            i += 1;
        }
        Self { rank: R, dims }
    }

    /// Parses `NxCxHxW` (e.g. `1x1x224x224`): 1 to 4 positive sizes separated by `x`.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let invalid = |reason| Error::InvalidShape { input: text.into(), reason };
        let mut dims = [0usize; 4];
        let mut rank = 0;
        for part in text.trim().split(['x', 'X', '×']) {
            if rank == 4 {
                return Err(invalid("at most 4 sizes, like 1x1x224x224"));
            }
            let n: usize =
                part.trim().parse().map_err(|_| invalid("sizes must be whole numbers, like 1x1x224x224"))?;
            if n == 0 {
                return Err(invalid("every size must be at least 1"));
            }
            dims[rank] = n;
            rank += 1;
        }
        Ok(Self { rank, dims })
    }

    /// The sizes.
    pub fn as_slice(&self) -> &[usize] {
        &self.dims[..self.rank]
    }

    /// Number of axes.
    pub fn rank(&self) -> usize {
        self.rank
    }

    /// Number of elements.
    pub fn elements(&self) -> usize {
        self.as_slice().iter().product()
    }

    /// The sizes as (N, C, H, W), or a rank error naming `layer`.
    pub fn nchw(&self, layer: &'static str) -> Result<[usize; 4], Error> {
        match self.as_slice() {
            &[n, c, h, w] => Ok([n, c, h, w]),
            other => Err(Error::Rank { layer, expected: 4, found: other.len() }),
        }
    }
}

impl fmt::Display for Dims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(")?;
        for (i, d) in self.as_slice().iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{d}")?;
        }
        f.write_str(")")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_shapes() {
        let d = Dims::parse("1x1x224x224").unwrap();
        assert_eq!(d.as_slice(), &[1, 1, 224, 224]);
        assert_eq!(alloc::format!("{d}"), "(1, 1, 224, 224)");
        assert_eq!(Dims::parse("8X3x96x96").unwrap().elements(), 8 * 3 * 96 * 96);
    }

    #[test]
    fn rejects_bad_shapes_with_a_reason() {
        let msg = |s: &str| alloc::format!("{}", Dims::parse(s).unwrap_err());
        assert_eq!(msg("1x1x0x5"), "invalid shape `1x1x0x5`: every size must be at least 1");
        assert_eq!(msg("cat"), "invalid shape `cat`: sizes must be whole numbers, like 1x1x224x224");
        assert_eq!(msg("1x2x3x4x5"), "invalid shape `1x2x3x4x5`: at most 4 sizes, like 1x1x224x224");
        assert!(Dims::parse("").is_err());
        assert!(Dims::parse("2x-1").is_err());
    }
}

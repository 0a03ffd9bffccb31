//! A file's named tensors read in place: postcard's encoding of `Vec<NamedTensor>` (a varint
//! count; per tensor its name, its shape as varints, its elements as little-endian `f32`)
//! walked without copying the elements, so that a microcontroller can run a model whose
//! weights stay in flash.
//!
//! Every length is checked against the bytes left before anything is allocated, so a file
//! that declares a huge tensor costs no more memory than its own size.

use alloc::format;
use alloc::vec::Vec;

use super::corrupt_in;
use crate::Error;

/// Little-endian `f32` elements borrowed from a file's bytes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Floats<'a>(&'a [u8]);

impl<'a> Floats<'a> {
    /// Elements stored as little-endian `f32` in `bytes` (a trailing partial one is ignored).
    pub fn from_le_bytes(bytes: &'a [u8]) -> Self {
        Floats(bytes)
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.0.len() / 4
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Element `i`, or 0 past the end (callers check lengths first).
    #[inline(always)]
    pub fn at(&self, i: usize) -> f32 {
        match self.0.get(4 * i..4 * i + 4) {
            Some(&[a, b, c, d]) => f32::from_le_bytes([a, b, c, d]),
            _ => 0.0,
        }
    }

    /// Every element, in order.
    pub fn iter(&self) -> impl Iterator<Item = f32> + 'a {
        self.0.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// The elements, copied.
    pub fn to_vec(&self) -> Vec<f32> {
        self.iter().collect()
    }
}

/// One named tensor of a file, its elements left in the file's bytes.
#[derive(Clone, Debug, PartialEq)]
pub struct TensorView<'a> {
    /// Path of the tensor in the model (`1.0.0.f.0.weight`).
    pub name: &'a str,
    /// Its shape.
    pub shape: Vec<usize>,
    /// Its elements, row-major.
    pub data: Floats<'a>,
}

/// The named tensors postcard-encoded at the start of `bytes` (a `Vec<NamedTensor>`), and
/// the bytes after them; `source` names the file in errors.
pub fn tensor_views<'a>(bytes: &'a [u8], source: &str) -> Result<(Vec<TensorView<'a>>, &'a [u8]), Error> {
    let mut r = Reader { bytes, source };
    let count = r.length(3)?;
    let mut views = Vec::with_capacity(count);
    for _ in 0..count {
        let name = core::str::from_utf8(r.bytes_of(1)?)
            .map_err(|_| corrupt_in(source, "a tensor name is not UTF-8"))?;
        let rank = r.length(1)?;
        let mut shape = Vec::with_capacity(rank);
        for _ in 0..rank {
            shape.push(r.varint()?);
        }
        let len = r.length(4)?;
        let data = Floats(r.take(4 * len)?);
        let elements = shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
        if elements != Some(len) {
            return Err(corrupt_in(
                source,
                format!("tensor `{name}` has {len} elements, which shape {shape:?} does not hold"),
            ));
        }
        views.push(TensorView { name, shape, data });
    }
    Ok((views, r.bytes))
}

/// A cursor over postcard bytes.
struct Reader<'a, 's> {
    bytes: &'a [u8],
    source: &'s str,
}

impl<'a> Reader<'a, '_> {
    fn truncated(&self) -> Error {
        corrupt_in(self.source, "checkpoint tensors are truncated or corrupt")
    }

    /// An unsigned LEB128 varint, as postcard writes `usize` and lengths.
    fn varint(&mut self) -> Result<usize, Error> {
        let mut value: u64 = 0;
        for (i, &byte) in self.bytes.iter().enumerate().take(10) {
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                self.bytes = &self.bytes[i + 1..];
                return usize::try_from(value).map_err(|_| self.truncated());
            }
        }
        Err(self.truncated())
    }

    /// A length of items at least `min_item` bytes each, refused when the bytes left cannot
    /// hold that many.
    fn length(&mut self, min_item: usize) -> Result<usize, Error> {
        let n = self.varint()?;
        match n.checked_mul(min_item) {
            Some(bytes) if bytes <= self.bytes.len() => Ok(n),
            _ => Err(self.truncated()),
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        if n > self.bytes.len() {
            return Err(self.truncated());
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    /// A length-prefixed byte string (`min` bytes at least per item).
    fn bytes_of(&mut self, min: usize) -> Result<&'a [u8], Error> {
        let n = self.length(min)?;
        self.take(n)
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;
    use crate::checkpoint::NamedTensor;

    fn tensors() -> Vec<NamedTensor> {
        vec![
            NamedTensor {
                name: "0.weight".into(),
                shape: vec![2, 3],
                data: vec![1.0, -2.5, 3.0, 0.0, 1e-7, 7.0],
            },
            NamedTensor { name: "0.bias".into(), shape: vec![], data: vec![0.5] },
            NamedTensor { name: "é.empty".into(), shape: vec![0, 300], data: vec![] },
        ]
    }

    #[test]
    fn views_read_what_postcard_wrote() {
        let mut bytes = postcard::to_stdvec(&tensors()).unwrap();
        bytes.extend_from_slice(b"rest");
        let (views, rest) = tensor_views(&bytes, "t").unwrap();
        assert_eq!(rest, b"rest");
        let back: Vec<NamedTensor> = views
            .iter()
            .map(|v| NamedTensor { name: v.name.into(), shape: v.shape.clone(), data: v.data.to_vec() })
            .collect();
        assert_eq!(back, tensors());
        assert_eq!(views[0].data.at(1), -2.5);
    }

    #[test]
    fn truncated_and_lying_lengths_are_refused() {
        let bytes = postcard::to_stdvec(&tensors()).unwrap();
        for end in 0..bytes.len() - 1 {
            let err = tensor_views(&bytes[..end], "t.bin").unwrap_err().to_string();
            assert!(err.starts_with("t.bin: "), "{err}");
        }
        // A count of 2^60 tensors, and a tensor that claims 2^40 elements.
        let huge = [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10];
        assert_eq!(
            tensor_views(&huge, "t.bin").unwrap_err().to_string(),
            "t.bin: checkpoint tensors are truncated or corrupt"
        );
        let lying = NamedTensor { name: "w".into(), shape: vec![2, 2], data: vec![1.0; 3] };
        let bytes = postcard::to_stdvec(&vec![lying]).unwrap();
        assert_eq!(
            tensor_views(&bytes, "t.bin").unwrap_err().to_string(),
            "t.bin: tensor `w` has 3 elements, which shape [2, 2] does not hold"
        );
    }
}

//! A checkpoint's or weights-only file's named tensors, read in place and handed out by
//! name and shape as a model type asks for them.

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use crate::checkpoint::{corrupt_in, frame, tensor_views, Floats, Header, Kind, TensorView};
use crate::run::{Position, TrainConfig};
use crate::Error;

/// How files are named in errors: the bytes may come from anywhere.
pub const SOURCE: &str = "weights";

/// The tensors of one file, each to be taken once.
#[derive(Debug)]
pub struct Weights<'a> {
    /// The file's header (model, input channels, classes).
    pub header: Header,
    /// How errors name the file.
    source: &'a str,
    tensors: Vec<TensorView<'a>>,
    taken: Vec<bool>,
}

impl<'a> Weights<'a> {
    /// Checks the file's framing and CRC and reads its tensor table; the elements stay in
    /// `bytes`. A checkpoint's configuration, position, momentum and history are skipped.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, Error> {
        Self::parse_named(bytes, SOURCE)
    }

    /// As [`Weights::parse`], its errors naming the file `source`.
    pub fn parse_named(bytes: &'a [u8], source: &'a str) -> Result<Self, Error> {
        let (header, body) = frame(bytes, source)?;
        let (tensors, rest) = match header.kind() {
            Some(Kind::Checkpoint) => {
                let (_, params) = postcard::take_from_bytes::<(TrainConfig, Position)>(body)
                    .map_err(|e| corrupt_in(source, format!("checkpoint body is corrupt ({e})")))?;
                let (tensors, _) = tensor_views(params, source)?;
                (tensors, &[][..])
            }
            _ => tensor_views(body, source)?,
        };
        if !rest.is_empty() {
            return Err(corrupt_in(source, "checkpoint has trailing bytes"));
        }
        let taken = vec![false; tensors.len()];
        Ok(Weights { header, source, tensors, taken })
    }

    /// As [`Weights::parse`], for inputs of `channels` channels: an error unless the file's
    /// model takes them.
    pub fn parse_for(bytes: &'a [u8], channels: usize) -> Result<Self, Error> {
        let file = Self::parse(bytes)?;
        let expected = file.header.in_channels;
        if channels != expected {
            return Err(Error::Channels { layer: "the model's input", expected, found: channels });
        }
        Ok(file)
    }

    /// The elements of tensor `name`, which must have `shape`.
    pub fn take(&mut self, name: &str, shape: &[usize]) -> Result<Floats<'a>, Error> {
        let Some(i) = self.tensors.iter().position(|t| t.name == name) else {
            return Err(corrupt_in(
                self.source,
                format!("tensor `{name}` of this model is missing (is the file from another model?)"),
            ));
        };
        let t = &self.tensors[i];
        if t.shape != shape {
            return Err(Error::TensorShape {
                path: self.source.into(),
                name: name.into(),
                expected: shape.to_vec(),
                found: t.shape.clone(),
            });
        }
        self.taken[i] = true;
        Ok(t.data)
    }

    /// Checks that the model took every tensor of the file.
    pub fn finish(self) -> Result<(), Error> {
        let extra: Vec<&str> =
            self.tensors.iter().zip(&self.taken).filter(|(_, &t)| !t).map(|(t, _)| t.name).take(3).collect();
        if extra.is_empty() {
            return Ok(());
        }
        Err(corrupt_in(
            self.source,
            format!(
                "tensors this model does not have: {} (is the file from another model?)",
                extra.join(", ")
            ),
        ))
    }
}

/// `path.name`, or `name` at the top.
pub fn child(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.into()
    } else {
        format!("{path}.{name}")
    }
}

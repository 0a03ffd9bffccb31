//! The program's parameters, their gradients and SGD's momentum in flat buffers, one
//! allocation each, addressed by the tensors' names: checkpoints, PyTorch export and the
//! gradient-flow report read them by name, as they read a dfdx model.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use std::collections::HashMap;

use super::graph::ParamSpec;
use crate::checkpoint::NamedTensor;
use crate::Error;

/// Parameters, gradients and momentum of a program.
#[derive(Clone, Debug)]
pub(crate) struct Store {
    pub specs: Vec<ParamSpec>,
    /// Every tensor's elements, one after another in the specs' order.
    pub data: Vec<f32>,
    /// Their gradients (batch norm's running statistics have none: zeros).
    pub grads: Vec<f32>,
    /// SGD's momentum buffers, once a step with momentum has made them or a checkpoint
    /// brought them.
    pub velocity: Option<Vec<f32>>,
}

impl Store {
    /// Buffers for `specs`, `total` elements in all, every value 0.
    pub fn new(specs: Vec<ParamSpec>, total: usize) -> Self {
        Store { specs, data: vec![0.0; total], grads: vec![0.0; total], velocity: None }
    }

    /// The tensors of `buffer` by name, in the specs' order.
    pub fn named(&self, buffer: &[f32]) -> Vec<NamedTensor> {
        self.specs
            .iter()
            .map(|s| NamedTensor {
                name: s.name.clone(),
                shape: s.shape.clone(),
                data: buffer[s.offset..][..s.len].to_vec(),
            })
            .collect()
    }

    /// Fills `buffer` from `tensors`, which must hold every tensor of the program by name and
    /// shape (more are an error too: they belong to another model); `source` names them in
    /// errors.
    pub fn fill(
        specs: &[ParamSpec],
        buffer: &mut [f32],
        tensors: &[NamedTensor],
        source: &str,
    ) -> Result<(), Error> {
        let by_name: HashMap<&str, &NamedTensor> = tensors.iter().map(|t| (t.name.as_str(), t)).collect();
        for s in specs {
            let Some(t) = by_name.get(s.name.as_str()) else {
                return Err(crate::checkpoint::corrupt_in(
                    source,
                    format!("tensor `{}` of this model is missing", s.name),
                ));
            };
            if t.shape != s.shape || t.data.len() != s.len {
                return Err(Error::TensorShape {
                    path: String::from(source),
                    name: s.name.clone(),
                    expected: s.shape.clone(),
                    found: t.shape.clone(),
                });
            }
            buffer[s.offset..][..s.len].copy_from_slice(&t.data);
        }
        if tensors.len() != specs.len() {
            let extra: Vec<&str> = tensors
                .iter()
                .map(|t| t.name.as_str())
                .filter(|n| !specs.iter().any(|s| s.name == *n))
                .take(3)
                .collect();
            return Err(crate::checkpoint::corrupt_in(
                source,
                format!("tensors this model does not have: {}", extra.join(", ")),
            ));
        }
        Ok(())
    }

    /// One tensor's elements in `buffer`.
    pub fn slice<'b>(&self, buffer: &'b [f32], param: usize) -> &'b [f32] {
        let s = &self.specs[param];
        &buffer[s.offset..][..s.len]
    }
}

//! A model's tensors by name (weights, biases, batch-norm statistics), out of and back into
//! a model, with every name and shape checked on the way in.

use std::collections::HashMap;

use dfdx::nn::tensor_collection::{TensorCollection, ViewTensorMut, ViewTensorName, ViewTensorRef};
use dfdx::prelude::*;
use serde::{Deserialize, Serialize};

use crate::nn::visit::{each_tensor, EachTensor, InPlace};
use crate::Error;

/// One tensor of a model, by its path in the model (`1.0.0.f.0.weight`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NamedTensor {
    /// Path of the tensor in the model (dfdx's `TensorCollection` names).
    pub name: String,
    /// Its shape.
    pub shape: Vec<usize>,
    /// Its elements, row-major.
    pub data: Vec<f32>,
}

struct Collect(Vec<NamedTensor>);

impl<D: Device<f32>> EachTensor<D> for Collect {
    type Viewer = (ViewTensorRef, ViewTensorName);
    type Err = D::Err;

    fn tensor<S: Shape>(&mut self, _: bool, (t, name): (&Tensor<S, f32, D>, String)) -> Result<(), D::Err> {
        self.0.push(NamedTensor { name, shape: t.shape().concrete().into(), data: t.as_vec() });
        Ok(())
    }
}

/// Every tensor of `model` (trainable or not), in the model's order.
pub fn named_tensors<M: TensorCollection<f32, D>, D: Device<f32>>(
    model: &M,
) -> Result<Vec<NamedTensor>, Error>
where
    Error: From<D::Err>,
{
    let mut c = Collect(Vec::new());
    each_tensor::<M, D, _>((model, String::new()), &mut InPlace(&mut c))?;
    Ok(c.0)
}

struct Restore<'a> {
    by_name: HashMap<&'a str, &'a NamedTensor>,
    source: &'a str,
    used: usize,
}

impl<'a, D: Device<f32>> EachTensor<D> for Restore<'a> {
    type Viewer = (ViewTensorMut, ViewTensorName);
    type Err = Error;

    fn tensor<S: Shape>(
        &mut self,
        _: bool,
        (t, name): (&mut Tensor<S, f32, D>, String),
    ) -> Result<(), Error> {
        let Some(saved) = self.by_name.get(name.as_str()) else {
            return Err(Error::Checkpoint {
                path: self.source.into(),
                reason: format!("tensor `{name}` of this model is missing (is the file from another model?)"),
            });
        };
        let expected: Vec<usize> = t.shape().concrete().into();
        if saved.shape != expected || saved.data.len() != t.shape().num_elements() {
            return Err(Error::TensorShape {
                path: self.source.into(),
                name,
                expected,
                found: saved.shape.clone(),
            });
        }
        t.copy_from(&saved.data);
        self.used += 1;
        Ok(())
    }
}

/// Overwrites every tensor of `model` with the one of the same name in `tensors`.
/// Fails, leaving `model` partly written, on a missing, extra or misshapen tensor; `source`
/// names the file in the error.
pub fn load_named<M: TensorCollection<f32, D>, D: Device<f32>>(
    model: &mut M,
    tensors: &[NamedTensor],
    source: &str,
) -> Result<(), Error> {
    let by_name: HashMap<&str, &NamedTensor> = tensors.iter().map(|t| (t.name.as_str(), t)).collect();
    if by_name.len() != tensors.len() {
        return Err(Error::Checkpoint { path: source.into(), reason: "a tensor name appears twice".into() });
    }
    let mut r = Restore { by_name, source, used: 0 };
    each_tensor::<M, D, _>((model, String::new()), &mut InPlace(&mut r))?;
    if r.used != tensors.len() {
        let names = named_tensor_names::<M, D>();
        let extra: Vec<&str> = tensors
            .iter()
            .map(|t| t.name.as_str())
            .filter(|n| !names.iter().any(|m| m == n))
            .take(3)
            .collect();
        return Err(Error::Checkpoint {
            path: source.into(),
            reason: format!(
                "tensors this model does not have: {} (is the file from another model?)",
                extra.join(", ")
            ),
        });
    }
    Ok(())
}

struct Names(Vec<String>);

impl<D: Device<f32>> EachTensor<D> for Names {
    type Viewer = ViewTensorName;
    type Err = core::convert::Infallible;

    fn tensor<S: Shape>(&mut self, _: bool, name: String) -> Result<(), Self::Err> {
        self.0.push(name);
        Ok(())
    }
}

/// The tensor names of model type `M`, without building one.
pub fn named_tensor_names<M: TensorCollection<f32, D>, D: Device<f32>>() -> Vec<String> {
    let mut n = Names(Vec::new());
    let _ = each_tensor::<M, D, _>(String::new(), &mut InPlace(&mut n));
    n.0
}

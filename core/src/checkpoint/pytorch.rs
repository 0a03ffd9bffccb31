//! Interop with PyTorch: the names of the seed's model's `state_dict()` and safetensors files.
//!
//! The seed builds `nn.Sequential(b1, b2, b3, b4, b5, AdaptiveAvgPool2d, Flatten, Linear)`,
//! each `bK` (K ≥ 2) a `nn.Sequential` of `Residual`s with attributes `conv1`, `bn1`,
//! `conv2`, `bn2` and, with a 1×1 shortcut, `conv3`. So our `1.0.0.f.0.weight` (stage 1,
//! block 0, main path, first conv) is PyTorch's `1.0.conv1.weight`, batch norm's `scale` is
//! its `weight`, our head's `5.fc.*` is its `7.*`, and each batch norm also has an int64
//! `num_batches_tracked`.

use std::path::Path;

use safetensors::tensor::{Dtype, TensorView};
use safetensors::SafeTensors;

use super::{write_atomic, NamedTensor};
use crate::Error;

/// Our main-path positions in a residual block and the seed's attribute names.
const MAIN_PATH: [(&str, &str); 4] = [("0", "conv1"), ("1", "bn1"), ("3", "conv2"), ("4", "bn2")];

fn bn_param(ours: &str) -> &str {
    if ours == "scale" {
        "weight"
    } else {
        ours
    }
}

/// The seed's PyTorch name of our ResNet-18 tensor `ours`, or `None` if it has none.
pub fn to_pytorch(ours: &str) -> Option<String> {
    let parts: Vec<&str> = ours.split('.').collect();
    match parts.as_slice() {
        ["0", layer, param] => Some(format!("0.{layer}.{}", bn_param(param))),
        [stage @ ("1" | "2" | "3" | "4"), block, "0", "f", pos, param] => {
            let (_, attr) = MAIN_PATH.iter().find(|(p, _)| p == pos)?;
            Some(format!("{stage}.{block}.{attr}.{}", bn_param(param)))
        }
        [stage @ ("1" | "2" | "3" | "4"), block, "0", "r", param] => {
            Some(format!("{stage}.{block}.conv3.{param}"))
        }
        ["5", "fc", param] => Some(format!("7.{param}")),
        _ => None,
    }
}

/// Our name of the seed's PyTorch tensor `theirs` of rank `rank` (which tells batch norm's
/// `weight` from a convolution's), or `None` for names this model does not have.
pub fn from_pytorch(theirs: &str, rank: usize) -> Option<String> {
    let parts: Vec<&str> = theirs.split('.').collect();
    let param =
        |p: &str, is_bn: bool| if is_bn && p == "weight" { "scale".to_string() } else { p.to_string() };
    match parts.as_slice() {
        ["0", layer, p] => Some(format!("0.{layer}.{}", param(p, rank == 1))),
        [stage @ ("1" | "2" | "3" | "4"), block, "conv3", p] => Some(format!("{stage}.{block}.0.r.{p}")),
        [stage @ ("1" | "2" | "3" | "4"), block, attr, p] => {
            let (pos, _) = MAIN_PATH.iter().find(|(_, a)| a == attr)?;
            Some(format!("{stage}.{block}.0.f.{pos}.{}", param(p, attr.starts_with("bn"))))
        }
        ["7", p] => Some(format!("5.fc.{p}")),
        _ => None,
    }
}

fn bytes_of(data: &[f32]) -> Vec<u8> {
    data.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn invalid(path: &Path, reason: String) -> Error {
    Error::Checkpoint { path: path.display().to_string(), reason }
}

/// Writes `params` (our names) as a safetensors file with the seed's `state_dict()` names,
/// adding each batch norm's `num_batches_tracked` = `batches_tracked`, so that PyTorch's
/// `load_state_dict(strict=True)` accepts it.
pub fn export_safetensors(params: &[NamedTensor], batches_tracked: i64, path: &Path) -> Result<(), Error> {
    let mut entries: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = Vec::new();
    for t in params {
        let name = to_pytorch(&t.name).ok_or_else(|| {
            invalid(path, format!("tensor `{}` has no PyTorch name in the seed's model", t.name))
        })?;
        if let Some(prefix) = name.strip_suffix(".running_mean") {
            let count = batches_tracked.to_le_bytes().to_vec();
            entries.push((format!("{prefix}.num_batches_tracked"), Dtype::I64, vec![], count));
        }
        entries.push((name, Dtype::F32, t.shape.clone(), bytes_of(&t.data)));
    }
    let views = entries
        .iter()
        .map(|(name, dtype, shape, bytes)| {
            TensorView::new(*dtype, shape.clone(), bytes)
                .map(|v| (name.clone(), v))
                .map_err(|e| invalid(path, e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let bytes = safetensors::serialize(views, None).map_err(|e| invalid(path, e.to_string()))?;
    write_atomic(path, &bytes)
}

/// Reads a safetensors file with the seed's names into our names (f32 tensors only;
/// `num_batches_tracked` is checked to be an int64 scalar and skipped).
pub fn import_safetensors(path: &Path) -> Result<Vec<NamedTensor>, Error> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, "read", &e))?;
    let file = SafeTensors::deserialize(&bytes)
        .map_err(|e| invalid(path, format!("not a valid safetensors file ({e})")))?;
    let mut out = Vec::new();
    for (name, view) in file.tensors() {
        if name.ends_with(".num_batches_tracked") {
            if view.dtype() != Dtype::I64 || !view.shape().is_empty() {
                return Err(invalid(path, format!("`{name}` must be an int64 scalar")));
            }
            continue;
        }
        if view.dtype() != Dtype::F32 {
            return Err(invalid(
                path,
                format!("`{name}` is {:?}; only float32 weights are read", view.dtype()),
            ));
        }
        let ours = from_pytorch(&name, view.shape().len())
            .ok_or_else(|| invalid(path, format!("`{name}` is not a tensor of the seed's ResNet-18")))?;
        let data =
            view.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        out.push(NamedTensor { name: ours, shape: view.shape().to_vec(), data });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_both_ways() {
        let pairs = [
            ("0.0.weight", "0.0.weight", 4),
            ("0.1.scale", "0.1.weight", 1),
            ("0.1.running_var", "0.1.running_var", 1),
            ("1.0.0.f.0.weight", "1.0.conv1.weight", 4),
            ("1.1.0.f.1.scale", "1.1.bn1.weight", 1),
            ("2.0.0.f.3.bias", "2.0.conv2.bias", 1),
            ("4.1.0.f.4.running_mean", "4.1.bn2.running_mean", 1),
            ("2.0.0.r.weight", "2.0.conv3.weight", 4),
            ("5.fc.bias", "7.bias", 1),
        ];
        for (ours, theirs, rank) in pairs {
            assert_eq!(to_pytorch(ours).as_deref(), Some(theirs));
            assert_eq!(from_pytorch(theirs, rank).as_deref(), Some(ours));
        }
        assert_eq!(to_pytorch("9.x"), None);
        assert_eq!(from_pytorch("1.0.bn3.weight", 1), None);
    }
}

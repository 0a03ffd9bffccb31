//! Interop with PyTorch: the names of a model's `state_dict()` in safetensors files.
//!
//! Three layouts are known (see [`Layout`]). The seed's d2l ResNet-18 is
//! `nn.Sequential(b1, b2, b3, b4, b5, AdaptiveAvgPool2d, Flatten, Linear)`, each `bK` (K ≥ 2)
//! a `nn.Sequential` of `Residual`s with attributes `conv1`, `bn1`, `conv2`, `bn2` and, with a
//! 1×1 shortcut, `conv3`: our `1.0.0.f.0.weight` (stage 1, block 0, main path, first conv) is
//! its `1.0.conv1.weight` and our head's `5.fc.*` its `7.*`. torchvision's ResNets name the
//! stem `conv1`/`bn1`, the stages `layer1`..`layer4`, the projection `downsample.0`/`.1` and
//! the classifier `fc`. Everywhere, batch norm's `scale` is PyTorch's `weight`, and each batch
//! norm also has an int64 `num_batches_tracked`.

use std::path::Path;

use safetensors::tensor::{Dtype, TensorView};
use safetensors::SafeTensors;

use super::{write_atomic, NamedTensor};
use crate::models::{Arch, Flavor, ModelName};
use crate::Error;

/// A family of PyTorch `state_dict()` names that our models map onto.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// The chapter's (seed's) `nn.Sequential` ResNet-18.
    Seed,
    /// torchvision's `resnet18`/`resnet34` (`BasicBlock`).
    TorchvisionBasic,
    /// torchvision's `resnet50`/`101`/`152` (`Bottleneck`).
    TorchvisionBottleneck,
}

/// Our module paths inside a residual block and the seed's attribute names.
const SEED_BLOCK: [(&str, &str); 5] =
    [("0.f.0", "conv1"), ("0.f.1", "bn1"), ("0.f.3", "conv2"), ("0.f.4", "bn2"), ("0.r", "conv3")];

/// Our module paths inside a `BasicBlock` and torchvision's attribute names.
const TV_BASIC_BLOCK: [(&str, &str); 6] = [
    ("0.f.0", "conv1"),
    ("0.f.1", "bn1"),
    ("0.f.3", "conv2"),
    ("0.f.4", "bn2"),
    ("0.r.0", "downsample.0"),
    ("0.r.1", "downsample.1"),
];

/// Our module paths inside a `Bottleneck` and torchvision's attribute names.
const TV_BOTTLENECK_BLOCK: [(&str, &str); 8] = [
    ("0.f.0.0", "conv1"),
    ("0.f.0.1", "bn1"),
    ("0.f.1.0", "conv2"),
    ("0.f.1.1", "bn2"),
    ("0.f.2.0", "conv3"),
    ("0.f.2.1", "bn3"),
    ("0.r.0", "downsample.0"),
    ("0.r.1", "downsample.1"),
];

impl Layout {
    /// The layout of `model`'s PyTorch counterpart, or `None` if it has none (the chapter's
    /// flavour of the deeper and pre-activation models exists only here).
    pub fn of(model: ModelName) -> Option<Self> {
        match (model.flavor(), model.arch()) {
            (Flavor::D2l, Arch::ResNet18) => Some(Layout::Seed),
            (Flavor::D2l, _) => None,
            (Flavor::Torchvision, Arch::ResNet18 | Arch::ResNet34) => Some(Layout::TorchvisionBasic),
            (Flavor::Torchvision, _) => Some(Layout::TorchvisionBottleneck),
        }
    }

    /// `(ours, theirs)` module paths outside the stages: the stem's conv and batch norm, the head.
    fn fixed(self) -> [(&'static str, &'static str); 3] {
        match self {
            Layout::Seed => [("0.0", "0.0"), ("0.1", "0.1"), ("5.fc", "7")],
            _ => [("0.0", "conv1"), ("0.1", "bn1"), ("5.fc", "fc")],
        }
    }

    /// `(ours, theirs)` module paths inside a residual block.
    fn block(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Layout::Seed => &SEED_BLOCK,
            Layout::TorchvisionBasic => &TV_BASIC_BLOCK,
            Layout::TorchvisionBottleneck => &TV_BOTTLENECK_BLOCK,
        }
    }

    /// PyTorch's name of stage `stage` (1 to 4).
    fn stage(self, stage: &str) -> String {
        match self {
            Layout::Seed => stage.to_string(),
            _ => format!("layer{stage}"),
        }
    }

    /// PyTorch's name of our module path `ours`.
    fn module_to_pytorch(self, ours: &str) -> Option<String> {
        if let Some((_, theirs)) = self.fixed().iter().find(|(o, _)| *o == ours) {
            return Some(theirs.to_string());
        }
        let mut parts = ours.splitn(3, '.');
        let (stage, block, inner) = (parts.next()?, parts.next()?, parts.next()?);
        if !matches!(stage, "1" | "2" | "3" | "4") || block.parse::<usize>().is_err() {
            return None;
        }
        let (_, attr) = self.block().iter().find(|(o, _)| *o == inner)?;
        Some(format!("{}.{block}.{attr}", self.stage(stage)))
    }

    /// Our module path of PyTorch's module `theirs`.
    fn module_from_pytorch(self, theirs: &str) -> Option<String> {
        if let Some((ours, _)) = self.fixed().iter().find(|(_, t)| *t == theirs) {
            return Some(ours.to_string());
        }
        let mut parts = theirs.splitn(3, '.');
        let (stage, block, attr) = (parts.next()?, parts.next()?, parts.next()?);
        let stage = ["1", "2", "3", "4"].into_iter().find(|s| self.stage(s) == stage)?;
        block.parse::<usize>().ok()?;
        let (inner, _) = self.block().iter().find(|(_, a)| *a == attr)?;
        Some(format!("{stage}.{block}.{inner}"))
    }

    /// PyTorch's name of our tensor `ours`, or `None` if it has none.
    pub fn to_pytorch(self, ours: &str) -> Option<String> {
        let (module, param) = ours.rsplit_once('.')?;
        let param = if param == "scale" { "weight" } else { param };
        Some(format!("{}.{param}", self.module_to_pytorch(module)?))
    }

    /// Our name of PyTorch's tensor `theirs` of rank `rank` (which tells batch norm's `weight`,
    /// rank 1, from a convolution's or linear layer's), or `None` for names we do not have.
    pub fn from_pytorch(self, theirs: &str, rank: usize) -> Option<String> {
        let (module, param) = theirs.rsplit_once('.')?;
        let param = if param == "weight" && rank == 1 { "scale" } else { param };
        Some(format!("{}.{param}", self.module_from_pytorch(module)?))
    }

    /// What the layout is called in messages.
    pub const fn describe(self) -> &'static str {
        match self {
            Layout::Seed => "the seed's ResNet-18",
            Layout::TorchvisionBasic => "torchvision's resnet18/34",
            Layout::TorchvisionBottleneck => "torchvision's resnet50/101/152",
        }
    }
}

fn bytes_of(data: &[f32]) -> Vec<u8> {
    data.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn invalid(path: &Path, reason: String) -> Error {
    Error::Checkpoint { path: path.display().to_string(), reason }
}

/// Writes `params` (our names) as a safetensors file with `layout`'s `state_dict()` names,
/// adding each batch norm's `num_batches_tracked` = `batches_tracked`, so that PyTorch's
/// `load_state_dict(strict=True)` accepts it.
pub fn export_safetensors(
    layout: Layout,
    params: &[NamedTensor],
    batches_tracked: i64,
    path: &Path,
) -> Result<(), Error> {
    let mut entries: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = Vec::new();
    for t in params {
        let name = layout.to_pytorch(&t.name).ok_or_else(|| {
            invalid(path, format!("tensor `{}` has no PyTorch name in {}", t.name, layout.describe()))
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

/// Reads a safetensors file with `layout`'s names into our names (f32 tensors only;
/// `num_batches_tracked` is checked to be an int64 scalar and skipped).
pub fn import_safetensors(layout: Layout, path: &Path) -> Result<Vec<NamedTensor>, Error> {
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
        let ours = layout
            .from_pytorch(&name, view.shape().len())
            .ok_or_else(|| invalid(path, format!("`{name}` is not a tensor of {}", layout.describe())))?;
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
        use Layout::{Seed, TorchvisionBasic as Basic, TorchvisionBottleneck as Bottleneck};
        // (layout, ours, PyTorch's, rank)
        let names = [
            (Seed, "0.0.weight", "0.0.weight", 4),
            (Seed, "0.1.scale", "0.1.weight", 1),
            (Seed, "0.1.running_var", "0.1.running_var", 1),
            (Seed, "1.0.0.f.0.weight", "1.0.conv1.weight", 4),
            (Seed, "1.1.0.f.1.scale", "1.1.bn1.weight", 1),
            (Seed, "2.0.0.f.3.bias", "2.0.conv2.bias", 1),
            (Seed, "4.1.0.f.4.running_mean", "4.1.bn2.running_mean", 1),
            (Seed, "2.0.0.r.weight", "2.0.conv3.weight", 4),
            (Seed, "5.fc.bias", "7.bias", 1),
            (Basic, "0.0.weight", "conv1.weight", 4),
            (Basic, "0.1.scale", "bn1.weight", 1),
            (Basic, "1.0.0.f.0.weight", "layer1.0.conv1.weight", 4),
            (Basic, "1.1.0.f.4.running_var", "layer1.1.bn2.running_var", 1),
            (Basic, "2.0.0.r.0.weight", "layer2.0.downsample.0.weight", 4),
            (Basic, "2.0.0.r.1.scale", "layer2.0.downsample.1.weight", 1),
            (Basic, "5.fc.weight", "fc.weight", 2),
            (Bottleneck, "1.0.0.f.0.0.weight", "layer1.0.conv1.weight", 4),
            (Bottleneck, "3.22.0.f.1.1.running_var", "layer3.22.bn2.running_var", 1),
            (Bottleneck, "4.2.0.f.2.1.scale", "layer4.2.bn3.weight", 1),
            (Bottleneck, "4.0.0.r.1.bias", "layer4.0.downsample.1.bias", 1),
        ];
        for (layout, ours, theirs, rank) in names {
            assert_eq!(layout.to_pytorch(ours).as_deref(), Some(theirs), "{layout:?} {ours}");
            assert_eq!(layout.from_pytorch(theirs, rank).as_deref(), Some(ours), "{layout:?} {theirs}");
        }
        assert_eq!(Seed.to_pytorch("9.x"), None);
        assert_eq!(Seed.from_pytorch("1.0.bn3.weight", 1), None);
        assert_eq!(Seed.from_pytorch("layer1.0.bn1.weight", 1), None);
        assert_eq!(Basic.from_pytorch("layer1.0.conv3.weight", 4), None);
        assert_eq!(Bottleneck.from_pytorch("layer5.0.conv1.weight", 4), None);
    }

    #[test]
    fn every_model_with_a_pytorch_twin_has_a_layout() {
        for &model in ModelName::ALL {
            let expected = model.flavor() == Flavor::Torchvision || model == ModelName::RESNET18;
            assert_eq!(Layout::of(model).is_some(), expected, "{model}");
        }
    }
}

//! The ResNet family (the paper's Table 1, pre-activation, torchvision's layout): parameter
//! counts and multiply-accumulates against torchvision and the paper, stage shapes, and the
//! static shape tables against real forward passes.

use resnet_core::models::{Arch, Flavor, ModelName};
use resnet_core::prelude::*;
use resnet_core::summary::{self, Dims, LayerShape, ModelRows, ModelShape, Row};

/// `(model, params, macs)` of torchvision's resnet18 ... resnet152 at 3 input channels,
/// 1000 classes and 224x224 (`scripts/fixtures/torchvision_reference.py`).
fn torchvision_models() -> Vec<(String, usize, u64)> {
    std::fs::read_to_string("tests/data/torchvision_models.txt")
        .unwrap()
        .lines()
        .map(|l| {
            let [name, params, macs]: [&str; 3] = l.split(' ').collect::<Vec<_>>().try_into().unwrap();
            (name.to_string(), params.parse().unwrap(), macs.parse().unwrap())
        })
        .collect()
}

fn imagenet_table(model: ModelName) -> Vec<Row> {
    summary::table(model, Dims::of([1, 3, 224, 224]), 1000).unwrap()
}

fn totals(rows: &[Row]) -> (usize, u64) {
    (rows.iter().map(|r| r.params).sum(), rows.iter().map(|r| r.macs).sum())
}

#[test]
fn the_torchvision_flavour_has_torchvisions_parameters_and_multiply_accumulates() {
    let expected = torchvision_models();
    assert_eq!(expected.len(), 5);
    for (name, params, macs) in expected {
        let model = ModelName::new(name.parse().unwrap(), Flavor::Torchvision).unwrap();
        assert_eq!(totals(&imagenet_table(model)), (params, macs), "{model}");
    }
    // The same counts are compile-time constants of the types.
    assert_eq!(<torchvision::ResNet18<3, 1000> as LayerShape>::PARAMS, 11_689_512);
    assert_eq!(<torchvision::ResNet34<3, 1000> as LayerShape>::PARAMS, 21_797_672);
    assert_eq!(<torchvision::ResNet50<3, 1000> as LayerShape>::PARAMS, 25_557_032);
    assert_eq!(<torchvision::ResNet101<3, 1000> as LayerShape>::PARAMS, 44_549_160);
    assert_eq!(<torchvision::ResNet152<3, 1000> as LayerShape>::PARAMS, 60_192_808);
}

#[test]
fn the_chapters_flavour_has_the_papers_multiply_accumulates() {
    // He et al. (2016), Table 1: FLOPs (multiply-adds) at 224x224, in units of 10^9.
    let paper = [
        (Arch::ResNet18, 1.8),
        (Arch::ResNet34, 3.6),
        (Arch::ResNet50, 3.8),
        (Arch::ResNet101, 7.6),
        (Arch::ResNet152, 11.3),
        // Section 3.3: the plain 34-layer baseline has the same 3.6 billion FLOPs.
        (Arch::Plain18, 1.8),
        (Arch::Plain34, 3.6),
    ];
    for (arch, giga) in paper {
        let (_, macs) = totals(&imagenet_table(ModelName::new(arch, Flavor::D2l).unwrap()));
        let ratio = macs as f64 / (giga * 1e9);
        assert!(
            (ratio - 1.0).abs() <= 0.02,
            "{}: {macs} multiply-accumulates, paper {giga}e9",
            arch.as_str()
        );
    }
}

#[test]
fn every_model_halves_the_image_stage_by_stage() {
    for &model in ModelName::ALL {
        let rows = imagenet_table(model);
        if model.arch() == Arch::ResNet8 {
            // No downsampling stem: three stages at full, half and quarter size.
            let stages: Vec<(&str, Vec<usize>)> =
                rows[1..4].iter().map(|r| (r.name.as_str(), r.output.as_slice().to_vec())).collect();
            assert_eq!(
                stages,
                [("b2", vec![1, 16, 224, 224]), ("b3", vec![1, 32, 112, 112]), ("b4", vec![1, 64, 56, 56])]
            );
            assert_eq!(rows.last().unwrap().output.as_slice(), &[1, 1000]);
            continue;
        }
        let stages: Vec<(&str, [usize; 2])> = rows[1..5]
            .iter()
            .map(|r| (r.name.as_str(), [r.output.as_slice()[1], r.output.as_slice()[2]]))
            .collect();
        let widths = match model.arch() {
            Arch::ResNet18 | Arch::ResNet34 | Arch::PreActResNet18 | Arch::Plain18 | Arch::Plain34 => {
                [64, 128, 256, 512]
            }
            _ => [256, 512, 1024, 2048],
        };
        let expected: Vec<(&str, [usize; 2])> = ["b2", "b3", "b4", "b5"]
            .into_iter()
            .zip(widths.into_iter().zip([56, 28, 14, 7]).map(|(c, s)| [c, s]))
            .collect();
        assert_eq!(stages, expected, "{model}");
        assert_eq!(rows.last().unwrap().output.as_slice(), &[1, 1000], "{model}");
    }
}

/// The static table equals a forward pass's, row by row, and the built model has the
/// parameters the type states.
fn static_table_matches_a_forward_pass<M>()
where
    M: BuildOnDevice<Cpu, f32> + ModelShape + LayerShape,
    M::Built: ModelRows<Tensor<(usize, Const<3>, usize, usize), f32, Cpu>> + TensorCollection<f32, Cpu>,
    <M::Built as ModelRows<Tensor<(usize, Const<3>, usize, usize), f32, Cpu>>>::Error: std::fmt::Debug,
{
    let dev = Cpu::default();
    let model = dev.build_module::<M, f32>();
    assert_eq!(model.num_trainable_params(), M::PARAMS);
    let (n, side) = (2, 45);
    let x: Tensor<(usize, Const<3>, usize, usize), f32, _> = dev.sample_normal_like(&(n, Const, side, side));
    let measured = model.forward_table(x).unwrap();
    let expected = M::table(Dims::of([n, 3, side, side])).unwrap();
    let pairs = |m: &[usize], p| (m.to_vec(), p);
    assert_eq!(
        measured.iter().map(|m| pairs(&m.output, m.params)).collect::<Vec<_>>(),
        expected.iter().map(|r| pairs(r.output.as_slice(), r.params)).collect::<Vec<_>>()
    );
}

#[test]
fn static_tables_match_forward_passes_for_every_model() {
    static_table_matches_a_forward_pass::<ResNet18<3, 10>>();
    static_table_matches_a_forward_pass::<ResNet34<3, 10>>();
    static_table_matches_a_forward_pass::<ResNet50<3, 10>>();
    static_table_matches_a_forward_pass::<ResNet101<3, 10>>();
    static_table_matches_a_forward_pass::<ResNet152<3, 10>>();
    static_table_matches_a_forward_pass::<PreActResNet18<3, 10>>();
    static_table_matches_a_forward_pass::<PreActResNet50<3, 10>>();
    static_table_matches_a_forward_pass::<ResNet8<3, 10>>();
    static_table_matches_a_forward_pass::<Plain18<3, 10>>();
    static_table_matches_a_forward_pass::<Plain34<3, 10>>();
    static_table_matches_a_forward_pass::<torchvision::ResNet18<3, 10>>();
    static_table_matches_a_forward_pass::<torchvision::ResNet34<3, 10>>();
    static_table_matches_a_forward_pass::<torchvision::ResNet50<3, 10>>();
    static_table_matches_a_forward_pass::<torchvision::ResNet101<3, 10>>();
    static_table_matches_a_forward_pass::<torchvision::ResNet152<3, 10>>();
}

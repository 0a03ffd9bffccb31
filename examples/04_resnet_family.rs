//! The chapter's exercises: the ResNet paper's deeper variants (Table 1), bottleneck and
//! pre-activation blocks, in both flavours, each a type. Prints every model's parameters and
//! multiply-accumulates at 3×224×224 with 1000 classes (compare torchvision and the paper),
//! then runs ResNet-152 (torchvision flavour) forward and backward on a small batch.
//!
//! `cargo run --release --example 04_resnet_family`

use resnet_core::models::{torchvision, ModelName};
use resnet_core::prelude::*;
use resnet_core::summary::{self, Dims};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("{:<30} {:>14} {:>18}", "model", "parameters", "MACs at 224x224");
    for &model in ModelName::ALL {
        let rows = summary::table(model, Dims::of([1, 3, 224, 224]), 1000)?;
        let (params, macs) = rows.iter().fold((0usize, 0u64), |(p, m), r| (p + r.params, m + r.macs));
        println!("{:<30} {:>14} {:>18}", model.to_string(), params, macs);
    }

    // One training step's worth of work on the deepest model, from its type alone.
    let dev = Cpu::default();
    let mut net = dev.build_module::<torchvision::ResNet152<3, 10>, f32>();
    let x: Tensor<Rank4<2, 3, 64, 64>, f32, _> = dev.sample_uniform();
    let logits = net.forward_mut(x.traced(net.alloc_grads()));
    println!("resnet152 (torchvision) logits: {:?}", logits.shape().concrete());
    let grads = logits.square().mean().backward();
    let stem = grads.get(&net.0 .0.weight);
    println!("gradient of the stem conv: {} values, |g|max = {:e}", stem.as_vec().len(), {
        stem.as_vec().iter().fold(0.0f32, |m, g| m.max(g.abs()))
    });
    Ok(())
}

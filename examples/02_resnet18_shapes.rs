//! The chapter's ResNet-18 shape walk: a (1, 1, 224, 224) image through each block, printed
//! twice, from a real forward pass and from the types alone, with parameter counts.
//!
//! `cargo run --release --example 02_resnet18_shapes`

use resnet_core::prelude::*;
use resnet_core::summary::{Dims, ModelRows, ModelShape};
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dev = Cpu::default();
    let net = dev.build_module::<ResNet18<1, 10>, f32>();

    // X = torch.rand(size=(1, 1, 224, 224)); for layer in net: X = layer(X); print(...)
    let x: Tensor<(usize, Const<1>, usize, usize), f32, _> = dev.sample_uniform_like(&(1, Const, 224, 224));
    let measured = net.forward_table(x)?;
    let table = ResNet18::<1, 10>::table(Dims::of([1, 1, 224, 224]))?;
    println!("{:<20} {:<20} {:<20} {:>12}", "layer", "output (forward)", "output (types)", "params");
    for (m, row) in measured.iter().zip(&table) {
        println!(
            "{:<20} {:<20} {:<20} {:>12}",
            row.name,
            format!("{:?}", m.output),
            row.output.to_string(),
            m.params
        );
    }
    println!("total parameters: {}", net.num_trainable_params());
    Ok(())
}

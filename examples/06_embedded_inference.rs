//! Inference without std, as a microcontroller runs it: a model's weights exported to a
//! weights-only file (`resnet-tui export --format postcard` writes the same), then
//! `resnet_core::infer::logits` on 28×28 images, single-threaded. Prints the file's size and
//! the microseconds per image (median of 5 runs of 64 images) for ResNet-8 and ResNet-18,
//! beside dfdx's evaluation-mode forward pass on all cores.
//!
//! `cargo run --release --example 06_embedded_inference`

use std::time::Instant;

use resnet_core::checkpoint::{encode, named_tensors, Header};
use resnet_core::models::{Flavor, ModelName};
use resnet_core::prelude::*;

const IMAGES: usize = 64;

fn median_micros_per_image(mut run: impl FnMut()) -> f64 {
    run();
    let mut times: Vec<f64> = (0..5)
        .map(|_| {
            let start = Instant::now();
            run();
            start.elapsed().as_secs_f64() * 1e6 / IMAGES as f64
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[2]
}

fn measure<M>(name: &str) -> Result<(), resnet_core::Error>
where
    M: BuildOnDevice<Cpu, f32>,
    Built<M, Cpu>: Module<Tensor<(usize, Const<1>, usize, usize), f32, Cpu>, Error = CpuError>,
{
    let dev = Cpu::seed_from_u64(0);
    let model = dev.build_module::<M, f32>();
    let model_name = ModelName::new(name.parse()?, Flavor::D2l)?;
    let file = encode(&Header::weights(model_name, 1, 10), &named_tensors(&model)?)?;
    let images: Vec<f32> = (0..IMAGES * 784).map(|i| (i % 251) as f32 / 250.0).collect();
    let mut result = Ok(Vec::new());
    let no_std = median_micros_per_image(|| {
        result = resnet_core::infer::logits(&file, &images, [IMAGES, 1, 28, 28]);
    });
    result?;
    let x = dev.tensor_from_vec(images.clone(), (IMAGES, Const::<1>, 28, 28));
    let dfdx = median_micros_per_image(|| {
        model.forward(x.clone());
    });
    println!(
        "{name}: weights file {} bytes; infer::logits {no_std:.0} µs/image (1 thread); dfdx forward {dfdx:.0} µs/image ({} threads)",
        file.len(),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    Ok(())
}

fn main() -> Result<(), resnet_core::Error> {
    measure::<ResNet8<1, 10>>("resnet8")?;
    measure::<ResNet18<1, 10>>("resnet18")?;
    Ok(())
}

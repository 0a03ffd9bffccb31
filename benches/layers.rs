//! The CPU kernels at ResNet-18's layer shapes (batch 256 at 28x28 and 64 at 96x96):
//! convolution forward and backward, batch norm forward and backward, max-pooling.
//!
//! `cargo bench --bench layers`

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use resnet_core::ops::cpu::{batch_norm, conv2d, max_pool2d};
use resnet_core::ops::{Geometry2d, NormGeometry};

/// (name, [N, C, H, W], O, [K, S, P]) of the distinct convolutions.
const CONVS: &[(&str, [usize; 4], usize, [usize; 3])] = &[
    ("28/stem 7x7/2 1->64", [256, 1, 28, 28], 64, [7, 2, 3]),
    ("28/b2 3x3 64->64", [256, 64, 7, 7], 64, [3, 1, 1]),
    ("28/b3 3x3/2 64->128", [256, 64, 7, 7], 128, [3, 2, 1]),
    ("28/b3 1x1/2 64->128", [256, 64, 7, 7], 128, [1, 2, 0]),
    ("28/b5 3x3 512->512", [256, 512, 1, 1], 512, [3, 1, 1]),
    ("96/stem 7x7/2 1->64", [64, 1, 96, 96], 64, [7, 2, 3]),
    ("96/b2 3x3 64->64", [64, 64, 24, 24], 64, [3, 1, 1]),
    ("96/b3 3x3/2 64->128", [64, 64, 24, 24], 128, [3, 2, 1]),
    ("96/b4 3x3 256->256", [64, 256, 6, 6], 256, [3, 1, 1]),
    ("96/b5 3x3 512->512", [64, 512, 3, 3], 512, [3, 1, 1]),
];

fn data(len: usize) -> Vec<f32> {
    (0..len).map(|i| ((i * 7919) % 1009) as f32 / 1009.0 - 0.5).collect()
}

fn convolutions(c: &mut Criterion) {
    let mut group = c.benchmark_group("conv2d");
    group.sample_size(10);
    for &(name, dims, o, win) in CONVS {
        let g = Geometry2d::new(dims, o, win);
        let (x, w, b, gy) = (data(g.input_len()), data(g.weight_len()), data(o), data(g.output_len()));
        let macs = (g.output_len() * g.patch_len()) as u64;
        group.throughput(Throughput::Elements(2 * macs));
        let mut y = vec![0.0; g.output_len()];
        group.bench_function(BenchmarkId::new("forward", name), |bench| {
            bench.iter(|| conv2d::forward(&x, &w, Some(&b), &g, &mut y))
        });
        let (mut gx, mut gw, mut gb) = (vec![0.0; g.input_len()], vec![0.0; g.weight_len()], vec![0.0; o]);
        group.throughput(Throughput::Elements(4 * macs));
        group.bench_function(BenchmarkId::new("backward", name), |bench| {
            bench.iter(|| conv2d::backward(&x, &w, &g, &gy, &mut gx, &mut gw, Some(&mut gb)))
        });
    }
    group.finish();
}

fn norms_and_pools(c: &mut Criterion) {
    let mut group = c.benchmark_group("layers");
    group.sample_size(10);
    for (name, n, ch, side) in [("28/b2", 256, 64, 7), ("96/stem", 64, 64, 48), ("96/b2", 64, 64, 24)] {
        let g = NormGeometry { batch: n, channels: ch, plane: side * side };
        let len = n * ch * side * side;
        let (x, gy) = (data(len), data(len));
        group.bench_function(BenchmarkId::new("batch norm statistics", name), |bench| {
            bench.iter(|| batch_norm::statistics(&x, &g))
        });
        let (mean, var) = batch_norm::statistics(&x, &g);
        let inv: Vec<f64> = var.iter().map(|v| 1.0 / (v + 1e-5).sqrt()).collect();
        let scale = vec![1.0f32; ch];
        let (mut gx, mut gs, mut gb) = (vec![0.0; len], vec![0.0; ch], vec![0.0; ch]);
        group.bench_function(BenchmarkId::new("batch norm backward", name), |bench| {
            bench.iter(|| batch_norm::backward(&x, &gy, &mean, &inv, &scale, &g, &mut gx, &mut gs, &mut gb))
        });
    }
    for (name, dims) in [("28/stem", [256, 64, 14, 14]), ("96/stem", [64, 64, 48, 48])] {
        let g = Geometry2d::new(dims, dims[1], [3, 2, 1]);
        let x = data(g.input_len());
        let (mut y, mut arg) = (vec![0.0; g.output_len()], vec![0u32; g.output_len()]);
        group.bench_function(BenchmarkId::new("max pool forward", name), |bench| {
            bench.iter(|| max_pool2d::forward(&x, &g, &mut y, &mut arg))
        });
    }
    group.finish();
}

/// The device-generic convolution (dfdx ops: gather im2col + matmul) on `Cpu`, forward and
/// backward together, next to the fast kernel: the path meant for CUDA, reported here.
fn generic_path(c: &mut Criterion) {
    use resnet_core::dfdx::prelude::*;
    use resnet_core::ops::{generic, Conv2dKernel, ConvParams};
    let mut group = c.benchmark_group("conv2d forward+backward, fast vs generic");
    group.sample_size(10);
    let dev = Cpu::default();
    for &(name, dims, o, win) in &CONVS[1..3] {
        let g = Geometry2d::new(dims, o, win);
        let x = dev.tensor_from_vec(data(g.input_len()), (dims[0], dims[1], dims[2], dims[3]));
        let w = dev.tensor_from_vec(data(g.weight_len()), (o, dims[1], win[0], win[0]));
        let b = dev.tensor_from_vec(data(o), (o,));
        let y_shape = (g.batch, o, g.out_height, g.out_width);
        group.throughput(Throughput::Elements(6 * (g.output_len() * g.patch_len()) as u64));
        group.bench_function(BenchmarkId::new("fast", name), |bench| {
            bench.iter(|| {
                let p = ConvParams { weight: &w, bias: Some(&b), g };
                Cpu::try_conv2d(x.leaky_trace(), p, y_shape).map(|y| y.sum().backward())
            })
        });
        group.bench_function(BenchmarkId::new("generic", name), |bench| {
            bench.iter(|| {
                let p = ConvParams { weight: &w, bias: Some(&b), g };
                generic::conv2d::try_conv2d(x.leaky_trace(), p, y_shape).map(|y| y.sum().backward())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, convolutions, norms_and_pools, generic_path);
criterion_main!(benches);

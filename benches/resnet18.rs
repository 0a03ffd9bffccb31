//! A whole ResNet-18 training step (forward, cross-entropy, backward, SGD; through the
//! compiled program and through dfdx's tape) and an inference pass, at the sizes of BENCHMARKS.md: batch 256 at 28x28 and batch 64 at 96x96.
//!
//! `cargo bench --bench resnet18` (the PyTorch comparison uses `resnet-tui bench`)

#![allow(clippy::expect_used)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use resnet_core::bench::Workload;
use resnet_core::dfdx::prelude::Cpu;
use resnet_core::train::Engine;

fn resnet18(c: &mut Criterion) {
    let mut group = c.benchmark_group("resnet18");
    group.sample_size(10);
    for ((res, batch), engine) in
        [(28, 256), (96, 64)].into_iter().flat_map(|s| [(s, Engine::Program), (s, Engine::Tape)])
    {
        let mut w = Workload::<Cpu>::new(res, batch, engine).expect("workload");
        let id = format!("{res}x{res} batch {batch}, {engine}");
        group.throughput(Throughput::Elements(batch as u64));
        group.bench_function(BenchmarkId::new("train step", &id), |b| {
            b.iter(|| w.train_step().expect("step"))
        });
        group.bench_function(BenchmarkId::new("inference", &id), |b| b.iter(|| w.infer().expect("infer")));
    }
    group.finish();
}

criterion_group!(benches, resnet18);
criterion_main!(benches);

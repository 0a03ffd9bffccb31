//! `resnet-tui bench`: one JSON line of throughput and peak memory, comparable with
//! `scripts/pytorch_resnet.py speed`; with `--profile`, the step's phases.

use serde_json::json;

use crate::cli::BenchArgs;
use crate::failure::Failure;
use crate::run::device::{on_device, resolve, Resolved};
use crate::run::memory::peak_bytes;
use resnet_core::train::Engine;

/// Runs the benchmark and returns its JSON lines.
pub fn run(args: &BenchArgs) -> Result<String, Failure> {
    if args.res == 0 || args.batch == 0 || args.steps == 0 {
        return Err(Failure::Usage(
            "invalid bench settings: --res, --batch and --steps must be at least 1".into(),
        ));
    }
    if let Some(n) = args.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global()
            .map_err(|e| Failure::Usage(format!("cannot set --threads: {e}")))?;
    }
    let device = resolve(args.device).map_err(Failure::Usage)?;
    let speed = on_device!(device, D => resnet_core::bench::speed::<D>(args.res, args.batch, args.steps, args.profile, args.engine))
        .map_err(|e| Failure::Training(e.to_string()))?;
    let gpu = gpu_json(device);
    let round = |v: f64| (v * 10.0).round() / 10.0;
    let mut lines = vec![json!({
        "bench": "speed",
        "res": args.res,
        "batch": args.batch,
        "threads": rayon::current_num_threads(),
        "engine": speed.engine.as_str(),
        "train_img_per_s": round(speed.train_img_per_s),
        "infer_img_per_s": round(speed.infer_img_per_s),
        "peak_rss_mb": peak_bytes().map(|b| round(b as f64 / (1 << 20) as f64)),
        "device": gpu.0,
        "gpu": gpu.1,
    })
    .to_string()];
    if args.profile {
        let kernels: f64 = speed.phases.iter().map(|(_, s)| s).sum();
        // Each engine reports the phases it has; the other's stay at zero.
        for (phase, secs) in speed.phases.iter().filter(|(_, secs)| *secs > 0.0) {
            lines.push(
                json!({"bench": "profile", "phase": phase.name(), "ms_per_step": round(secs * 1e3)})
                    .to_string(),
            );
        }
        let rest = match speed.engine {
            Engine::Tape => {
                "the rest: dfdx ops (relu, residual add, global pool, linear, loss), tape, allocation"
            }
            Engine::Program => "the rest: the program's bookkeeping, the images to channels-last",
        };
        lines.push(
            json!({"bench": "profile", "phase": rest, "ms_per_step": round((speed.step_seconds - kernels) * 1e3)})
                .to_string(),
        );
        lines.push(json!({"bench": "profile", "phase": "whole step", "ms_per_step": round(speed.step_seconds * 1e3)}).to_string());
    }
    Ok(lines.join("\n"))
}

/// The device's label and, on a GPU, its name and memory (as the driver reports them).
fn gpu_json(device: Resolved) -> (&'static str, serde_json::Value) {
    match device {
        Resolved::Cpu => ("cpu", serde_json::Value::Null),
        #[cfg(feature = "cuda")]
        Resolved::Cuda => match resnet_core::cuda::gpu_info() {
            Ok(info) => (
                "cuda:0",
                json!({
                    "name": info.name,
                    "memory_used_mb": info.memory.map(|(u, _)| u >> 20),
                    "memory_total_mb": info.memory.map(|(_, t)| t >> 20),
                }),
            ),
            Err(e) => ("cuda:0", json!({ "error": e.to_string() })),
        },
    }
}

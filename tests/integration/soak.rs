//! A long run's memory stays flat: 600 training steps (ResNet-18, 28×28, batch 32, a
//! checkpoint every 50 steps, the blocks' gradient flow every 10), resident memory read from
//! `/proc/self/status` after each.
//! Ignored by default (about a minute); `.ci/run` runs it alone, so that no other test's
//! allocations count: `cargo test --test integration -- --ignored soak --nocapture`.

use std::sync::Arc;

use resnet_core::dfdx::prelude::Cpu;
use resnet_core::train::{train, Control, RunPlan, Saving, Session, TrainConfig, TrainEvent};

use crate::support::real_data;

const STEPS: usize = 600;
/// Steps before the baseline: buffers, caches and the allocator settle. The allocator's
/// heap takes its final size over the first gradient-flow reports (every 10 steps, with a
/// copy of the weights) and checkpoints (every 50): seen settling by step 150 on this run.
const WARM_UP: usize = 200;

fn resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() * 1024
}

#[test]
#[ignore = "slow: run alone by .ci/run"]
fn soak_memory_stays_flat_over_600_steps() {
    let dir = tempfile::tempdir().unwrap();
    let config = TrainConfig {
        epochs: 1,
        batch_size: 32,
        resize: 28,
        limit_train: Some(32 * STEPS),
        limit_test: Some(64),
        ..TrainConfig::d2l()
    };
    let checkpoint = Some(dir.path().join("soak.ckpt"));
    let saving = Saving { checkpoint, keep: 2, save_every: Some(50), ..Saving::default() };
    let plan = RunPlan::new(config, saving, None).unwrap();
    let session = Session { plan, data: Arc::new(real_data().clone()), data_source: "soak".into() };
    let mut rss = Vec::new();
    train::<Cpu>(&session, &Control::new(), &mut |e| {
        if let TrainEvent::Batch { .. } = e {
            rss.push(resident_bytes());
        }
    })
    .unwrap();
    assert_eq!(rss.len(), STEPS);
    let baseline = rss[WARM_UP..WARM_UP + 100].iter().copied().max().unwrap();
    let late = rss[STEPS - 100..].iter().copied().max().unwrap();
    let growth = late as f64 / baseline as f64 - 1.0;
    eprintln!(
        "soak: {STEPS} steps, resident memory {:.1} MB after {WARM_UP} steps, {:.1} MB at the end ({:+.2}%), peak {:.1} MB",
        baseline as f64 / 1e6,
        late as f64 / 1e6,
        growth * 100.0,
        *rss.iter().max().unwrap() as f64 / 1e6
    );
    assert!(growth <= 0.05, "memory grew {:.1}% over {STEPS} steps", growth * 100.0);
}

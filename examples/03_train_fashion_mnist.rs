//! Trains the chapter's ResNet-18 on Fashion-MNIST with the library API directly, as d2l's
//! `train_ch6(net, train_iter, test_iter, num_epochs, lr, try_gpu())` does, printing d2l's
//! lines. Quick settings by default; pass `--d2l` for the chapter's (96x96, 10 epochs).
//!
//! `cargo run --release --example 03_train_fashion_mnist [-- --d2l]`

use std::sync::Arc;

use resnet_core::data::{FashionMnist, Search};
use resnet_core::dfdx::prelude::Cpu;
use resnet_core::train::{train, Control, RunPlan, Saving, Session, TrainConfig, TrainEvent};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config =
        if std::env::args().any(|a| a == "--d2l") { TrainConfig::d2l() } else { TrainConfig::quick() };
    // load_data_fashion_mnist: --data-dir, FASHION_MNIST_DIR, the cache, the Debian package, download.
    let (dir, source) = Search::standard(None, true).locate(&mut |_| {})?;
    let data = Arc::new(FashionMnist::load(&dir)?);
    println!("Fashion-MNIST from {} ({source})", dir.display());

    // A checked plan: a valid recipe, no checkpoints (`Saving::checkpoint` would add them).
    let plan = RunPlan::new(config, Saving::default(), None)?;
    let epochs = plan.config.epochs;
    let session = Session { plan, data, data_source: source.to_string() };
    train::<Cpu>(&session, &Control::new(), &mut |event| match event {
        TrainEvent::Epoch(m) => println!("{}", m.line(epochs, "cpu")),
        TrainEvent::Batch { batch, batches, loss, .. } if batch % 50 == 0 => {
            println!("  batch {batch}/{batches}: loss {loss:.3}")
        }
        _ => {}
    })?;
    Ok(())
}

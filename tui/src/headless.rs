//! `resnet-tui train --headless`: d2l's lines on stdout, JSON Lines metrics, and the run
//! setup shared with the dashboard (configuration, resume, data search).

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use resnet_core::checkpoint::Checkpoint;
use resnet_core::data::{FashionMnist, Search};
use resnet_core::train::{train, Control, EpochMetrics, SaveReason, Session, TrainEvent};

use crate::app::Interrupt;
use crate::cli::TrainArgs;
use crate::device::{on_device, resolve};
use crate::signals::{self, Signals};

/// Why a command failed, and so its exit status.
#[derive(Debug, PartialEq)]
pub enum Failure {
    /// Bad arguments, data or files before training began: exit 2.
    Usage(String),
    /// Training itself failed: exit 1.
    Training(String),
}

/// Builds the run from the flags: threads, device, resume, configuration and data.
pub fn prepare(args: &TrainArgs) -> Result<Session, Failure> {
    let usage = |e: resnet_core::Error| Failure::Usage(e.to_string());
    if let Some(n) = args.threads {
        if n == 0 {
            return Err(Failure::Usage("invalid --threads: must be at least 1".into()));
        }
        // Only the first call in a process can set the pool; later ones keep it.
        let _ = rayon::ThreadPoolBuilder::new().num_threads(n).build_global();
    }
    let (config, resume) = match &args.resume {
        Some(path) => {
            let ckpt = Checkpoint::load(path).map_err(usage)?;
            let fixed = args.recipe_flags();
            if !fixed.is_empty() {
                return Err(Failure::Usage(format!(
                    "{} cannot change when resuming: the run's recipe is in {} (only --epochs may grow)",
                    fixed.join(", "),
                    path.display()
                )));
            }
            let mut config = ckpt.config.clone();
            config.epochs = args.epochs.unwrap_or(config.epochs);
            if config.epochs < ckpt.position.epoch {
                return Err(Failure::Usage(format!(
                    "invalid --epochs: {} already has {} completed epochs",
                    path.display(),
                    ckpt.position.epoch
                )));
            }
            (config, Some((ckpt, path.clone())))
        }
        None => (args.config().map_err(Failure::Usage)?, None),
    };
    config.validate().map_err(usage)?;
    let search = Search::standard(args.data_dir.clone(), !args.no_download);
    let mut progress = download_progress();
    let (dir, source) = search.locate(&mut progress).map_err(usage)?;
    let data = FashionMnist::load(&dir).map_err(usage)?;
    Ok(Session {
        config,
        data: Arc::new(data),
        data_source: format!("{} ({source})", dir.display()),
        checkpoint: args.checkpoint.clone().or_else(|| args.resume.clone()),
        keep: args.keep as usize,
        save_every: args.save_every,
        resume,
        control: Control::new(),
    })
}

/// A progress line on stderr while downloading (only when stderr is a terminal).
fn download_progress() -> impl FnMut(resnet_core::data::Progress<'_>) {
    let tty = std::io::stderr().is_terminal();
    move |p| {
        if tty {
            let total = p.total.map_or(String::new(), |t| format!(" of {:.1} MB", t as f64 / 1e6));
            eprint!("\rdownloading {}: {:.1} MB{total}   ", p.name, p.done as f64 / 1e6);
        }
    }
}

/// d2l's closing lines: the last epoch's numbers and the examples/sec of the whole run.
pub fn summary(history: &[EpochMetrics], device: &str) -> Option<String> {
    let last = history.last()?;
    let seconds: f64 = history.iter().map(|m| 1.0 / m.examples_per_sec.max(f64::MIN_POSITIVE)).sum();
    let rate = history.len() as f64 / seconds;
    Some(format!(
        "loss {:.3}, train acc {:.3}, test acc {:.3}\n{rate:.1} examples/sec on {device}",
        last.loss, last.train_acc, last.test_acc
    ))
}

fn open_metrics(path: &Path, history: &[EpochMetrics]) -> Result<BufWriter<File>, Failure> {
    let file =
        File::create(path).map_err(|e| Failure::Usage(format!("cannot create {}: {e}", path.display())))?;
    let mut out = BufWriter::new(file);
    for m in history {
        write_metrics(&mut out, m);
    }
    Ok(out)
}

fn write_metrics(out: &mut BufWriter<File>, m: &EpochMetrics) {
    if let Ok(line) = serde_json::to_string(m) {
        let _ = writeln!(out, "{line}").and_then(|_| out.flush());
    }
}

/// Runs the whole headless command; returns the exit status (130 or 143 when a signal
/// stopped the run, after saving).
pub fn run(args: &TrainArgs) -> Result<u8, Failure> {
    let signals = Signals::register();
    let target = resolve(args.device).map_err(Failure::Usage)?;
    let session = prepare(args)?;
    let watcher = watch_signals(signals, session.control.clone());
    let history = session.resume.as_ref().map(|(c, _)| c.history.clone()).unwrap_or_default();
    let mut metrics = args.metrics_out.as_deref().map(|p| open_metrics(p, &history)).transpose()?;
    let epochs = session.config.epochs;
    let mut device = String::from("cpu");
    let mut sink = |event: TrainEvent| match event {
        TrainEvent::Started {
            config,
            data,
            train_examples,
            test_examples,
            batches_per_epoch,
            device: d,
            resumed_from,
            start_epoch,
            start_batch,
            ..
        } => {
            device = d;
            if let Some(from) = resumed_from {
                println!("resuming {from} at epoch {}, batch {start_batch}", start_epoch + 1);
            }
            println!(
                "training {} on {device}: {train_examples} training and {test_examples} test images from {data}; \
                 {batches_per_epoch} batches of {} at {}x{}, lr {}",
                config.model, config.batch_size, config.resize, config.resize, config.lr
            );
        }
        TrainEvent::Epoch(m) => {
            println!("{}", m.line(epochs, &device));
            if let Some(out) = metrics.as_mut() {
                write_metrics(out, &m);
            }
        }
        TrainEvent::CheckpointSaved { path, step, reason } => {
            let why = match reason {
                SaveReason::EpochEnd => "epoch end",
                SaveReason::Requested => "requested",
                SaveReason::Stop => "stopping",
                SaveReason::Periodic => "periodic",
            };
            eprintln!("saved checkpoint {path} ({why}, step {step})");
        }
        TrainEvent::Warning(w) => eprintln!("warning: {w}"),
        TrainEvent::Finished { history, stopped } => {
            if stopped {
                println!("stopped early");
            }
            if let Some(s) = summary(&history, &device) {
                println!("{s}");
            }
        }
        _ => {}
    };
    let result = on_device!(target, D => train::<D>(&session, &mut sink))
        .map_err(|e| Failure::Training(e.to_string()));
    let interrupted = watcher.finish();
    result?;
    Ok(interrupted.map_or(0, signals::exit_status))
}

/// Watches for signals while the run lasts: the first SIGINT or SIGTERM asks the run to stop
/// after its batch (it then saves); a second SIGINT exits at once.
struct SignalWatcher {
    done: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<Option<Interrupt>>,
}

fn watch_signals(signals: Signals, control: Control) -> SignalWatcher {
    let done = Arc::new(AtomicBool::new(false));
    let finished = done.clone();
    let thread = std::thread::spawn(move || {
        let mut first = None;
        while !finished.load(Ordering::SeqCst) {
            for kind in signals.take() {
                if first.is_some() && kind == Interrupt::Int {
                    eprintln!("interrupted again: exiting without saving");
                    std::process::exit(signals::exit_status(kind).into());
                }
                if first.is_none() {
                    eprintln!("stopping after this batch and saving (interrupt again to exit at once)");
                    control.request_stop();
                    first = Some(kind);
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        first
    });
    SignalWatcher { done, thread }
}

impl SignalWatcher {
    /// Stops watching; returns the first signal that arrived, if any.
    fn finish(self) -> Option<Interrupt> {
        self.done.store(true, Ordering::SeqCst);
        self.thread.join().ok().flatten()
    }
}

//! `resnet-tui train --headless`: d2l's lines on stdout, JSON Lines metrics, signals that
//! stop the run after saving.

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use resnet_core::train::{train, Control, EpochMetrics, OnSaveError, Session, TrainEvent};

use crate::cli::TrainArgs;
use crate::device::{on_device, resolve};
use crate::failure::Failure;
use crate::plan::{load_resume, plan, session, set_threads};
use crate::run_view::RunView;
use crate::signals::{self, Interrupt, Signals};

/// Builds the run from the flags: threads, resume, the checked plan, and the data.
pub fn prepare(args: &TrainArgs) -> Result<Session, Failure> {
    set_threads(args)?;
    let resume = load_resume(args)?;
    let config = args.config(resume.as_ref().map(|r| &r.checkpoint.config)).map_err(Failure::Usage)?;
    let plan = plan(args, config, args.checkpoint.clone(), resume.as_ref(), OnSaveError::Fail)?;
    session(plan, args.data_dir.clone(), !args.no_download, &mut download_progress()).map_err(Failure::usage)
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
    let control = Control::new();
    let watcher = watch_signals(signals, control.clone());
    let history = session.plan.resume.as_ref().map(|r| r.checkpoint.history.clone()).unwrap_or_default();
    let mut metrics = args.metrics_out.as_deref().map(|p| open_metrics(p, &history)).transpose()?;
    let (clock, mut view) = (Instant::now(), RunView::default());
    let mut sink = |event: TrainEvent| {
        view.apply(&event, clock.elapsed());
        match &event {
            TrainEvent::Started {
                config,
                data,
                train_examples,
                test_examples,
                batches_per_epoch,
                resumed_from,
                start_epoch,
                start_batch,
                ..
            } => {
                if let Some(from) = resumed_from {
                    println!("resuming {from} at epoch {}, batch {start_batch}", start_epoch + 1);
                }
                println!(
                    "training {} on {}: {train_examples} training and {test_examples} test images from {data}; \
                     {batches_per_epoch} batches of {} at {}x{}, lr {}",
                    config.model, view.device, config.batch_size, config.resize, config.resize, config.lr
                );
            }
            TrainEvent::Epoch(m) => {
                println!("{}", view.epoch_line(m));
                if let Some(out) = metrics.as_mut() {
                    write_metrics(out, m);
                }
            }
            TrainEvent::CheckpointSaved { path, step, reason } => {
                eprintln!("saved checkpoint {path} ({reason}, step {step})")
            }
            TrainEvent::Warning(w) => eprintln!("warning: {w}"),
            TrainEvent::Finished { stopped, .. } => {
                if *stopped {
                    println!("stopped early");
                }
                if let Some(s) = view.summary() {
                    println!("{s}");
                }
            }
            _ => {}
        }
    };
    let result = on_device!(target, D => train::<D>(&session, &control, &mut sink))
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

//! `resnet-tui train --headless`: d2l's lines on stdout, JSON Lines metrics, signals that
//! stop the run after saving.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use resnet_core::train::{train, Control, OnSaveError, Session, TrainEvent};

use crate::cli::TrainArgs;
use crate::failure::Failure;
use crate::headless::progress::Progress;
use crate::run::device::{on_device, resolve};
use crate::run::dir::{resumed_dir, RunFiles};
use crate::run::log::RunLog;
use crate::run::plan::{load_resume, plan, session, set_threads};
use crate::run::signals::{self, Interrupt, Signals};
use crate::run::view::RunView;

/// What a headless run writes: the files the flags name, and those of `--run-dir` (or of
/// the run directory `--resume` names).
pub fn files(args: &TrainArgs) -> RunFiles {
    let dir = args.run_dir.clone().or_else(|| args.resume.as_deref().and_then(resumed_dir));
    RunFiles::new(dir, args.checkpoint.clone(), args)
}

/// Builds the run from the flags: threads, resume, the checked plan, and the data.
pub fn prepare(args: &TrainArgs) -> Result<Session, Failure> {
    set_threads(args)?;
    let resume = load_resume(args)?;
    let config = args.config(resume.as_ref().map(|r| &r.checkpoint.config)).map_err(Failure::Usage)?;
    let plan = plan(args, config, args.engine, files(args).checkpoint, resume.as_ref(), OnSaveError::Fail)?;
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

/// Runs the whole headless command; returns the exit status (130 or 143 when a signal
/// stopped the run, after saving).
pub fn run(args: &TrainArgs) -> Result<u8, Failure> {
    if args.compare.is_some() {
        return Err(Failure::Usage(
            "--compare draws a finished run beside the dashboard's live curves; compare headless runs \
             afterwards with `resnet-tui plot A.jsonl B.jsonl --out curves.svg`"
                .into(),
        ));
    }
    let signals = Signals::register();
    let target = resolve(args.device).map_err(Failure::Usage)?;
    let session = prepare(args)?;
    let control = Control::new();
    let watcher = watch_signals(signals, control.clone());
    let files = files(args);
    let mut log =
        RunLog::open(files.metrics.as_deref(), files.tensorboard.as_deref(), session.plan.resume.as_deref())
            .map_err(Failure::Usage)?;
    if let Some(dir) = &files.dir {
        eprintln!("run directory: {}", dir.display());
    }
    if let Some(file) = log.tensorboard_file() {
        eprintln!("writing TensorBoard events to {}", file.display());
    }
    let mut progress = Progress::new(std::io::stderr().is_terminal(), args.log_every);
    let (clock, mut view) = (Instant::now(), RunView::default());
    let mut sink = |event: TrainEvent| {
        view.apply(&event, clock.elapsed());
        log.record(&event);
        if let TrainEvent::Blocks(_) = event {
            return;
        }
        if let TrainEvent::Batch { .. } = event {
            if let Some(text) = progress.after_step(&view, clock.elapsed()) {
                eprint!("{text}");
            }
            return;
        }
        if let Some(erase) = progress.clear() {
            eprint!("{erase}");
        }
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

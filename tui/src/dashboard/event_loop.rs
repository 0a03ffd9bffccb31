//! The dashboard's event loop: terminal set-up and restore, one channel of events, redraws
//! on events at most 20 times a second, signals turned into "stop and save".

use std::io::{stdout, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ratatui::crossterm::{cursor, execute};
use resnet_core::data::Search;
use resnet_core::train::{spawn, Control, OnSaveError, Resume};

use crate::cli::TrainArgs;
use crate::dashboard::app::{App, Command, Level};
use crate::dashboard::event::{spawn_input, AppEvent};
use crate::dashboard::phase::Phase;
use crate::dashboard::setup_form::SetupForm;
use crate::dashboard::ui;
use crate::failure::Failure;
use crate::plot::finished_run;
use crate::run::device::{on_device, resolve};
use crate::run::log::RunLog;
use crate::run::memory::resident_bytes;
use crate::run::plan::{load_resume, plan, session, set_threads};
use crate::run::signals::{self, Signals};

/// Redraws at most this often.
const FRAME: Duration = Duration::from_millis(50);
/// Clocks and memory refresh this often without events.
const TICK: Duration = Duration::from_secs(1);

/// How the session ended, as the process's exit status.
pub fn exit_status(app: &App) -> u8 {
    match (app.interrupted, app.phase) {
        (Some(kind), _) => signals::exit_status(kind),
        (None, Phase::Failed) => 1,
        _ => 0,
    }
}

/// Where the data will come from, in words, for the setup screen.
fn data_status(form: &SetupForm, allow_download: bool) -> String {
    let search = Search { mirror: None, ..Search::standard(form.data_dir.clone(), false) };
    match search.locate(&mut |_| {}) {
        Ok((dir, source)) => format!("found: {} ({source})", dir.display()),
        Err(_) if allow_download && form.data_dir.is_none() => {
            "not found locally: it will be downloaded from the official mirror into the cache on start".into()
        }
        Err(e) => format!("not found: {e}"),
    }
}

/// Runs the dashboard until the user quits; returns the exit status.
pub fn run(args: &TrainArgs) -> Result<u8, Failure> {
    set_threads(args)?;
    // Kept for the whole session: a start that is refused leaves it for the next `Enter`.
    let resume = load_resume(args)?;
    let form = SetupForm::new(args, resume.as_ref().map(|r| &r.checkpoint.config)).map_err(Failure::Usage)?;
    // Flags that no run could start with are refused before the terminal is taken, as
    // `--headless` refuses them.
    plan(
        args,
        form.config.clone(),
        form.engine,
        form.files(args).checkpoint,
        resume.as_ref(),
        OnSaveError::Pause,
    )?;
    let mut app = App::new(form.clone(), data_status(&form, !args.no_download));
    app.compare = args.compare.as_deref().map(finished_run).transpose().map_err(Failure::Usage)?;
    let signals = Signals::register();
    let mut terminal =
        ratatui::try_init().map_err(|e| Failure::Usage(format!("cannot open the terminal: {e}")))?;
    let (tx, rx) = channel();
    let stop_input = Arc::new(AtomicBool::new(false));
    let input = spawn_input(tx.clone(), stop_input.clone());
    let clock = Instant::now();
    let (mut dirty, mut last_draw, mut last_tick) = (true, None::<Instant>, Instant::now());
    // The run's metrics file and TensorBoard events, once a run starts.
    let mut run_log = None;
    let result = loop {
        let mut quit = false;
        match rx.recv_timeout(FRAME) {
            Ok(event) => {
                app.now = clock.elapsed();
                quit |= handle(&mut app, event, args, resume.as_ref(), &tx, &mut run_log);
                while let Ok(event) = rx.try_recv() {
                    quit |= handle(&mut app, event, args, resume.as_ref(), &tx, &mut run_log);
                }
                dirty = true;
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break Ok(()),
        }
        app.now = clock.elapsed();
        for kind in signals.take() {
            quit |= app.interrupt(kind) == Command::Quit;
            dirty = true;
        }
        if last_tick.elapsed() >= TICK {
            app.memory = resident_bytes();
            (last_tick, dirty) = (Instant::now(), true);
        }
        if dirty && last_draw.is_none_or(|t| t.elapsed() >= FRAME) {
            if let Err(e) = terminal.draw(|f| ui::render(&app, f)) {
                break Err(Failure::Training(format!("cannot draw: {e}")));
            }
            (dirty, last_draw) = (false, Some(Instant::now()));
        }
        if quit || app.should_quit() {
            break Ok(());
        }
    };
    stop_input.store(true, Ordering::Relaxed);
    ratatui::restore();
    let _ = execute!(stdout(), cursor::Show);
    let _ = input.join();
    result?;
    if let Some(text) = app.run.summary() {
        println!("{text}");
    }
    if let Some(path) = &app.run.checkpoint {
        println!("last checkpoint: {path}");
    }
    if let Some(dir) = &app.run_dir {
        println!("run directory: {}", dir.display());
    }
    if let Some(line) = app.log.iter().rev().find(|l| l.level == Level::Error) {
        eprintln!("error: {}", line.text);
    }
    let _ = stdout().flush();
    Ok(exit_status(&app))
}

/// Applies one event; returns whether to leave at once.
fn handle(
    app: &mut App,
    event: AppEvent,
    args: &TrainArgs,
    resume: Option<&Arc<Resume>>,
    tx: &Sender<AppEvent>,
    run_log: &mut Option<RunLog>,
) -> bool {
    match event {
        AppEvent::Key(key) => {
            let data_dir = app.form.data_dir.clone();
            let command = app.on_key(key);
            if app.form.data_dir != data_dir {
                app.data_status = data_status(&app.form, !args.no_download);
            }
            match command {
                Command::Quit => return true,
                Command::Start => {
                    if let Some(log) = start(app, args, resume, tx) {
                        *run_log = Some(log);
                    }
                }
                Command::None => {}
            }
        }
        AppEvent::Resize => {}
        AppEvent::Train(e) => {
            if let Some(log) = run_log.as_mut() {
                log.record(&e);
            }
            app.on_train(*e)
        }
    }
    false
}

/// Starts the run with the form's settings: the plan is checked here (a refusal is shown on
/// the form and changes nothing), the run's directory and files are made, then data loading
/// and training go to a new thread whose events come back on the loop's channel. Returns
/// the run's log of metrics and TensorBoard events.
fn start(
    app: &mut App,
    args: &TrainArgs,
    resume: Option<&Arc<Resume>>,
    tx: &Sender<AppEvent>,
) -> Option<RunLog> {
    let form = &app.form;
    let files = form.files(args);
    let checked =
        plan(args, form.config.clone(), form.engine, files.checkpoint.clone(), resume, OnSaveError::Pause)
            .map_err(Failure::message)
            .and_then(|plan| Ok((plan, resolve(form.device)?)))
            .and_then(|(plan, device)| {
                let log = RunLog::open(
                    files.metrics.as_deref(),
                    files.tensorboard.as_deref(),
                    resume.map(|r| &**r),
                )?;
                Ok((plan, device, log))
            });
    let (plan, device, log) = match checked {
        Ok(checked) => checked,
        Err(message) => {
            app.form.message = Some(message);
            return None;
        }
    };
    let control = Control::new();
    app.started(control.clone(), files.dir.clone());
    let (data_dir, allow_download) = (app.form.data_dir.clone(), !args.no_download);
    let prepare = move || session(plan, data_dir, allow_download, &mut |_| {});
    let tx = tx.clone();
    let sink = move |e| {
        let _ = tx.send(AppEvent::Train(Box::new(e)));
    };
    // The thread reports its own end (`Finished` or `Failed`); it is not joined.
    drop(on_device!(device, D => spawn::<D>(control, prepare, sink)));
    Some(log)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::sync::mpsc::channel;

    use resnet_core::checkpoint::Header;
    use resnet_core::train::{Checkpoint, Position, TrainConfig};

    use super::*;
    use crate::cli::{train_args, DeviceChoice};

    /// The dashboard's flags and a run saved after `epochs` epochs of the quick recipe.
    fn resumed(flags: &[&str], epochs: usize) -> (TrainArgs, Arc<Resume>) {
        let args = train_args(&[&["--resume", "run.ckpt"], flags].concat());
        let config = TrainConfig::quick();
        let checkpoint = Checkpoint {
            header: Header::new(config.model, 1, 10),
            config,
            position: Position { epoch: epochs, ..Position::default() },
            params: Vec::new(),
            velocity: None,
            history: Vec::new(),
        };
        (args, Arc::new(Resume { checkpoint, path: PathBuf::from("run.ckpt") }))
    }

    #[test]
    fn a_refused_start_keeps_the_form_and_the_checkpoint_to_resume() {
        let (args, resume) = resumed(&["--preset", "quick", "--epochs", "3"], 2);
        let form = SetupForm::new(&args, Some(&resume.checkpoint.config)).unwrap();
        let mut app = App::new(form, "found".into());
        let (tx, rx) = channel();

        // Fewer epochs than the checkpoint has done.
        app.form.config.epochs = 1;
        start(&mut app, &args, Some(&resume), &tx);
        assert_eq!(
            app.form.message.as_deref(),
            Some("invalid epochs: run.ckpt already has 2 completed epochs; ask for at least 2")
        );
        // A device this build may not have (a CUDA build on a machine without a GPU says so too).
        app.form.config.epochs = 3;
        app.form.device = DeviceChoice::Cuda;
        if resolve(DeviceChoice::Cuda).is_err() {
            start(&mut app, &args, Some(&resume), &tx);
            assert!(
                app.form.message.as_deref().is_some_and(|m| m.contains("CUDA")),
                "{:?}",
                app.form.message
            );
        }
        assert_eq!(app.phase, Phase::Setup, "no run started");
        assert_eq!(Arc::strong_count(&resume), 1, "the checkpoint to resume is still only ours");
        assert!(rx.try_recv().is_err(), "no trainer events");
        assert_eq!(app.form.checkpoint.as_deref(), Some(std::path::Path::new("run.ckpt")));
    }
}

//! The dashboard's event loop: terminal set-up and restore, one channel of events, redraws
//! on events at most 20 times a second, signals turned into "stop and save".

use std::io::{stdout, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ratatui::crossterm::{cursor, execute};
use resnet_core::checkpoint::Checkpoint;
use resnet_core::data::{FashionMnist, Search};
use resnet_core::train::{spawn_with, Control, Session};

use crate::app::{App, Command, Level, Phase};
use crate::cli::TrainArgs;
use crate::device::{on_device, resolve};
use crate::event::{forward_trainer, spawn_input, AppEvent};
use crate::headless::{summary, Failure};
use crate::memory::resident_bytes;
use crate::setup::SetupForm;
use crate::signals::{self, Signals};
use crate::ui;

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
    let resume = match &args.resume {
        Some(p) => Some((Checkpoint::load(p).map_err(|e| Failure::Usage(e.to_string()))?, p.clone())),
        None => None,
    };
    let form = SetupForm::new(args, resume.as_ref().map(|(c, _)| &c.config)).map_err(Failure::Usage)?;
    let mut app = App::new(form.clone(), data_status(&form, !args.no_download));
    let signals = Signals::register();
    let mut terminal =
        ratatui::try_init().map_err(|e| Failure::Usage(format!("cannot open the terminal: {e}")))?;
    let (tx, rx) = channel();
    let stop_input = Arc::new(AtomicBool::new(false));
    let input = spawn_input(tx.clone(), stop_input.clone());
    let clock = Instant::now();
    let (mut dirty, mut last_draw, mut last_tick) = (true, None::<Instant>, Instant::now());
    let mut resume = resume;
    let result = loop {
        let mut quit = false;
        match rx.recv_timeout(FRAME) {
            Ok(event) => {
                quit |= handle(&mut app, event, clock.elapsed(), args, &mut resume, &tx);
                while let Ok(event) = rx.try_recv() {
                    quit |= handle(&mut app, event, clock.elapsed(), args, &mut resume, &tx);
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
    if let Some(text) = summary(&app.run.epochs, &app.run.device) {
        println!("{text}");
    }
    if let Some(path) = &app.run.checkpoint {
        println!("last checkpoint: {path}");
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
    now: Duration,
    args: &TrainArgs,
    resume: &mut Option<(Checkpoint, std::path::PathBuf)>,
    tx: &Sender<AppEvent>,
) -> bool {
    app.now = now;
    match event {
        AppEvent::Key(key) => {
            let data_dir = app.form.data_dir.clone();
            let command = app.on_key(key);
            if app.form.data_dir != data_dir {
                app.data_status = data_status(&app.form, !args.no_download);
            }
            match command {
                Command::Quit => return true,
                Command::Start => start(app, args, resume.take(), tx),
                Command::None => {}
            }
        }
        AppEvent::Resize => {}
        AppEvent::Train(e) => app.on_train(*e, now),
        AppEvent::TrainerDone(message) => app.trainer_gone(message),
    }
    false
}

/// Starts the run with the form's settings: data loading and training on a new thread.
fn start(
    app: &mut App,
    args: &TrainArgs,
    resume: Option<(Checkpoint, std::path::PathBuf)>,
    tx: &Sender<AppEvent>,
) {
    if let Err(e) = app.form.config.validate() {
        app.form.message = Some(e.to_string());
        return;
    }
    let device = match resolve(app.form.device) {
        Ok(d) => d,
        Err(e) => {
            app.form.message = Some(e);
            return;
        }
    };
    let control = Control::new();
    let steer = control.clone();
    app.started(control.clone());
    let (config, checkpoint, data_dir) =
        (app.form.config.clone(), app.form.checkpoint.clone(), app.form.data_dir.clone());
    let allow_download = !args.no_download;
    let (keep, save_every) = (args.keep as usize, args.save_every);
    let prepare = move || {
        let (dir, source) = Search::standard(data_dir, allow_download).locate(&mut |_| {})?;
        let data = FashionMnist::load(&dir)?;
        Ok(Session {
            config,
            data: Arc::new(data),
            data_source: format!("{} ({source})", dir.display()),
            checkpoint,
            keep,
            save_every,
            resume,
            control,
        })
    };
    let handle = on_device!(device, D => spawn_with::<D>(steer, prepare));
    forward_trainer(handle, tx.clone());
}

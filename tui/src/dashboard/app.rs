//! The dashboard's state and what keys and trainer events do to it. Drawing is elsewhere
//! (`ui/`); time comes in as an argument, so everything here is testable without a clock.

use std::path::PathBuf;

use crate::plot::{GradientFlow, RunCurves};
use std::time::Duration;

use ratatui::crossterm::event::{KeyCode, KeyEvent};
use resnet_core::models::ModelName;
use resnet_core::summary::{self, Dims, Node};
use resnet_core::train::{Control, TrainEvent, CLASSES, IN_CHANNELS};

use super::keys::{self, Action, KeyState};
use super::phase::{Panel, Phase, PANELS};
use super::setup_form::{FormKey, SetupForm};
use crate::run::signals::Interrupt;
use crate::run::view::RunView;

/// The choices of the quit prompt.
pub const QUIT_CHOICES: [&str; 3] = ["stop after this batch and save", "quit without saving", "cancel"];

/// A window over the panels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Popup {
    /// Quit while training: one of [`QUIT_CHOICES`] is highlighted.
    Quit {
        /// The highlighted choice.
        selected: usize,
    },
    /// The keys.
    Help,
}

/// How serious a log line is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Information.
    Info,
    /// Worth attention.
    Warning,
    /// Something failed.
    Error,
}

/// One line of the log panel.
#[derive(Clone, Debug, PartialEq)]
pub struct LogLine {
    /// Seconds since the dashboard opened.
    pub at: Duration,
    /// Severity.
    pub level: Level,
    /// The text.
    pub text: String,
}

/// What the event loop must do after a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// Nothing beyond redrawing.
    None,
    /// Start the run with the form's settings.
    Start,
    /// Leave now.
    Quit,
}

/// The whole dashboard state.
#[derive(Debug)]
pub struct App {
    /// Where the run stands.
    pub(super) phase: Phase,
    /// The panel shown.
    pub(super) panel: Panel,
    /// The settings.
    pub(super) form: SetupForm,
    /// Result of the data search, for the setup screen.
    pub(super) data_status: String,
    /// The layer table (with each block's structure) of the model at the image size.
    pub(super) outline: Result<Vec<Node>, String>,
    /// The run.
    pub(super) run: RunView,
    /// The log panel's lines.
    pub(super) log: Vec<LogLine>,
    /// An open popup.
    pub(super) popup: Option<Popup>,
    /// Lines of the model table scrolled past.
    pub(super) model_scroll: u16,
    /// Lines of the log scrolled back from its newest.
    pub(super) log_scroll: u16,
    /// Resident memory of the process.
    pub(super) memory: Option<u64>,
    /// Time since the dashboard opened, as of the latest event.
    pub(super) now: Duration,
    /// The trainer's handle, once started.
    pub(super) control: Option<Control>,
    /// Set when the user chose to leave (after the trainer stops, if it is saving).
    pub(super) quitting: bool,
    /// The signal that ended the session, if any.
    pub(super) interrupted: Option<Interrupt>,
    /// Why the last checkpoint could not be written, while the run waits for `s` or `q`.
    pub(super) save_failure: Option<String>,
    /// The run's directory (checkpoint, metrics, TensorBoard events), once started.
    pub(super) run_dir: Option<PathBuf>,
    /// A finished run drawn beside the live one (`--compare`).
    pub(super) compare: Option<RunCurves>,
    /// The run's gradient norms by depth, rebuilt on each block report (not on each frame).
    pub(super) depth: GradientFlow,
}

impl App {
    /// A dashboard on the setup screen.
    pub fn new(form: SetupForm, data_status: String) -> Self {
        let mut app = Self {
            phase: Phase::Setup,
            panel: Panel::Setup,
            form,
            data_status,
            outline: Ok(Vec::new()),
            run: RunView::default(),
            log: Vec::new(),
            popup: None,
            model_scroll: 0,
            log_scroll: 0,
            memory: None,
            now: Duration::ZERO,
            control: None,
            quitting: false,
            interrupted: None,
            save_failure: None,
            run_dir: None,
            compare: None,
            depth: GradientFlow::default(),
        };
        app.refresh_outline();
        app
    }

    /// Recomputes the layer table for the form's model and image size.
    pub fn refresh_outline(&mut self) {
        let c = &self.form.config;
        self.outline = outline(c.model, c.resize);
    }

    /// Adds a log line.
    pub fn log(&mut self, level: Level, text: impl Into<String>) {
        self.log.push(LogLine { at: self.now, level, text: text.into() });
    }

    /// Whether the event loop should end now.
    pub fn should_quit(&self) -> bool {
        self.quitting && !self.phase.training()
    }

    /// What the keys depend on now.
    pub fn key_state(&self) -> KeyState {
        KeyState {
            phase: self.phase,
            panel: self.panel,
            editing: self.form.editing.is_some(),
            save_failed: self.save_failure.is_some(),
        }
    }

    /// A key was pressed (releases and repeats never reach here); what it does is
    /// [`keys::KEYS`]'s.
    pub fn on_key(&mut self, key: KeyEvent) -> Command {
        let action = keys::action(key, &self.key_state());
        if let Some(popup) = self.popup {
            if action != Some(Action::Interrupt) {
                return self.on_popup_key(popup, key.code);
            }
        }
        match action {
            Some(Action::Form) => match self.form.on_key(key.code) {
                FormKey::Handled => self.refresh_outline(),
                FormKey::Start => return Command::Start,
                FormKey::Ignored => {}
            },
            Some(Action::Start) => return Command::Start,
            Some(Action::TogglePause) => self.toggle_pause(),
            Some(Action::Save) => self.request_save(),
            Some(Action::Quit) => {
                if !self.phase.training() {
                    return Command::Quit;
                }
                // After a failed save, saving again is what just failed: offer leaving.
                let selected = if self.save_failure.is_some() { 1 } else { 0 };
                self.popup = Some(Popup::Quit { selected });
            }
            Some(Action::Interrupt) => return self.interrupt(Interrupt::Int),
            Some(Action::SwitchPanel) => {
                self.switch_panel(if key.code == KeyCode::BackTab { PANELS.len() - 1 } else { 1 })
            }
            Some(Action::Scroll) => self.scroll(key.code),
            Some(Action::Help) => self.popup = Some(Popup::Help),
            None => {}
        }
        Command::None
    }

    /// Scrolls the panel shown by `code` (↑ ↓ PgUp PgDn Home).
    fn scroll(&mut self, code: KeyCode) {
        let scroll = match self.panel {
            Panel::Model => &mut self.model_scroll,
            Panel::Training => &mut self.log_scroll,
            Panel::Setup => return,
        };
        *scroll = match code {
            KeyCode::Up => scroll.saturating_sub(1),
            KeyCode::Down => scroll.saturating_add(1),
            KeyCode::PageUp => scroll.saturating_sub(10),
            KeyCode::PageDown => scroll.saturating_add(10),
            _ => 0,
        };
    }

    fn on_popup_key(&mut self, popup: Popup, code: KeyCode) -> Command {
        match (popup, code) {
            (_, KeyCode::Esc) | (Popup::Help, KeyCode::Char('?') | KeyCode::Char('q') | KeyCode::Enter) => {
                self.popup = None
            }
            (Popup::Quit { selected }, KeyCode::Up) => {
                self.popup = Some(Popup::Quit { selected: selected.saturating_sub(1) })
            }
            (Popup::Quit { selected }, KeyCode::Down) => {
                self.popup = Some(Popup::Quit { selected: (selected + 1).min(QUIT_CHOICES.len() - 1) })
            }
            (Popup::Quit { selected }, KeyCode::Enter) => {
                self.popup = None;
                match selected {
                    0 => self.stop_and_save(),
                    1 => {
                        self.log(Level::Warning, "quitting without saving");
                        return Command::Quit;
                    }
                    _ => {}
                }
            }
            _ => {}
        }
        Command::None
    }

    fn switch_panel(&mut self, by: usize) {
        let i = PANELS.iter().position(|&p| p == self.panel).unwrap_or(0);
        self.panel = PANELS[(i + by) % PANELS.len()];
    }

    fn toggle_pause(&mut self) {
        let Some(control) = &self.control else { return };
        match self.phase {
            Phase::Running => {
                control.pause();
                self.log(Level::Info, "pausing after this batch");
            }
            Phase::Paused => control.resume(),
            _ => {}
        }
    }

    fn request_save(&mut self) {
        if let (Some(control), true) = (&self.control, matches!(self.phase, Phase::Running | Phase::Paused)) {
            control.request_save();
            self.log(Level::Info, "saving a checkpoint after this batch");
        }
    }

    /// Stop after the current batch, save, and leave once the trainer is done.
    pub fn stop_and_save(&mut self) {
        self.quitting = true;
        if let Some(control) = &self.control {
            if self.phase.training() {
                control.request_stop();
                self.phase = Phase::Stopping;
                self.log(Level::Info, "stopping after this batch, then saving");
            }
        }
    }

    /// SIGINT / SIGTERM / Ctrl-C: stop and save (a second one leaves at once).
    pub fn interrupt(&mut self, kind: Interrupt) -> Command {
        if self.interrupted.is_some() || !self.phase.training() {
            self.interrupted = Some(kind);
            return Command::Quit;
        }
        self.interrupted = Some(kind);
        self.stop_and_save();
        Command::None
    }

    /// The trainer was started with `control`.
    pub fn started(&mut self, control: Control, run_dir: Option<PathBuf>) {
        self.control = Some(control);
        self.phase = Phase::Starting;
        self.panel = Panel::Training;
        self.log_scroll = 0;
        self.run = RunView { started_at: Some(self.now), ..RunView::default() };
        self.depth = GradientFlow::default();
        if let Some(dir) = &run_dir {
            let files = format!("{}/: checkpoint, metrics, TensorBoard events", dir.display());
            self.log(Level::Info, format!("run directory {files}"));
        }
        self.run_dir = run_dir;
        self.log(Level::Info, "loading Fashion-MNIST and building the model");
    }

    /// A trainer event arrived (at [`App::now`]).
    pub fn on_train(&mut self, event: TrainEvent) {
        self.run.apply(&event, self.now);
        if let TrainEvent::Blocks(_) = event {
            self.depth = GradientFlow::from_reports(&self.run.blocks);
        }
        match event {
            TrainEvent::Started {
                config, start_epoch, start_batch, resumed_from, device, engine, ..
            } => {
                self.outline = outline(config.model, config.resize);
                if self.phase == Phase::Starting {
                    self.phase = Phase::Running;
                }
                let what = match resumed_from {
                    Some(p) => format!("resumed {p} at epoch {}, batch {start_batch}", start_epoch + 1),
                    None => "started".into(),
                };
                self.log(Level::Info, format!("{what} on {device}, {engine} engine"));
            }
            TrainEvent::Epoch(m) => self.log(Level::Info, self.run.epoch_line(&m)),
            TrainEvent::CheckpointSaved { path, step, reason } => {
                self.log(Level::Info, format!("checkpoint saved: {path} (step {step}, {reason})"))
            }
            TrainEvent::SaveFailed { reason, message } => {
                self.phase = Phase::Paused;
                self.save_failure = Some(message.clone());
                self.log(Level::Error, format!("{message} ({reason} save); paused: s tries again, q quits"));
            }
            TrainEvent::Paused => {
                if self.phase == Phase::Running {
                    self.phase = Phase::Paused;
                }
                self.log(Level::Info, "paused");
            }
            TrainEvent::Resumed => {
                if self.phase == Phase::Paused {
                    self.phase = Phase::Running;
                }
                self.save_failure = None;
                self.log(Level::Info, "resumed");
            }
            TrainEvent::Warning(w) => self.log(Level::Warning, w),
            TrainEvent::Finished { stopped, .. } => {
                self.phase = Phase::Finished;
                self.log(Level::Info, if stopped { "stopped" } else { "finished" });
            }
            TrainEvent::Failed { message } => {
                self.phase = Phase::Failed;
                self.log(Level::Error, message);
            }
            TrainEvent::Batch { .. }
            | TrainEvent::Blocks(_)
            | TrainEvent::Evaluating { .. }
            | TrainEvent::Device(_) => {}
        }
    }
}

/// The outlined layer table of `model` on 1-channel images of side `resize` (batch 1).
pub fn outline(model: ModelName, resize: usize) -> Result<Vec<Node>, String> {
    summary::outline(model, Dims::of([1, IN_CHANNELS, resize, resize]), CLASSES).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use ratatui::crossterm::event::{KeyEventKind, KeyEventState};

    use ratatui::crossterm::event::KeyModifiers;

    use super::*;
    use crate::cli::train_args;

    pub(crate) fn press(code: KeyCode) -> KeyEvent {
        KeyEvent {
            code,
            modifiers: KeyModifiers::NONE,
            kind: KeyEventKind::Press,
            state: KeyEventState::NONE,
        }
    }

    fn train_at(app: &mut App, event: TrainEvent, now: Duration) {
        app.now = now;
        app.on_train(event);
    }

    /// A dashboard whose run is training, and the run's handle.
    fn running() -> (App, Control) {
        let mut a = app();
        let control = Control::new();
        a.started(control.clone(), None);
        a.phase = Phase::Running;
        (a, control)
    }

    pub(crate) fn app() -> App {
        let args = train_args(&["--preset", "quick"]);
        App::new(SetupForm::new(&args, None).unwrap(), "found: /data (test)".into())
    }

    #[test]
    fn enter_starts_and_tab_cycles_panels() {
        let mut a = app();
        let rows = a.outline.as_ref().map(|n| n.iter().filter(|n| n.depth == 0).count());
        assert_eq!(rows, Ok(8));
        assert_eq!(a.on_key(press(KeyCode::Tab)), Command::None);
        assert_eq!(a.panel, Panel::Model);
        assert_eq!(a.on_key(press(KeyCode::Enter)), Command::Start);
        a.on_key(press(KeyCode::BackTab));
        assert_eq!(a.panel, Panel::Setup);
        assert_eq!(a.on_key(press(KeyCode::Char('q'))), Command::Quit);
    }

    #[test]
    fn keys_steer_the_trainer_through_its_handle() {
        let mut a = app();
        let control = Control::new();
        a.started(control.clone(), None);
        train_at(
            &mut a,
            TrainEvent::Batch {
                epoch: 1,
                batch: 1,
                batches: 10,
                step: 1,
                loss: 2.0,
                train_acc: 0.1,
                examples_per_sec: 100.0,
                lr: 0.05,
                size: 64,
            },
            Duration::from_secs(1),
        );
        a.phase = Phase::Running;
        a.on_key(press(KeyCode::Char(' ')));
        assert!(control.is_paused());
        train_at(&mut a, TrainEvent::Paused, Duration::from_secs(2));
        assert_eq!(a.phase, Phase::Paused);
        a.on_key(press(KeyCode::Char('p')));
        assert!(!control.is_paused());
        a.on_key(press(KeyCode::Char('s')));
        assert!(control.take_save_request());
        // q asks; Esc cancels; q, Down, Enter quits without saving.
        a.on_key(press(KeyCode::Char('q')));
        assert_eq!(a.popup, Some(Popup::Quit { selected: 0 }));
        a.on_key(press(KeyCode::Esc));
        assert_eq!(a.popup, None);
        a.on_key(press(KeyCode::Char('q')));
        a.on_key(press(KeyCode::Down));
        assert_eq!(a.on_key(press(KeyCode::Enter)), Command::Quit);
        assert!(!control.stop_requested());
    }

    #[test]
    fn stop_and_save_waits_for_the_trainer_then_quits() {
        let (mut a, control) = running();
        a.on_key(press(KeyCode::Char('q')));
        assert_eq!(a.on_key(press(KeyCode::Enter)), Command::None);
        assert!(control.stop_requested());
        assert_eq!(a.phase, Phase::Stopping);
        assert!(!a.should_quit());
        train_at(&mut a, TrainEvent::Finished { history: vec![], stopped: true }, Duration::from_secs(5));
        assert!(a.should_quit());
    }

    #[test]
    fn a_second_interrupt_leaves_at_once() {
        let mut a = app();
        let control = Control::new();
        a.started(control.clone(), None);
        assert_eq!(a.interrupt(Interrupt::Term), Command::None);
        assert!(control.stop_requested());
        let ctrl_c = KeyEvent { modifiers: KeyModifiers::CONTROL, ..press(KeyCode::Char('c')) };
        assert_eq!(a.on_key(ctrl_c), Command::Quit);
        assert_eq!(a.interrupted, Some(Interrupt::Int));
    }

    #[test]
    fn a_failed_save_pauses_shows_why_and_offers_to_quit_without_saving() {
        let (mut a, control) = running();
        let message = "cannot write /full/run.ckpt: No space left on device (os error 28)";
        let reason = resnet_core::train::SaveReason::Requested;
        train_at(&mut a, TrainEvent::SaveFailed { reason, message: message.into() }, Duration::from_secs(3));
        assert_eq!((a.phase, a.save_failure.as_deref()), (Phase::Paused, Some(message)));
        assert!(a.log.last().is_some_and(|l| l.level == Level::Error && l.text.starts_with(message)));
        a.on_key(press(KeyCode::Char('s')));
        assert!(control.take_save_request(), "s asks the trainer to try again");
        a.on_key(press(KeyCode::Char('q')));
        assert_eq!(a.popup, Some(Popup::Quit { selected: 1 }), "quit without saving comes first");
        a.on_key(press(KeyCode::Esc));
        train_at(&mut a, TrainEvent::Resumed, Duration::from_secs(4));
        assert_eq!((a.phase, a.save_failure.as_deref()), (Phase::Running, None));
    }

    #[test]
    fn help_opens_and_closes() {
        let mut a = app();
        a.on_key(press(KeyCode::Tab));
        a.on_key(press(KeyCode::Char('?')));
        assert_eq!(a.popup, Some(Popup::Help));
        a.on_key(press(KeyCode::Char('q')));
        assert_eq!(a.popup, None);
    }

    #[test]
    fn the_model_table_and_the_log_scroll_on_their_own() {
        let mut app = app();
        app.panel = Panel::Model;
        app.on_key(press(KeyCode::PageDown));
        app.on_key(press(KeyCode::Down));
        app.on_key(press(KeyCode::Tab));
        assert_eq!(app.panel, Panel::Training);
        app.on_key(press(KeyCode::Down));
        assert_eq!((app.model_scroll, app.log_scroll), (11, 1));
        app.on_key(press(KeyCode::Home));
        app.on_key(press(KeyCode::BackTab));
        assert_eq!((app.panel, app.model_scroll, app.log_scroll), (Panel::Model, 11, 0));
    }
}

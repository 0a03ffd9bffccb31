//! The setup screen's form: the run's settings, editable with keys, starting from the
//! command line's flags.

use std::path::{Path, PathBuf};

use ratatui::crossterm::event::KeyCode;
use resnet_core::models::ModelName;
use resnet_core::train::{Engine, TrainConfig};

use crate::cli::{DeviceChoice, Preset, TrainArgs};
use crate::run::dir::{new_run_dir, resumed_dir, today, RunFiles, CHECKPOINT, RUNS};

/// A row of the form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// d2l or quick (changing it resets the recipe).
    Preset,
    /// The model.
    Model,
    /// Epochs.
    Epochs,
    /// Learning rate.
    Lr,
    /// Batch size.
    BatchSize,
    /// Image side.
    Resize,
    /// Seed.
    Seed,
    /// Device.
    Device,
    /// How steps run: the compiled training program or dfdx's tape.
    Engine,
    /// Data directory (empty: search).
    DataDir,
    /// The run directory (empty: none).
    RunDir,
    /// Checkpoint file (empty: the run directory's, if any).
    Checkpoint,
}

/// The form's rows, top to bottom.
pub const FIELDS: [Field; 12] = [
    Field::Preset,
    Field::Model,
    Field::Epochs,
    Field::Lr,
    Field::BatchSize,
    Field::Resize,
    Field::Seed,
    Field::Device,
    Field::Engine,
    Field::DataDir,
    Field::RunDir,
    Field::Checkpoint,
];

impl Field {
    /// The row's label.
    pub fn label(self) -> &'static str {
        match self {
            Field::Preset => "preset",
            Field::Model => "model",
            Field::Epochs => "epochs",
            Field::Lr => "learning rate",
            Field::BatchSize => "batch size",
            Field::Resize => "image size",
            Field::Seed => "seed",
            Field::Device => "device",
            Field::Engine => "engine",
            Field::DataDir => "data directory",
            Field::RunDir => "run directory",
            Field::Checkpoint => "checkpoint",
        }
    }

    /// Whether a resumed run may change it (its recipe is in the checkpoint).
    fn editable_when_resuming(self) -> bool {
        matches!(
            self,
            Field::Epochs
                | Field::Device
                | Field::Engine
                | Field::DataDir
                | Field::RunDir
                | Field::Checkpoint
        )
    }
}

/// Image sides offered by ←/→.
const SIDES: [usize; 6] = [28, 32, 64, 96, 128, 224];

/// What a key did to the form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormKey {
    /// The form used the key.
    Handled,
    /// Enter outside an edit: start the run.
    Start,
    /// Not a form key.
    Ignored,
}

/// Where a run's files go (see [`crate::run::dir`]).
#[derive(Clone, Debug, PartialEq)]
pub enum RunDir {
    /// A new `runs/<date>-<model>` directory, named when the run starts.
    New,
    /// This directory.
    At(PathBuf),
    /// None: only the files that flags name.
    Off,
}

/// The settings being edited.
#[derive(Clone, Debug, PartialEq)]
pub struct SetupForm {
    /// The recipe.
    pub config: TrainConfig,
    /// Which preset the recipe equals, if any.
    pub preset: Option<Preset>,
    /// The device.
    pub device: DeviceChoice,
    /// How training steps run (`--engine`).
    pub engine: Engine,
    /// `--data-dir`, if set.
    pub data_dir: Option<PathBuf>,
    /// Where the run's files go.
    pub run_dir: RunDir,
    /// Where checkpoints go when not in the run directory.
    pub checkpoint: Option<PathBuf>,
    /// Today's date (`YYYY-MM-DD`), which names new run directories.
    pub today: String,
    /// Whether the run continues a checkpoint (then only some fields may change).
    pub resuming: bool,
    /// The selected row.
    pub selected: usize,
    /// The text of the row being edited.
    pub editing: Option<String>,
    /// Why the last edit was refused.
    pub message: Option<String>,
}

impl SetupForm {
    /// The form for the command line's flags (and the resumed run's recipe, if any); an
    /// error for flags that name no model.
    pub fn new(args: &TrainArgs, resumed: Option<&TrainConfig>) -> Result<Self, String> {
        let config = args.config(resumed)?;
        let run_dir = match (args.run_dir.clone(), args.resume.as_deref().and_then(resumed_dir)) {
            (Some(dir), _) | (None, Some(dir)) => RunDir::At(dir),
            (None, None) if args.checkpoint.is_none() && args.resume.is_none() => RunDir::New,
            (None, None) => RunDir::Off,
        };
        let checkpoint = args.checkpoint.clone().or_else(|| match run_dir {
            RunDir::At(_) => None,
            RunDir::New | RunDir::Off => args.resume.clone(),
        });
        let mut form = Self {
            config,
            preset: None,
            device: args.device,
            engine: args.engine,
            data_dir: args.data_dir.clone(),
            run_dir,
            checkpoint,
            today: today(),
            resuming: resumed.is_some(),
            selected: 0,
            editing: None,
            message: None,
        };
        form.update_preset();
        Ok(form)
    }

    /// The preset whose recipe the settings hold: the seed, the model and the data limits
    /// are no part of a recipe.
    fn update_preset(&mut self) {
        self.preset = Preset::ALL.into_iter().find(|&p| recipe_of(p, &self.config) == self.config);
    }

    /// The run directory a run started now would use.
    pub fn run_dir_path(&self) -> Option<PathBuf> {
        match &self.run_dir {
            RunDir::New => Some(new_run_dir(Path::new(RUNS), &self.today, self.config.model)),
            RunDir::At(dir) => Some(dir.clone()),
            RunDir::Off => None,
        }
    }

    /// What a run started now would write, and where.
    pub fn files(&self, args: &TrainArgs) -> RunFiles {
        RunFiles::new(self.run_dir_path(), self.checkpoint.clone(), args)
    }

    /// The selected row.
    pub fn field(&self) -> Field {
        FIELDS[self.selected.min(FIELDS.len() - 1)]
    }

    /// The value shown in a row.
    pub fn value(&self, field: Field) -> String {
        let c = &self.config;
        match field {
            Field::Preset => match self.preset {
                Some(Preset::D2l) => "d2l (the chapter's: 96x96, lr 0.05, 10 epochs, batch 256)".into(),
                Some(Preset::Quick) => "quick (28x28, 2 epochs)".into(),
                None => "custom".into(),
            },
            Field::Model => c.model.to_string(),
            Field::Epochs => c.epochs.to_string(),
            Field::Lr => c.lr.to_string(),
            Field::BatchSize => c.batch_size.to_string(),
            Field::Resize => format!("{0}x{0}", c.resize),
            Field::Seed => c.seed.to_string(),
            Field::Device => format!("{:?}", self.device).to_lowercase(),
            Field::Engine => match (self.engine, self.device) {
                (Engine::Program, DeviceChoice::Cpu) => "program (compiled)".into(),
                (Engine::Program, _) => "program → tape on CUDA".into(),
                (Engine::Tape, _) => "tape (dfdx, op by op)".into(),
            },
            Field::DataDir => {
                self.data_dir.as_ref().map_or_else(|| "(search)".into(), |p| p.display().to_string())
            }
            Field::RunDir => {
                self.run_dir_path().map_or_else(|| "(none)".into(), |d| format!("{}/", d.display()))
            }
            // In the run directory: `…/checkpoint.ckpt`, short enough for an 80-column screen.
            Field::Checkpoint => match (&self.checkpoint, &self.run_dir) {
                (Some(file), _) => file.display().to_string(),
                (None, RunDir::New | RunDir::At(_)) => format!("…/{CHECKPOINT}"),
                (None, RunDir::Off) => "(none: nothing is saved)".into(),
            },
        }
    }

    /// Handles a key press.
    pub fn on_key(&mut self, key: KeyCode) -> FormKey {
        if let Some(text) = &mut self.editing {
            match key {
                KeyCode::Char(c) => text.push(c),
                KeyCode::Backspace => {
                    text.pop();
                }
                KeyCode::Esc => {
                    self.editing = None;
                    self.message = None;
                }
                KeyCode::Enter => {
                    let text = text.clone();
                    match self.commit(&text) {
                        Ok(()) => {
                            self.editing = None;
                            self.message = None;
                        }
                        Err(why) => self.message = Some(why),
                    }
                }
                _ => {}
            }
            return FormKey::Handled;
        }
        match key {
            KeyCode::Up => self.selected = self.selected.saturating_sub(1),
            KeyCode::Down => self.selected = (self.selected + 1).min(FIELDS.len() - 1),
            KeyCode::Left => self.adjust(false),
            KeyCode::Right => self.adjust(true),
            KeyCode::Char('e') | KeyCode::Char('i') => self.begin_edit(None),
            KeyCode::Char(c) if c.is_ascii_digit() || c == '.' || c == '/' => self.begin_edit(Some(c)),
            KeyCode::Enter => return FormKey::Start,
            _ => return FormKey::Ignored,
        }
        FormKey::Handled
    }

    fn locked(&mut self) -> bool {
        let locked = self.resuming && !self.field().editable_when_resuming();
        if locked {
            self.message = Some("the recipe of a resumed run comes from its checkpoint".into());
        }
        locked
    }

    fn begin_edit(&mut self, first: Option<char>) {
        if self.locked()
            || matches!(self.field(), Field::Preset | Field::Model | Field::Device | Field::Engine)
        {
            return;
        }
        self.editing = Some(match first {
            Some(c) => c.to_string(),
            None => match self.field() {
                Field::Resize => self.config.resize.to_string(),
                Field::DataDir => self.data_dir.as_ref().map(|p| p.display().to_string()).unwrap_or_default(),
                Field::RunDir => self.run_dir_path().map(|p| p.display().to_string()).unwrap_or_default(),
                Field::Checkpoint => {
                    self.checkpoint.as_ref().map(|p| p.display().to_string()).unwrap_or_default()
                }
                f => self.value(f),
            },
        });
    }

    /// Takes the edited text into the selected row; the recipe's own checks
    /// ([`TrainConfig::validate`]) decide what is allowed.
    fn commit(&mut self, text: &str) -> Result<(), String> {
        let text = text.trim();
        let number = |what: &str| format!("{what} must be a number");
        let mut c = self.config.clone();
        match self.field() {
            Field::Epochs => c.epochs = text.parse().map_err(|_| number("epochs"))?,
            Field::BatchSize => c.batch_size = text.parse().map_err(|_| number("batch size"))?,
            Field::Resize => c.resize = text.parse().map_err(|_| number("image size"))?,
            Field::Seed => c.seed = text.parse().map_err(|_| number("seed"))?,
            Field::Lr => c.lr = text.parse().map_err(|_| number("learning rate"))?,
            Field::DataDir => self.data_dir = (!text.is_empty()).then(|| PathBuf::from(text)),
            Field::RunDir => {
                self.run_dir = if text.is_empty() { RunDir::Off } else { RunDir::At(PathBuf::from(text)) }
            }
            Field::Checkpoint => self.checkpoint = (!text.is_empty()).then(|| PathBuf::from(text)),
            Field::Preset | Field::Model | Field::Device | Field::Engine => {}
        }
        c.validate().map_err(|e| e.to_string())?;
        self.config = c;
        self.update_preset();
        Ok(())
    }

    fn adjust(&mut self, up: bool) {
        if self.locked() {
            return;
        }
        let field = self.field();
        let c = &mut self.config;
        match field {
            Field::Preset => {
                let next = if self.preset == Some(Preset::D2l) { Preset::Quick } else { Preset::D2l };
                *c = recipe_of(next, c);
            }
            Field::Model => {
                let all = ModelName::ALL;
                let i = all.iter().position(|&m| m == c.model).unwrap_or(0);
                c.model = all[(i + if up { 1 } else { all.len() - 1 }) % all.len()];
            }
            Field::Epochs => c.epochs = if up { c.epochs + 1 } else { c.epochs.saturating_sub(1).max(1) },
            Field::Lr => c.lr = if up { c.lr * 2.0 } else { c.lr / 2.0 },
            Field::BatchSize => c.batch_size = if up { c.batch_size * 2 } else { (c.batch_size / 2).max(1) },
            Field::Resize => {
                let i = SIDES.iter().position(|&s| s >= c.resize).unwrap_or(SIDES.len() - 1);
                let j = if up {
                    (i + 1).min(SIDES.len() - 1)
                } else if SIDES[i] == c.resize {
                    i.saturating_sub(1)
                } else {
                    i
                };
                c.resize = SIDES[j];
            }
            Field::Seed => c.seed = if up { c.seed + 1 } else { c.seed.saturating_sub(1) },
            Field::Device => {
                let all = [DeviceChoice::Cpu, DeviceChoice::Cuda, DeviceChoice::Auto];
                let i = all.iter().position(|&d| d == self.device).unwrap_or(0);
                self.device = all[(i + if up { 1 } else { all.len() - 1 }) % all.len()];
            }
            Field::Engine => {
                self.engine = if self.engine == Engine::Program { Engine::Tape } else { Engine::Program };
            }
            Field::DataDir | Field::RunDir | Field::Checkpoint => {}
        }
        self.message = None;
        self.update_preset();
    }
}

/// `preset`'s recipe with `current`'s seed, model and data limits.
fn recipe_of(preset: Preset, current: &TrainConfig) -> TrainConfig {
    TrainConfig {
        seed: current.seed,
        model: current.model,
        limit_train: current.limit_train,
        limit_test: current.limit_test,
        ..preset.config()
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{train_args, Cli};

    fn form(flags: &[&str]) -> SetupForm {
        SetupForm::new(&train_args(flags), None).unwrap()
    }

    fn keys(f: &mut SetupForm, keys: &[KeyCode]) -> Vec<FormKey> {
        keys.iter().map(|&k| f.on_key(k)).collect()
    }

    #[test]
    fn flags_are_the_defaults_and_presets_switch_with_arrows() {
        let mut f = form(&["--epochs", "3", "--checkpoint", "run.ckpt"]);
        assert_eq!((f.config.epochs, f.preset), (3, None));
        assert_eq!(f.value(Field::Checkpoint), "run.ckpt");
        keys(&mut f, &[KeyCode::Right]);
        assert_eq!(f.config, TrainConfig::d2l());
        keys(&mut f, &[KeyCode::Right]);
        assert_eq!((f.config.resize, f.config.epochs, f.preset), (28, 2, Some(Preset::Quick)));
        keys(&mut f, &[KeyCode::Left]);
        assert_eq!((f.config.resize, f.preset), (96, Some(Preset::D2l)));
        // Data limits are no part of a recipe: `--preset quick` with limits is still quick,
        // and switching presets keeps them.
        let mut f = form(&["--preset", "quick", "--limit-train", "4096", "--limit-test", "512"]);
        assert_eq!(
            (f.preset, f.value(Field::Preset).as_str()),
            (Some(Preset::Quick), "quick (28x28, 2 epochs)")
        );
        keys(&mut f, &[KeyCode::Right]);
        assert_eq!(
            (f.preset, f.config.limit_train, f.config.limit_test),
            (Some(Preset::D2l), Some(4096), Some(512))
        );
    }

    #[test]
    fn editing_a_number_checks_it_and_enter_starts_only_outside_an_edit() {
        let mut f = form(&[]);
        keys(&mut f, &[KeyCode::Down, KeyCode::Down]); // epochs
        assert_eq!(keys(&mut f, &[KeyCode::Char('0'), KeyCode::Enter]), [FormKey::Handled; 2]);
        assert_eq!(f.message.as_deref(), Some("invalid epochs: must be at least 1"));
        keys(&mut f, &[KeyCode::Backspace, KeyCode::Char('4'), KeyCode::Enter]);
        assert_eq!((f.config.epochs, f.editing.as_ref(), f.message.as_ref()), (4, None, None));
        keys(
            &mut f,
            &[KeyCode::Down, KeyCode::Char('e'), KeyCode::Backspace, KeyCode::Backspace, KeyCode::Esc],
        );
        assert_eq!(f.config.lr, 0.05);
        assert_eq!(f.on_key(KeyCode::Enter), FormKey::Start);
        assert_eq!(f.on_key(KeyCode::Char('q')), FormKey::Ignored);
    }

    #[test]
    fn the_engine_row_switches_between_the_program_and_the_tape() {
        let mut f = form(&["--engine", "tape"]);
        assert_eq!((f.engine, f.value(Field::Engine).as_str()), (Engine::Tape, "tape (dfdx, op by op)"));
        f.selected = FIELDS.iter().position(|&x| x == Field::Engine).unwrap();
        keys(&mut f, &[KeyCode::Right]);
        assert_eq!((f.engine, f.value(Field::Engine).as_str()), (Engine::Program, "program (compiled)"));
        f.device = DeviceChoice::Cuda;
        assert_eq!(f.value(Field::Engine), "program → tape on CUDA");
        // A choice, not text: `e` starts no edit.
        keys(&mut f, &[KeyCode::Char('e')]);
        assert_eq!(f.editing, None);
        keys(&mut f, &[KeyCode::Left]);
        assert_eq!(f.engine, Engine::Tape);
    }

    #[test]
    fn arrows_step_through_sensible_values() {
        let mut f = form(&[]);
        f.selected = 5; // image size
        keys(&mut f, &[KeyCode::Right]);
        assert_eq!(f.config.resize, 128);
        keys(&mut f, &[KeyCode::Left, KeyCode::Left, KeyCode::Left]);
        assert_eq!(f.config.resize, 32);
        f.selected = 4; // batch size
        keys(&mut f, &[KeyCode::Left]);
        assert_eq!(f.config.batch_size, 128);
    }

    #[test]
    fn the_model_selector_cycles_through_the_whole_family() {
        let mut f = form(&["--model", "resnet152", "--flavor", "torchvision"]);
        f.selected = 1; // model
        assert_eq!(f.value(Field::Model), "resnet152 (torchvision)");
        let mut seen = vec![f.value(Field::Model)];
        for _ in 1..ModelName::ALL.len() {
            keys(&mut f, &[KeyCode::Right]);
            seen.push(f.value(Field::Model));
        }
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 15, "{seen:?}");
        assert!(seen.iter().any(|m| m == "plain34"), "{seen:?}");
        assert!(seen.iter().any(|m| m == "preact-resnet50"), "{seen:?}");
        assert!(seen.iter().any(|m| m == "resnet8"), "{seen:?}");
        keys(&mut f, &[KeyCode::Right]);
        assert_eq!(f.value(Field::Model), "resnet152 (torchvision)", "the list wraps around");
        keys(&mut f, &[KeyCode::Left, KeyCode::Right]);
        assert_eq!(f.value(Field::Model), "resnet152 (torchvision)");
    }

    #[test]
    fn a_resumed_run_keeps_its_recipe() {
        let args = train_args(&["--resume", "r.ckpt"]);
        let mut f = SetupForm::new(&args, Some(&TrainConfig::quick())).unwrap();
        f.selected = 3; // learning rate
        keys(&mut f, &[KeyCode::Right]);
        assert_eq!(f.config.lr, 0.05);
        assert_eq!(f.message.as_deref(), Some("the recipe of a resumed run comes from its checkpoint"));
        assert_eq!(f.value(Field::Checkpoint), "r.ckpt");
    }

    #[test]
    fn a_new_run_gets_a_dated_directory_named_after_its_model_unless_told_otherwise() {
        let mut f = form(&[]);
        f.today = "2026-12-03".into();
        assert_eq!(f.value(Field::RunDir), "runs/2026-12-03-resnet18/");
        assert_eq!(f.value(Field::Checkpoint), "…/checkpoint.ckpt");
        f.selected = 1; // model
        keys(&mut f, &[KeyCode::Right]);
        assert_eq!(f.value(Field::RunDir), format!("runs/2026-12-03-{}/", f.config.model.arch().as_str()));
        f.selected = FIELDS.iter().position(|&x| x == Field::RunDir).unwrap();
        keys(&mut f, &[KeyCode::Char('e')]);
        assert_eq!(
            f.editing.as_deref(),
            Some(&*format!("runs/2026-12-03-{}", f.config.model.arch().as_str()))
        );
        let clear = vec![KeyCode::Backspace; 40];
        keys(&mut f, &clear);
        keys(&mut f, &[KeyCode::Enter]);
        assert_eq!((f.run_dir.clone(), f.value(Field::RunDir)), (RunDir::Off, "(none)".to_string()));
        assert_eq!(f.value(Field::Checkpoint), "(none: nothing is saved)");
        keys(&mut f, &[KeyCode::Char('/'), KeyCode::Char('r'), KeyCode::Enter]);
        assert_eq!(f.value(Field::RunDir), "/r/");
        let named = form(&["--checkpoint", "c.ckpt"]);
        assert_eq!(
            (named.run_dir.clone(), named.value(Field::Checkpoint)),
            (RunDir::Off, "c.ckpt".to_string())
        );
        let both = form(&["--checkpoint", "c.ckpt", "--run-dir", "out"]);
        assert_eq!(
            both.files(&Cli::parse_from(["resnet-tui", "--run-dir", "out"]).train).metrics,
            Some("out/metrics.jsonl".into())
        );
        assert_eq!(both.value(Field::Checkpoint), "c.ckpt");
    }
}

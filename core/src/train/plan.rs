//! A run to do, checked once for every front end: the recipe, where checkpoints go, what a
//! failed save does, and the checkpoint the run continues — with the rules for resuming.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{Checkpoint, Engine, TrainConfig, CLASSES, IN_CHANNELS};
use crate::Error;

/// A checkpoint to continue from, and its file.
#[derive(Debug, PartialEq)]
pub struct Resume {
    /// The saved run.
    pub checkpoint: Checkpoint,
    /// Where it was read from (and, unless told otherwise, where the run keeps saving).
    pub path: PathBuf,
}

impl Resume {
    /// Reads the checkpoint at `path`.
    pub fn load(path: &Path) -> Result<Arc<Self>, Error> {
        Ok(Arc::new(Resume { checkpoint: Checkpoint::load(path)?, path: path.to_path_buf() }))
    }
}

/// What the trainer does when a checkpoint cannot be written (a full disk, say).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OnSaveError {
    /// End the run with the error (the previous checkpoint stays as it was).
    #[default]
    Fail,
    /// Pause with [`super::TrainEvent::SaveFailed`] until the front end asks to save again,
    /// to stop, or to go on without saving.
    Pause,
}

/// Where and when a run saves, and what a failed save does.
#[derive(Clone, Debug, PartialEq)]
pub struct Saving {
    /// Where to write checkpoints (each epoch, on request and on stop); `None` for none, or,
    /// when resuming, the resumed file.
    pub checkpoint: Option<PathBuf>,
    /// How many checkpoint files to keep: the newest at `checkpoint`, older ones at
    /// `checkpoint.1`, `checkpoint.2`, ... (at least 1).
    pub keep: usize,
    /// Also save every this many steps (`None`: only at epoch ends, on request and on stop).
    pub save_every: Option<u64>,
    /// What a failed save does.
    pub on_save_error: OnSaveError,
}

impl Default for Saving {
    /// No checkpoints.
    fn default() -> Self {
        Saving { checkpoint: None, keep: 1, save_every: None, on_save_error: OnSaveError::Fail }
    }
}

/// A checked run: the recipe is valid, and a resumed run keeps its saved recipe.
#[derive(Clone, Debug, PartialEq)]
pub struct RunPlan {
    /// The recipe (when resuming, the checkpoint's, possibly with more epochs).
    pub config: TrainConfig,
    /// Checkpoints.
    pub saving: Saving,
    /// The checkpoint to continue from, shared: the front end keeps it until the run starts.
    pub resume: Option<Arc<Resume>>,
    /// What the training steps run on (the program falls back to the tape off the CPU).
    pub engine: Engine,
    /// Report each block's gradient flow ([`super::TrainEvent::Blocks`]) at the first step
    /// and then every this many steps; 0 never.
    pub block_stats_every: u64,
}

/// Steps between two reports of the blocks' gradient flow, unless the front end says
/// otherwise: often enough for curves, rare enough to cost about 1% of a step's time.
pub const BLOCK_STATS_EVERY: u64 = 10;

impl RunPlan {
    /// Checks a request: recipe `config`, `saving` as asked, continuing `resume` if given.
    /// The recipe must be valid, equal to the saved one but for the epochs, and the epochs
    /// no fewer than those already completed.
    pub fn new(config: TrainConfig, saving: Saving, resume: Option<Arc<Resume>>) -> Result<Self, Error> {
        config.validate()?;
        if let Some(r) = &resume {
            check_resume(&r.checkpoint, &config, &r.path)?;
        }
        let saving = Saving {
            checkpoint: saving.checkpoint.or_else(|| resume.as_ref().map(|r| r.path.clone())),
            keep: saving.keep.max(1),
            save_every: saving.save_every.filter(|&n| n > 0),
            on_save_error: saving.on_save_error,
        };
        Ok(RunPlan {
            config,
            saving,
            resume,
            engine: Engine::default(),
            block_stats_every: BLOCK_STATS_EVERY,
        })
    }
}

/// The resume rules: every setting of `requested` but the epochs equals the saved recipe,
/// and the epochs cover those already completed. The error names each changed setting with
/// its saved and requested value.
pub fn check_resume(saved: &Checkpoint, requested: &TrainConfig, path: &Path) -> Result<(), Error> {
    let h = &saved.header;
    if (h.in_channels, h.classes) != (IN_CHANNELS, CLASSES) {
        return Err(Error::Checkpoint {
            path: path.display().to_string(),
            reason: format!(
                "{} with {} input channels, {} classes cannot train on Fashion-MNIST ({IN_CHANNELS} channel, \
                 {CLASSES} classes); it runs through `export` (PyTorch, weights-only or int8)",
                h.model, h.in_channels, h.classes
            ),
        });
    }
    let changes: Vec<String> = saved
        .config
        .recipe()
        .into_iter()
        .zip(requested.recipe())
        .filter(|(s, r)| s.1 != r.1)
        .map(|((name, s), (_, r))| format!("{name} {s} saved, {r} requested"))
        .collect();
    if !changes.is_empty() {
        return Err(Error::ResumeChanges { path: path.display().to_string(), changes: changes.join("; ") });
    }
    let done = saved.position.epoch;
    if requested.epochs < done {
        return Err(Error::Config {
            field: "epochs",
            reason: format!(
                "{} already has {done} completed epochs; ask for at least {done}",
                path.display()
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::Header;
    use crate::models::ModelName;
    use crate::train::{LrSchedule, Position};

    fn saved(config: TrainConfig, epoch: usize) -> Arc<Resume> {
        Arc::new(Resume {
            checkpoint: Checkpoint {
                header: Header::new(config.model, 1, 10),
                config,
                position: Position { epoch, ..Position::default() },
                params: Vec::new(),
                velocity: None,
                history: Vec::new(),
            },
            path: PathBuf::from("run.ckpt"),
        })
    }

    #[test]
    fn the_same_recipe_resumes_into_the_same_file() {
        let r = saved(TrainConfig::quick(), 1);
        let more = TrainConfig { epochs: 5, ..TrainConfig::quick() };
        let plan = RunPlan::new(more, Saving::default(), Some(r.clone())).unwrap();
        assert_eq!(plan.saving.checkpoint.as_deref(), Some(Path::new("run.ckpt")));
        assert_eq!(plan.config.epochs, 5);
        assert!(Arc::ptr_eq(plan.resume.as_ref().unwrap(), &r));
        let elsewhere = Saving { checkpoint: Some("b.ckpt".into()), ..Saving::default() };
        let plan = RunPlan::new(TrainConfig::quick(), elsewhere, Some(r)).unwrap();
        assert_eq!(plan.saving.checkpoint.as_deref(), Some(Path::new("b.ckpt")));
    }

    #[test]
    fn a_changed_recipe_is_refused_naming_each_change() {
        let r = saved(TrainConfig::quick(), 1);
        let changed = TrainConfig {
            lr: 0.1,
            batch_size: 64,
            model: ModelName::new(crate::models::Arch::ResNet34, crate::models::Flavor::D2l).unwrap(),
            schedule: LrSchedule::Cosine,
            limit_train: Some(512),
            ..TrainConfig::quick()
        };
        let err = RunPlan::new(changed, Saving::default(), Some(r)).unwrap_err().to_string();
        assert_eq!(
            err,
            "cannot resume run.ckpt with another recipe: model resnet18 saved, resnet34 requested; \
             lr 0.05 saved, 0.1 requested; batch size 256 saved, 64 requested; schedule constant saved, \
             cosine requested; limit train all saved, 512 requested (only the epochs may change; \
             for a new recipe, start a new run with another checkpoint file)"
        );
    }

    #[test]
    fn fewer_epochs_than_completed_are_refused_and_invalid_recipes_too() {
        let r = saved(TrainConfig::quick(), 3);
        let err = RunPlan::new(TrainConfig { epochs: 2, ..TrainConfig::quick() }, Saving::default(), Some(r));
        assert_eq!(
            err.unwrap_err().to_string(),
            "invalid epochs: run.ckpt already has 3 completed epochs; ask for at least 3"
        );
        let err = RunPlan::new(TrainConfig { lr: -1.0, ..TrainConfig::quick() }, Saving::default(), None);
        assert_eq!(err.unwrap_err().to_string(), "invalid learning rate: must be a positive number");
    }
}

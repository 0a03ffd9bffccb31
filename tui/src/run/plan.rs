//! The one place both front ends (the `train` flags and the setup form) turn a request into
//! a run: the checkpoint to resume, the checked plan (the resume rules are core's
//! [`RunPlan::new`]), and the session with its data.

use std::path::PathBuf;
use std::sync::Arc;

use resnet_core::data::{FashionMnist, Progress, Search};
use resnet_core::train::{Engine, OnSaveError, Resume, RunPlan, Saving, Session, TrainConfig};
use resnet_core::Error;

use crate::cli::TrainArgs;
use crate::failure::Failure;
use crate::run::dir::resume_file;

/// The checkpoint named by `--resume` (a file, or a run directory's), read once.
pub fn load_resume(args: &TrainArgs) -> Result<Option<Arc<Resume>>, Failure> {
    args.resume.as_deref().map(|p| Resume::load(&resume_file(p))).transpose().map_err(Failure::usage)
}

/// Sets the size of the worker pool from `--threads` (only the first call in a process can).
pub fn set_threads(args: &TrainArgs) -> Result<(), Failure> {
    if let Some(n) = args.threads {
        if n == 0 {
            return Err(Failure::Usage("invalid --threads: must be at least 1".into()));
        }
        let _ = rayon::ThreadPoolBuilder::new().num_threads(n).build_global();
    }
    Ok(())
}

/// The checked run of recipe `config` through `engine`, saving to `checkpoint` (the resumed
/// file when `None`), with the flags' `--keep` and `--save-every`; `resume` is shared, not taken, so
/// a refused plan leaves it for the next try.
pub fn plan(
    args: &TrainArgs,
    config: TrainConfig,
    engine: Engine,
    checkpoint: Option<PathBuf>,
    resume: Option<&Arc<Resume>>,
    on_save_error: OnSaveError,
) -> Result<RunPlan, Failure> {
    let saving = Saving { checkpoint, keep: args.keep as usize, save_every: args.save_every, on_save_error };
    let plan = RunPlan::new(config, saving, resume.cloned()).map_err(Failure::usage)?;
    Ok(RunPlan { block_stats_every: args.block_stats_every, engine, ..plan })
}

/// Finds the data (`data_dir`, else the usual places, else a download when allowed), loads
/// it, and pairs it with `plan`.
pub fn session(
    plan: RunPlan,
    data_dir: Option<PathBuf>,
    allow_download: bool,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<Session, Error> {
    let (dir, source) = Search::standard(data_dir, allow_download).locate(progress)?;
    let data = FashionMnist::load(&dir)?;
    Ok(Session { plan, data: Arc::new(data), data_source: format!("{} ({source})", dir.display()) })
}

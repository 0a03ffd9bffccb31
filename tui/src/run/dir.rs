//! A run's directory, `runs/<date>-<model>/`, holding what the run writes: its checkpoint,
//! its metrics file and its TensorBoard events (`tensorboard --logdir runs` shows every run),
//! as Lightning's `lightning_logs/version_N` and Burn's artifact directory do.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use resnet_core::models::{Flavor, ModelName};

use crate::cli::TrainArgs;

/// Where new runs' directories go, relative to the working directory.
pub const RUNS: &str = "runs";
/// The checkpoint's name in a run directory.
pub const CHECKPOINT: &str = "checkpoint.ckpt";
/// The metrics file's name in a run directory.
pub const METRICS: &str = "metrics.jsonl";

/// Where a run writes: each file is optional; flags given name them one by one, a run
/// directory fills in the others.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunFiles {
    /// The run directory, if the run has one.
    pub dir: Option<PathBuf>,
    /// The checkpoint (saved each epoch, on `s`, when stopping).
    pub checkpoint: Option<PathBuf>,
    /// The metrics file (JSON Lines).
    pub metrics: Option<PathBuf>,
    /// The TensorBoard event files' directory.
    pub tensorboard: Option<PathBuf>,
}

impl RunFiles {
    /// The files of a run in `dir` (if any), the flags' `--metrics-out` and `--tensorboard`
    /// and the checkpoint `checkpoint` (if given) taking precedence.
    pub fn new(dir: Option<PathBuf>, checkpoint: Option<PathBuf>, args: &TrainArgs) -> Self {
        let inside = |name: &str| dir.as_ref().map(|d| d.join(name));
        Self {
            checkpoint: checkpoint.or_else(|| inside(CHECKPOINT)),
            metrics: args.metrics_out.clone().or_else(|| inside(METRICS)),
            tensorboard: args.tensorboard.clone().or_else(|| dir.clone()),
            dir,
        }
    }
}

/// The checkpoint `--resume PATH` means: PATH, or the checkpoint in it when it is a run
/// directory.
pub fn resume_file(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.join(CHECKPOINT)
    } else {
        path.to_path_buf()
    }
}

/// The run directory a resumed run continues in: the one `--resume` names, or the one
/// holding the checkpoint it names (when that is a run directory's `checkpoint.ckpt`).
pub fn resumed_dir(path: &Path) -> Option<PathBuf> {
    if path.is_dir() {
        return Some(path.to_path_buf());
    }
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty())?;
    (path.file_name()? == CHECKPOINT).then(|| parent.to_path_buf())
}

/// The directory a new run of `model` started on `date` gets under `root`:
/// `root/<date>-<model>`, or `-2`, `-3`, ... after it when that one exists.
pub fn new_run_dir(root: &Path, date: &str, model: ModelName) -> PathBuf {
    let name = match model.flavor() {
        Flavor::D2l => format!("{date}-{}", model.arch().as_str()),
        Flavor::Torchvision => format!("{date}-{}-torchvision", model.arch().as_str()),
    };
    (1..)
        .map(|n| if n == 1 { root.join(&name) } else { root.join(format!("{name}-{n}")) })
        .find(|dir| !dir.exists())
        .unwrap_or_else(|| root.join(name))
}

/// Today's date in UTC as `YYYY-MM-DD`.
pub fn today() -> String {
    let days = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() / 86_400);
    date_of(days as i64)
}

/// The civil date `days` days after 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn date_of(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use resnet_core::models::Arch;

    use crate::cli::train_args;

    #[test]
    fn dates_from_days_since_1970() {
        assert_eq!(date_of(0), "1970-01-01");
        assert_eq!(date_of(59), "1970-03-01");
        assert_eq!(date_of(11_016), "2000-02-29");
        assert_eq!(date_of(20_790), "2026-12-03");
        assert_eq!(today().len(), 10);
    }

    #[test]
    fn new_runs_get_a_directory_of_their_own() {
        let root = tempfile::tempdir().unwrap();
        let resnet34 = ModelName::new(Arch::ResNet34, Flavor::D2l).unwrap();
        let first = new_run_dir(root.path(), "2026-12-03", resnet34);
        assert_eq!(first, root.path().join("2026-12-03-resnet34"));
        std::fs::create_dir(&first).unwrap();
        assert_eq!(
            new_run_dir(root.path(), "2026-12-03", resnet34),
            root.path().join("2026-12-03-resnet34-2")
        );
        let tv = ModelName::new(Arch::ResNet50, Flavor::Torchvision).unwrap();
        assert_eq!(
            new_run_dir(root.path(), "2026-12-03", tv),
            root.path().join("2026-12-03-resnet50-torchvision")
        );
    }

    #[test]
    fn a_run_directory_names_the_files_the_flags_do_not() {
        let dir = PathBuf::from("runs/a");
        let files = RunFiles::new(Some(dir.clone()), None, &train_args(&[]));
        assert_eq!(files.checkpoint, Some(dir.join("checkpoint.ckpt")));
        assert_eq!(files.metrics, Some(dir.join("metrics.jsonl")));
        assert_eq!(files.tensorboard, Some(dir.clone()));
        let given =
            RunFiles::new(Some(dir), Some("c.ckpt".into()), &train_args(&["--metrics-out", "m.jsonl"]));
        assert_eq!(given.checkpoint, Some(PathBuf::from("c.ckpt")));
        assert_eq!(given.metrics, Some(PathBuf::from("m.jsonl")));
        assert_eq!(RunFiles::new(None, None, &train_args(&[])), RunFiles::default());
    }

    #[test]
    fn resume_takes_a_run_directory_or_its_checkpoint() {
        let root = tempfile::tempdir().unwrap();
        let run = root.path().join("2026-12-03-resnet18");
        std::fs::create_dir(&run).unwrap();
        assert_eq!(resume_file(&run), run.join("checkpoint.ckpt"));
        assert_eq!(resumed_dir(&run), Some(run.clone()));
        assert_eq!(resumed_dir(&run.join("checkpoint.ckpt")), Some(run.clone()));
        assert_eq!(resume_file(&run.join("other.ckpt")), run.join("other.ckpt"));
        assert_eq!(resumed_dir(&run.join("other.ckpt")), None);
        assert_eq!(resumed_dir(Path::new("checkpoint.ckpt")), None);
    }
}

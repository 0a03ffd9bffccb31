//! Finding Fashion-MNIST: `--data-dir`, then `FASHION_MNIST_DIR`, the user cache, the
//! Debian/Ubuntu package `dataset-fashion-mnist`, and finally a download into the cache.
//!
//! A directory named explicitly (flag or environment variable) must hold the data: it is
//! never silently replaced by another copy.

use std::fmt;
use std::path::{Path, PathBuf};

use super::dataset::{file_in, FILES};
use super::download::{download, Mirror, Progress};
use crate::Error;

/// The environment variable naming a data directory.
pub const ENV_VAR: &str = "FASHION_MNIST_DIR";
/// Where `dataset-fashion-mnist` installs the files.
pub const SYSTEM_DIR: &str = "/usr/share/datasets/fashion-mnist";

/// Where the data was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// `--data-dir`.
    Flag,
    /// `FASHION_MNIST_DIR`.
    Env,
    /// The user cache directory (an earlier download).
    Cache,
    /// The Debian/Ubuntu package.
    System,
    /// Downloaded just now into the cache.
    Downloaded,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Source::Flag => "--data-dir",
            Source::Env => ENV_VAR,
            Source::Cache => "cache",
            Source::System => "package dataset-fashion-mnist",
            Source::Downloaded => "downloaded",
        })
    }
}

/// The places to look, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Search {
    /// `--data-dir`, if given.
    pub data_dir: Option<PathBuf>,
    /// `FASHION_MNIST_DIR`, if set.
    pub env_dir: Option<PathBuf>,
    /// The user cache directory for the dataset, if the platform has one.
    pub cache_dir: Option<PathBuf>,
    /// The system package's directory.
    pub system_dir: PathBuf,
    /// Where to download from; `None` disables downloading.
    pub mirror: Option<Mirror>,
}

/// Why `dir` does not hold the dataset, or `None` if it does.
fn missing(dir: &Path) -> Option<String> {
    if !dir.is_dir() {
        return Some(format!("{}: no such directory", dir.display()));
    }
    let absent: Vec<&str> = FILES.iter().copied().filter(|stem| file_in(dir, stem).is_none()).collect();
    (!absent.is_empty()).then(|| format!("{}: missing {}", dir.display(), absent.join(", ")))
}

impl Search {
    /// The standard search for `data_dir` (from the command line): the environment variable,
    /// `~/.cache/resnet-dfdx/fashion-mnist`, the system package, and the official mirror when
    /// `allow_download`.
    pub fn standard(data_dir: Option<PathBuf>, allow_download: bool) -> Self {
        Self {
            data_dir,
            env_dir: std::env::var_os(ENV_VAR).filter(|v| !v.is_empty()).map(PathBuf::from),
            cache_dir: dirs::cache_dir().map(|d| d.join("resnet-dfdx").join("fashion-mnist")),
            system_dir: PathBuf::from(SYSTEM_DIR),
            mirror: allow_download.then(Mirror::official),
        }
    }

    /// Finds (or downloads) the data and says where it is.
    pub fn locate(&self, progress: &mut dyn FnMut(Progress<'_>)) -> Result<(PathBuf, Source), Error> {
        for (dir, source, label) in
            [(&self.data_dir, Source::Flag, "--data-dir"), (&self.env_dir, Source::Env, ENV_VAR)]
        {
            if let Some(dir) = dir {
                return match missing(dir) {
                    None => Ok((dir.clone(), source)),
                    Some(why) => Err(Error::DataNotFound { tried: vec![format!("{label} {why}")] }),
                };
            }
        }
        let mut tried = Vec::new();
        let implicit = [(self.cache_dir.as_ref(), Source::Cache), (Some(&self.system_dir), Source::System)];
        for (dir, source) in implicit {
            if let Some(dir) = dir {
                match missing(dir) {
                    None => return Ok((dir.clone(), source)),
                    Some(why) => tried.push(why),
                }
            }
        }
        match (&self.mirror, &self.cache_dir) {
            (Some(mirror), Some(cache)) => match download(mirror, cache, progress) {
                Ok(()) => Ok((cache.clone(), Source::Downloaded)),
                Err(e) => {
                    tried.push(e.to_string());
                    Err(Error::DataNotFound { tried })
                }
            },
            (Some(_), None) => {
                tried.push("download: this platform has no cache directory to download into".into());
                Err(Error::DataNotFound { tried })
            }
            (None, _) => {
                tried.push("download: disabled".into());
                Err(Error::DataNotFound { tried })
            }
        }
    }
}

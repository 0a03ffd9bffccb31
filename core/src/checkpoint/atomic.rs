//! Crash-safe file replacement: readers (and the next run after a crash) see either the old
//! file or the complete new one, never a mix.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::Error;

/// The temporary sibling of `path` a write goes through (`.NAME.tmp-PID-N`).
fn temp_path(path: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "file".into());
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    path.with_file_name(format!(".{name}.tmp-{}-{n}", std::process::id()))
}

/// `path` with `.N` appended: the N-th older version kept by [`write_atomic_keeping`].
pub fn older_version(path: &Path, n: usize) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{n}"));
    PathBuf::from(name)
}

/// Removes temporary files of `path` left by writers that no longer run (a process killed
/// mid-write); returns how many were removed.
pub fn remove_stale_temps(path: &Path) -> usize {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else { return 0 };
    let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
    let prefix = format!(".{}.tmp-", name.to_string_lossy());
    let Ok(entries) = fs::read_dir(dir) else { return 0 };
    let mut removed = 0;
    for entry in entries.flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = file.strip_prefix(&prefix) else { continue };
        let pid = rest.split('-').next().and_then(|p| p.parse::<u32>().ok());
        let alive = |pid: u32| pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists();
        if pid.is_some_and(|p| !alive(p)) && fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// Writes `bytes` to `path` atomically: into a temporary file in the same directory,
/// flushed to disk, renamed over `path`, and the directory flushed. On any failure the
/// temporary file is removed and `path` is untouched.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    write_atomic_keeping(path, bytes, 1)
}

/// As [`write_atomic`], keeping the `keep - 1` previous versions as `path.1` (newest) to
/// `path.{keep-1}`. At every instant `path` is a complete file (once first written): older
/// versions shift first, `path.1` becomes a second name of the current file, and only then
/// does the new file replace `path`.
pub fn write_atomic_keeping(path: &Path, bytes: &[u8], keep: usize) -> Result<(), Error> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, "create directory", &e))?;
    let tmp = temp_path(path);
    let result = (|| {
        let mut f = File::create(&tmp).map_err(|e| Error::io(&tmp, "create", &e))?;
        f.write_all(bytes).map_err(|e| Error::io(&tmp, "write", &e))?;
        f.sync_all().map_err(|e| Error::io(&tmp, "sync", &e))?;
        if keep > 1 && path.is_file() {
            keep_previous(path, keep)?;
        }
        fs::rename(&tmp, path).map_err(|e| Error::io(path, "replace", &e))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
        return result;
    }
    // Make the rename itself durable; a failure here loses nothing already written.
    if let Ok(d) = File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Shifts `path.1`.. `path.{keep-2}` one place older and makes `path.1` the current `path`.
fn keep_previous(path: &Path, keep: usize) -> Result<(), Error> {
    for n in (1..keep - 1).rev() {
        let from = older_version(path, n);
        if from.exists() {
            let to = older_version(path, n + 1);
            fs::rename(&from, &to).map_err(|e| Error::io(&to, "rotate into", &e))?;
        }
    }
    let first = older_version(path, 1);
    let _ = fs::remove_file(&first);
    fs::hard_link(path, &first)
        .or_else(|_| fs::copy(path, &first).map(|_| ()))
        .map_err(|e| Error::io(&first, "keep the previous checkpoint as", &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_whole_files_and_leaves_no_temporaries() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("ckpt.bin");
        write_atomic(&p, b"first").unwrap();
        write_atomic(&p, b"second, longer").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"second, longer");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
        let bad = dir.path().join("missing-dir-is-created").join("x.bin");
        write_atomic(&bad, b"ok").unwrap();
        assert_eq!(fs::read(&bad).unwrap(), b"ok");
    }

    #[test]
    fn a_failed_write_keeps_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("target");
        fs::create_dir(&p).unwrap(); // renaming a file over a directory fails
        assert!(write_atomic(&p, b"data").is_err());
        assert!(p.is_dir());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn keeps_the_requested_number_of_versions_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("run.ckpt");
        for v in 1..=5 {
            write_atomic_keeping(&p, format!("v{v}").as_bytes(), 3).unwrap();
        }
        assert_eq!(fs::read(&p).unwrap(), b"v5");
        assert_eq!(fs::read(older_version(&p, 1)).unwrap(), b"v4");
        assert_eq!(fs::read(older_version(&p, 2)).unwrap(), b"v3");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 3, "no fourth version, no temporaries");
    }

    #[test]
    fn stale_temporaries_of_dead_writers_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("run.ckpt");
        // PIDs above the kernel's maximum (4194304) never run; ours does.
        let stale = dir.path().join(".run.ckpt.tmp-4999999-0");
        let ours = dir.path().join(format!(".run.ckpt.tmp-{}-7", std::process::id()));
        let other = dir.path().join(".other.ckpt.tmp-4999999-0");
        for f in [&stale, &ours, &other] {
            fs::write(f, b"partial").unwrap();
        }
        assert_eq!(remove_stale_temps(&p), 1);
        assert!(!stale.exists() && ours.exists() && other.exists());
    }
}

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

/// Writes `bytes` to `path` atomically: into a temporary file in the same directory,
/// flushed to disk, renamed over `path`, and the directory flushed. On any failure the
/// temporary file is removed and `path` is untouched.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
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
}

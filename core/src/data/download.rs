//! Downloading Fashion-MNIST's four files from a mirror, with MD5 verification: bytes go to
//! `NAME.part` and are renamed into place only once their checksum matches, so a failed or
//! partial download never leaves a corrupt file where the loader looks.

use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

use md5::{Digest, Md5};

use crate::Error;

/// A file on a mirror and its published MD5.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MirrorFile {
    /// File name, e.g. `train-images-idx3-ubyte.gz`.
    pub name: String,
    /// Lower-case hex MD5 of the file's bytes.
    pub md5: String,
}

/// Where to download from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mirror {
    /// Base address; a file's address is `{base_url}/{name}`.
    pub base_url: String,
    /// The four files.
    pub files: Vec<MirrorFile>,
}

impl Mirror {
    /// The dataset's official mirror and the checksums its README publishes.
    pub fn official() -> Self {
        let files = [
            ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
            ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
            ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
            ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
        ];
        Self {
            base_url: "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com".into(),
            files: files
                .iter()
                .map(|&(name, md5)| MirrorFile { name: name.into(), md5: md5.into() })
                .collect(),
        }
    }
}

/// Download progress of one file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress<'a> {
    /// The file.
    pub name: &'a str,
    /// Bytes received so far.
    pub done: u64,
    /// Bytes announced by the server, if it said.
    pub total: Option<u64>,
}

/// The MD5 of a file on disk, as lower-case hex.
pub fn md5_of(path: &Path) -> Result<String, Error> {
    let mut file = File::open(path).map_err(|e| Error::io(path, "open", &e))?;
    let mut hasher = Md5::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf).map_err(|e| Error::io(path, "read", &e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Downloads every file of `mirror` missing from `dir` (or present with a wrong checksum),
/// reporting progress. A file is renamed into place only after its checksum matched.
pub fn download(mirror: &Mirror, dir: &Path, progress: &mut dyn FnMut(Progress<'_>)) -> Result<(), Error> {
    fs::create_dir_all(dir).map_err(|e| Error::io(dir, "create directory", &e))?;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(600)))
        .max_redirects(5)
        .build()
        .into();
    for file in &mirror.files {
        let dest = dir.join(&file.name);
        if dest.is_file() && md5_of(&dest)? == file.md5 {
            continue;
        }
        let part = dir.join(format!("{}.part", file.name));
        let result = fetch(&agent, mirror, file, &part, progress)
            .and_then(|()| fs::rename(&part, &dest).map_err(|e| Error::io(&dest, "rename into", &e)));
        if result.is_err() {
            let _ = fs::remove_file(&part);
        }
        result?;
    }
    Ok(())
}

/// Streams one file into `part`, checking its MD5.
fn fetch(
    agent: &ureq::Agent,
    mirror: &Mirror,
    file: &MirrorFile,
    part: &Path,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<(), Error> {
    let url = format!("{}/{}", mirror.base_url.trim_end_matches('/'), file.name);
    let failed = |reason: String| Error::Download { url: url.clone(), reason };
    let mut response = agent.get(&url).call().map_err(|e| failed(e.to_string()))?;
    let total = response.body().content_length();
    let mut body = response.body_mut().as_reader();
    let mut out = File::create(part).map_err(|e| Error::io(part, "create", &e))?;
    let mut hasher = Md5::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut done = 0u64;
    loop {
        let n = body.read(&mut buf).map_err(|e| {
            let of = total.map_or(String::new(), |t| format!(" of {t}"));
            failed(format!("{e} after {done}{of} bytes"))
        })?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        out.write_all(&buf[..n]).map_err(|e| Error::io(part, "write", &e))?;
        done += n as u64;
        progress(Progress { name: &file.name, done, total });
    }
    if let Some(total) = total.filter(|&t| t != done) {
        return Err(failed(format!("received {done} of {total} bytes")));
    }
    out.sync_all().map_err(|e| Error::io(part, "sync", &e))?;
    let found = hex(&hasher.finalize());
    if found != file.md5 {
        return Err(Error::Checksum { path: url, expected: file.md5.clone(), found });
    }
    Ok(())
}

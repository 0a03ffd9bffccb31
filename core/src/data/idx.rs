//! IDX files, the format of MNIST and Fashion-MNIST (gzip-compressed or raw), read with
//! every header field checked before anything is trusted.
//!
//! Images: magic 2051, count, rows, columns (big-endian u32), then `count·rows·columns`
//! bytes. Labels: magic 2049, count, then `count` bytes.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use flate2::read::GzDecoder;

use crate::Error;

/// Magic number of an IDX file of unsigned-byte 3-D data (images).
pub const IMAGES_MAGIC: u32 = 2051;
/// Magic number of an IDX file of unsigned-byte 1-D data (labels).
pub const LABELS_MAGIC: u32 = 2049;
/// Side of a Fashion-MNIST image.
pub const SIDE: usize = 28;
/// Number of classes.
pub const CLASSES: usize = 10;
/// The most examples a file may declare (Fashion-MNIST has 60,000): a bound on memory.
pub const MAX_EXAMPLES: usize = 1_000_000;

/// Opens `path`, transparently decompressing gzip (recognised by its magic bytes).
fn open(path: &Path) -> Result<Box<dyn Read>, Error> {
    let mut file = File::open(path).map_err(|e| Error::io(path, "open", &e))?;
    let mut magic = [0u8; 2];
    let n = file.read(&mut magic).map_err(|e| Error::io(path, "read", &e))?;
    let head = std::io::Cursor::new(magic[..n].to_vec());
    let reader = BufReader::new(head.chain(file));
    Ok(if n == 2 && magic == [0x1f, 0x8b] { Box::new(GzDecoder::new(reader)) } else { Box::new(reader) })
}

/// Reads `N` big-endian u32 header fields.
fn header<const N: usize>(r: &mut dyn Read, path: &Path) -> Result<[u32; N], Error> {
    let mut buf = [0u8; 16];
    let bytes = &mut buf[..4 * N];
    read_full(r, bytes, path, 4 * N as u64)?;
    let mut out = [0u32; N];
    for (o, chunk) in out.iter_mut().zip(bytes.chunks_exact(4)) {
        *o = u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
    }
    Ok(out)
}

/// Fills `buf` completely, or reports how many bytes there were.
fn read_full(r: &mut dyn Read, buf: &mut [u8], path: &Path, expected: u64) -> Result<(), Error> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..]) {
            Ok(0) => {
                return Err(Error::Truncated {
                    path: path.display().to_string(),
                    expected,
                    found: filled as u64,
                })
            }
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::io(path, "decompress", &e)),
        }
    }
    Ok(())
}

/// Reads exactly `len` payload bytes and checks that nothing follows. Memory grows with the
/// bytes actually present, never with what a header claims.
fn payload(r: &mut dyn Read, path: &Path, len: usize, header_len: usize) -> Result<Vec<u8>, Error> {
    let mut data = Vec::new();
    r.take(len as u64 + 1).read_to_end(&mut data).map_err(|e| Error::io(path, "decompress", &e))?;
    if data.len() != len {
        return Err(Error::Truncated {
            path: path.display().to_string(),
            expected: (header_len + len) as u64,
            found: (header_len + data.len()) as u64,
        });
    }
    Ok(data)
}

fn check_magic(path: &Path, expected: u32, found: u32) -> Result<(), Error> {
    if found == expected {
        Ok(())
    } else {
        Err(Error::BadMagic { path: path.display().to_string(), expected, found })
    }
}

fn check_count(path: &Path, count: u32) -> Result<usize, Error> {
    let count = count as usize;
    if count > MAX_EXAMPLES {
        return Err(Error::BadHeader {
            path: path.display().to_string(),
            field: "count",
            expected: format!("at most {MAX_EXAMPLES}"),
            found: count as u64,
        });
    }
    Ok(count)
}

/// Reads an IDX images file of 28×28 images: returns the count and the pixels, row-major,
/// image after image.
///
/// # Shapes
/// Returns (N, 28, 28) as `N·784` bytes.
pub fn read_images(path: &Path) -> Result<(usize, Vec<u8>), Error> {
    let mut r = open(path)?;
    let [magic, count, rows, cols] = header::<4>(&mut r, path)?;
    check_magic(path, IMAGES_MAGIC, magic)?;
    let count = check_count(path, count)?;
    for (field, value) in [("rows", rows), ("columns", cols)] {
        if value as usize != SIDE {
            return Err(Error::BadHeader {
                path: path.display().to_string(),
                field,
                expected: SIDE.to_string(),
                found: value as u64,
            });
        }
    }
    Ok((count, payload(&mut r, path, count * SIDE * SIDE, 16)?))
}

/// Reads an IDX labels file whose labels are all in `0..10`.
pub fn read_labels(path: &Path) -> Result<Vec<u8>, Error> {
    let mut r = open(path)?;
    let [magic, count] = header::<2>(&mut r, path)?;
    check_magic(path, LABELS_MAGIC, magic)?;
    let count = check_count(path, count)?;
    let labels = payload(&mut r, path, count, 8)?;
    if let Some((index, &label)) = labels.iter().enumerate().find(|(_, &l)| l as usize >= CLASSES) {
        return Err(Error::BadLabel { path: path.display().to_string(), index, label });
    }
    Ok(labels)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn idx(magic: u32, dims: &[u32], payload: &[u8]) -> Vec<u8> {
        let mut out = magic.to_be_bytes().to_vec();
        for d in dims {
            out.extend_from_slice(&d.to_be_bytes());
        }
        out.extend_from_slice(payload);
        out
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    #[test]
    fn reads_raw_and_gzip_files_alike() {
        let dir = tempfile::tempdir().unwrap();
        let pixels: Vec<u8> = (0..2 * 784).map(|i| (i % 251) as u8).collect();
        let raw = idx(IMAGES_MAGIC, &[2, 28, 28], &pixels);
        for path in [write(&dir, "a", &raw), write(&dir, "a.gz", &gzip(&raw))] {
            assert_eq!(read_images(&path).unwrap(), (2, pixels.clone()));
        }
        let labels = idx(LABELS_MAGIC, &[3], &[0, 9, 4]);
        assert_eq!(read_labels(&write(&dir, "l.gz", &gzip(&labels))).unwrap(), [0, 9, 4]);
    }

    #[test]
    fn every_violation_is_a_typed_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        // The error for an images file of `bytes`: it names the file, then says what is wrong.
        let refusal = |name: &str, bytes: &[u8]| {
            let p = write(&dir, name, bytes);
            let text = read_images(&p).unwrap_err().to_string();
            let named = format!("{}: ", p.display());
            assert!(text.starts_with(&named), "{text:?} does not start with {named:?}");
            text[named.len()..].to_string()
        };
        assert_eq!(
            refusal("magic", &idx(2049, &[1, 28, 28], &[0; 784])),
            "not an IDX file of the expected kind (magic number 2049, expected 2051)"
        );
        assert_eq!(
            refusal("rows", &idx(IMAGES_MAGIC, &[1, 32, 28], &[0; 896])),
            "header field `rows` is 32, expected 28"
        );
        assert_eq!(
            refusal("short", &idx(IMAGES_MAGIC, &[2, 28, 28], &[0; 784])),
            "800 bytes of data where the header declares 1584; the file is truncated or corrupt"
        );
        let long = refusal("long", &idx(IMAGES_MAGIC, &[1, 28, 28], &[0; 785]));
        assert!(long.contains("801 bytes of data where the header declares 800"));
        let huge = refusal("huge", &idx(IMAGES_MAGIC, &[u32::MAX, 28, 28], &[]));
        assert!(huge.contains("header field `count` is 4294967295, expected at most 1000000"));
        assert!(refusal("hdr", &[0, 0, 8]).contains("3 bytes of data where the header declares 16"));
        let p = write(&dir, "label", &idx(LABELS_MAGIC, &[3], &[1, 11, 2]));
        assert_eq!(
            read_labels(&p).unwrap_err().to_string(),
            format!("{}: label 11 of example 1 is outside 0..10", p.display())
        );
        let missing = dir.path().join("nope");
        assert!(read_images(&missing)
            .unwrap_err()
            .to_string()
            .starts_with(&format!("cannot open {}: ", missing.display())));
    }

    #[test]
    fn truncated_gzip_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let full = gzip(&idx(IMAGES_MAGIC, &[3, 28, 28], &[7; 3 * 784]));
        let p = write(&dir, "cut.gz", &full[..full.len() / 2]);
        let err = read_images(&p).unwrap_err().to_string();
        assert!(err.starts_with(&p.display().to_string()) || err.starts_with("cannot decompress"), "{err}");
    }
}

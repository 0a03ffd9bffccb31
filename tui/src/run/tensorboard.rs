//! TensorBoard event files: scalars that `tensorboard --logdir DIR` plots, written without
//! TensorFlow or a protobuf crate.
//!
//! An event file is a sequence of TFRecords, each holding one `Event` protobuf:
//!
//! ```text
//! u64 LE length | u32 LE masked crc32c(length bytes) | data | u32 LE masked crc32c(data)
//! ```
//!
//! The three messages used are encoded by hand (field numbers from TensorFlow's
//! `event.proto` and `summary.proto`):
//!
//! ```text
//! Event   { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
//! Summary { repeated Value value = 1; }
//! Value   { string tag = 1; float simple_value = 2; }
//! ```
//!
//! The first event of a file carries `file_version = "brain.Event:2"`. With that version
//! TensorBoard purges earlier data only on a `SessionLog.START` (never written here), not on
//! a step that goes backwards, so tags may use different step scales (iterations, epochs).
//!
//! The checksum is CRC-32C (Castagnoli), computed here from a 256-entry table built at
//! compile time rather than taken from the `crc32c` crate: a few lines, no dependency, and
//! nothing to go wrong on a machine without SSE4.2. A few hundred bytes per epoch do not need
//! the hardware instruction.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// The version TensorBoard reads from the first event of a file.
const FILE_VERSION: &str = "brain.Event:2";

/// Writes scalars to one new event file; see the module documentation.
pub struct TensorBoardWriter {
    path: PathBuf,
    out: BufWriter<File>,
}

impl TensorBoardWriter {
    /// Creates DIR (and parents) and a new event file in it named as TensorBoard expects:
    /// `events.out.tfevents.{unix_seconds}.{hostname}.{pid}.{counter}` (hostname from
    /// /etc/hostname or "localhost"), writes the first event (file_version "brain.Event:2").
    pub fn create(dir: &Path) -> Result<Self, String> {
        /// Tells apart the files one process creates within a second.
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create TensorBoard directory {}: {e}", dir.display()))?;
        let host = hostname();
        let pid = std::process::id();
        let (path, file) = loop {
            let seconds = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
            let counter = COUNTER.fetch_add(1, Ordering::Relaxed);
            let path = dir.join(format!("events.out.tfevents.{seconds}.{host}.{pid}.{counter}"));
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(file) => break (path, file),
                // Another process with the same pid (a container's pid 1) got there first.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    return Err(format!("cannot create a TensorBoard event file in {}: {e}", dir.display()))
                }
            }
        };
        let mut writer = Self { path, out: BufWriter::new(file) };
        writer.write_event(&encode_event(now(), 0, Payload::FileVersion(FILE_VERSION)))?;
        Ok(writer)
    }

    /// One scalar: tag, global step, value (wall time = now).
    pub fn scalar(&mut self, tag: &str, step: u64, value: f64) -> Result<(), String> {
        self.write_event(&encode_event(now(), step, Payload::Scalar { tag, value: value as f32 }))
    }

    /// Flushes to disk (call at epoch ends and when the run stops).
    pub fn flush(&mut self) -> Result<(), String> {
        self.out
            .flush()
            .and_then(|()| self.out.get_ref().sync_data())
            .map_err(|e| format!("cannot write TensorBoard event file {}: {e}", self.path.display()))
    }

    /// The event file being written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn write_event(&mut self, event: &[u8]) -> Result<(), String> {
        self.out
            .write_all(&frame(event))
            .map_err(|e| format!("cannot write TensorBoard event file {}: {e}", self.path.display()))
    }
}

/// The machine's name as TensorBoard's own writers put it in file names.
fn hostname() -> String {
    fs::read_to_string("/etc/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty() && !s.contains(['/', '\0']))
        .unwrap_or_else(|| "localhost".to_string())
}

/// Seconds since the Unix epoch, as `Event.wall_time`.
fn now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

/// What an event carries besides its wall time and step.
enum Payload<'a> {
    FileVersion(&'a str),
    Scalar { tag: &'a str, value: f32 },
}

/// The `Event` protobuf, encoded.
fn encode_event(wall_time: f64, step: u64, payload: Payload) -> Vec<u8> {
    let mut event = Vec::with_capacity(64);
    // wall_time = 1, fixed64.
    event.push(1 << 3 | 1);
    event.extend_from_slice(&wall_time.to_le_bytes());
    // step = 2, varint (int64: a u64 above i64::MAX would read as negative).
    event.push(2 << 3);
    put_varint(&mut event, step);
    match payload {
        Payload::FileVersion(version) => put_bytes(&mut event, 3, version.as_bytes()),
        Payload::Scalar { tag, value } => {
            let mut value_msg = Vec::with_capacity(tag.len() + 8);
            put_bytes(&mut value_msg, 1, tag.as_bytes());
            // simple_value = 2, fixed32.
            value_msg.push(2 << 3 | 5);
            value_msg.extend_from_slice(&value.to_le_bytes());
            let mut summary = Vec::with_capacity(value_msg.len() + 4);
            put_bytes(&mut summary, 1, &value_msg);
            put_bytes(&mut event, 5, &summary);
        }
    }
    event
}

/// A length-delimited field (wire type 2): key, length, bytes.
fn put_bytes(out: &mut Vec<u8>, field: u64, bytes: &[u8]) {
    put_varint(out, field << 3 | 2);
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// Protobuf's base-128 varint, least significant group first.
fn put_varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// One TFRecord: length, its masked CRC, the data, its masked CRC.
fn frame(data: &[u8]) -> Vec<u8> {
    let len = (data.len() as u64).to_le_bytes();
    let mut record = Vec::with_capacity(data.len() + 16);
    record.extend_from_slice(&len);
    record.extend_from_slice(&masked_crc(&len).to_le_bytes());
    record.extend_from_slice(data);
    record.extend_from_slice(&masked_crc(data).to_le_bytes());
    record
}

/// TFRecord's masked CRC: rotated and offset so that a CRC of data holding CRCs stays strong.
fn masked_crc(data: &[u8]) -> u32 {
    let crc = crc32c(data);
    // TensorFlow's `((crc >> 15) | (crc << 17)) + 0xa282ead8`.
    crc.rotate_right(15).wrapping_add(0xa282_ead8)
}

/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), a table lookup per byte.
fn crc32c(data: &[u8]) -> u32 {
    !data.iter().fold(!0u32, |crc, &b| CRC32C_TABLE[((crc ^ u32::from(b)) & 0xff) as usize] ^ (crc >> 8))
}

static CRC32C_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u32;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0x82f6_3b78 } else { crc >> 1 };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tensorboard_crc32c_check_value_and_mask() {
        // The standard check value of CRC-32C.
        assert_eq!(crc32c(b"123456789"), 0xe306_9283);
        assert_eq!(crc32c(b""), 0);
        // (0xe3069283 >> 15 | 0xe3069283 << 17) = 0x2507c60d; + 0xa282ead8 = 0xc78ab0e5.
        assert_eq!(masked_crc(b"123456789"), 0xc78a_b0e5);
    }

    #[test]
    fn tensorboard_varints() {
        let enc = |n| {
            let mut v = Vec::new();
            put_varint(&mut v, n);
            v
        };
        assert_eq!(enc(0), [0x00]);
        assert_eq!(enc(127), [0x7f]);
        assert_eq!(enc(128), [0x80, 0x01]);
        assert_eq!(enc(300), [0xac, 0x02]);
        assert_eq!(enc(u64::MAX), [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    }

    #[test]
    fn tensorboard_scalar_event_encoding() {
        let event = encode_event(1.0, 300, Payload::Scalar { tag: "loss", value: 0.5 });
        #[rustfmt::skip]
        let expected = [
            0x09, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, // wall_time = 1.0
            0x10, 0xac, 0x02,                   // step = 300
            0x2a, 13,                           // summary, 13 bytes
            0x0a, 11,                           //   value, 11 bytes
            0x0a, 4, b'l', b'o', b's', b's',    //     tag = "loss"
            0x15, 0, 0, 0, 0x3f,                //     simple_value = 0.5f32
        ];
        assert_eq!(event, expected);
    }

    #[test]
    fn tensorboard_file_version_event_encoding() {
        let event = encode_event(0.0, 0, Payload::FileVersion(FILE_VERSION));
        let mut expected = vec![0x09, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0x1a, 13];
        expected.extend_from_slice(b"brain.Event:2");
        assert_eq!(event, expected);
    }

    #[test]
    fn tensorboard_record_framing() {
        let record = frame(b"123456789");
        assert_eq!(record.len(), 8 + 4 + 9 + 4);
        assert_eq!(record[..8], 9u64.to_le_bytes());
        assert_eq!(record[8..12], masked_crc(&9u64.to_le_bytes()).to_le_bytes());
        assert_eq!(&record[12..21], b"123456789");
        assert_eq!(record[21..], 0xc78a_b0e5u32.to_le_bytes());
    }

    #[test]
    fn tensorboard_file_name_and_first_record() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("runs/a");
        let mut first = TensorBoardWriter::create(&nested).unwrap();
        let second = TensorBoardWriter::create(&nested).unwrap();
        assert_ne!(first.path(), second.path());
        let name = first.path().file_name().unwrap().to_str().unwrap().to_string();
        let parts: Vec<&str> = name.split('.').collect();
        assert_eq!(parts[..3], ["events", "out", "tfevents"]);
        assert!(parts[3].parse::<u64>().unwrap() > 1_600_000_000, "{name}");
        assert!(name.ends_with(&format!(".{}.{}", std::process::id(), parts[parts.len() - 1])));
        first.scalar("x", 1, 2.0).unwrap();
        first.flush().unwrap();
        let bytes = fs::read(first.path()).unwrap();
        let len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        let data = &bytes[12..12 + len];
        assert!(data.ends_with(b"\x1a\x0dbrain.Event:2"));
        assert_eq!(bytes[12 + len..16 + len], masked_crc(data).to_le_bytes());
    }

    #[test]
    fn tensorboard_create_error_names_the_dir() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("file");
        fs::write(&blocker, "").unwrap();
        let Err(e) = TensorBoardWriter::create(&blocker.join("sub")) else { panic!("created under a file") };
        assert!(e.contains(&blocker.join("sub").display().to_string()), "{e}");
        assert!(!e.contains('\n'), "{e}");
    }

    /// TensorBoard's own reader agrees: run by .ci/run with TENSORBOARD_PYTHON set to a
    /// Python that has the `tensorboard` package (`cargo test -p resnet-tui --bin resnet-tui
    /// tensorboard -- --ignored`). It writes scalars across two flushes, reads the directory
    /// back with scripts/read_tensorboard.py (TensorBoard's EventAccumulator, which checks
    /// both CRCs of every record) and compares tags, steps and f32-rounded values exactly.
    #[test]
    #[ignore = "needs TENSORBOARD_PYTHON (a Python with the tensorboard package); run by .ci/run"]
    fn tensorboard_reads_what_we_write() {
        use std::collections::BTreeMap;

        let Some(python) = std::env::var_os("TENSORBOARD_PYTHON") else {
            panic!(
                "TENSORBOARD_PYTHON is not set: point it at a Python with the tensorboard package \
                 (python3 -m venv /tmp/tbenv && /tmp/tbenv/bin/pip install tensorboard)"
            );
        };
        let dir = tempfile::tempdir().unwrap();
        // Values compared as f32 bit patterns: TensorBoard's are f32s widened to f64, and
        // serde_json's default float parsing may land one f64 ulp off (which rounds back).
        let mut expected: BTreeMap<String, Vec<(u64, u32)>> = BTreeMap::new();
        let mut writer = TensorBoardWriter::create(dir.path()).unwrap();
        let mut put = |w: &mut TensorBoardWriter, tag: &str, step: u64, value: f64| {
            w.scalar(tag, step, value).unwrap();
            expected.entry(tag.to_string()).or_default().push((step, (value as f32).to_bits()));
        };
        // Two epochs of 3 iterations; the epoch tag uses epochs as steps (going backwards
        // relative to the iterations must not make TensorBoard purge anything).
        for epoch in 1..=2u64 {
            for i in 0..3u64 {
                let step = (epoch - 1) * 3 + i;
                put(&mut writer, "train/loss", step, 2.3 / (step as f64 + 1.0));
                put(&mut writer, "blocks/grad_norm/b2.0", step, 1e-3 * (step as f64 + 0.1));
            }
            put(&mut writer, "test/acc", epoch, 0.1 * epoch as f64 + 0.0123);
            writer.flush().unwrap();
        }
        put(&mut writer, "train/loss", 1_000_000_007, -12345.678);
        put(&mut writer, "test/acc", 3, 0.0);
        writer.flush().unwrap();
        drop(writer);

        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/read_tensorboard.py");
        let output = std::process::Command::new(&python).arg(script).arg(dir.path()).output().unwrap();
        assert!(
            output.status.success(),
            "{} {script} failed: {}",
            python.to_string_lossy(),
            String::from_utf8_lossy(&output.stderr)
        );
        let read: BTreeMap<String, Vec<(u64, f64)>> = serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stdout)));
        let read: BTreeMap<String, Vec<(u64, u32)>> = read
            .into_iter()
            .map(|(tag, events)| (tag, events.into_iter().map(|(s, v)| (s, (v as f32).to_bits())).collect()))
            .collect();
        assert_eq!(read, expected);
    }
}

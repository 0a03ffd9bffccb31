//! Metrics files (JSON Lines of [`Record`]s): writing a run's rows as they come, reading a
//! finished run's back (for `plot` and `--compare`).

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;

use resnet_core::train::{EpochMetrics, Record};

/// Reads one line: a tagged row, or an epoch row of a file written before tags existed.
pub fn parse_line(line: &str) -> Result<Record, serde_json::Error> {
    match serde_json::from_str(line) {
        Ok(record) => Ok(record),
        Err(e) => serde_json::from_str::<EpochMetrics>(line).map(Record::Epoch).map_err(|_| e),
    }
}

/// Every row of the metrics file at `path`; blank lines are skipped. The error is one line
/// naming the file (and the line, when one is not a metrics row).
pub fn read(path: &Path) -> Result<Vec<Record>, String> {
    let file = File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut records = Vec::new();
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let record = parse_line(&line).map_err(|e| {
            format!(
                "{} line {} is not a metrics row (JSON Lines from --metrics-out): {e}",
                path.display(),
                i + 1
            )
        })?;
        records.push(record);
    }
    Ok(records)
}

/// Writes a run's rows to its metrics file, each flushed at once so that a killed run keeps
/// them.
pub struct MetricsWriter {
    out: BufWriter<File>,
}

impl MetricsWriter {
    /// Starts the metrics file at `path` for a run that begins after `step` steps with the
    /// completed epochs `history` (both 0 and empty for a new run, which truncates the file).
    ///
    /// A resumed run keeps the step and blocks rows the file holds up to `step` (those of the
    /// run it continues; rows past the checkpoint are dropped, as they will be trained again)
    /// and takes its epoch rows from `history`. That rewrite is atomic: a crash leaves the old
    /// file or the new one.
    pub fn start(path: &Path, history: &[EpochMetrics], step: u64) -> Result<Self, String> {
        let kept = if step > 0 { readable_rows(path) } else { Vec::new() };
        let kept = kept.into_iter().filter(|r| {
            matches!(r, Record::Step(s) if s.step <= step) || matches!(r, Record::Blocks(b) if b.step <= step)
        });
        let mut text = String::new();
        let mut epochs = history.iter().peekable();
        for row in kept {
            let epoch = match &row {
                Record::Step(s) => s.epoch,
                Record::Blocks(b) => b.epoch,
                Record::Epoch(m) => m.epoch,
            };
            while let Some(m) = epochs.next_if(|m| m.epoch < epoch) {
                push_row(&mut text, &Record::Epoch(m.clone()));
            }
            push_row(&mut text, &row);
        }
        for m in epochs {
            push_row(&mut text, &Record::Epoch(m.clone()));
        }
        resnet_core::checkpoint::write_atomic(path, text.as_bytes()).map_err(|e| e.to_string())?;
        let file = OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        Ok(Self { out: BufWriter::new(file) })
    }

    /// Appends one row; a failed write is dropped (metrics never stop a run).
    pub fn write(&mut self, record: &Record) {
        if let Ok(line) = serde_json::to_string(record) {
            let _ = writeln!(self.out, "{line}").and_then(|_| self.out.flush());
        }
    }
}

fn push_row(text: &mut String, record: &Record) {
    if let Ok(line) = serde_json::to_string(record) {
        text.push_str(&line);
        text.push('\n');
    }
}

/// The rows of `path` that parse (none when it cannot be read): a run killed mid-write may
/// have left half a line.
fn readable_rows(path: &Path) -> Vec<Record> {
    std::fs::read_to_string(path)
        .map(|text| text.lines().filter_map(|line| parse_line(line).ok()).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use resnet_core::train::StepMetrics;

    fn step(epoch: usize, batch: usize) -> Record {
        let step = ((epoch - 1) * 2 + batch) as u64;
        Record::Step(StepMetrics {
            epoch,
            batch,
            batches: 2,
            step,
            loss: 1.0 / step as f64,
            train_acc: 0.5,
            lr: 0.05,
            examples_per_sec: 100.0,
        })
    }

    fn epoch(n: usize) -> EpochMetrics {
        EpochMetrics {
            epoch: n,
            loss: 0.5,
            train_acc: 0.8,
            test_acc: 0.7,
            examples_per_sec: 90.0,
            seconds: 2.0,
            lr: 0.05,
        }
    }

    #[test]
    fn a_resumed_run_keeps_the_rows_up_to_its_checkpoint_and_drops_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.jsonl");
        // A run killed in epoch 2 after step 4 (half of its last row written), resumed from
        // the checkpoint at the end of epoch 1 (step 2), whose history has epoch 1.
        let mut writer = MetricsWriter::start(&path, &[], 0).unwrap();
        for row in [step(1, 1), step(1, 2), Record::Epoch(epoch(1)), step(2, 1), step(2, 2)] {
            writer.write(&row);
        }
        drop(writer);
        let mut text = fs_text(&path);
        text.push_str("{\"kind\":\"step\",\"epo");
        std::fs::write(&path, text).unwrap();

        let mut resumed = MetricsWriter::start(&path, &[epoch(1)], 2).unwrap();
        resumed.write(&step(2, 1));
        assert_eq!(read(&path).unwrap(), [step(1, 1), step(1, 2), Record::Epoch(epoch(1)), step(2, 1)]);
    }

    #[test]
    fn a_new_run_truncates_and_an_old_file_without_step_rows_gets_the_history() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.jsonl");
        std::fs::write(&path, "not json\n").unwrap();
        drop(MetricsWriter::start(&path, &[], 0).unwrap());
        assert_eq!(fs_text(&path), "");
        // Written before step rows existed: epoch rows without a kind.
        std::fs::write(&path, serde_json::to_string(&epoch(1)).unwrap() + "\n").unwrap();
        drop(MetricsWriter::start(&path, &[epoch(1), epoch(2)], 4).unwrap());
        assert_eq!(read(&path).unwrap(), [Record::Epoch(epoch(1)), Record::Epoch(epoch(2))]);
    }

    #[test]
    fn an_unwritable_path_is_one_line() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("file");
        std::fs::write(&blocker, "").unwrap();
        let Err(e) = MetricsWriter::start(&blocker.join("m.jsonl"), &[], 0) else {
            panic!("wrote under a file")
        };
        assert!(e.contains(&blocker.display().to_string()) && !e.contains('\n'), "{e}");
    }

    fn fs_text(path: &Path) -> String {
        std::fs::read_to_string(path).unwrap()
    }
}

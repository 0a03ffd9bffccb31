//! `resnet-tui plot`: runs' metrics files drawn as d2l's `train_ch6` curves (train loss;
//! train acc and test acc; against epoch) and, for runs that recorded blocks rows, their
//! gradient norm against depth, into one SVG or PNG file.

mod chart;
mod draw;
mod gradient;
mod legend;
mod output;
mod profile;
mod series;
mod style;
mod ticks;
mod training;

use std::path::Path;

use resnet_core::checkpoint::write_atomic;
use resnet_core::train::Record;

use crate::cli::PlotArgs;
use crate::failure::Failure;
use crate::run::metrics_file;
use output::Format;
pub use profile::GradientFlow;
pub use series::RunCurves;

/// Reads the runs, draws them and writes the image (whole, or not at all); returns a report
/// line.
pub fn run(args: &PlotArgs) -> Result<String, Failure> {
    let format = Format::of(&args.out).map_err(Failure::Usage)?;
    let labels = labels(&args.runs, args.labels.as_deref()).map_err(Failure::Usage)?;
    let mut runs = Vec::with_capacity(args.runs.len());
    for (path, label) in args.runs.iter().zip(labels) {
        runs.push(read_run(path, label).map_err(Failure::Usage)?);
    }
    let size = draw::default_size(&runs);
    let size = (args.width.unwrap_or(size.0), args.height.unwrap_or(size.1));
    let bytes = format.render(&runs, size).map_err(Failure::Training)?;
    write_atomic(&args.out, &bytes).map_err(Failure::usage)?;
    let blocks = draw::flows(&runs).iter().map(|r| r.gradients.blocks.len()).max().unwrap_or(0);
    Ok(format!(
        "wrote {} ({}x{}: {} run{}{})",
        args.out.display(),
        size.0,
        size.1,
        runs.len(),
        if runs.len() == 1 { "" } else { "s" },
        if blocks > 0 { format!(", gradient norms of {blocks} blocks") } else { String::new() }
    ))
}

/// A finished run's curves from its metrics file, named after it (the dashboard's
/// `--compare`), or why there are none, in one line.
pub fn finished_run(path: &Path) -> Result<RunCurves, String> {
    read_run(path, default_label(path))
}

/// One run's curves from its metrics file, or why there are none.
fn read_run(path: &Path, label: String) -> Result<RunCurves, String> {
    let records = metrics_file::read(path)?;
    if !records.iter().any(|r| matches!(r, Record::Step(_) | Record::Epoch(_))) {
        return Err(format!(
            "{} has no epoch rows; nothing to plot (is it a --metrics-out file?)",
            path.display()
        ));
    }
    let curves = RunCurves::from_records(label, &records);
    if curves.is_empty() {
        return Err(format!("{} has no finite loss or accuracy to plot", path.display()));
    }
    Ok(curves)
}

/// The runs' legend names: `given` (one per file), else each file's.
fn labels(paths: &[std::path::PathBuf], given: Option<&[String]>) -> Result<Vec<String>, String> {
    let Some(given) = given else { return Ok(paths.iter().map(|p| default_label(p)).collect()) };
    if given.len() != paths.len() {
        return Err(format!(
            "--labels names {} run{} but {} metrics file{} given",
            given.len(),
            if given.len() == 1 { "" } else { "s" },
            paths.len(),
            if paths.len() == 1 { " is" } else { "s are" }
        ));
    }
    if given.iter().any(|l| l.trim().is_empty()) {
        return Err("--labels has an empty name".to_string());
    }
    Ok(given.iter().map(|l| l.trim().to_string()).collect())
}

/// A file's name without extension; for `metrics.jsonl`, its folder's name (a run's folder,
/// `runs/<date>-<model>/metrics.jsonl`, is named after the run).
fn default_label(path: &Path) -> String {
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let folder = path.parent().and_then(Path::file_name).map(|d| d.to_string_lossy().into_owned());
    match folder {
        Some(folder) if stem == "metrics" => folder,
        _ if stem.is_empty() => path.display().to_string(),
        _ => stem,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn runs_are_named_after_their_file_or_their_run_folder() {
        assert_eq!(default_label(Path::new("runs/2026-12-02-resnet34/metrics.jsonl")), "2026-12-02-resnet34");
        assert_eq!(default_label(Path::new("baseline.jsonl")), "baseline");
        assert_eq!(default_label(Path::new("out/lr-0.1.jsonl")), "lr-0.1");
        assert_eq!(default_label(Path::new("metrics.jsonl")), "metrics");
    }

    #[test]
    fn given_labels_must_name_every_run() {
        let paths = [PathBuf::from("a.jsonl"), PathBuf::from("b/metrics.jsonl")];
        assert_eq!(labels(&paths, None).unwrap(), ["a", "b"]);
        let given = ["x".to_string(), " y ".to_string()];
        assert_eq!(labels(&paths, Some(&given)).unwrap(), ["x", "y"]);
        assert_eq!(
            labels(&paths, Some(&given[..1])).unwrap_err(),
            "--labels names 1 run but 2 metrics files are given"
        );
        let empty = ["x".to_string(), String::new()];
        assert_eq!(labels(&paths, Some(&empty)).unwrap_err(), "--labels has an empty name");
    }
}

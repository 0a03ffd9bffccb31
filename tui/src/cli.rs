//! The command line: subcommands and their flags.

use std::path::PathBuf;
use std::str::FromStr;

use clap::{Args, Parser, Subcommand, ValueEnum};
use resnet_core::models::{Arch, Flavor, ModelName};
use resnet_core::summary::Dims;
use resnet_core::train::{Engine, LrSchedule, TrainConfig};

/// ResNet (Dive into Deep Learning, ch. 8.6) in Rust: a training dashboard for Fashion-MNIST,
/// shape tables, a headless trainer, PyTorch interop.
///
/// Without a subcommand it opens the dashboard; its flags are the setup screen's defaults.
#[derive(Debug, Parser)]
#[command(name = "resnet-tui", version, about, args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// What to do (default: the dashboard).
    #[command(subcommand)]
    pub command: Option<Command>,
    /// The dashboard's flags (the same as `train`'s).
    #[command(flatten)]
    pub train: TrainArgs,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print a model's layer shape table (the chapter's `X.shape` per block).
    Shapes(ShapesArgs),
    /// Train on Fashion-MNIST as d2l's train_ch6 does: the dashboard, or d2l's lines with
    /// --headless (or when stdout is not a terminal).
    Train(Box<TrainArgs>),
    /// Write a checkpoint's weights as safetensors with the PyTorch model's state_dict names.
    Export(ExportArgs),
    /// Make a checkpoint from PyTorch weights (safetensors with the seed model's names).
    Import(ImportArgs),
    /// Measure training and inference throughput (one JSON line, as pytorch_resnet.py speed).
    Bench(BenchArgs),
    /// Draw runs' metrics files (--metrics-out) as d2l's train_ch6 figure (loss and accuracy
    /// on axes of their own) and, under it, each run's gradient norm by depth, into an SVG
    /// or PNG file.
    Plot(PlotArgs),
}

/// Flags of `resnet-tui plot`.
#[derive(Debug, Args)]
pub struct PlotArgs {
    /// Metrics files (JSON Lines from --metrics-out), one per run.
    #[arg(value_name = "RUN", required = true)]
    pub runs: Vec<PathBuf>,
    /// The image to write: its extension, .svg or .png, chooses the format.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// The runs' names in the legend, comma-separated, in the order of the files [default:
    /// each file's name, or its folder's for metrics.jsonl].
    #[arg(long, value_name = "A,B", value_delimiter = ',')]
    pub labels: Option<Vec<String>>,
    /// Image width in pixels [default: 640 per column of panels].
    #[arg(long, value_parser = clap::value_parser!(u32).range(200..=8000))]
    pub width: Option<u32>,
    /// Image height in pixels [default: 480 per row of panels].
    #[arg(long, value_parser = clap::value_parser!(u32).range(150..=8000))]
    pub height: Option<u32>,
}

/// Flags of `resnet-tui bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Image side.
    #[arg(long, default_value_t = 28)]
    pub res: usize,
    /// Images per step.
    #[arg(long, default_value_t = 256)]
    pub batch: usize,
    /// Timed steps (after two warm-up steps).
    #[arg(long, default_value_t = 5)]
    pub steps: usize,
    /// Compute device.
    #[arg(long, value_enum, default_value = "cpu")]
    pub device: DeviceChoice,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Also print where a training step's time goes (one JSON line per phase).
    #[arg(long)]
    pub profile: bool,
    /// How training steps run: `program` (the model compiled into a training program, CPU
    /// only) or `tape` (dfdx's tape, op by op).
    #[arg(long, default_value = "program", value_parser = parse_engine)]
    pub engine: Engine,
}

/// `program` or `tape`.
fn parse_engine(s: &str) -> Result<Engine, String> {
    s.parse()
}

/// Where the training recipe starts from; every flag given overrides it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Preset {
    /// The chapter's run: 96x96, lr 0.05, 10 epochs, batch 256.
    D2l,
    /// A quick CPU run: 28x28, 2 epochs, otherwise the chapter's recipe.
    Quick,
}

impl Preset {
    /// The presets, in the order the setup form cycles through them.
    pub const ALL: [Preset; 2] = [Preset::D2l, Preset::Quick];

    /// Its recipe.
    pub fn config(self) -> TrainConfig {
        match self {
            Preset::D2l => TrainConfig::d2l(),
            Preset::Quick => TrainConfig::quick(),
        }
    }
}

/// The compute device.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DeviceChoice {
    /// The CPU.
    Cpu,
    /// An NVIDIA GPU (needs a build with the `cuda` feature).
    Cuda,
    /// CUDA when a GPU is found, else the CPU.
    Auto,
}

/// Flags of `resnet-tui train` (and, later, of the dashboard).
#[derive(Debug, Args, Clone)]
pub struct TrainArgs {
    /// Print plain d2l lines instead of the dashboard.
    #[arg(long)]
    pub headless: bool,
    /// Recipe to start from [default: d2l; when resuming: the checkpoint's].
    #[arg(long, value_enum)]
    pub preset: Option<Preset>,
    /// Model: resnet18, resnet34, resnet50, resnet101, resnet152, preact-resnet18,
    /// preact-resnet50, resnet8, or the paper's plain (shortcut-free) plain18 and plain34.
    #[arg(long, value_parser = parse_arch)]
    pub model: Option<Arch>,
    /// How the model is built: d2l (the chapter's) or torchvision.
    #[arg(long, value_parser = parse_flavor)]
    pub flavor: Option<Flavor>,
    /// Epochs to train (in total, when resuming).
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Learning rate.
    #[arg(long)]
    pub lr: Option<f64>,
    /// Examples per step.
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Image side after resizing (28 = no resize).
    #[arg(long)]
    pub resize: Option<usize>,
    /// Seed of initialisation and shuffling.
    #[arg(long)]
    pub seed: Option<u64>,
    /// SGD momentum (0 = none).
    #[arg(long)]
    pub momentum: Option<f64>,
    /// Nesterov momentum.
    #[arg(long)]
    pub nesterov: bool,
    /// L2 weight decay (0 = none).
    #[arg(long)]
    pub weight_decay: Option<f64>,
    /// Learning-rate schedule: constant, cosine or step:EVERY:GAMMA.
    #[arg(long, value_parser = parse_schedule)]
    pub schedule: Option<LrSchedule>,
    /// Train on the first N training examples only.
    #[arg(long, value_name = "N")]
    pub limit_train: Option<usize>,
    /// Test on the first N test examples only.
    #[arg(long, value_name = "N")]
    pub limit_test: Option<usize>,
    /// Directory with the four Fashion-MNIST IDX files (gzip or raw).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Never download the dataset.
    #[arg(long)]
    pub no_download: bool,
    /// Write the run's metrics to FILE as JSON Lines: a row per step and one per epoch (a
    /// resumed run keeps the rows up to its checkpoint). `resnet-tui plot` draws them.
    #[arg(long, value_name = "FILE")]
    pub metrics_out: Option<PathBuf>,
    /// Also write TensorBoard event files into DIR (`tensorboard --logdir DIR`): loss,
    /// accuracies, learning rate, examples/sec.
    #[arg(long, value_name = "DIR")]
    pub tensorboard: Option<PathBuf>,
    /// Report each block's gradient norm, weight norm and update-to-weight ratio at the
    /// first step and then every N steps (metrics, TensorBoard, the dashboard); 0 never.
    /// Reports keep a copy of the weights (4 bytes per parameter) for the whole run.
    #[arg(long, value_name = "N", default_value_t = resnet_core::train::BLOCK_STATS_EVERY)]
    pub block_stats_every: u64,
    /// Headless runs whose stderr is not a terminal write a progress line this often:
    /// seconds (10s, 2m) or steps (100). On a terminal a bar shows the progress instead.
    #[arg(long, value_name = "EVERY", default_value = "10s")]
    pub log_every: LogEvery,
    /// The dashboard draws this finished run's curves (its metrics file, JSON Lines) beside
    /// the live ones, e.g. plain34's against resnet34's.
    #[arg(long, value_name = "RUN.jsonl")]
    pub compare: Option<PathBuf>,
    /// Keep the run's files in DIR: checkpoint.ckpt, metrics.jsonl and TensorBoard events
    /// [dashboard default: a new runs/<date>-<model>; headless: none unless asked].
    #[arg(long, value_name = "DIR")]
    pub run_dir: Option<PathBuf>,
    /// Save checkpoints to FILE (each epoch, on `s`, and when stopping) [default: the run
    /// directory's checkpoint.ckpt].
    #[arg(long, value_name = "FILE")]
    pub checkpoint: Option<PathBuf>,
    /// Continue the run saved in PATH: a checkpoint, or a run directory (its checkpoint.ckpt;
    /// the run goes on writing there).
    #[arg(long, value_name = "PATH")]
    pub resume: Option<PathBuf>,
    /// Keep the N newest checkpoints: FILE, FILE.1 (the previous one), ..., FILE.{N-1}.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub keep: u64,
    /// Also save a checkpoint every STEPS training steps.
    #[arg(long, value_name = "STEPS", value_parser = clap::value_parser!(u64).range(1..))]
    pub save_every: Option<u64>,
    /// Compute device.
    #[arg(long, value_enum, default_value = "cpu")]
    pub device: DeviceChoice,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// How training steps run: `program` (the model compiled into a training program, the
    /// CPU's fast way) or `tape` (dfdx's tape, op by op, on any device).
    #[arg(long, default_value = "program", value_parser = parse_engine)]
    pub engine: Engine,
}

impl TrainArgs {
    /// The recipe asked for: the preset (or, when resuming without one, the saved recipe
    /// `saved`), then every flag given; an error for a model that does not come in the
    /// flavour asked for.
    pub fn config(&self, saved: Option<&TrainConfig>) -> Result<TrainConfig, String> {
        let base = match (self.preset, saved) {
            (None, Some(saved)) => saved.clone(),
            (preset, _) => preset.unwrap_or(Preset::D2l).config(),
        };
        let model = ModelName::new(
            self.model.unwrap_or(base.model.arch()),
            self.flavor.unwrap_or(base.model.flavor()),
        )
        .map_err(|e| e.to_string())?;
        Ok(TrainConfig {
            model,
            epochs: self.epochs.unwrap_or(base.epochs),
            lr: self.lr.unwrap_or(base.lr),
            batch_size: self.batch_size.unwrap_or(base.batch_size),
            resize: self.resize.unwrap_or(base.resize),
            seed: self.seed.unwrap_or(base.seed),
            momentum: self.momentum.unwrap_or(base.momentum),
            nesterov: self.nesterov || base.nesterov,
            weight_decay: self.weight_decay.unwrap_or(base.weight_decay),
            schedule: self.schedule.unwrap_or(base.schedule),
            limit_train: self.limit_train.or(base.limit_train),
            limit_test: self.limit_test.or(base.limit_test),
        })
    }
}

/// Flags of `resnet-tui export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The checkpoint to read.
    #[arg(long, value_name = "FILE")]
    pub checkpoint: PathBuf,
    /// The file to write.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// What to write.
    #[arg(long, value_enum, default_value = "safetensors")]
    pub format: ExportFormat,
    /// With --format postcard: quantize the model (int8, for resnet_core::quant without
    /// std or a heap), calibrated on Fashion-MNIST training images.
    #[arg(long, value_enum, value_name = "TYPE")]
    pub quantize: Option<Quantize>,
    /// With --quantize: training images whose activations set the int8 ranges.
    #[arg(long, value_name = "N", default_value_t = 500)]
    pub calibrate: usize,
    /// With --quantize: test images the int8 and the f32 model are scored on (0: none).
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    pub evaluate: usize,
    /// With --quantize: directory with the four Fashion-MNIST IDX files (gzip or raw).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

/// The number type `resnet-tui export --quantize` converts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Quantize {
    /// 8-bit integers (TFLite's scheme: weights per channel, activations per tensor).
    Int8,
}

/// What `resnet-tui export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// PyTorch's safetensors with the model's state_dict names.
    Safetensors,
    /// The weights alone in the checkpoint format (postcard, CRC), for inference without
    /// std (`resnet_core::infer`), on a microcontroller too.
    Postcard,
}

/// Flags of `resnet-tui import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The safetensors file with PyTorch state_dict names: the seed's for resnet18, or
    /// torchvision's with --flavor torchvision.
    #[arg(long, value_name = "FILE")]
    pub weights: PathBuf,
    /// The model the weights are for.
    #[arg(long, default_value = "resnet18", value_parser = parse_arch)]
    pub model: Arch,
    /// Its flavour: d2l (the chapter's) or torchvision.
    #[arg(long, default_value = "d2l", value_parser = parse_flavor)]
    pub flavor: Flavor,
    /// The checkpoint to write.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

/// Flags of `resnet-tui shapes`.
#[derive(Debug, Args)]
pub struct ShapesArgs {
    /// Model: resnet18, resnet34, resnet50, resnet101, resnet152, preact-resnet18,
    /// preact-resnet50, resnet8, or the paper's plain (shortcut-free) plain18 and plain34.
    #[arg(long, default_value = "resnet18", value_parser = parse_arch)]
    pub model: Arch,
    /// How the model is built: d2l (the chapter's) or torchvision.
    #[arg(long, default_value = "d2l", value_parser = parse_flavor)]
    pub flavor: Flavor,
    /// Input shape NxCxHxW (batch, channels, height, width).
    #[arg(long, default_value = "1x1x224x224", value_name = "NxCxHxW", value_parser = parse_input)]
    pub input: Dims,
    /// Number of classes (outputs of the last layer).
    #[arg(long, default_value_t = 10)]
    pub classes: usize,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

fn parse_arch(s: &str) -> Result<Arch, String> {
    s.parse().map_err(|e: resnet_core::Error| e.to_string())
}

fn parse_flavor(s: &str) -> Result<Flavor, String> {
    s.parse().map_err(|e: resnet_core::Error| e.to_string())
}

fn parse_schedule(s: &str) -> Result<LrSchedule, String> {
    s.parse().map_err(|e: resnet_core::Error| e.to_string())
}

fn parse_input(s: &str) -> Result<Dims, String> {
    let dims = Dims::parse(s).map_err(|e| e.to_string())?;
    match dims.rank() {
        4 => Ok(dims),
        n => Err(format!("invalid shape `{s}`: need 4 sizes NxCxHxW, got {n}")),
    }
}

/// How often a plain progress line is written (`--log-every`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LogEvery {
    /// Every so many seconds (`10s`, `2m`).
    Seconds(f64),
    /// Every so many steps (`100`).
    Steps(u64),
}

impl Default for LogEvery {
    fn default() -> Self {
        LogEvery::Seconds(10.0)
    }
}

impl FromStr for LogEvery {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("invalid --log-every `{s}`: give seconds (10s, 2m) or steps (100)");
        let (number, unit) = match s.find(|c: char| !c.is_ascii_digit() && c != '.') {
            Some(i) => s.split_at(i),
            None => (s, ""),
        };
        match unit {
            "" => number.parse::<u64>().ok().filter(|&n| n > 0).map(LogEvery::Steps).ok_or_else(bad),
            "s" | "m" => {
                let scale = if unit == "m" { 60.0 } else { 1.0 };
                let seconds = number.parse::<f64>().map_err(|_| bad())? * scale;
                (seconds > 0.0 && seconds.is_finite()).then_some(LogEvery::Seconds(seconds)).ok_or_else(bad)
            }
            _ => Err(bad()),
        }
    }
}

/// The `train` arguments of `resnet-tui train FLAGS...`, for the tests of what reads them.
///
/// # Panics
/// If the flags do not parse: a mistake in the test.
#[cfg(test)]
pub fn train_args(flags: &[&str]) -> TrainArgs {
    let argv = ["resnet-tui", "train"].iter().chain(flags);
    match Cli::try_parse_from(argv).map(|cli| cli.command) {
        Ok(Some(Command::Train(args))) => *args,
        other => panic!("{flags:?} are no train arguments: {other:?}"),
    }
}

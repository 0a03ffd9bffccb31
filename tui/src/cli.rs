//! The command line: subcommands and their flags.

use clap::{Args, Parser, Subcommand};
use resnet_core::models::ModelName;
use resnet_core::summary::Dims;

/// ResNet (Dive into Deep Learning, ch. 8.6) in Rust: shape tables, training on
/// Fashion-MNIST, benchmarks.
#[derive(Debug, Parser)]
#[command(name = "resnet-tui", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print a model's layer shape table (the chapter's `X.shape` per block).
    Shapes(ShapesArgs),
}

/// Flags of `resnet-tui shapes`.
#[derive(Debug, Args)]
pub struct ShapesArgs {
    /// Model name.
    #[arg(long, default_value = "resnet18", value_parser = parse_model)]
    pub model: ModelName,
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

fn parse_model(s: &str) -> Result<ModelName, String> {
    s.parse().map_err(|e: resnet_core::Error| e.to_string())
}

fn parse_input(s: &str) -> Result<Dims, String> {
    let dims = Dims::parse(s).map_err(|e| e.to_string())?;
    match dims.rank() {
        4 => Ok(dims),
        n => Err(format!("invalid shape `{s}`: need 4 sizes NxCxHxW, got {n}")),
    }
}

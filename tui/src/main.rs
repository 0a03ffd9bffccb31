//! `resnet-tui`: the command line of resnet-dfdx. `shapes` prints a model's layer table,
//! `train --headless` trains as d2l's train_ch6, `export`/`import` talk to PyTorch.

mod cli;
mod headless;
mod interop;
mod shapes;

use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use cli::{Cli, Command};
use headless::Failure;

/// Exit status for bad arguments, data or files (as clap uses).
const USAGE: u8 = 2;
/// Exit status for a failed run.
const FAILED: u8 = 1;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    let result = match cli.command {
        Some(Command::Shapes(args)) => shapes::run(&args).map_err(Failure::Usage).map(Some),
        Some(Command::Train(args)) => headless::run(&args).map(|()| None),
        Some(Command::Export(args)) => interop::export(&args).map(Some),
        Some(Command::Import(args)) => interop::import(&args).map(Some),
        None => {
            let _ = Cli::command().print_help();
            Ok(None)
        }
    };
    match result {
        Ok(text) => {
            if let Some(text) = text {
                println!("{}", text.trim_end());
            }
            ExitCode::SUCCESS
        }
        Err(Failure::Usage(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(USAGE)
        }
        Err(Failure::Training(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(FAILED)
        }
    }
}

/// Help and version go to stdout as clap prints them; any other parse error becomes one
/// line on stderr and exit status 2.
fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    let text = e.to_string();
    let first = text.lines().next().unwrap_or("invalid arguments").trim_start_matches("error: ");
    eprintln!("error: {first} (see --help)");
    ExitCode::from(USAGE)
}

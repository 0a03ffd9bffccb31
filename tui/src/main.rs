//! `resnet-tui`: the command line of resnet-dfdx. `shapes` prints a model's layer table.

mod cli;
mod shapes;

use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use cli::{Cli, Command};

/// Exit status for bad arguments (as clap uses).
const USAGE: u8 = 2;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    match cli.command {
        Some(Command::Shapes(args)) => match shapes::run(&args) {
            Ok(text) => {
                println!("{}", text.trim_end());
                ExitCode::SUCCESS
            }
            Err(message) => {
                eprintln!("error: {message}");
                ExitCode::from(USAGE)
            }
        },
        None => {
            let _ = Cli::command().print_help();
            ExitCode::SUCCESS
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

//! `resnet-tui`: the dashboard and command line of resnet-dfdx. Without a subcommand (or
//! with `train`) it opens the training dashboard; `train --headless` prints d2l's lines,
//! `shapes` a model's layer table, `export`/`import` talk to PyTorch, `plot` draws runs'
//! metrics files.

mod bench;
mod cli;
mod dashboard;
mod failure;
mod headless;
mod interop;
mod plot;
mod run;
mod shapes;
mod thousands;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command};
use failure::Failure;

/// Exit status for bad arguments, data or files (as clap uses).
const USAGE: u8 = 2;
/// Exit status for a failed run.
const FAILED: u8 = 1;

fn main() -> ExitCode {
    tune_allocator();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    let result = match cli.command {
        Some(Command::Shapes(args)) => shapes::run(&args).map_err(Failure::Usage).map(Some),
        Some(Command::Train(args)) => return train(&args),
        Some(Command::Export(args)) => interop::export(&args).map(Some),
        Some(Command::Import(args)) => interop::import(&args).map(Some),
        Some(Command::Bench(args)) => bench::run(&args).map(Some),
        Some(Command::Plot(args)) => plot::run(&args).map(Some),
        None => return train(&cli.train),
    };
    report(result.map(|text| {
        if let Some(text) = text {
            println!("{}", text.trim_end());
        }
        0
    }))
}

/// Training frees and reallocates the same large buffers every step; glibc's defaults hand
/// buffers over 128 KiB to `mmap` and give freed memory back at once, so each step pays page
/// faults again (15% of a step at 28x28). Keep them in the heap instead (peak memory is
/// unchanged: see BENCHMARKS.md).
fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; it is called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
    }
}

/// The dashboard, or d2l's plain lines with `--headless` or when stdout is not a terminal.
fn train(args: &cli::TrainArgs) -> ExitCode {
    if args.headless || !std::io::stdout().is_terminal() {
        report(headless::run(args))
    } else {
        report(dashboard::run(args))
    }
}

/// The exit status of a command's result, printing its error as one line.
fn report(result: Result<u8, Failure>) -> ExitCode {
    match result {
        Ok(status) => ExitCode::from(status),
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
    let mut lines = text.lines();
    let first = lines.next().unwrap_or("invalid arguments").trim_start_matches("error: ");
    // A list follows a colon ("the following required arguments were not provided:").
    let listed: Vec<&str> = if first.ends_with(':') {
        lines.take_while(|l| !l.trim().is_empty()).map(str::trim).collect()
    } else {
        Vec::new()
    };
    if listed.is_empty() {
        eprintln!("error: {first} (see --help)");
    } else {
        eprintln!("error: {first} {} (see --help)", listed.join(", "));
    }
    ExitCode::from(USAGE)
}

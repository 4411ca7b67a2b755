//! The `ferry` command line: parses arguments, runs one command, renders the
//! result or the error. Everything substantial lives in the library crates.

mod cli;
mod commands;
mod output;
mod render;

use clap::Parser;
use std::process::ExitCode;

/// Runs ferry with the process's arguments and returns its exit code.
pub fn run() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // clap prints usage errors itself (exit 2) and help/version (exit 0).
            let _ = err.print();
            return ExitCode::from(if err.use_stderr() { 2 } else { 0 });
        }
    };
    let out = output::Output::new(cli.global.color, cli.global.verbose);
    match commands::dispatch(cli, &out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            out.error(&err);
            ExitCode::from(1)
        }
    }
}

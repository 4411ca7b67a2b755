//! `ferry completion bash|zsh|fish|powershell`: the shell's completion
//! script for ferry's whole command tree, from the same clap definition the
//! parser uses (so it never lags behind a new command or flag).

use crate::cli::{Cli, CompletionArgs};
use crate::context::CommandContext;
use anyhow::Result;
use clap::CommandFactory;

pub fn run(args: CompletionArgs, _cx: &CommandContext) -> Result<()> {
    let mut command = Cli::command();
    let mut stdout = std::io::stdout().lock();
    clap_complete::generate(args.shell, &mut command, "ferry", &mut stdout);
    Ok(())
}

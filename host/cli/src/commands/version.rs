//! `ferry version` and `ferry docs`.

use crate::cli::{DocsArgs, VersionArgs};
use crate::context::CommandContext;
use anyhow::Result;

/// Where ferry's documentation is.
pub const DOCS_URL: &str = concat!(env!("CARGO_PKG_REPOSITORY"), "/tree/main/docs");

pub fn version(args: VersionArgs, cx: &CommandContext) -> Result<()> {
    let version = env!("CARGO_PKG_VERSION");
    let (os, arch) = (std::env::consts::OS, std::env::consts::ARCH);
    if args.json {
        cx.out.json(&serde_json::json!({ "version": version, "os": os, "arch": arch }));
    } else {
        cx.out.data(&format!("ferry {version} (built for {os}/{arch})"));
    }
    Ok(())
}

/// Prints the docs' address; opens it in a browser only for a person at a
/// terminal (never in CI or without a terminal, never with `--print`).
pub fn docs(args: DocsArgs, cx: &CommandContext) -> Result<()> {
    cx.out.data(DOCS_URL);
    if args.print || !super::interactive() {
        return Ok(());
    }
    let opener: &[&str] = if cfg!(target_os = "macos") {
        &["open"]
    } else if cfg!(windows) {
        &["cmd", "/C", "start", ""]
    } else {
        &["xdg-open"]
    };
    let spawned = std::process::Command::new(opener[0])
        .args(&opener[1..])
        .arg(DOCS_URL)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    if spawned.is_err() {
        cx.out.note(&format!("could not start `{}`: open the address above yourself", opener[0]));
    }
    Ok(())
}

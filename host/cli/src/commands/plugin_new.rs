//! `ferry plugin new`: a plugin crate that builds, tests and installs as is.

use crate::cli::{PluginKindArg, PluginNew};
use crate::context::CommandContext;
use anyhow::{Context, Result};
use ferry_core::Failure;
use std::path::{Path, PathBuf};

const CARGO_TOML: &str = include_str!("../../templates/plugin/Cargo.toml.in");
const LIB_RS: &str = include_str!("../../templates/plugin/lib.rs.in");
const TEMPLATE_YML: &str = include_str!("../../templates/plugin/template.yml.in");
const RENDER_TEST: &str = include_str!("../../templates/plugin/render_test.rs.in");
const README: &str = include_str!("../../templates/plugin/README.md.in");
/// A storage plugin (ABI 0.4) answers `storage init` instead of rendering a manifest.
const STORAGE_LIB_RS: &str = include_str!("../../templates/plugin/lib_storage.rs.in");
const STORAGE_RENDER_TEST: &str = include_str!("../../templates/plugin/render_test_storage.rs.in");
const STORAGE_README: &str = include_str!("../../templates/plugin/README_storage.md.in");
const GITIGNORE: &str = include_str!("../../templates/plugin/gitignore.in");
/// ferry's own formatting, so the scaffold is `cargo fmt`-clean as written.
const RUSTFMT: &str = include_str!("../../templates/plugin/rustfmt.toml.in");

/// Where ferry's sources live, for authors outside a checkout.
const REPOSITORY: &str = env!("CARGO_PKG_REPOSITORY");

pub fn run(args: PluginNew, cx: &CommandContext) -> Result<()> {
    let out = &cx.out;
    check_name(&args.name)?;
    let manifest_type = match args.manifest_type {
        Some(t) => t,
        None => title_case(&args.name),
    };
    if manifest_type.trim().is_empty() || manifest_type.contains(['"', '\\', '\n', '#', ':']) {
        return Err(Failure::new(format!("--type `{manifest_type}` cannot be a manifest type"))
            .hint("use words and spaces, e.g. --type \"Queue Processor\"")
            .into());
    }
    let cwd = std::env::current_dir()?;
    let dir = args.path.map(|p| cwd.join(p)).unwrap_or_else(|| cwd.join(&args.name));
    if dir.exists() && std::fs::read_dir(&dir).map(|mut d| d.next().is_some()).unwrap_or(true) {
        return Err(Failure::new(format!("{} already exists and is not empty", out.path(&dir)))
            .hint("choose another --path, or remove it first")
            .into());
    }
    let sdk = match args.sdk_path {
        Some(path) => Some(sdk_dir(&cwd.join(&path)).with_context(|| {
            format!(
                "--sdk-path {}: no ferry-plugin-sdk there (looked for Cargo.toml and plugin-api/sdk/Cargo.toml)",
                path.display()
            )
        })?),
        None => find_sdk(&[dir.clone(), cwd.clone(), std::env::current_exe().unwrap_or_default()]),
    };
    let sdk_dependency = match &sdk {
        Some(sdk) => format!("ferry-plugin-sdk = {{ path = {:?} }}", sdk.display().to_string()),
        None => format!(
            "# The SDK of ferry {version}; use `path = \"…/plugin-api/sdk\"` for a local checkout.\n\
             ferry-plugin-sdk = {{ git = \"{REPOSITORY}\", tag = \"v{version}\" }}",
            version = env!("CARGO_PKG_VERSION")
        ),
    };
    let (kind, export_kind, noun, noun_cmd) = match args.kind {
        PluginKindArg::Service => ("service", "service", "service", "svc"),
        PluginKindArg::Job => ("job", "job", "job", "job"),
        PluginKindArg::Environment => ("environment", "environment", "environment", "env"),
        PluginKindArg::PipelineProvider => ("pipeline-provider", "pipeline_provider", "pipeline", "pipeline"),
        PluginKindArg::Storage => ("storage", "storage", "storage", "storage"),
    };
    let crate_name = args.name.replace('-', "_");
    let fill = |text: &str| {
        text.replace("@@NAME@@", &args.name)
            .replace("@@CRATE@@", &crate_name)
            .replace("@@STRUCT@@", &camel_case(&args.name))
            .replace("@@TYPE@@", &manifest_type)
            .replace("@@KIND@@", kind)
            .replace("@@EXPORT_KIND@@", export_kind)
            .replace("@@NOUN_CMD@@", noun_cmd)
            .replace("@@NOUN@@", noun)
            .replace("@@SDK_DEPENDENCY@@", &sdk_dependency)
    };
    let files: Vec<(&str, String)> = if args.kind == PluginKindArg::Storage {
        vec![
            ("Cargo.toml", fill(CARGO_TOML)),
            ("src/lib.rs", fill(STORAGE_LIB_RS)),
            ("tests/render.rs", fill(STORAGE_RENDER_TEST)),
            ("README.md", fill(STORAGE_README)),
            (".gitignore", GITIGNORE.to_string()),
            ("rustfmt.toml", RUSTFMT.to_string()),
        ]
    } else {
        vec![
            ("Cargo.toml", fill(CARGO_TOML)),
            ("src/lib.rs", fill(LIB_RS)),
            ("src/template.yml", fill(TEMPLATE_YML)),
            ("tests/render.rs", fill(RENDER_TEST)),
            ("README.md", fill(README)),
            (".gitignore", GITIGNORE.to_string()),
            ("rustfmt.toml", RUSTFMT.to_string()),
        ]
    };
    for (file, text) in &files {
        let path = dir.join(file);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    // Inside a checkout, start from ferry's own lock: the same dependency
    // versions build offline and reuse what ferry's build already compiled.
    if let Some(lock) = sdk.as_ref().and_then(|sdk| sdk.parent()?.parent()).map(|root| root.join("Cargo.lock"))
        && lock.is_file()
    {
        std::fs::copy(&lock, dir.join("Cargo.lock")).with_context(|| format!("cannot copy {}", lock.display()))?;
    }
    if args.kind == PluginKindArg::Storage {
        out.status(
            "Created",
            &format!("storage plugin `{}` for storage type `{manifest_type}` in {}", args.name, out.path(&dir)),
        );
    } else {
        out.status(
            "Created",
            &format!("{kind} plugin `{}` for `type: {manifest_type}` in {}", args.name, out.path(&dir)),
        );
    }
    match &sdk {
        Some(sdk) => out.note(&format!("ferry-plugin-sdk: path dependency on {}", sdk.display())),
        None => out.note(&format!(
            "ferry-plugin-sdk: git dependency on {REPOSITORY}; pass --sdk-path <ferry checkout> to use a local one"
        )),
    }
    out.note(&format!(
        "next: cd {} && cargo test && ferry plugin build, then `ferry plugin install <the .wasm>` in your project",
        out.path(&dir)
    ));
    Ok(())
}

/// Plugin names become crate names, file names and lock keys: keep them plain.
fn check_name(name: &str) -> Result<()> {
    let valid = name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .split('-')
            .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
    if !valid {
        return Err(Failure::new(format!("`{name}` is not a valid plugin name: use lowercase letters, digits and single dashes, starting with a letter (at most 64 characters)")).hint("e.g. `queue-processor`").into());
    }
    Ok(())
}

fn title_case(name: &str) -> String {
    name.split('-')
        .map(|w| {
            let mut chars = w.chars();
            chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn camel_case(name: &str) -> String {
    title_case(name).replace(' ', "")
}

/// `dir` if it is the SDK crate, or the SDK of the ferry checkout at `dir`.
fn sdk_dir(dir: &Path) -> Option<PathBuf> {
    [dir.to_path_buf(), dir.join("plugin-api/sdk")]
        .into_iter()
        .find(|candidate| {
            std::fs::read_to_string(candidate.join("Cargo.toml"))
                .is_ok_and(|text| text.contains("name = \"ferry-plugin-sdk\""))
        })
        .map(|p| p.canonicalize().unwrap_or(p))
}

/// The SDK of the first ferry checkout around any of `starts`.
fn find_sdk(starts: &[PathBuf]) -> Option<PathBuf> {
    starts.iter().flat_map(|start| start.ancestors()).find_map(|dir| {
        let sdk = dir.join("plugin-api/sdk");
        sdk.join("Cargo.toml").is_file().then(|| sdk_dir(&sdk)).flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_cases() {
        assert!(check_name("queue-processor").is_ok());
        assert!(check_name("q2").is_ok());
        for bad in ["Queue", "-q", "q--p", "q-", "9q", "q_p", ""] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
        assert_eq!(title_case("queue-processor"), "Queue Processor");
        assert_eq!(camel_case("queue-processor"), "QueueProcessor");
    }

    #[test]
    fn templates_have_no_unfilled_placeholders_after_filling() {
        for text in
            [CARGO_TOML, LIB_RS, TEMPLATE_YML, RENDER_TEST, README, STORAGE_LIB_RS, STORAGE_RENDER_TEST, STORAGE_README]
        {
            let filled = [
                "@@NAME@@",
                "@@CRATE@@",
                "@@STRUCT@@",
                "@@TYPE@@",
                "@@KIND@@",
                "@@EXPORT_KIND@@",
                "@@NOUN_CMD@@",
                "@@NOUN@@",
                "@@SDK_DEPENDENCY@@",
            ]
            .iter()
            .fold(text.to_string(), |t, p| t.replace(p, "x"));
            assert!(!filled.contains("@@"), "{filled}");
        }
    }
}

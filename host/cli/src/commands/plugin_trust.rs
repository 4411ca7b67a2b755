//! `ferry plugin trust` and `ferry plugin untrust`: the user's own approval
//! of a native plugin a workspace pins. It lives in the user's config
//! directory (never in the repository), for one workspace and one digest.

use crate::context::CommandContext;
use anyhow::{Context, Result};
use ferry_core::Failure;
use ferry_runtime::{Lock, TrustStore};
use sha2::Digest;

pub fn trust(name: &str, cx: &CommandContext) -> Result<()> {
    let out = &cx.out;
    let ws = cx.workspace(None)?;
    ws.check_private()?;
    let lock = Lock::load(&ws.copilot_dir)?;
    let Some(entry) = lock.get(name) else {
        let natives: Vec<&str> = lock.plugins.iter().filter(|p| p.native).map(|p| p.name.as_str()).collect();
        let hint = if natives.is_empty() {
            "this workspace pins no native plugin".to_string()
        } else {
            format!("native plugins pinned here: {}", natives.join(", "))
        };
        return Err(Failure::new(format!("no plugin named `{name}` in {}", out.path(&Lock::path(&ws.copilot_dir))))
            .hint(hint.to_string())
            .into());
    };
    let path = entry.resolved_path(&ws.copilot_dir);
    let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let sha256 = hex::encode(sha2::Sha256::digest(&bytes));
    if !sha256.eq_ignore_ascii_case(&entry.sha256) {
        return Err(Failure::new(format!("refusing to trust `{name}`: {} has sha256 {sha256}, but copilot/plugins.lock pins {}", path.display(), entry.sha256)).hint("the file changed since it was pinned; restore it, or install the library you mean with `ferry plugin install <path> --trust-native`").into());
    }
    if !(entry.native || ferry_runtime::is_native_library(&bytes)) {
        return Err(Failure::new(format!("`{name}` is a WebAssembly component: it runs sandboxed and needs no trust"))
            .hint("`ferry plugin trust` is for native libraries (installed with --trust-native)")
            .into());
    }
    let mut store = TrustStore::load()?;
    store.trust(&ws.root, name, &sha256);
    store.save()?;
    out.status(
        "Trusted",
        &format!(
            "native plugin {name} ({}, sha256 {sha256}) for {}: it is NOT sandboxed and runs with all of ferry's permissions whenever a manifest needs it",
            out.path(&path),
            ws.root.display()
        ),
    );
    out.note(&format!("recorded for you only, in {}", TrustStore::path()?.display()));
    Ok(())
}

pub fn untrust(name: &str, cx: &CommandContext) -> Result<()> {
    let out = &cx.out;
    let ws = cx.workspace(None)?;
    let mut store = TrustStore::load()?;
    if !store.untrust(&ws.root, name) {
        return Err(Failure::new(format!("you have not trusted a plugin named `{name}` for {}", ws.root.display()))
            .hint("`ferry plugin ls` shows which native plugins you trust")
            .into());
    }
    store.save()?;
    out.status("Untrusted", &format!("native plugin {name} for {}: ferry will refuse to load it", ws.root.display()));
    Ok(())
}

//! `ferry plugin ls`.

use crate::context::CommandContext;
use anyhow::Result;
use serde_json::{Value, json};

/// A plugin as every `plugin` command's `--json` shows it: who it is, then
/// what the command adds (`extra`, in order).
pub(super) fn plugin_json(info: &ferry_runtime::PluginInfo, extra: Value) -> Value {
    let mut object = json!({
        "name": info.name,
        "version": info.version,
        "kind": info.kind.to_string(),
        "manifestTypes": info.manifest_types,
        "witVersion": info.wit_version,
    });
    if let (Some(object), Value::Object(extra)) = (object.as_object_mut(), extra) {
        object.extend(extra);
    }
    object
}

pub fn run(json: bool, cx: &CommandContext) -> Result<()> {
    let out = &cx.out;
    let registry = cx.registry()?;
    let plugins = registry.list()?;
    if json {
        let items: Vec<_> = plugins
            .iter()
            .map(|p| {
                plugin_json(
                    &p.info,
                    json!({
                    "source": p.info.origin.source(),
                    "path": p.info.origin.to_string(),
                    "overridesBundled": p.overrides_bundled,
                    "bundled": p.info.origin.is_bundled(),
                    "native": p.native,
                    "trusted": p.trusted,
                    "sha256": p.info.sha256,
                    "sizeBytes": p.size_bytes,
                    }),
                )
            })
            .collect();
        out.json(&json!(items));
        return Ok(());
    }
    let rows: Vec<Vec<String>> = plugins
        .iter()
        .map(|p| {
            vec![
                p.info.name.clone(),
                p.info.version.clone(),
                p.info.kind.to_string(),
                p.info.manifest_types.join(", "),
                {
                    let mut source = p.info.origin.source();
                    if p.native && p.trusted {
                        source.push_str(" (native, not sandboxed)");
                    } else if p.native {
                        source.push_str(" (native, NOT TRUSTED by you: `ferry plugin trust` to allow it)");
                    }
                    if p.overrides_bundled {
                        source.push_str(" (overrides bundled)");
                    }
                    source
                },
                p.info.sha256.chars().take(12).collect(),
            ]
        })
        .collect();
    out.table(&["NAME", "VERSION", "KIND", "MANIFEST TYPES", "SOURCE", "SHA256"], &rows);
    Ok(())
}

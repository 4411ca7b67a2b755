//! `ferry plugin ls`.

use crate::output::Output;
use crate::render;
use anyhow::Result;
use serde_json::json;

pub fn run(json: bool, out: &Output) -> Result<()> {
    let registry = render::registry()?;
    let plugins = registry.list()?;
    if json {
        let items: Vec<_> = plugins
            .iter()
            .map(|p| {
                json!({
                    "name": p.info.name,
                    "version": p.info.version,
                    "kind": p.info.kind.to_string(),
                    "manifestTypes": p.info.manifest_types,
                    "witVersion": p.info.wit_version,
                    "source": p.info.origin.source(),
                    "path": p.info.origin.to_string(),
                    "overridesBundled": p.overrides_bundled,
                    "bundled": p.info.origin.is_bundled(),
                    "native": p.native,
                    "sha256": p.info.sha256,
                    "sizeBytes": p.size_bytes,
                })
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
                    if p.native {
                        source.push_str(" (native, not sandboxed)");
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

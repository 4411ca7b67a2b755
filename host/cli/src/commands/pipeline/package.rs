//! `pipeline package`: the pipeline stack, rendered offline.

use super::{pick, render_pipeline};
use crate::cli::PipelinePackage;
use crate::context::CommandContext;
use anyhow::{Context, Result};
use serde_json::Value;

pub(super) fn package(args: PipelinePackage, cx: &CommandContext) -> Result<()> {
    let out = &cx.out;
    let ws = cx.workspace(args.app.as_deref())?;
    let registry = cx.registry()?;
    let name = pick(&ws, args.name)?;
    let (pipeline, warnings) = render_pipeline(&ws, &registry, &name, None)?;
    for w in &warnings {
        out.warning(w);
    }
    let stack = &pipeline.stack;
    let pretty = |v: &Value| serde_json::to_string_pretty(v).unwrap_or_default();
    match &args.output_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
            let template = dir.join(format!("{}.stack.json", stack.name));
            let params = dir.join(format!("{}.params.json", stack.name));
            std::fs::write(&template, pretty(&stack.template))
                .with_context(|| format!("cannot write {}", template.display()))?;
            std::fs::write(&params, pretty(&stack.configuration()))
                .with_context(|| format!("cannot write {}", params.display()))?;
            out.status("Wrote", &format!("{} and {} (stack {})", out.path(&template), out.path(&params), stack.name));
        }
        None => out.data(&pretty(&stack.template)),
    }
    Ok(())
}

//! `svc package --upload-assets`: the build a release pipeline runs. Images
//! are built and pushed, and addons uploaded, by the very functions `svc
//! deploy` uses (one typed `image.build`, environment overrides and sidecars
//! included), and the rendered stacks reference what was pushed; only the
//! deploy itself is left to the pipeline's CloudFormation actions.

use super::deploy::{self, Ctx, Shared};
use crate::cli::{DeployFlags, ImageFlags};
use crate::context::CommandContext;
use crate::render::{self, RenderedWorkload};
use anyhow::Result;
use ferry_core::Workspace;

/// Renders `names` for `env` with their images built and pushed and their
/// addons uploaded, as `svc deploy` would deploy them.
pub(super) async fn render_with_assets(
    cx: &CommandContext,
    ws: Workspace,
    env: &str,
    names: &[String],
    image: &ImageFlags,
) -> Result<Vec<RenderedWorkload>> {
    let flags = DeployFlags {
        force: false,
        diff: false,
        yes: true,
        json: false,
        wait_for_lock: false,
        allow_replacement: Vec::new(),
        ..DeployFlags::default()
    };
    let ctx = Ctx::new(cx, ws, &flags).await?;
    let env = ctx.session.require_env(&ctx.ws.app, env).await?;
    let setup = render::env_setup(&ctx.ws, &ctx.ws.app, &env.name)?;
    // A bad manifest stops the build before a (slow) image build.
    for name in names {
        deploy::render_for(&ctx, &setup, &env, name, None, false)?;
    }
    let shared = Shared::load(&ctx, &env, names).await?;
    let images = deploy::resolve_images(&ctx, &env, names, image, 1).await?;
    let setup = deploy::with_lookups(&ctx, setup, names).await?;
    let mut rendered = Vec::new();
    for name in names {
        let mut r = deploy::render_for(&ctx, &setup, &env, name, images.get(name), true)?;
        deploy::upload_addons(&ctx, &shared, name, r.addons_template.as_ref(), &mut r.stack.parameters).await?;
        rendered.push(r);
    }
    Ok(rendered)
}

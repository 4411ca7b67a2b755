//! Host steps of the domain path in deploys: an App Runner custom domain (a
//! Request-Driven Web Service's `http.alias`), the plugin's request checked
//! before the stack is touched, the association and its records after it
//! deployed (see `ferry_aws::custom_domain`); an environment's CloudFront
//! certificate in us-east-1 (`ferry:certificate` of the environment stack).

use super::deploy::Ctx;
use anyhow::Result;
use ferry_aws::custom_domain::CustomDomainRequest;
use ferry_aws::metadata::EnvRecord;
use ferry_core::Failure;

/// What a workload deploy does about App Runner custom domains: the alias
/// the new template asks for (checked) and the one the deployed stack
/// holds, undone after the deploy when the alias was dropped or changed.
pub(super) struct CustomDomainPlan {
    request: Option<CustomDomainRequest>,
    previous: Option<(CustomDomainRequest, Option<String>)>,
}

/// The App Runner custom domain a workload template asks for, once checked
/// against the app's domain and zones and the template itself (nothing is
/// touched yet: a bad request stops the deploy), and the deployed one.
pub(super) async fn checked(
    ctx: &Ctx,
    env: &EnvRecord,
    stack: &str,
    workload: &str,
    plugin: &str,
    template: &serde_json::Value,
) -> Result<CustomDomainPlan> {
    use ferry_aws::custom_domain as cd;
    let refuse = |why: String| {
        anyhow::Error::from(
            Failure::new(format!("refusing the custom domain `{workload}` asked for ({plugin}): {why}"))
                .hint("a plugin may ask only for an alias in the application's own hosted zones"),
        )
    };
    let runs_app_runner =
        template["Resources"].as_object().is_some_and(|r| r.values().any(|r| r["Type"] == "AWS::AppRunner::Service"));
    let previous = if runs_app_runner { cd::deployed(&ctx.session.cfn, stack).await? } else { None };
    let Some(request) = cd::request(template).map_err(refuse)? else {
        return Ok(CustomDomainPlan { request: None, previous });
    };
    let mut zones = Vec::new();
    if let Some(domain) = ctx.ws.domain.as_deref() {
        for zone in cd::app_zone_names(domain, &ctx.ws.app, &env.name) {
            if ferry_aws::domain::zone_id(&ctx.session.aws, &zone).await.is_ok() {
                zones.push(zone);
            }
        }
    }
    cd::check_request(&request, ctx.ws.domain.as_deref(), &zones, template).map_err(refuse)?;
    Ok(CustomDomainPlan { request: Some(request), previous })
}

/// Once the stack is deployed: undoes the alias the stack held if the new
/// template dropped or changed it, then associates the new alias with its
/// App Runner service, with its validation and alias records (nothing when
/// in place).
pub(super) async fn associate(ctx: &Ctx, stack: &str, plan: &CustomDomainPlan) -> Result<()> {
    if let Some((previous, service_arn)) = &plan.previous
        && plan.request.as_ref().is_none_or(|r| r.alias != previous.alias || r.hosted_zone != previous.hosted_zone)
    {
        ferry_aws::custom_domain::undo(&ctx.session.aws, previous, service_arn.as_deref()).await.map_err(|e| {
            Failure::new(format!("the former custom domain `{}` of {stack} could not be removed", previous.alias))
                .hint("the stack is deployed; run the deploy again to finish")
                .because(e)
        })?;
        ctx.view.emit(serde_json::json!({"event": "custom_domain_removed", "stack": stack, "alias": previous.alias}));
        ctx.view.line(format!("{stack}: custom domain {} removed", previous.alias));
    }
    let Some(request) = &plan.request else { return Ok(()) };
    let options = ctx.session.options;
    let done = ferry_aws::custom_domain::associate(
        &ctx.session.aws,
        &ctx.session.cfn,
        stack,
        request,
        options.poll,
        options.timeout,
    )
    .await
    .map_err(|e| {
        Failure::new(format!("the custom domain `{}` could not be associated with {stack}", request.alias))
            .hint("the stack is deployed; run the deploy again to finish the association")
            .because(e)
    })?;
    ctx.view.emit(serde_json::json!({
        "event": "custom_domain", "stack": stack, "alias": request.alias,
        "associated": done.associated, "dns_target": done.dns_target, "records_written": done.records_written,
    }));
    if done.associated || done.records_written > 0 {
        ctx.view.line(format!(
            "{stack}: custom domain {} → {} ({} records written)",
            request.alias, done.dns_target, done.records_written
        ));
    }
    Ok(())
}

/// The us-east-1 certificate an environment template asks for (its
/// CloudFront distribution's, `ferry:certificate`), once checked against
/// the app's domain and the template.
pub(super) fn environment_certificate(
    ctx: &Ctx,
    env: &str,
    template: &serde_json::Value,
) -> Result<Option<ferry_aws::domain::CertificateRequest>> {
    let Some(request) = ferry_aws::domain::certificate_request(template) else { return Ok(None) };
    ferry_aws::domain::check_certificate_request(&request, ctx.ws.domain.as_deref(), template).map_err(|why| {
        anyhow::Error::from(
            Failure::new(format!("refusing the certificate environment `{env}` asked for: {why}"))
                .hint("a plugin may ask only for certificates of the application's own domain"),
        )
    })?;
    Ok(Some(request))
}

/// Whether every zone the certificate is validated in exists already (an
/// environment's own zone appears with its first deploy).
pub(super) async fn certificate_zones_exist(ctx: &Ctx, request: &ferry_aws::domain::CertificateRequest) -> bool {
    let zones = std::iter::once(&request.hosted_zone).chain(request.subject_alternative_names.iter().map(|(_, z)| z));
    for zone in zones {
        if ferry_aws::domain::zone_id(&ctx.session.aws, zone).await.is_err() {
            return false;
        }
    }
    true
}

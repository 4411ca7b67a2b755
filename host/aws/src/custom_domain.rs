//! App Runner custom domains (a Request-Driven Web Service's `http.alias`)
//! without Copilot's `CustomDomainAction` Lambda: CloudFormation has no
//! resource type for the association, so the host does it after the stack
//! deploys and undoes it before the stack is deleted.
//!
//! The plugin asks through `Metadata["ferry:app-runner-custom-domain"]`
//! (`alias`, `hosted_zone`, `service_arn_output`). Template metadata is the
//! plugin's word, not the user's, so the request is honoured only when
//! [`check_request`] accepts it: the alias inside the app's domain, the zone
//! the most specific of the app's zones holding it, the ARN an output of the
//! same stack that reads an App Runner service of that stack.
//!
//! [`associate`]: `apprunner:AssociateCustomDomain` unless the alias is
//! already associated, then the CNAMEs App Runner asks for
//! (`CertificateValidationRecords`) and the alias's CNAME to `DNSTarget`,
//! TTL 60 as Copilot writes them, upserted only where they differ: a
//! redeploy with everything in place makes no mutating call.
//! [`disassociate`]: `apprunner:DisassociateCustomDomain` and those records.

use crate::AwsContext;
use crate::cfn::CloudFormationApi;
use crate::error::{AwsError, AwsErrorKind};
use serde_json::Value;
use std::time::Duration;

/// Metadata key under which a workload template asks for a custom domain.
pub const METADATA_KEY: &str = "ferry:app-runner-custom-domain";
/// TTL of the records ferry writes for a custom domain (Copilot's).
pub const RECORD_TTL: i64 = 60;
/// How long App Runner may take to list the validation records of a new
/// association (seconds in practice).
const VALIDATION_RECORDS_WAIT: Duration = Duration::from_secs(300);

/// A custom domain a workload template asks the host to associate.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomDomainRequest {
    pub alias: String,
    /// Name of the hosted zone the records go in (trailing dot optional).
    pub hosted_zone: String,
    /// Output of the stack holding the App Runner service's ARN.
    pub service_arn_output: String,
}

/// The request in `Metadata["ferry:app-runner-custom-domain"]`: `None`
/// without one, an error when it is there but malformed.
pub fn request(template: &Value) -> Result<Option<CustomDomainRequest>, String> {
    let Some(m) = template.get("Metadata").and_then(|m| m.get(METADATA_KEY)) else { return Ok(None) };
    let field = |key: &str| {
        m.get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .ok_or_else(|| format!("`Metadata[\"{METADATA_KEY}\"].{key}` must be a non-empty string"))
    };
    Ok(Some(CustomDomainRequest {
        alias: field("alias")?,
        hosted_zone: field("hosted_zone")?,
        service_arn_output: field("service_arn_output")?,
    }))
}

fn bare(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

fn within(name: &str, zone: &str) -> bool {
    let (name, zone) = (bare(name), bare(zone));
    name == zone || name.ends_with(&format!(".{zone}"))
}

/// The zones an environment's workloads may write records in, most
/// specific first: `<env>.<app>.<domain>`, `<app>.<domain>`, `<domain>`.
pub fn app_zone_names(domain: &str, app: &str, env: &str) -> [String; 3] {
    let domain = bare(domain);
    [format!("{env}.{app}.{domain}"), format!("{app}.{domain}"), domain]
}

/// Accepts a request only within what the app owns: `existing_zones` are
/// the app's zones that exist (most specific first, as [`app_zone_names`]);
/// the request's zone must be the first of them holding the alias, and the
/// alias a name below it (a CNAME cannot sit at a zone's apex); the ARN
/// output must read `ServiceArn` of an `AWS::AppRunner::Service` of the
/// same template.
pub fn check_request(
    request: &CustomDomainRequest,
    app_domain: Option<&str>,
    existing_zones: &[String],
    template: &Value,
) -> Result<(), String> {
    let Some(domain) = app_domain else {
        return Err("the application has no domain (`app init --domain`)".into());
    };
    if !within(&request.alias, domain) {
        return Err(format!("the alias `{}` is outside the application's domain `{domain}`", request.alias));
    }
    let Some(zone) = existing_zones.iter().find(|z| within(&request.alias, z)) else {
        return Err(format!("no hosted zone of the application holds `{}`", request.alias));
    };
    if bare(zone) != bare(&request.hosted_zone) {
        return Err(format!(
            "the records of `{}` belong in `{}`, the most specific of the application's zones, not `{}`",
            request.alias,
            bare(zone),
            bare(&request.hosted_zone)
        ));
    }
    if bare(&request.alias) == bare(zone) {
        return Err(format!("`{}` is the apex of its zone, where a CNAME record cannot be written", request.alias));
    }
    let output = template.pointer(&format!("/Outputs/{}/Value/Fn::GetAtt", request.service_arn_output));
    let reads_service = output.and_then(Value::as_array).is_some_and(|att| {
        att.len() == 2
            && att[1] == "ServiceArn"
            && att[0]
                .as_str()
                .and_then(|id| template.pointer(&format!("/Resources/{id}/Type")))
                .is_some_and(|t| t == "AWS::AppRunner::Service")
    });
    if !reads_service {
        return Err(format!(
            "the stack's output `{}` is not the `ServiceArn` of one of its App Runner services",
            request.service_arn_output
        ));
    }
    Ok(())
}

/// What [`associate`] did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Association {
    /// Whether `AssociateCustomDomain` was called (false: already associated).
    pub associated: bool,
    pub dns_target: String,
    /// Records created or changed.
    pub records_written: usize,
}

/// One CNAME record: name (lower case, with the trailing dot) and value.
#[derive(Debug, Clone, PartialEq)]
struct Cname {
    name: String,
    value: String,
}

fn fqdn(name: &str) -> String {
    format!("{}.", bare(name))
}

fn sdk_error<E>(
    action: &str,
    resource: &str,
    e: aws_sdk_cloudformation::error::SdkError<E, aws_smithy_runtime_api::client::orchestrator::HttpResponse>,
) -> AwsError
where
    E: aws_sdk_cloudformation::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    AwsError::from_sdk(action, Some(resource), e)
}

/// The alias's state on the service: `DNSTarget` and the validation
/// records, if the alias is associated.
async fn describe(aws: &AwsContext, service_arn: &str, alias: &str) -> Result<(String, Option<Vec<Cname>>), AwsError> {
    let client = aws.apprunner();
    let mut token = None;
    loop {
        let out = client
            .describe_custom_domains()
            .service_arn(service_arn)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| sdk_error("apprunner:DescribeCustomDomains", service_arn, e))?;
        let dns_target = out.dns_target().to_string();
        if let Some(domain) = out.custom_domains().iter().find(|d| bare(d.domain_name()) == bare(alias)) {
            let records = domain
                .certificate_validation_records()
                .iter()
                .filter(|r| r.r#type().is_none_or(|t| t.eq_ignore_ascii_case("CNAME")))
                .filter_map(|r| Some(Cname { name: fqdn(r.name()?), value: r.value()?.to_string() }))
                .collect();
            return Ok((dns_target, Some(records)));
        }
        match out.next_token() {
            Some(next) if !next.is_empty() => token = Some(next.to_string()),
            _ => return Ok((dns_target, None)),
        }
    }
}

/// The CNAME records of `zone` (lower-case names with the trailing dot).
async fn zone_cnames(aws: &AwsContext, zone: &str) -> Result<Vec<aws_sdk_route53::types::ResourceRecordSet>, AwsError> {
    use aws_sdk_route53::types::RrType;
    let route53 = aws.route53();
    let mut found = Vec::new();
    let mut start: Option<(String, RrType)> = None;
    loop {
        let mut call = route53.list_resource_record_sets().hosted_zone_id(zone);
        if let Some((name, kind)) = start.take() {
            call = call.start_record_name(name).start_record_type(kind);
        }
        let out = call.send().await.map_err(|e| sdk_error("route53:ListResourceRecordSets", zone, e))?;
        found.extend(out.resource_record_sets().iter().filter(|r| r.r#type() == &RrType::Cname).cloned());
        match (out.is_truncated(), out.next_record_name(), out.next_record_type()) {
            (true, Some(name), Some(kind)) => start = Some((name.to_string(), kind.clone())),
            _ => return Ok(found),
        }
    }
}

async fn change_records(
    aws: &AwsContext,
    zone: &str,
    changes: Vec<aws_sdk_route53::types::Change>,
) -> Result<(), AwsError> {
    use aws_sdk_route53::types::ChangeBatch;
    let invalid = |e: aws_smithy_types::error::operation::BuildError| {
        AwsError::new("route53:ChangeResourceRecordSets", Some(zone), AwsErrorKind::Other, e.to_string())
    };
    let batch = ChangeBatch::builder()
        .comment("ferry: App Runner custom domain")
        .set_changes(Some(changes))
        .build()
        .map_err(invalid)?;
    aws.route53()
        .change_resource_record_sets()
        .hosted_zone_id(zone)
        .change_batch(batch)
        .send()
        .await
        .map_err(|e| sdk_error("route53:ChangeResourceRecordSets", zone, e))?;
    Ok(())
}

fn cname_set(record: &Cname) -> Result<aws_sdk_route53::types::ResourceRecordSet, AwsError> {
    use aws_sdk_route53::types::{ResourceRecord, ResourceRecordSet, RrType};
    let invalid = |e: aws_smithy_types::error::operation::BuildError| {
        AwsError::new("route53:ChangeResourceRecordSets", Some(&record.name), AwsErrorKind::Other, e.to_string())
    };
    ResourceRecordSet::builder()
        .name(&record.name)
        .r#type(RrType::Cname)
        .ttl(RECORD_TTL)
        .resource_records(ResourceRecord::builder().value(&record.value).build().map_err(invalid)?)
        .build()
        .map_err(invalid)
}

fn service_arn_of(
    outputs: &indexmap::IndexMap<String, String>,
    request: &CustomDomainRequest,
    stack: &str,
) -> Result<String, AwsError> {
    outputs.get(&request.service_arn_output).filter(|a| !a.is_empty()).cloned().ok_or_else(|| {
        AwsError::new(
            "cloudformation:DescribeStacks",
            Some(stack),
            AwsErrorKind::NotFound,
            format!("the stack has no output `{}` with its App Runner service's ARN", request.service_arn_output),
        )
    })
}

/// After `stack` deployed: associates the alias with its App Runner service
/// (unless it already is) and writes the validation and alias CNAMEs in the
/// zone where they differ. App Runner lists the validation records a few
/// seconds after the association: polled every `poll` for up to `timeout`
/// (five minutes at most).
pub async fn associate(
    aws: &AwsContext,
    cfn: &impl CloudFormationApi,
    stack: &str,
    request: &CustomDomainRequest,
    poll: Duration,
    timeout: Duration,
) -> Result<Association, AwsError> {
    let outputs = cfn.describe_stack(stack).await?.map(|s| s.outputs).unwrap_or_default();
    let service_arn = service_arn_of(&outputs, request, stack)?;
    let zone = crate::domain::zone_id(aws, &request.hosted_zone).await?;
    let (mut dns_target, mut validation) = describe(aws, &service_arn, &request.alias).await?;
    let mut associated = false;
    if validation.is_none() {
        let out = aws
            .apprunner()
            .associate_custom_domain()
            .service_arn(&service_arn)
            .domain_name(bare(&request.alias))
            .enable_www_subdomain(false)
            .send()
            .await
            .map_err(|e| sdk_error("apprunner:AssociateCustomDomain", &service_arn, e))?;
        associated = true;
        dns_target = out.dns_target().to_string();
        let started = std::time::Instant::now();
        loop {
            let (target, records) = describe(aws, &service_arn, &request.alias).await?;
            if !target.is_empty() {
                dns_target = target;
            }
            if records.as_ref().is_some_and(|r| !r.is_empty())
                || started.elapsed() >= timeout.min(VALIDATION_RECORDS_WAIT)
            {
                validation = records;
                break;
            }
            tokio::time::sleep(poll).await;
        }
    }
    let mut wanted = validation.unwrap_or_default();
    if dns_target.is_empty() {
        return Err(AwsError::new(
            "apprunner:DescribeCustomDomains",
            Some(&service_arn),
            AwsErrorKind::Other,
            format!("App Runner gave no DNS target for `{}`", request.alias),
        ));
    }
    wanted.push(Cname { name: fqdn(&request.alias), value: dns_target.clone() });
    let present = zone_cnames(aws, &zone).await?;
    let up_to_date = |want: &Cname| {
        present.iter().any(|r| {
            fqdn(r.name()) == want.name
                && r.resource_records().len() == 1
                && bare(r.resource_records()[0].value()) == bare(&want.value)
        })
    };
    let missing: Vec<&Cname> = wanted.iter().filter(|w| !up_to_date(w)).collect();
    if !missing.is_empty() {
        use aws_sdk_route53::types::{Change, ChangeAction};
        let changes = missing
            .iter()
            .map(|record| {
                let set = cname_set(record)?;
                Change::builder().action(ChangeAction::Upsert).resource_record_set(set).build().map_err(|e| {
                    AwsError::new("route53:ChangeResourceRecordSets", Some(&zone), AwsErrorKind::Other, e.to_string())
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        change_records(aws, &zone, changes).await?;
    }
    Ok(Association { associated, dns_target, records_written: missing.len() })
}

/// The custom domain the deployed `stack` holds: its request and the
/// service's ARN (if the stack has it).
pub async fn deployed(
    cfn: &impl CloudFormationApi,
    stack: &str,
) -> Result<Option<(CustomDomainRequest, Option<String>)>, AwsError> {
    let Some(state) = cfn.describe_stack(stack).await? else { return Ok(None) };
    let template: Value = serde_json::from_str(&cfn.get_template(stack).await?).unwrap_or_default();
    let Ok(Some(request)) = request(&template) else { return Ok(None) };
    let service_arn = service_arn_of(&state.outputs, &request, stack).ok();
    Ok(Some((request, service_arn)))
}

/// Before `stack` is deleted: if its deployed template asks for a custom
/// domain, disassociates it from the service and removes the alias and
/// validation CNAMEs from the zone. Returns whether there was a custom
/// domain to undo.
pub async fn disassociate(aws: &AwsContext, cfn: &impl CloudFormationApi, stack: &str) -> Result<bool, AwsError> {
    let Some((request, service_arn)) = deployed(cfn, stack).await? else { return Ok(false) };
    undo(aws, &request, service_arn.as_deref()).await?;
    Ok(true)
}

/// Disassociates `request.alias` from the service (if it still is) and
/// removes its alias and validation CNAMEs from the zone: after a deploy
/// that dropped or changed the alias, or before the stack is deleted.
pub async fn undo(aws: &AwsContext, request: &CustomDomainRequest, service_arn: Option<&str>) -> Result<(), AwsError> {
    let mut records = Vec::new();
    if let Some(service_arn) = service_arn {
        let (dns_target, validation) = describe(aws, service_arn, &request.alias).await?;
        if let Some(validation) = validation {
            records = validation;
            aws.apprunner()
                .disassociate_custom_domain()
                .service_arn(service_arn)
                .domain_name(bare(&request.alias))
                .send()
                .await
                .map_err(|e| sdk_error("apprunner:DisassociateCustomDomain", service_arn, e))?;
        }
        if !dns_target.is_empty() {
            records.push(Cname { name: fqdn(&request.alias), value: dns_target });
        }
    }
    let Ok(zone) = crate::domain::zone_id(aws, &request.hosted_zone).await else { return Ok(()) };
    let stale: Vec<_> = zone_cnames(aws, &zone)
        .await?
        .into_iter()
        .filter(|r| {
            let values: Vec<String> = r.resource_records().iter().map(|v| bare(v.value())).collect();
            records.iter().any(|w| fqdn(r.name()) == w.name && values == [bare(&w.value)])
        })
        .collect();
    if !stale.is_empty() {
        use aws_sdk_route53::types::{Change, ChangeAction};
        let changes = stale
            .into_iter()
            .map(|set| {
                Change::builder().action(ChangeAction::Delete).resource_record_set(set).build().map_err(|e| {
                    AwsError::new("route53:ChangeResourceRecordSets", Some(&zone), AwsErrorKind::Other, e.to_string())
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        change_records(aws, &zone, changes).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn template() -> Value {
        json!({
            "Metadata": {METADATA_KEY: {"alias": "web.chat.example.com", "hosted_zone": "chat.example.com.", "service_arn_output": "ServiceArn"}},
            "Resources": {"Service": {"Type": "AWS::AppRunner::Service"}, "Topic": {"Type": "AWS::SNS::Topic"}},
            "Outputs": {"ServiceArn": {"Value": {"Fn::GetAtt": ["Service", "ServiceArn"]}},
                        "TopicArn": {"Value": {"Fn::GetAtt": ["Topic", "ServiceArn"]}}},
        })
    }

    fn zones(with_env: bool) -> Vec<String> {
        let [env, app, domain] = app_zone_names("example.com", "chat", "test");
        if with_env { vec![env, app, domain] } else { vec![app, domain] }
    }

    #[test]
    fn a_request_is_read_from_the_metadata_and_a_malformed_one_refused() {
        let r = request(&template()).unwrap().unwrap();
        assert_eq!(r.alias, "web.chat.example.com");
        assert_eq!(r.service_arn_output, "ServiceArn");
        assert_eq!(request(&json!({"Metadata": {}})), Ok(None));
        let bad = json!({"Metadata": {METADATA_KEY: {"alias": "web.chat.example.com", "hosted_zone": 3}}});
        assert!(request(&bad).unwrap_err().contains("hosted_zone"));
    }

    #[test]
    fn only_an_alias_of_the_apps_domain_in_its_most_specific_zone_is_honoured() {
        let t = template();
        let ok = request(&t).unwrap().unwrap();
        assert_eq!(check_request(&ok, Some("example.com"), &zones(true), &t), Ok(()));
        assert!(check_request(&ok, None, &zones(true), &t).unwrap_err().contains("no domain"));
        let foreign =
            CustomDomainRequest { alias: "www.victim.org".into(), hosted_zone: "victim.org.".into(), ..ok.clone() };
        assert!(check_request(&foreign, Some("example.com"), &zones(true), &t).unwrap_err().contains("outside"));
        // The domain's zone holds it too, but the app zone is more specific.
        let wide = CustomDomainRequest { hosted_zone: "example.com".into(), ..ok.clone() };
        assert!(check_request(&wide, Some("example.com"), &zones(true), &t).unwrap_err().contains("most specific"));
        // An env-zone alias goes in the env zone when it exists, else the app zone.
        let env_alias = CustomDomainRequest { alias: "web.test.chat.example.com".into(), ..ok.clone() };
        assert_eq!(check_request(&env_alias, Some("example.com"), &zones(false), &t), Ok(()));
        assert!(check_request(&env_alias, Some("example.com"), &zones(true), &t).is_err());
        let apex = CustomDomainRequest { alias: "chat.example.com".into(), ..ok.clone() };
        assert!(check_request(&apex, Some("example.com"), &zones(true), &t).unwrap_err().contains("apex"));
    }

    #[test]
    fn the_arn_output_must_read_an_app_runner_service_of_the_stack() {
        let t = template();
        let ok = request(&t).unwrap().unwrap();
        for output in ["TopicArn", "Missing"] {
            let other = CustomDomainRequest { service_arn_output: output.into(), ..ok.clone() };
            assert!(check_request(&other, Some("example.com"), &zones(true), &t).unwrap_err().contains("ServiceArn"));
        }
    }
}

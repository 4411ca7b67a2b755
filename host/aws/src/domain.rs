//! Domains and certificates without Lambda functions.
//!
//! Copilot delegates DNS, validates certificates and associates custom
//! domains with Lambda-backed custom resources. ferry uses native
//! CloudFormation where it exists and small host steps where it does not:
//!
//! - `app init --domain`: the app's roles stack gets `AppHostedZone`
//!   (`<app>.<domain>`) and `AppDomainDelegationRecordSet` (its NS records in
//!   the domain's zone), Copilot's logical IDs; the domain's zone ID is
//!   recorded in the app's SSM record (`domainHostedZoneID`), as Copilot does.
//! - CloudFront certificates (Static Site `http.alias` without
//!   `http.certificate`): a small stack `<app>-<env>-<svc>-AliasCertificate`
//!   in us-east-1 holding one DNS-validated `AWS::CertificateManager::Certificate`
//!   (CloudFormation writes the validation record itself when the
//!   certificate names the hosted zone); its ARN fills the workload
//!   template's certificate parameter. Deleting the workload deletes that
//!   stack and the validation record CloudFormation leaves behind.

use crate::AwsContext;
use crate::cfn::{Cfn, CloudFormationApi};
use crate::deploy::{DeployError, DeployEvent, DeployOptions, Deployable, Deployer};
use crate::error::{AwsError, AwsErrorKind};
use indexmap::IndexMap;
use serde_json::{Value, json};

/// Region of every certificate CloudFront uses.
pub const CLOUDFRONT_CERTIFICATE_REGION: &str = "us-east-1";

/// Logical IDs Copilot gives the app's DNS resources in its roles stack.
pub const APP_HOSTED_ZONE: &str = "AppHostedZone";
pub const APP_DELEGATION_RECORD: &str = "AppDomainDelegationRecordSet";
/// Output of the roles stack with the app zone's ID.
pub const APP_HOSTED_ZONE_OUTPUT: &str = "AppHostedZoneId";

/// Metadata key under which a workload template asks for a certificate.
pub const CERTIFICATE_METADATA_KEY: &str = "ferry:certificate";

/// Adds the app's hosted zone and its delegation in the domain's zone
/// (`root_zone_id`) to the roles template.
pub fn add_app_domain(template: &mut Value, app: &str, domain: &str, root_zone_id: &str) {
    let zone = format!("{app}.{domain}");
    let resources = &mut template["Resources"];
    resources[APP_HOSTED_ZONE] = json!({
        "Type": "AWS::Route53::HostedZone",
        "Properties": {
            "Name": zone,
            "HostedZoneConfig": {"Comment": format!("Hosted zone for copilot application {app}: {zone}")},
        },
    });
    resources[APP_DELEGATION_RECORD] = json!({
        "Type": "AWS::Route53::RecordSet",
        "Properties": {
            "HostedZoneId": root_zone_id,
            "Name": format!("{zone}."),
            "Type": "NS",
            "TTL": 900,
            "ResourceRecords": {"Fn::GetAtt": [APP_HOSTED_ZONE, "NameServers"]},
        },
    });
    template["Outputs"][APP_HOSTED_ZONE_OUTPUT] = json!({"Value": {"Ref": APP_HOSTED_ZONE}});
}

/// Route 53 zone IDs come as `/hostedzone/Z123`: the bare ID.
fn bare_zone_id(id: &str) -> String {
    id.trim_start_matches("/hostedzone/").to_string()
}

/// The ID of the public hosted zone named `name` (with or without the
/// trailing dot), or an error saying to create it.
pub async fn zone_id(aws: &AwsContext, name: &str) -> Result<String, AwsError> {
    let wanted = format!("{}.", name.trim_end_matches('.')).to_ascii_lowercase();
    let out = aws
        .route53()
        .list_hosted_zones_by_name()
        .dns_name(&wanted)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("route53:ListHostedZonesByName", Some(&wanted), e))?;
    out.hosted_zones()
        .iter()
        .find(|z| z.name().eq_ignore_ascii_case(&wanted) && !z.config().is_some_and(|c| c.private_zone()))
        .map(|z| bare_zone_id(z.id()))
        .ok_or_else(|| {
            AwsError::new(
                "route53:ListHostedZonesByName",
                Some(&wanted),
                AwsErrorKind::NotFound,
                format!(
                    "no public hosted zone `{wanted}` in this account; create it (or transfer the domain's DNS to Route 53) and try again"
                ),
            )
        })
}

/// Route 53 zone IDs of an app's domain: the domain's own zone and
/// `<app>.<domain>`.
#[derive(Debug, Clone, PartialEq)]
pub struct AppZones {
    pub domain: String,
    pub app: String,
}

/// The zones `app init --domain` recorded: the domain's zone ID from the
/// app's record (`domainHostedZoneID`), the app zone's from the roles
/// stack's `AppHostedZoneId` output. Read calls only.
pub async fn app_zones(
    cfn: &impl CloudFormationApi,
    app: &crate::metadata::AppRecord,
    domain: &str,
) -> Result<AppZones, AwsError> {
    let roles = ferry_core::naming::app_roles_stack(&app.name);
    let outputs = cfn.describe_stack(&roles).await?.map(|s| s.outputs).unwrap_or_default();
    match (outputs.get(APP_HOSTED_ZONE_OUTPUT), app.domain_hosted_zone_id.is_empty() || app.domain != domain) {
        (Some(zone), false) => Ok(AppZones { domain: app.domain_hosted_zone_id.clone(), app: zone.clone() }),
        _ => Err(AwsError::new(
            "cloudformation:DescribeStacks",
            Some(&roles),
            AwsErrorKind::NotFound,
            format!(
                "application `{}` has no hosted zone for `{domain}` (the workspace names that domain); run `ferry app init {} --domain {domain}` to create and delegate it",
                app.name, app.name
            ),
        )),
    }
}

/// A certificate a workload template asks the host for.
#[derive(Debug, Clone, PartialEq)]
pub struct CertificateRequest {
    pub region: String,
    pub domain_name: String,
    pub hosted_zone: String,
    pub parameter: String,
    /// More names of the certificate, each with the zone it is validated
    /// in (`subject_alternative_names: [{domain_name, hosted_zone}]`, an
    /// environment's CloudFront certificate); none for a single alias.
    pub subject_alternative_names: Vec<(String, String)>,
}

/// The request in `Metadata["ferry:certificate"]`, if any.
pub fn certificate_request(template: &Value) -> Option<CertificateRequest> {
    let m = template.get("Metadata")?.get(CERTIFICATE_METADATA_KEY)?;
    Some(CertificateRequest {
        region: m.get("region")?.as_str()?.to_string(),
        domain_name: m.get("domain_name")?.as_str()?.to_string(),
        hosted_zone: m.get("hosted_zone")?.as_str()?.to_string(),
        parameter: m.get("parameter")?.as_str()?.to_string(),
        subject_alternative_names: m
            .get("subject_alternative_names")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|n| Some((n.get("domain_name")?.as_str()?.to_string(), n.get("hosted_zone")?.as_str()?.to_string())))
            .collect::<Option<Vec<_>>>()?,
    })
}

/// Template metadata is written by the plugin, not approved by the user, so
/// a certificate request is honoured only within what the app already owns:
/// CloudFront's region, a name and a zone under the app's own domain, the
/// name inside the zone, and a parameter the stack declares.
pub fn check_certificate_request(
    request: &CertificateRequest,
    app_domain: Option<&str>,
    template: &Value,
) -> Result<(), String> {
    let under = |name: &str, zone: &str| {
        let (name, zone) = (name.trim_end_matches('.'), zone.trim_end_matches('.'));
        let name = name.strip_prefix("*.").unwrap_or(name);
        name == zone || name.ends_with(&format!(".{zone}"))
    };
    let Some(domain) = app_domain else {
        return Err("the application has no domain (`app init --domain`)".into());
    };
    if request.region != "us-east-1" {
        return Err(format!(
            "certificates are issued only in us-east-1 (CloudFront's region), not `{}`",
            request.region
        ));
    }
    let names = std::iter::once((&request.domain_name, &request.hosted_zone))
        .chain(request.subject_alternative_names.iter().map(|(name, zone)| (name, zone)));
    for (name, zone) in names {
        if !under(zone, domain) {
            return Err(format!("the zone `{zone}` is outside the application's domain `{domain}`"));
        }
        if !under(name, zone) {
            return Err(format!("`{name}` is not a name in the zone `{zone}`"));
        }
    }
    if template.pointer(&format!("/Parameters/{}", request.parameter)).is_none() {
        return Err(format!("the stack declares no parameter `{}` for the certificate's ARN", request.parameter));
    }
    Ok(())
}

/// Name of the certificate stack of a workload stack.
pub fn certificate_stack_name(workload_stack: &str) -> String {
    format!("{workload_stack}-AliasCertificate")
}

/// The certificate stack's template: one DNS-validated certificate whose
/// validation record CloudFormation writes in `zone_id`.
pub fn certificate_template(request: &CertificateRequest, zone_id: &str) -> Value {
    certificate_template_in(request, &|zone: &str| {
        if zone == request.hosted_zone { zone_id.to_string() } else { String::new() }
    })
}

/// The certificate stack's template, each name validated in the zone whose
/// ID `zone_ids` gives for the name's zone.
fn certificate_template_in(request: &CertificateRequest, zone_ids: &dyn Fn(&str) -> String) -> Value {
    let mut template = json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": format!("ferry: the certificate CloudFront serves {} with", request.domain_name),
        "Resources": {
            "Certificate": {
                "Type": "AWS::CertificateManager::Certificate",
                "Properties": {
                    "DomainName": request.domain_name,
                    "ValidationMethod": "DNS",
                    "DomainValidationOptions": [
                        {"DomainName": request.domain_name, "HostedZoneId": zone_ids(&request.hosted_zone)}
                    ],
                },
            },
        },
        "Outputs": {"CertificateArn": {"Value": {"Ref": "Certificate"}}},
    });
    let properties = &mut template["Resources"]["Certificate"]["Properties"];
    if !request.subject_alternative_names.is_empty() {
        properties["SubjectAlternativeNames"] =
            json!(request.subject_alternative_names.iter().map(|(name, _)| name).collect::<Vec<_>>());
        let options = properties["DomainValidationOptions"].as_array_mut().expect("validation options");
        for (name, zone) in &request.subject_alternative_names {
            options.push(json!({"DomainName": name, "HostedZoneId": zone_ids(zone)}));
        }
    }
    template
}

/// Deploys (or finds up to date) the certificate stack of `workload_stack`
/// and returns the certificate's ARN.
pub async fn ensure_certificate(
    aws: &AwsContext,
    options: DeployOptions,
    workload_stack: &str,
    request: &CertificateRequest,
    tags: &IndexMap<String, String>,
    observe: &mut (dyn FnMut(DeployEvent) + Send),
) -> Result<String, crate::deploy::DeployError> {
    let mut zones = IndexMap::new();
    for zone in std::iter::once(&request.hosted_zone).chain(request.subject_alternative_names.iter().map(|(_, z)| z)) {
        if !zones.contains_key(zone) {
            zones.insert(zone.clone(), zone_id(aws, zone).await?);
        }
    }
    let stack = Deployable {
        name: certificate_stack_name(workload_stack),
        template: certificate_template_in(request, &|zone: &str| zones.get(zone).cloned().unwrap_or_default()),
        parameters: IndexMap::new(),
        tags: tags.clone(),
        description: format!("certificate of {} for {workload_stack}", request.domain_name),
    };
    let cfn = Cfn::new(aws.cloudformation_in(&request.region));
    Deployer::new(Cfn::new(aws.cloudformation_in(&request.region)), options).deploy(&stack, observe).await?;
    let outputs = cfn.describe_stack(&stack.name).await?.map(|s| s.outputs).unwrap_or_default();
    outputs.get("CertificateArn").cloned().ok_or_else(|| {
        AwsError::new(
            "cloudformation:DescribeStacks",
            Some(&stack.name),
            AwsErrorKind::Other,
            "the certificate stack has no `CertificateArn` output; delete the stack and deploy again".to_string(),
        )
        .into()
    })
}

/// Deletes the certificate stack of `workload_stack` (if any) in `region`,
/// then the DNS validation record CloudFormation leaves in the zone.
/// Returns whether there was a stack.
pub async fn delete_certificate(
    aws: &AwsContext,
    options: DeployOptions,
    workload_stack: &str,
    region: &str,
) -> Result<bool, DeployError> {
    let cfn = Cfn::new(aws.cloudformation_in(region));
    let name = certificate_stack_name(workload_stack);
    let Some(_) = cfn.describe_stack(&name).await? else { return Ok(false) };
    let template: Value = serde_json::from_str(&cfn.get_template(&name).await?).unwrap_or_default();
    Deployer::new(cfn, options).delete(&name, &mut |_| {}).await?;
    let certificate = &template["Resources"]["Certificate"]["Properties"];
    for option in certificate["DomainValidationOptions"].as_array().into_iter().flatten() {
        let (Some(name), Some(zone)) = (option["DomainName"].as_str(), option["HostedZoneId"].as_str()) else {
            continue;
        };
        // A zone deleted with its environment took its records along.
        if !zone.is_empty() && zone_exists(aws, zone).await? {
            delete_validation_records(aws, zone, name).await?;
        }
    }
    Ok(true)
}

/// Whether the hosted zone with this ID exists.
async fn zone_exists(aws: &AwsContext, zone: &str) -> Result<bool, AwsError> {
    match aws.route53().get_hosted_zone().id(zone).send().await {
        Ok(_) => Ok(true),
        Err(e) if e.as_service_error().is_some_and(|e| e.is_no_such_hosted_zone()) => Ok(false),
        Err(e) => Err(AwsError::from_sdk("route53:GetHostedZone", Some(zone), e)),
    }
}

/// Before a stack with DNS-validated certificates is deleted: CloudFormation
/// deletes a certificate but leaves the validation CNAMEs it wrote, and a
/// zone holding records cannot be deleted. Removes, for every
/// `AWS::CertificateManager::Certificate` of the deployed template, the
/// validation records of each name in the zone its `DomainValidationOptions`
/// names (a zone of the same stack, a parameter, or an ID), then every
/// validation record left in the stack's own hosted zones (those of
/// workload certificates validated there, such as an NLB's). The stack is
/// going, so its certificates are no longer renewed. Returns how many
/// records were removed.
pub async fn delete_stack_validation_records(aws: &AwsContext, cfn: &Cfn, stack: &str) -> Result<usize, AwsError> {
    let Some(state) = cfn.describe_stack(stack).await? else { return Ok(0) };
    let template: Value = serde_json::from_str(&cfn.get_template(stack).await?).unwrap_or_default();
    let resources = cfn.stack_resources(stack).await?;
    let physical = |id: &str| {
        resources.iter().find(|r| r.logical_id == id && !r.physical_id.is_empty()).map(|r| r.physical_id.clone())
    };
    let resolve = |zone: &Value| match zone {
        Value::String(id) => Some(id.clone()),
        Value::Object(o) => {
            let name = o.get("Ref")?.as_str()?;
            state.parameters.get(name).cloned().or_else(|| physical(name))
        }
        _ => None,
    };
    let mut removed = 0;
    let certificates = template["Resources"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, r)| r["Type"] == "AWS::CertificateManager::Certificate");
    for (_, certificate) in certificates {
        for option in certificate["Properties"]["DomainValidationOptions"].as_array().into_iter().flatten() {
            let (Some(name), Some(zone)) = (option["DomainName"].as_str(), resolve(&option["HostedZoneId"])) else {
                continue;
            };
            if !zone.is_empty() {
                removed += delete_validation_records(aws, &bare_zone_id(&zone), name).await?;
            }
        }
    }
    for zone in resources.iter().filter(|r| r.resource_type == "AWS::Route53::HostedZone" && !r.physical_id.is_empty())
    {
        removed += delete_records_where(aws, &bare_zone_id(&zone.physical_id), |_| true).await?;
    }
    Ok(removed)
}

/// Removes ACM's DNS validation CNAMEs for `domain` from `zone`
/// (`_<token>.<domain>.` → `<token>.acm-validations.aws.`).
pub async fn delete_validation_records(aws: &AwsContext, zone: &str, domain: &str) -> Result<usize, AwsError> {
    let base = format!("{}.", domain.trim_start_matches("*.").trim_end_matches('.')).to_ascii_lowercase();
    delete_records_where(aws, zone, |name| name.split_once('.').is_some_and(|(_, rest)| rest == base)).await
}

/// Removes the ACM validation CNAMEs of `zone` whose (lower-case) name
/// passes `keep_name`.
async fn delete_records_where(
    aws: &AwsContext,
    zone: &str,
    keep_name: impl Fn(&str) -> bool,
) -> Result<usize, AwsError> {
    use aws_sdk_route53::types::{Change, ChangeAction, ChangeBatch, RrType};
    let route53 = aws.route53();
    let listed = route53
        .list_resource_record_sets()
        .hosted_zone_id(zone)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("route53:ListResourceRecordSets", Some(zone), e))?;
    let stale: Vec<_> = listed
        .resource_record_sets()
        .iter()
        .filter(|r| {
            let name = r.name().to_ascii_lowercase();
            r.r#type() == &RrType::Cname
                && name.starts_with('_')
                && keep_name(&name)
                && r.resource_records().iter().any(|v| v.value().contains("acm-validations.aws"))
        })
        .cloned()
        .collect();
    if stale.is_empty() {
        return Ok(0);
    }
    let changes = stale
        .iter()
        .map(|r| {
            // A DELETE must repeat the record; Route 53 always lists its TTL
            // (CloudFormation writes ACM's validation records with 300).
            let mut record = r.clone();
            if record.ttl().is_none() {
                record.ttl = Some(300);
            }
            Change::builder().action(ChangeAction::Delete).resource_record_set(record).build()
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            AwsError::new("route53:ChangeResourceRecordSets", Some(zone), AwsErrorKind::Other, e.to_string())
        })?;
    let batch = ChangeBatch::builder().set_changes(Some(changes)).build().map_err(|e| {
        AwsError::new("route53:ChangeResourceRecordSets", Some(zone), AwsErrorKind::Other, e.to_string())
    })?;
    route53
        .change_resource_record_sets()
        .hosted_zone_id(zone)
        .change_batch(batch)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("route53:ChangeResourceRecordSets", Some(zone), e))?;
    Ok(stale.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_app_zone_is_delegated_from_the_domain_zone_with_copilots_ids() {
        let mut t = json!({"Resources": {"AdministrationRole": {}}, "Outputs": {}});
        add_app_domain(&mut t, "chat", "example.com", "Z0ROOT");
        assert_eq!(t["Resources"][APP_HOSTED_ZONE]["Properties"]["Name"], "chat.example.com");
        let ns = &t["Resources"][APP_DELEGATION_RECORD]["Properties"];
        assert_eq!(ns["HostedZoneId"], "Z0ROOT");
        assert_eq!(ns["Type"], "NS");
        assert_eq!(ns["ResourceRecords"], json!({"Fn::GetAtt": ["AppHostedZone", "NameServers"]}));
        assert!(t["Resources"].get("AdministrationRole").is_some());
    }

    #[test]
    fn a_certificate_request_is_read_from_the_metadata() {
        let t = json!({"Metadata": {"ferry:certificate": {
            "region": "us-east-1", "domain_name": "www.chat.example.com",
            "hosted_zone": "chat.example.com.", "parameter": "AliasCertificateArn"}}});
        let r = certificate_request(&t).unwrap();
        assert_eq!(r.domain_name, "www.chat.example.com");
        let c = certificate_template(&r, "Z1");
        let props = &c["Resources"]["Certificate"]["Properties"];
        assert_eq!(props["ValidationMethod"], "DNS");
        assert_eq!(props["DomainValidationOptions"][0]["HostedZoneId"], "Z1");
        assert!(certificate_request(&json!({"Metadata": {}})).is_none());
        assert_eq!(bare_zone_id("/hostedzone/Z9"), "Z9");
    }
}

#[cfg(test)]
mod certificate_request_tests {
    use super::*;

    fn request(domain_name: &str, zone: &str, region: &str) -> CertificateRequest {
        CertificateRequest {
            region: region.into(),
            domain_name: domain_name.into(),
            hosted_zone: zone.into(),
            parameter: "AliasCertificateArn".into(),
            subject_alternative_names: Vec::new(),
        }
    }

    #[test]
    fn every_name_of_an_environments_cdn_certificate_is_checked_and_validated_in_its_zone() {
        let template = json!({"Parameters": {"CDNCertificateArn": {"Type": "String"}}});
        let t = json!({"Metadata": {"ferry:certificate": {
            "region": "us-east-1", "domain_name": "test.chat.example.com", "hosted_zone": "test.chat.example.com.",
            "parameter": "CDNCertificateArn", "subject_alternative_names": [
                {"domain_name": "*.test.chat.example.com", "hosted_zone": "test.chat.example.com."},
                {"domain_name": "api.chat.example.com", "hosted_zone": "chat.example.com."}]}}});
        let mut r = certificate_request(&t).unwrap();
        assert_eq!(check_certificate_request(&r, Some("example.com"), &template), Ok(()));
        let ids = |zone: &str| if zone == "chat.example.com." { "ZAPP".to_string() } else { "ZENV".to_string() };
        let c = certificate_template_in(&r, &ids);
        let props = &c["Resources"]["Certificate"]["Properties"];
        assert_eq!(props["SubjectAlternativeNames"], json!(["*.test.chat.example.com", "api.chat.example.com"]));
        let zones: Vec<&str> = props["DomainValidationOptions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["HostedZoneId"].as_str().unwrap())
            .collect();
        assert_eq!(zones, ["ZENV", "ZENV", "ZAPP"]);
        r.subject_alternative_names.push(("www.victim.org".into(), "victim.org.".into()));
        assert!(check_certificate_request(&r, Some("example.com"), &template).unwrap_err().contains("outside"));
        r.subject_alternative_names.pop();
        r.subject_alternative_names.push(("www.victim.org".into(), "chat.example.com.".into()));
        assert!(check_certificate_request(&r, Some("example.com"), &template).unwrap_err().contains("not a name"));
    }

    #[test]
    fn only_names_and_zones_of_the_apps_domain_in_us_east_1_are_honoured() {
        let template = json!({"Parameters": {"AliasCertificateArn": {"Type": "String"}}});
        let ok = request("www.chat.example.com", "chat.example.com.", "us-east-1");
        assert_eq!(check_certificate_request(&ok, Some("example.com"), &template), Ok(()));
        let wildcard = request("*.chat.example.com", "chat.example.com.", "us-east-1");
        assert_eq!(check_certificate_request(&wildcard, Some("example.com"), &template), Ok(()));
        let foreign_zone = request("www.victim.org", "victim.org.", "us-east-1");
        assert!(
            check_certificate_request(&foreign_zone, Some("example.com"), &template).unwrap_err().contains("outside")
        );
        let outside_zone = request("www.victim.org", "chat.example.com.", "us-east-1");
        assert!(check_certificate_request(&outside_zone, Some("example.com"), &template).is_err());
        let region = request("www.chat.example.com", "chat.example.com.", "eu-west-1");
        assert!(check_certificate_request(&region, Some("example.com"), &template).is_err());
        assert!(check_certificate_request(&ok, None, &template).is_err());
        assert!(check_certificate_request(&ok, Some("example.com"), &json!({})).is_err());
    }
}

//! The bundled "Static Site" plugin: a private S3 bucket served through a
//! CloudFront distribution (origin access control), with an optional HTTPS
//! alias (`http.alias`, wildcards allowed).
//!
//! CloudFront takes certificates from us-east-1 only. With `http.certificate`
//! the distribution uses it (the alias may then be any domain: its DNS is the
//! user's). Without one, the alias must be under the application's domain
//! and ferry issues the certificate: the template asks for it in its
//! metadata ([`CERTIFICATE_METADATA_KEY`]) and takes its ARN through the
//! [`CERTIFICATE_PARAMETER`] parameter, which the host fills after deploying
//! a small us-east-1 stack with a DNS-validated
//! `AWS::CertificateManager::Certificate`.
//!
//! There is no ECS task. The plugin cannot read the workspace (sandbox), so
//! the `files` section becomes a declared `s3-upload` host step (plugin ABI
//! 0.3) naming the template's bucket by logical ID, for the host to check
//! and execute.

pub mod manifest;

use ferry_plugin_sdk::cfn::{self, Parameter, Resource, Template};
use ferry_plugin_sdk::diag::pointer;
use ferry_plugin_sdk::dns;
use ferry_plugin_sdk::{
    Diagnostic, HostStep, Plugin, PluginInfo, RenderContext, RenderError, Rendered, S3Upload, UploadRule, Value, json,
};
use indexmap::IndexMap;
use manifest::{FileUpload, Manifest, patterns};

/// The manifest `type:` this plugin renders.
pub const MANIFEST_TYPE: &str = "Static Site";

/// Commented manifest written by `svc init`.
pub const MANIFEST_TEMPLATE: &str = include_str!("template.yml");

/// CloudFront's managed "CachingOptimized" cache policy.
pub const CACHING_OPTIMIZED: &str = "658327ea-f89d-4fab-a63d-7e88639e58f6";

/// The hosted zone ID of every CloudFront distribution (for alias records).
pub const CLOUDFRONT_HOSTED_ZONE_ID: &str = "Z2FDTNDATAQYW2";

/// Logical IDs the upload step names: the host resolves them from the stack.
pub const BUCKET_ID: &str = "Bucket";
pub const DISTRIBUTION_ID: &str = "CloudFrontDistribution";

/// Metadata key of the certificate request the host carries out
/// (`{region, domain_name, hosted_zone, parameter}`).
pub const CERTIFICATE_METADATA_KEY: &str = "ferry:certificate";

/// Parameter taking the ARN of the certificate ferry issued for the alias.
pub const CERTIFICATE_PARAMETER: &str = "AliasCertificateArn";

pub struct StaticSite;

impl Plugin for StaticSite {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "static-site".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Static Site: files in a private S3 bucket served by a CloudFront distribution".into(),
            manifest_types: vec![MANIFEST_TYPE.into()],
            manifest_schema: ferry_plugin_sdk::manifest::schema_from_json(include_str!("../schema.json")),
            manifest_template: MANIFEST_TEMPLATE.into(),
        }
    }

    /// Checks what does not depend on the environment; the alias is checked
    /// against the application's domain at render time.
    fn validate(manifest: &Value) -> Vec<Diagnostic> {
        ferry_plugin_sdk::manifest::validate_with(manifest, |m: &Manifest| check(m, None))
    }

    fn declared_host_steps() -> Vec<&'static str> {
        vec![ferry_plugin_sdk::host_steps::S3_UPLOAD]
    }

    /// The `files` section, uploaded by the host after each deploy.
    fn host_steps(manifest: &Value, _context: &RenderContext) -> Vec<HostStep> {
        match ferry_plugin_sdk::parse_manifest::<Manifest>(manifest) {
            Ok(m) => vec![HostStep::S3Upload(upload_plan(&m))],
            Err(_) => Vec::new(),
        }
    }

    fn render(manifest: &Value, context: &RenderContext) -> Result<Rendered, RenderError> {
        ferry_plugin_sdk::manifest::render_with(
            manifest,
            |m: &Manifest| check(m, Some(context)),
            |m| render(m, context),
        )
    }
}

#[cfg(target_arch = "wasm32")]
ferry_plugin_sdk::export_plugin!(StaticSite, service);

/// Every problem with the manifest; with a context, also whether the alias
/// fits the application's domain.
pub fn check(m: &Manifest, context: Option<&RenderContext>) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    if m.kind != MANIFEST_TYPE {
        out.push(
            Diagnostic::error("/type", format!("this plugin renders `{MANIFEST_TYPE}`, not `{}`", m.kind))
                .with_hint(format!("set `type: {MANIFEST_TYPE}`")),
        );
    }
    if let Some(http) = &m.http {
        check_http(http, context, &mut out);
    }
    for (i, file) in m.files.iter().flatten().enumerate() {
        check_file(file, i, &mut out);
    }
    out
}

fn check_http(http: &manifest::Http, context: Option<&RenderContext>, out: &mut Vec<Diagnostic>) {
    if let Some(cert) = &http.certificate {
        if http.alias.is_none() {
            out.push(
                Diagnostic::error("/http/certificate", "`http.certificate` is only used with `http.alias`")
                    .with_hint("add the domain the certificate covers as `http.alias`, or remove the certificate"),
            );
        }
        check_certificate(cert, out);
    }
    let Some(alias) = &http.alias else { return };
    if !is_domain_name_or_wildcard(alias) {
        out.push(
            Diagnostic::error("/http/alias", format!("`{alias}` is not a domain name"))
                .with_hint("use a name such as `www.example.com` or `*.example.com`"),
        );
        return;
    }
    let Some(ctx) = context else { return };
    let imported = http.certificate.is_some();
    let Some(domain) = &ctx.app_domain else {
        // With its own certificate, an alias needs no domain of ferry's:
        // the user points their DNS at the distribution.
        if !imported {
            out.push(
                Diagnostic::error("/http/alias", format!("application `{}` has no domain for the alias", ctx.app))
                    .with_hint("run `ferry app init --domain <domain>` so ferry can issue the certificate and create the alias record, or set `http.certificate` to a us-east-1 certificate covering the alias"),
            );
        }
        return;
    };
    if !dns::is_within(alias, domain) {
        if !imported {
            out.push(
                Diagnostic::error(
                    "/http/alias",
                    format!("alias `{alias}` is not under the application's domain `{domain}`, and there is no `http.certificate` for it"),
                )
                .with_hint(format!("use `{domain}` or a subdomain such as `{}.{domain}`, or set `http.certificate` to a us-east-1 certificate covering `{alias}`", ctx.name)),
            );
        }
        return;
    }
    if !ctx.environment.dns_delegated {
        out.push(
            Diagnostic::error(
                "/http/alias",
                format!("the domain `{domain}` is not delegated to environment `{}`", ctx.env),
            )
            .with_hint("redeploy the environment so it creates its hosted zone"),
        );
    }
}

/// CloudFront only takes ACM certificates from us-east-1.
fn check_certificate(cert: &str, out: &mut Vec<Diagnostic>) {
    let parts: Vec<&str> = cert.splitn(6, ':').collect();
    let valid = parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "acm"
        && parts[5].starts_with("certificate/");
    if !valid {
        out.push(
            Diagnostic::error("/http/certificate", format!("`{cert}` is not an ACM certificate ARN"))
                .with_hint("use `arn:aws:acm:us-east-1:<account>:certificate/<id>`"),
        );
    } else if parts[3] != "us-east-1" {
        out.push(
            Diagnostic::error(
                "/http/certificate",
                format!("the certificate is in `{}`, but CloudFront only uses certificates in `us-east-1`", parts[3]),
            )
            .with_hint("request or import the certificate in ACM in us-east-1"),
        );
    }
}

fn check_file(file: &FileUpload, i: usize, out: &mut Vec<Diagnostic>) {
    let at = |field: &str| pointer(["files", &i.to_string(), field]);
    match file.source.as_deref().map(str::trim) {
        None => out.push(
            Diagnostic::error(pointer(["files", &i.to_string()]), "missing required field `source`")
                .with_hint("set `source` to a file or directory relative to the workspace root"),
        ),
        Some("") => out.push(
            Diagnostic::error(at("source"), "`source` is empty")
                .with_hint("set it to a file or directory relative to the workspace root, e.g. `dist`"),
        ),
        Some(source) => {
            if source.starts_with('/') || source.chars().nth(1) == Some(':') {
                out.push(
                    Diagnostic::error(
                        at("source"),
                        format!("`{source}` is absolute; sources are relative to the workspace root"),
                    )
                    .with_hint("write the path relative to the directory holding `copilot/`"),
                );
            } else if escapes(source) {
                out.push(
                    Diagnostic::error(at("source"), format!("`{source}` leaves the workspace"))
                        .with_hint("only files inside the workspace can be uploaded"),
                );
            }
        }
    }
    if let Some(dest) = &file.destination
        && escapes(dest)
    {
        out.push(
            Diagnostic::error(at("destination"), format!("`{dest}` uses `..`; a destination is a path in the bucket"))
                .with_hint("use a path such as `assets`"),
        );
    }
    for (field, value) in [("exclude", &file.exclude), ("reinclude", &file.reinclude)] {
        for (j, pattern) in patterns(value).iter().enumerate() {
            let ptr = match value {
                Some(manifest::StringOrList::List(_)) => pointer(["files", &i.to_string(), field, &j.to_string()]),
                _ => at(field),
            };
            if let Err(why) = check_pattern(pattern) {
                out.push(Diagnostic::error(ptr, format!("`{pattern}` is not a valid pattern: {why}")).with_hint(
                    "patterns use `*` (anything), `?` (one character), `[seq]` and `[!seq]` (one character in or not in seq)",
                ));
            }
        }
    }
    if file.reinclude.is_some() && file.exclude.is_none() {
        out.push(
            Diagnostic::warning(at("reinclude"), "`reinclude` has no effect without `exclude`")
                .with_hint("add `exclude` patterns, or remove `reinclude`"),
        );
    }
}

/// Whether a relative path climbs out of its root with `..`.
fn escapes(path: &str) -> bool {
    let mut depth: i32 = 0;
    for part in path.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => {
                depth -= 1;
                if depth < 0 {
                    return true;
                }
            }
            _ => depth += 1,
        }
    }
    false
}

/// Copilot's pattern syntax: `*`, `?`, `[seq]`, `[!seq]`.
fn check_pattern(pattern: &str) -> Result<(), String> {
    if pattern.is_empty() {
        return Err("it is empty".into());
    }
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '[' {
            if chars.peek() == Some(&'!') {
                chars.next();
            }
            let mut empty = true;
            loop {
                match chars.next() {
                    None => return Err("`[` is never closed".into()),
                    Some(']') if !empty => break,
                    Some(_) => empty = false,
                }
            }
        }
    }
    Ok(())
}

/// The upload step: the `files` entries with defaults filled in, to the
/// template's own bucket and distribution (by logical ID).
pub fn upload_plan(m: &Manifest) -> S3Upload {
    let files = m
        .files
        .iter()
        .flatten()
        .map(|f| UploadRule {
            source: f.source.as_deref().unwrap_or_default().trim().to_string(),
            destination: normalize_destination(f.destination.as_deref()),
            recursive: f.recursive.unwrap_or(true),
            exclude: patterns(&f.exclude),
            reinclude: patterns(&f.reinclude),
        })
        .collect();
    S3Upload { bucket: BUCKET_ID.into(), distribution: Some(DISTRIBUTION_ID.into()), files }
}

/// `/`-rooted key prefix: `assets`, `./assets/` and `/assets` all become `/assets`.
fn normalize_destination(dest: Option<&str>) -> String {
    let parts: Vec<&str> = dest.unwrap_or("/").split(['/', '\\']).filter(|p| !p.is_empty() && *p != ".").collect();
    format!("/{}", parts.join("/"))
}

fn render(m: &Manifest, ctx: &RenderContext) -> Rendered {
    let mut t = Template::new();
    t.description = Some(format!("CloudFormation template for the {MANIFEST_TYPE} `{}`, rendered by ferry.", m.name));
    let alias = m.http.as_ref().and_then(|h| h.alias.clone());
    let certificate = m.http.as_ref().and_then(|h| h.certificate.clone());
    if let Some(alias) = &alias
        && certificate.is_none()
    {
        t.parameter(
            CERTIFICATE_PARAMETER,
            Parameter::string().description("ARN of the us-east-1 certificate ferry issued for the alias"),
        );
        t.metadata.insert(
            CERTIFICATE_METADATA_KEY.into(),
            json!({
                "region": "us-east-1",
                "domain_name": alias,
                "hosted_zone": alias_zone(alias, ctx),
                "parameter": CERTIFICATE_PARAMETER,
            }),
        );
    }

    t.resource(
        "Bucket",
        Resource::new("AWS::S3::Bucket")
            .deletion_policy("Retain")
            .prop("VersioningConfiguration", json!({"Status": "Enabled"}))
            .prop(
                "BucketEncryption",
                json!({"ServerSideEncryptionConfiguration": [
                    {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                ]}),
            )
            .prop(
                "PublicAccessBlockConfiguration",
                json!({
                    "BlockPublicAcls": true,
                    "BlockPublicPolicy": true,
                    "IgnorePublicAcls": true,
                    "RestrictPublicBuckets": true,
                }),
            )
            .prop("OwnershipControls", json!({"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}))
            .prop(
                "Tags",
                json!([
                    cfn::tag("copilot-application", cfn::ref_("AppName")),
                    cfn::tag("copilot-environment", cfn::ref_("EnvName")),
                    cfn::tag("copilot-service", cfn::ref_("WorkloadName")),
                ]),
            )
            .describe("An S3 bucket holding the site's files"),
    );
    t.resource(
        "OriginAccessControl",
        Resource::new("AWS::CloudFront::OriginAccessControl")
            .prop(
                "OriginAccessControlConfig",
                json!({
                    "Name": cfn::sub("${AppName}-${EnvName}-${WorkloadName}"),
                    "Description": cfn::sub("Lets CloudFront read the ${WorkloadName} site's bucket"),
                    "OriginAccessControlOriginType": "s3",
                    "SigningBehavior": "always",
                    "SigningProtocol": "sigv4",
                }),
            )
            .describe("An origin access control letting CloudFront sign requests to the bucket"),
    );

    let mut config = serde_json::Map::new();
    config.insert("Enabled".into(), json!(true));
    config.insert("Comment".into(), cfn::sub("${AppName}-${EnvName}-${WorkloadName}"));
    config.insert("DefaultRootObject".into(), json!("index.html"));
    config.insert("HttpVersion".into(), json!("http2and3"));
    config.insert("IPV6Enabled".into(), json!(true));
    config.insert("PriceClass".into(), json!("PriceClass_100"));
    config.insert(
        "Origins".into(),
        json!([{
            "Id": "S3Origin",
            "DomainName": cfn::get_att("Bucket", "RegionalDomainName"),
            "S3OriginConfig": {"OriginAccessIdentity": ""},
            "OriginAccessControlId": cfn::get_att("OriginAccessControl", "Id"),
        }]),
    );
    config.insert(
        "DefaultCacheBehavior".into(),
        json!({
            "TargetOriginId": "S3Origin",
            "ViewerProtocolPolicy": "redirect-to-https",
            "CachePolicyId": CACHING_OPTIMIZED,
            "AllowedMethods": ["GET", "HEAD"],
            "CachedMethods": ["GET", "HEAD"],
            "Compress": true,
        }),
    );
    match (&alias, &certificate) {
        (Some(alias), cert) => {
            let arn = match cert {
                Some(cert) => json!(cert),
                None => cfn::ref_(CERTIFICATE_PARAMETER),
            };
            config.insert("Aliases".into(), json!([alias]));
            config.insert(
                "ViewerCertificate".into(),
                json!({"AcmCertificateArn": arn, "SslSupportMethod": "sni-only", "MinimumProtocolVersion": "TLSv1.2_2021"}),
            );
        }
        _ => {
            config.insert("ViewerCertificate".into(), json!({"CloudFrontDefaultCertificate": true}));
        }
    }
    t.resource(
        "CloudFrontDistribution",
        Resource::new("AWS::CloudFront::Distribution")
            .prop("DistributionConfig", Value::Object(config))
            .describe("A CloudFront distribution serving the site over HTTPS"),
    );
    t.resource(
        "BucketPolicy",
        Resource::new("AWS::S3::BucketPolicy")
            .prop("Bucket", cfn::ref_("Bucket"))
            .prop(
                "PolicyDocument",
                cfn::policy_document(vec![
                    json!({
                        "Sid": "AllowCloudFrontServicePrincipalReadOnly",
                        "Effect": "Allow",
                        "Principal": {"Service": "cloudfront.amazonaws.com"},
                        "Action": "s3:GetObject",
                        "Resource": cfn::sub("${Bucket.Arn}/*"),
                        "Condition": {"StringEquals": {
                            "AWS:SourceArn": cfn::sub("arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${CloudFrontDistribution}"),
                        }},
                    }),
                    json!({
                        "Sid": "ForceHTTPS",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": [cfn::get_att("Bucket", "Arn"), cfn::sub("${Bucket.Arn}/*")],
                        "Condition": {"Bool": {"aws:SecureTransport": false}},
                    }),
                ]),
            )
            .describe("A bucket policy letting only the CloudFront distribution read the files"),
    );

    if let Some(alias) = &alias
        && let Some(zone) = alias_zone(alias, ctx)
        && dns::is_within(alias, ctx.app_domain.as_deref().unwrap_or_default())
    {
        for (id, kind) in [("AliasRecord", "A"), ("AliasRecordIPv6", "AAAA")] {
            t.resource(
                id,
                Resource::new("AWS::Route53::RecordSet")
                    .prop("HostedZoneName", zone.as_str())
                    .prop("Name", alias.as_str())
                    .prop("Type", kind)
                    .prop(
                        "AliasTarget",
                        json!({
                            "DNSName": cfn::get_att("CloudFrontDistribution", "DomainName"),
                            "HostedZoneId": CLOUDFRONT_HOSTED_ZONE_ID,
                        }),
                    )
                    .describe(&format!("An {kind} record pointing {alias} at the CloudFront distribution")),
            );
        }
    }

    t.output("BucketName", cfn::ref_("Bucket"), None);
    t.output("DistributionId", cfn::ref_("CloudFrontDistribution"), None);
    t.output("DistributionDomainName", cfn::get_att("CloudFrontDistribution", "DomainName"), None);
    let host = match &alias {
        Some(a) if !a.starts_with("*.") => json!(a),
        _ => cfn::get_att("CloudFrontDistribution", "DomainName"),
    };
    t.output("URL", cfn::join("", json!(["https://", host])), None);
    let mut parameters = IndexMap::new();
    if t.metadata.contains_key(CERTIFICATE_METADATA_KEY) {
        // Empty until the host has issued the certificate (`ferry:certificate`).
        parameters.insert(CERTIFICATE_PARAMETER.to_string(), json!(""));
    }
    Rendered { template: t, parameters }
}

/// The hosted zone (by name) the alias records go in: the most specific of
/// the environment's, the application's and the domain's zones.
fn alias_zone(name: &str, ctx: &RenderContext) -> Option<String> {
    let domain = ctx.app_domain.as_ref()?;
    if !ctx.environment.dns_delegated {
        return None;
    }
    let env_zone = format!("{}.{}.{domain}", ctx.env, ctx.app);
    let app_zone = format!("{}.{domain}", ctx.app);
    let zone = if dns::is_within(name, &env_zone) {
        env_zone
    } else if dns::is_within(name, &app_zone) {
        app_zone
    } else {
        domain.clone()
    };
    Some(format!("{zone}."))
}

/// A domain name, or a wildcard one (`*.example.com`), which CloudFront serves.
fn is_domain_name_or_wildcard(name: &str) -> bool {
    dns::is_domain_name(name.strip_prefix("*.").unwrap_or(name))
}

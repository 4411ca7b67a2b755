//! Renders every fixture manifest natively (no wasm) and checks the
//! templates: snapshots, one cfn-lint pass over all of them, and the
//! behaviour each fixture exists for.

use ferry_plugin_sdk::{Plugin, RenderContext, RenderError, Rendered, Severity, Value, json};
use ferry_plugin_static_site::{CACHING_OPTIMIZED, StaticSite};
use ferry_test_support::{load_yaml as load, plugin, stem};
use std::path::{Path, PathBuf};

fn fixtures(dir: &str) -> Vec<PathBuf> {
    plugin::fixtures(env!("CARGO_MANIFEST_DIR"), dir)
}

/// The environment each fixture renders against; the fixture's name says why.
fn context_for(fixture: &str, manifest: &Value) -> RenderContext {
    let mut ctx = RenderContext {
        app: "chat".into(),
        env: "test".into(),
        name: manifest["name"].as_str().unwrap_or_default().into(),
        ..Default::default()
    };
    match fixture {
        "alias-no-domain" | "alias-no-app-domain" => {}
        "alias-not-delegated" => ctx.app_domain = Some("example.com".into()),
        _ => {
            ctx.app_domain = Some("example.com".into());
            ctx.environment.dns_delegated = true;
            ctx.environment.https_listener = true;
        }
    }
    ctx
}

fn render(path: &Path) -> Result<Rendered, RenderError> {
    let manifest = load(path);
    let ctx = context_for(&stem(path), &manifest);
    StaticSite::render(&manifest, &ctx)
}

fn rendered(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/manifests/{name}.yml"));
    match render(&path) {
        Ok(r) => json!({"template": r.template.to_json(), "parameters": r.parameters}),
        Err(e) => panic!("{name}.yml did not render: {e:?}"),
    }
}

/// The one host step a fixture's render asks for, as JSON.
fn upload_step(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/manifests/{name}.yml"));
    let manifest = load(&path);
    let steps = StaticSite::host_steps(&manifest, &context_for(name, &manifest));
    assert_eq!(steps.len(), 1, "{steps:?}");
    serde_json::to_value(&steps[0]).unwrap()
}

fn diagnostics(name: &str) -> Vec<ferry_plugin_sdk::Diagnostic> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/invalid/{name}.yml"));
    match render(&path) {
        Err(RenderError::Invalid(d)) => d,
        other => panic!("invalid/{name}.yml: expected diagnostics, got {other:?}"),
    }
}

fn init_template() -> Value {
    let filled = StaticSite::info().manifest_template.replace("{{name}}", "site");
    yaml_serde::from_str(&filled).unwrap_or_else(|e| panic!("template is not YAML: {e}"))
}

#[test]
fn valid_manifests_render_snapshot_and_lint_clean() {
    let files = fixtures("manifests");
    assert!(files.len() >= 6, "expected at least 6 fixtures, found {}", files.len());
    let mut templates = Vec::new();
    let mut all: Vec<(String, Rendered)> = files
        .iter()
        .map(|path| {
            let name = stem(path);
            match render(path) {
                Ok(r) => (name, r),
                Err(e) => panic!("{name}.yml did not render: {e:?}"),
            }
        })
        .collect();
    let ctx = context_for("init-template", &json!({"name": "site"}));
    let init = StaticSite::render(&init_template(), &ctx).expect("the init template renders");
    all.push(("init-template".into(), init));
    for (name, rendered) in all {
        insta::assert_json_snapshot!(name.clone(), plugin::checked_snapshot(&name, &rendered));
        templates.push((name, plugin::as_host_would(rendered.template.to_json())));
    }
    plugin::lint_all(&templates);
}

#[test]
fn invalid_manifests_are_diagnosed() {
    let files = fixtures("invalid");
    assert!(!files.is_empty());
    for path in &files {
        let name = stem(path);
        let shown = plugin::checked_diagnostics(&name, render(path));
        insta::assert_json_snapshot!(format!("invalid-{name}"), shown);
    }
}

#[test]
fn invalid_fixtures_point_at_the_field() {
    let first = |name: &str| {
        let d = diagnostics(name);
        let e = d.iter().find(|d| d.severity == Severity::Error).cloned().unwrap();
        (e.path, e.message)
    };
    let cases = [
        (
            "alias-outside-domain",
            "/http/alias",
            "not under the application's domain `example.com`, and there is no `http.certificate`",
        ),
        ("alias-no-domain", "/http/alias", "has no domain"),
        ("alias-not-delegated", "/http/alias", "not delegated"),
        ("alias-not-a-domain", "/http/alias", "is not a domain name"),
        ("alias-list", "/http/alias", "wrong type"),
        ("certificate-wrong-region", "/http/certificate", "only uses certificates in `us-east-1`"),
        ("certificate-not-arn", "/http/certificate", "is not an ACM certificate ARN"),
        ("certificate-without-alias", "/http/certificate", "only used with `http.alias`"),
        ("file-missing-source", "/files/1", "missing required field `source`"),
        ("file-absolute-source", "/files/0/source", "is absolute"),
        ("file-outside-workspace", "/files/0/source", "leaves the workspace"),
        ("bad-pattern", "/files/0/exclude/1", "`[` is never closed"),
        ("unknown-field", "/file", "unknown field `file`"),
        ("nested-unknown", "/files/0/dest", "unknown field `dest`"),
        ("http-unknown", "/http/path", "unknown field `path`"),
        ("wrong-type", "/files/0/recursive", "wrong type"),
        ("files-not-list", "/files", "wrong type"),
        ("wrong-kind", "/type", "not `Backend Service`"),
    ];
    for (name, path, message) in cases {
        let (p, m) = first(name);
        assert_eq!(p, path, "{name}: {m}");
        assert!(m.contains(message), "{name}: {m}");
    }
    let outside = diagnostics("file-outside-workspace");
    assert!(outside.iter().any(|d| d.path == "/files/0/destination"), "{outside:?}");
    let hint = diagnostics("unknown-field")[0].hint.clone().unwrap_or_default();
    assert!(hint.contains("files"), "did-you-mean: {hint}");
}

#[test]
fn minimal_site_is_a_private_bucket_behind_cloudfront() {
    let r = rendered("minimal");
    let t = &r["template"];
    assert_eq!(r["parameters"], json!({}), "no ECS task, no parameters of its own");
    let res = &t["Resources"];
    let ids: Vec<&String> = res.as_object().unwrap().keys().collect();
    assert_eq!(ids, ["Bucket", "OriginAccessControl", "CloudFrontDistribution", "BucketPolicy"]);
    let bucket = &res["Bucket"]["Properties"];
    assert_eq!(bucket["VersioningConfiguration"]["Status"], "Enabled");
    assert_eq!(
        bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]["SSEAlgorithm"],
        "AES256"
    );
    for flag in ["BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"] {
        assert_eq!(bucket["PublicAccessBlockConfiguration"][flag], true, "{flag}");
    }
    assert_eq!(bucket["OwnershipControls"]["Rules"][0]["ObjectOwnership"], "BucketOwnerEnforced");

    let policy = &res["BucketPolicy"]["Properties"]["PolicyDocument"]["Statement"];
    assert_eq!(policy[0]["Principal"], json!({"Service": "cloudfront.amazonaws.com"}));
    assert_eq!(policy[0]["Action"], "s3:GetObject");
    assert!(
        policy[0]["Condition"]["StringEquals"]["AWS:SourceArn"]
            .to_string()
            .contains("distribution/${CloudFrontDistribution}"),
        "only this distribution may read"
    );
    assert_eq!(policy[1]["Effect"], "Deny");

    let oac = &res["OriginAccessControl"]["Properties"]["OriginAccessControlConfig"];
    assert_eq!(oac["OriginAccessControlOriginType"], "s3");
    assert_eq!(oac["SigningBehavior"], "always");

    let dist = &res["CloudFrontDistribution"]["Properties"]["DistributionConfig"];
    assert_eq!(dist["DefaultRootObject"], "index.html");
    assert_eq!(dist["PriceClass"], "PriceClass_100");
    assert_eq!(dist["HttpVersion"], "http2and3");
    assert_eq!(dist["DefaultCacheBehavior"]["ViewerProtocolPolicy"], "redirect-to-https");
    assert_eq!(dist["DefaultCacheBehavior"]["CachePolicyId"], CACHING_OPTIMIZED);
    assert_eq!(dist["Origins"][0]["OriginAccessControlId"], json!({"Fn::GetAtt": ["OriginAccessControl", "Id"]}));
    assert_eq!(dist["ViewerCertificate"], json!({"CloudFrontDefaultCertificate": true}));
    assert!(dist.get("Aliases").is_none());

    let outputs = t["Outputs"].as_object().unwrap();
    let names: Vec<&String> = outputs.keys().collect();
    assert_eq!(names, ["BucketName", "DistributionId", "DistributionDomainName", "URL"]);
    assert_eq!(
        outputs["URL"]["Value"],
        json!({"Fn::Join": ["", ["https://", {"Fn::GetAtt": ["CloudFrontDistribution", "DomainName"]}]]})
    );
    assert!(t.get("Metadata").is_none(), "the upload is a host step, not template metadata");
    assert_eq!(
        upload_step("minimal"),
        json!({"kind": "s3-upload", "bucket": "Bucket", "distribution": "CloudFrontDistribution", "files": []})
    );
}

#[test]
fn alias_gets_certificate_and_records_in_the_right_zone() {
    let r = rendered("alias-certificate");
    let res = &r["template"]["Resources"];
    let dist = &res["CloudFrontDistribution"]["Properties"]["DistributionConfig"];
    assert_eq!(dist["Aliases"], json!(["blog.test.chat.example.com"]));
    assert_eq!(
        dist["ViewerCertificate"]["AcmCertificateArn"],
        "arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"
    );
    assert_eq!(dist["ViewerCertificate"]["SslSupportMethod"], "sni-only");
    for (id, kind) in [("AliasRecord", "A"), ("AliasRecordIPv6", "AAAA")] {
        let rec = &res[id]["Properties"];
        assert_eq!(rec["Type"], kind);
        assert_eq!(rec["HostedZoneName"], "test.chat.example.com.");
        assert_eq!(rec["AliasTarget"]["HostedZoneId"], "Z2FDTNDATAQYW2");
    }
    assert_eq!(
        r["template"]["Outputs"]["URL"]["Value"],
        json!({"Fn::Join": ["", ["https://", "blog.test.chat.example.com"]]})
    );
    let app = rendered("alias-app-zone");
    // The apex of the app's zone lives in that zone (the parent only holds its NS records).
    assert_eq!(app["template"]["Resources"]["AliasRecord"]["Properties"]["HostedZoneName"], "chat.example.com.");
    let full = rendered("full");
    assert_eq!(full["template"]["Resources"]["AliasRecord"]["Properties"]["HostedZoneName"], "example.com.");
}

#[test]
fn alias_without_certificate_asks_the_host_for_a_us_east_1_certificate() {
    let r = rendered("alias-issued-certificate");
    let t = &r["template"];
    assert_eq!(
        t["Metadata"]["ferry:certificate"],
        json!({"region": "us-east-1", "domain_name": "www.chat.example.com", "hosted_zone": "chat.example.com.", "parameter": "AliasCertificateArn"})
    );
    assert_eq!(t["Parameters"]["AliasCertificateArn"]["Type"], "String");
    let dist = &t["Resources"]["CloudFrontDistribution"]["Properties"]["DistributionConfig"];
    assert_eq!(dist["Aliases"], json!(["www.chat.example.com"]));
    assert_eq!(dist["ViewerCertificate"]["AcmCertificateArn"], json!({"Ref": "AliasCertificateArn"}));
    assert_eq!(t["Resources"]["AliasRecord"]["Properties"]["HostedZoneName"], "chat.example.com.");
    // An imported certificate needs no request.
    let imported = rendered("alias-certificate");
    assert!(imported["template"]["Metadata"].get("ferry:certificate").is_none());
    assert!(imported["template"].get("Parameters").is_none_or(|p| p.get("AliasCertificateArn").is_none()));
}

#[test]
fn wildcard_alias_is_served_and_recorded_in_the_env_zone() {
    let r = rendered("alias-wildcard");
    let t = &r["template"];
    let dist = &t["Resources"]["CloudFrontDistribution"]["Properties"]["DistributionConfig"];
    assert_eq!(dist["Aliases"], json!(["*.test.chat.example.com"]));
    assert_eq!(t["Metadata"]["ferry:certificate"]["domain_name"], "*.test.chat.example.com");
    let record = &t["Resources"]["AliasRecord"]["Properties"];
    assert_eq!(record["Name"], "*.test.chat.example.com");
    assert_eq!(record["HostedZoneName"], "test.chat.example.com.");
    // A wildcard is no URL: the output names the distribution.
    assert_eq!(
        t["Outputs"]["URL"]["Value"],
        json!({"Fn::Join": ["", ["https://", {"Fn::GetAtt": ["CloudFrontDistribution", "DomainName"]}]]})
    );
}

#[test]
fn alias_outside_the_app_domain_uses_its_certificate_and_no_records() {
    for name in ["alias-outside-domain", "alias-no-app-domain"] {
        let r = rendered(name);
        let res = &r["template"]["Resources"];
        let dist = &res["CloudFrontDistribution"]["Properties"]["DistributionConfig"];
        assert_eq!(
            dist["ViewerCertificate"]["AcmCertificateArn"],
            "arn:aws:acm:us-east-1:123456789012:certificate/e5a6e114-b022-45b1-9339-38fbfd6db3e2",
            "{name}"
        );
        assert!(res.get("AliasRecord").is_none(), "{name}: the user's DNS, not ferry's");
        assert!(r["template"]["Metadata"].get("ferry:certificate").is_none(), "{name}");
    }
}

#[test]
fn files_become_the_upload_plan_with_defaults() {
    let plan = upload_step;
    let dir = plan("files-directory");
    assert_eq!(dir["bucket"], "Bucket");
    assert_eq!(
        dir["files"],
        json!([{"source": "public", "destination": "/", "recursive": true, "exclude": [], "reinclude": []}])
    );
    let patterns = plan("files-exclude-reinclude");
    assert_eq!(patterns["files"][0]["exclude"], json!(["*.map"]));
    assert_eq!(patterns["files"][0]["reinclude"], json!(["vendor.js.map"]), "a string is one pattern");
    assert_eq!(patterns["files"][1]["destination"], "/img");
    assert_eq!(patterns["files"][1]["exclude"], json!(["*.psd", "[!a-z]*", "draft?.png"]));
    assert_eq!(patterns["files"][2]["destination"], "/");
    let full = plan("full");
    assert_eq!(full["files"][0]["destination"], "/assets");
    assert_eq!(full["files"][1]["recursive"], false);
    let env = plan("env-overridden");
    assert_eq!(
        env["files"],
        json!([{"source": "./blob", "destination": "/assets", "recursive": true, "exclude": ["*"], "reinclude": ["*.txt", "*.png"]}])
    );
}

#[test]
fn reinclude_without_exclude_warns_but_renders() {
    let manifest = json!({"name": "s", "type": "Static Site", "files": [{"source": "dist", "reinclude": "*.txt"}]});
    let d = StaticSite::validate(&manifest);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].severity, Severity::Warning);
    assert_eq!(d[0].path, "/files/0/reinclude");
    let ctx = context_for("warn", &manifest);
    assert!(StaticSite::render(&manifest, &ctx).is_ok());
}

#[test]
fn validate_without_environment_leaves_the_domain_check_to_render() {
    let alias = load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/invalid/alias-outside-domain.yml"));
    assert_eq!(StaticSite::validate(&alias), vec![]);
    let alias = load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/invalid/alias-no-domain.yml"));
    assert_eq!(StaticSite::validate(&alias), vec![]);
    let bad = load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/invalid/certificate-wrong-region.yml"));
    let d = StaticSite::validate(&bad);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].path, "/http/certificate");
}

#[test]
fn info_has_schema_and_init_template() {
    let info = StaticSite::info();
    assert_eq!(info.name, "static-site");
    assert_eq!(info.manifest_types, ["Static Site"]);
    let props = &info.manifest_schema["properties"];
    for field in ["name", "type", "http", "files", "environments"] {
        assert!(props[field].is_object(), "schema lacks {field}: {}", info.manifest_schema);
    }
    assert!(info.manifest_template.contains("{{name}}"));
    assert_eq!(StaticSite::validate(&init_template()), vec![]);
}

ferry_plugin_sdk::schema_file_test!(ferry_plugin_static_site::manifest::Manifest);

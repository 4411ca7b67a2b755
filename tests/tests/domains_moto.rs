//! The domain path end to end on moto, through the binary: `app init
//! --domain` delegates `<app>.<domain>` from the domain's zone and records
//! the zone as Copilot does; a Static Site alias without a certificate gets
//! a DNS-validated us-east-1 certificate and its alias records; a redeploy
//! changes nothing; `app delete` leaves no stack, record or certificate.
//! Everything is checked through the AWS APIs, not ferry's output.

use crate::common;

use common::{json_event as event, run_on_moto as run};
use ferry_test_support::Moto;
use serde_json::Value;
use std::path::Path;

/// The outcome of one stack's deploy in a `--json` event stream.
fn outcome(stream: &str, stack: &str) -> Value {
    stream
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|e| e["event"] == "stack_finished" && e["stack"] == stack)
        .map(|e| e["outcome"].clone())
        .unwrap_or_else(|| panic!("no stack_finished event of {stack} in:\n{stream}"))
}

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// ACM's `ListCertificates` in `region` (JSON protocol; moto reads the
/// region from the credential scope): `(domain, status)` of each.
fn certificates(moto: &Moto, region: &str) -> Vec<(String, String)> {
    use std::io::{Read, Write};
    let body = r#"{"Includes":{}}"#;
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", moto.port)).unwrap();
    write!(
        stream,
        "POST / HTTP/1.0\r\nHost: 127.0.0.1\r\nX-Amz-Target: CertificateManager.ListCertificates\r\nContent-Type: application/x-amz-json-1.1\r\nAuthorization: AWS4-HMAC-SHA256 Credential=testing/20260101/{region}/acm/aws4_request, SignedHeaders=host, Signature=0\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let json: Value = serde_json::from_str(response.split_once("\r\n\r\n").unwrap().1).unwrap();
    json["CertificateSummaryList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["DomainName"].as_str().unwrap().to_string(), c["Status"].as_str().unwrap_or_default().to_string()))
        .collect()
}

/// `(name, type)` of every record in the zone named `zone`, or `None`
/// when there is no such zone.
async fn records(aws: &ferry_aws::AwsContext, zone: &str) -> Option<Vec<(String, String, Vec<String>)>> {
    let id = ferry_aws::domain::zone_id(aws, zone).await.ok()?;
    let listed = aws.route53().list_resource_record_sets().hosted_zone_id(&id).send().await.unwrap();
    Some(
        listed
            .resource_record_sets()
            .iter()
            .map(|r| {
                let values: Vec<String> = r.resource_records().iter().map(|v| v.value().to_string()).collect();
                let target = r.alias_target().map(|a| a.dns_name().to_string());
                (r.name().to_string(), r.r#type().as_str().to_string(), target.into_iter().chain(values).collect())
            })
            .collect(),
    )
}

fn has(records: &[(String, String, Vec<String>)], name: &str, kind: &str) -> bool {
    records.iter().any(|(n, k, _)| n.trim_end_matches('.') == name.trim_end_matches('.') && k == kind)
}

async fn live_stacks(aws: &ferry_aws::AwsContext, region: &str) -> Vec<String> {
    let listed = aws.cloudformation_in(region).list_stacks().send().await.unwrap();
    listed
        .stack_summaries()
        .iter()
        .filter(|s| s.stack_status().is_some_and(|st| st.as_str() != "DELETE_COMPLETE"))
        .filter_map(|s| s.stack_name().map(str::to_string))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn app_domain_static_site_alias_certificate_and_clean_delete() {
    let moto = Moto::start();
    moto.export_env();
    let aws = ferry_aws::AwsContext::load(None).await;
    // The domain's own zone: registered outside ferry, as for Copilot.
    let root = aws.route53().create_hosted_zone().name("example.com").caller_reference("root").send().await.unwrap();
    let root_id = root.hosted_zone().unwrap().id().trim_start_matches("/hostedzone/").to_string();

    let ws = tempfile::tempdir().unwrap();
    let dir = ws.path();
    run(&moto, dir, &["app", "init", "docs", "--domain", "example.com"]);
    let show: Value = serde_json::from_str(&run(&moto, dir, &["app", "show", "--json"])).unwrap();
    assert_eq!(show["application"]["domain"], "example.com");
    assert_eq!(show["application"]["domainHostedZoneID"], root_id.as_str(), "{show}");
    let app_zone = records(&aws, "docs.example.com").await.expect("app init creates docs.example.com");
    assert!(has(&app_zone, "docs.example.com.", "NS"));
    let parent = records(&aws, "example.com").await.unwrap();
    assert!(has(&parent, "docs.example.com.", "NS"), "the app zone is delegated from the domain's: {parent:?}");

    write(dir, "copilot/environments/test/manifest.yml", "name: test\ntype: Environment\n");
    write(
        dir,
        "copilot/www/manifest.yml",
        "name: www\ntype: Static Site\nhttp:\n  alias: www.docs.example.com\nfiles:\n  - source: site\n",
    );
    write(dir, "site/index.html", "<h1>docs</h1>");
    run(&moto, dir, &["env", "deploy", "-n", "test"]);
    let first = run(&moto, dir, &["svc", "deploy", "-n", "www", "-e", "test", "--json"]);
    assert_eq!(outcome(&first, "docs-test-www-AliasCertificate"), "ready", "{first}");
    assert_eq!(outcome(&first, "docs-test-www"), "created", "{first}");

    // The certificate CloudFront needs: us-east-1, issued, validated in the app zone.
    assert!(live_stacks(&aws, "us-east-1").await.contains(&"docs-test-www-AliasCertificate".to_string()));
    assert_eq!(certificates(&moto, "us-east-1"), [("www.docs.example.com".to_string(), "ISSUED".to_string())]);
    let zone = records(&aws, "docs.example.com").await.unwrap();
    assert!(
        zone.iter().any(|(n, k, v)| n.ends_with(".www.docs.example.com.")
            && n.starts_with('_')
            && k == "CNAME"
            && v.iter().any(|v| v.contains("acm-validations.aws"))),
        "no DNS validation record: {zone:?}"
    );
    // The alias resolves to the distribution.
    let show: Value = serde_json::from_str(&run(&moto, dir, &["svc", "show", "-n", "www", "--json"])).unwrap();
    let outputs = &show["deployments"][0]["outputs"];
    let domain = outputs["DistributionDomainName"].as_str().unwrap().to_string();
    for kind in ["A", "AAAA"] {
        let record = zone.iter().find(|(n, k, _)| n.trim_end_matches('.') == "www.docs.example.com" && k == kind);
        let (_, _, targets) = record.unwrap_or_else(|| panic!("no {kind} record for the alias: {zone:?}"));
        assert!(targets.iter().any(|t| t.trim_end_matches('.') == domain), "{kind} → {targets:?}, not {domain}");
    }
    let distribution = outputs["DistributionId"].as_str().unwrap();
    let got = aws.cloudfront().get_distribution().id(distribution).send().await.unwrap();
    let config = got.distribution().unwrap().distribution_config().unwrap();
    let aliases: Vec<&str> =
        config.aliases().map(|a| a.items().iter().map(String::as_str).collect()).unwrap_or_default();
    assert_eq!(aliases, ["www.docs.example.com"]);
    // moto's distributions drop the viewer certificate: check what the stack was given.
    let stacks = aws.cloudformation().describe_stacks().stack_name("docs-test-www").send().await.unwrap();
    let parameters = stacks.stacks()[0].parameters();
    let cert_arn = parameters.iter().find(|p| p.parameter_key() == Some("AliasCertificateArn"));
    let cert_arn = cert_arn.and_then(|p| p.parameter_value()).unwrap_or_default();
    assert!(cert_arn.starts_with("arn:aws:acm:us-east-1:"), "{parameters:?}");

    // Nothing changed: nothing is written, certificate stack included.
    let again = run(&moto, dir, &["svc", "deploy", "-n", "www", "-e", "test", "--json"]);
    assert_eq!(outcome(&again, "docs-test-www"), "up to date", "{again}");
    assert_eq!(event(&again, "api_calls")["mutating"], 0, "{again}");

    run(&moto, dir, &["app", "delete", "--yes"]);
    assert_eq!(live_stacks(&aws, "us-west-2").await, Vec::<String>::new());
    assert_eq!(live_stacks(&aws, "us-east-1").await, Vec::<String>::new());
    assert_eq!(certificates(&moto, "us-east-1"), []);
    assert!(records(&aws, "docs.example.com").await.is_none(), "the app zone is gone");
    let parent = records(&aws, "example.com").await.unwrap();
    let kinds: Vec<&str> = parent.iter().map(|(_, k, _)| k.as_str()).collect();
    assert_eq!(kinds, ["NS", "SOA"], "only the domain's own records are left: {parent:?}");
}

/// `(logical id, physical id)` of a stack's resources of `kind`.
async fn stack_resources(aws: &ferry_aws::AwsContext, stack: &str, kind: &str) -> Vec<(String, String)> {
    let out = aws.cloudformation().describe_stack_resources().stack_name(stack).send().await.unwrap();
    out.stack_resources()
        .iter()
        .filter(|r| r.resource_type() == Some(kind))
        .map(|r| {
            (
                r.logical_resource_id().unwrap_or_default().to_string(),
                r.physical_resource_id().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

const WEB: &str = "name: web
type: Load Balanced Web Service
image:
  location: public.ecr.aws/docker/library/nginx:1
  port: 80
http:
  path: /
  alias: api.docs.example.com
";

/// An environment of an app with a domain: its zone `<env>.<app>.<domain>`
/// delegated from the app's zone, its certificate issued with DNS validation
/// in the zone of each name, the public load balancer serving HTTPS with it
/// and a web service's alias in the app's zone; a redeploy writes nothing;
/// `app delete` leaves no zone, record, certificate or stack.
#[tokio::test(flavor = "multi_thread")]
async fn environment_zone_certificate_and_https_for_an_app_domain() {
    let moto = Moto::start();
    moto.export_env();
    let aws = ferry_aws::AwsContext::load(None).await;
    aws.route53().create_hosted_zone().name("example.com").caller_reference("root").send().await.unwrap();
    let ws = tempfile::tempdir().unwrap();
    let dir = ws.path();
    run(&moto, dir, &["app", "init", "docs", "--domain", "example.com"]);
    write(dir, "copilot/environments/test/manifest.yml", "name: test\ntype: Environment\n");
    write(dir, "copilot/web/manifest.yml", WEB);
    let env = run(&moto, dir, &["env", "deploy", "-n", "test", "--json"]);
    assert_eq!(outcome(&env, "docs-test"), "created", "{env}");
    let svc = run(&moto, dir, &["svc", "deploy", "-n", "web", "-e", "test", "--json"]);
    assert_eq!(outcome(&svc, "docs-test-web"), "created", "{svc}");

    // The environment's zone, delegated from the app's.
    let env_zone = records(&aws, "test.docs.example.com").await.expect("the environment's zone");
    let app_zone = records(&aws, "docs.example.com").await.unwrap();
    let (_, _, delegated) = app_zone
        .iter()
        .find(|(n, k, _)| n == "test.docs.example.com." && k == "NS")
        .unwrap_or_else(|| panic!("no NS delegation of the env zone: {app_zone:?}"));
    let (_, _, served) = env_zone.iter().find(|(n, k, _)| n == "test.docs.example.com." && k == "NS").unwrap();
    assert_eq!(delegated, served, "the delegation names the env zone's servers");
    // Its certificate: issued, validated in the env zone and (for the alias) the app zone.
    assert_eq!(certificates(&moto, "us-west-2"), [("test.docs.example.com".to_string(), "ISSUED".to_string())]);
    let validation = |records: &[(String, String, Vec<String>)], name: &str| {
        records.iter().any(|(n, k, v)| {
            n.starts_with('_')
                && n.ends_with(&format!(".{name}."))
                && k == "CNAME"
                && v.iter().any(|v| v.contains("acm-validations"))
        })
    };
    assert!(validation(&env_zone, "test.docs.example.com"), "{env_zone:?}");
    assert!(validation(&app_zone, "api.docs.example.com"), "{app_zone:?}");
    // HTTPS on the public load balancer with that certificate; the alias in the app zone.
    let certs = stack_resources(&aws, "docs-test", "AWS::CertificateManager::Certificate").await;
    assert_eq!(certs.len(), 1, "{certs:?}");
    let listeners = stack_resources(&aws, "docs-test", "AWS::ElasticLoadBalancingV2::Listener").await;
    let (_, https) = listeners.iter().find(|(id, _)| id == "HTTPSListener").expect("an HTTPS listener");
    let described = aws.elbv2().describe_listeners().listener_arns(https).send().await.unwrap();
    let listener = &described.listeners()[0];
    assert_eq!(listener.port(), Some(443));
    assert_eq!(listener.certificates()[0].certificate_arn(), Some(certs[0].1.as_str()));
    assert!(has(&app_zone, "api.docs.example.com.", "A"), "{app_zone:?}");
    let stacks = aws.cloudformation().describe_stacks().stack_name("docs-test").send().await.unwrap();
    let exports: Vec<String> =
        stacks.stacks()[0].outputs().iter().filter_map(|o| o.export_name().map(str::to_string)).collect();
    assert!(
        exports.contains(&"docs-test-HostedZone".to_string()) && exports.contains(&"docs-test-SubDomain".to_string()),
        "{exports:?}"
    );

    // Nothing changed: nothing is written.
    let again = run(&moto, dir, &["env", "deploy", "-n", "test", "--json"]);
    assert_eq!(outcome(&again, "docs-test"), "up to date", "{again}");
    assert_eq!(event(&again, "api_calls")["mutating"], 0, "{again}");

    run(&moto, dir, &["app", "delete", "--yes"]);
    assert_eq!(live_stacks(&aws, "us-west-2").await, Vec::<String>::new());
    assert_eq!(certificates(&moto, "us-west-2"), []);
    assert!(records(&aws, "test.docs.example.com").await.is_none(), "the env zone is gone");
    assert!(records(&aws, "docs.example.com").await.is_none(), "the app zone is gone");
    let parent = records(&aws, "example.com").await.unwrap();
    let kinds: Vec<&str> = parent.iter().map(|(_, k, _)| k.as_str()).collect();
    assert_eq!(kinds, ["NS", "SOA"], "only the domain's own records are left: {parent:?}");
}

const API: &str = "name: api
type: Request-Driven Web Service
image:
  location: 123456789012.dkr.ecr.us-west-2.amazonaws.com/docs/api:1.0
  port: 8080
http:
  alias: api.docs.example.com
";

/// `(alias, validation CNAMEs)` App Runner lists for a service.
async fn custom_domains(aws: &ferry_aws::AwsContext, service: &str) -> (String, Vec<(String, Vec<(String, String)>)>) {
    let out = aws.apprunner().describe_custom_domains().service_arn(service).send().await.unwrap();
    let domains = out
        .custom_domains()
        .iter()
        .map(|d| {
            let records = d
                .certificate_validation_records()
                .iter()
                .map(|r| (r.name().unwrap_or_default().to_string(), r.value().unwrap_or_default().to_string()))
                .collect();
            (d.domain_name().to_string(), records)
        })
        .collect();
    (out.dns_target().to_string(), domains)
}

/// A Request-Driven Web Service's `http.alias`: after its stack deploys the
/// host associates the alias with the App Runner service and writes the
/// validation CNAME and the alias's CNAME to App Runner's target (TTL 60) in
/// the app's zone; a redeploy writes nothing; `svc delete` disassociates it
/// and removes both records before the service goes.
#[tokio::test(flavor = "multi_thread")]
async fn request_driven_alias_is_associated_with_its_records_and_undone_on_delete() {
    let moto = Moto::start();
    moto.export_env();
    let aws = ferry_aws::AwsContext::load(None).await;
    aws.route53().create_hosted_zone().name("example.com").caller_reference("root").send().await.unwrap();
    let ws = tempfile::tempdir().unwrap();
    let dir = ws.path();
    run(&moto, dir, &["app", "init", "docs", "--domain", "example.com"]);
    write(dir, "copilot/environments/test/manifest.yml", "name: test\ntype: Environment\n");
    write(dir, "copilot/api/manifest.yml", API);
    run(&moto, dir, &["env", "deploy", "-n", "test"]);
    let first = run(&moto, dir, &["svc", "deploy", "-n", "api", "-e", "test", "--json"]);
    assert_eq!(outcome(&first, "docs-test-api"), "created", "{first}");
    let step = event(&first, "custom_domain");
    assert_eq!(step["associated"], true, "{first}");
    assert_eq!(step["records_written"], 2, "{first}");

    let stacks = aws.cloudformation().describe_stacks().stack_name("docs-test-api").send().await.unwrap();
    let outputs = stacks.stacks()[0].outputs();
    let service = outputs.iter().find(|o| o.output_key() == Some("ServiceArn")).and_then(|o| o.output_value());
    let service = service.expect("the ServiceArn output").to_string();
    let (target, domains) = custom_domains(&aws, &service).await;
    assert_eq!(domains.len(), 1, "{domains:?}");
    let (domain, validation) = &domains[0];
    assert_eq!(domain, "api.docs.example.com");
    let zone_id = ferry_aws::domain::zone_id(&aws, "docs.example.com").await.unwrap();
    let listed = aws.route53().list_resource_record_sets().hosted_zone_id(&zone_id).send().await.unwrap();
    let cname = |name: &str| {
        listed
            .resource_record_sets()
            .iter()
            .find(|r| r.name().trim_end_matches('.') == name.trim_end_matches('.') && r.r#type().as_str() == "CNAME")
            .map(|r| (r.ttl(), r.resource_records().iter().map(|v| v.value().to_string()).collect::<Vec<_>>()))
    };
    assert_eq!(cname("api.docs.example.com"), Some((Some(60), vec![target.clone()])), "{listed:?}");
    for (name, value) in validation {
        assert_eq!(cname(name), Some((Some(60), vec![value.clone()])), "{listed:?}");
    }

    // Everything in place: nothing is written.
    let again = run(&moto, dir, &["svc", "deploy", "-n", "api", "-e", "test", "--json"]);
    assert_eq!(outcome(&again, "docs-test-api"), "up to date", "{again}");
    assert_eq!(event(&again, "custom_domain")["associated"], false, "{again}");
    assert_eq!(event(&again, "api_calls")["mutating"], 0, "{again}");

    // A new alias: the former one is disassociated and its records removed.
    write(dir, "copilot/api/manifest.yml", &API.replace("api.docs.example.com", "app.docs.example.com"));
    let moved = run(&moto, dir, &["svc", "deploy", "-n", "api", "-e", "test", "--json"]);
    assert_eq!(event(&moved, "custom_domain_removed")["alias"], "api.docs.example.com", "{moved}");
    let (_, domains) = custom_domains(&aws, &service).await;
    let names: Vec<&str> = domains.iter().map(|(d, _)| d.as_str()).collect();
    assert_eq!(names, ["app.docs.example.com"]);
    let zone = records(&aws, "docs.example.com").await.unwrap();
    assert!(!has(&zone, "api.docs.example.com.", "CNAME") && has(&zone, "app.docs.example.com.", "CNAME"), "{zone:?}");
    let cnames = zone.iter().filter(|(_, k, _)| k == "CNAME").count();
    assert_eq!(cnames, 2, "the new alias and its validation record only: {zone:?}");

    run(&moto, dir, &["svc", "delete", "-n", "api", "--yes"]);
    let zone = records(&aws, "docs.example.com").await.unwrap();
    assert!(!zone.iter().any(|(_, k, _)| k == "CNAME"), "the alias and validation records are gone: {zone:?}");
    assert!(aws.apprunner().describe_custom_domains().service_arn(&service).send().await.is_err(), "service gone");
    run(&moto, dir, &["app", "delete", "--yes"]);
    assert_eq!(live_stacks(&aws, "us-west-2").await, Vec::<String>::new());
    assert!(records(&aws, "docs.example.com").await.is_none(), "the app zone is gone");
}

/// An environment with `cdn` in an app with a domain and no
/// `cdn.certificate`: as Copilot replicates the environment's certificate
/// to us-east-1, ferry issues one of the same names there (validated in the
/// environment's zone, which exists once the stack made it) and the
/// distribution serves it with the services' aliases; a redeploy writes
/// nothing; `app delete` leaves no certificate, zone, record or stack.
#[tokio::test(flavor = "multi_thread")]
async fn environment_cdn_gets_a_us_east_1_certificate_of_its_names() {
    let moto = Moto::start();
    moto.export_env();
    let aws = ferry_aws::AwsContext::load(None).await;
    aws.route53().create_hosted_zone().name("example.com").caller_reference("root").send().await.unwrap();
    let ws = tempfile::tempdir().unwrap();
    let dir = ws.path();
    run(&moto, dir, &["app", "init", "docs", "--domain", "example.com"]);
    write(dir, "copilot/environments/test/manifest.yml", "name: test\ntype: Environment\ncdn: true\n");
    write(dir, "copilot/web/manifest.yml", WEB);
    let first = run(&moto, dir, &["env", "deploy", "-n", "test", "--json"]);
    assert_eq!(outcome(&first, "docs-test-AliasCertificate"), "ready", "{first}");

    let mut issued = certificates(&moto, "us-east-1");
    issued.sort();
    assert_eq!(issued, [("test.docs.example.com".to_string(), "ISSUED".to_string())]);
    let stacks = aws.cloudformation().describe_stacks().stack_name("docs-test").send().await.unwrap();
    let parameters = stacks.stacks()[0].parameters();
    let arn = parameters.iter().find(|p| p.parameter_key() == Some("CDNCertificateArn"));
    let arn = arn.and_then(|p| p.parameter_value()).unwrap_or_default().to_string();
    assert!(arn.starts_with("arn:aws:acm:us-east-1:"), "{parameters:?}");
    let described = aws
        .cloudformation_in("us-east-1")
        .get_template()
        .stack_name("docs-test-AliasCertificate")
        .send()
        .await
        .unwrap();
    let template: Value = serde_json::from_str(described.template_body().unwrap()).unwrap();
    let props = &template["Resources"]["Certificate"]["Properties"];
    assert_eq!(
        props["SubjectAlternativeNames"],
        serde_json::json!(["*.test.docs.example.com", "api.docs.example.com"])
    );
    let env_zone = records(&aws, "test.docs.example.com").await.unwrap();
    assert!(
        env_zone.iter().any(|(n, k, _)| n.starts_with('_') && n.ends_with(".test.docs.example.com.") && k == "CNAME"),
        "validated in the environment's zone: {env_zone:?}"
    );
    let distributions = stack_resources(&aws, "docs-test", "AWS::CloudFront::Distribution").await;
    let (_, distribution) = distributions.first().expect("the environment's distribution");
    let got = aws.cloudfront().get_distribution().id(distribution).send().await.unwrap();
    let config = got.distribution().unwrap().distribution_config().unwrap();
    let aliases: Vec<&str> =
        config.aliases().map(|a| a.items().iter().map(String::as_str).collect()).unwrap_or_default();
    assert_eq!(aliases, ["api.docs.example.com"]);

    let again = run(&moto, dir, &["env", "deploy", "-n", "test", "--json"]);
    assert_eq!(outcome(&again, "docs-test"), "up to date", "{again}");
    assert_eq!(event(&again, "api_calls")["mutating"], 0, "{again}");

    run(&moto, dir, &["app", "delete", "--yes"]);
    assert_eq!(live_stacks(&aws, "us-west-2").await, Vec::<String>::new());
    assert_eq!(live_stacks(&aws, "us-east-1").await, Vec::<String>::new());
    assert_eq!(certificates(&moto, "us-east-1"), []);
    assert!(records(&aws, "docs.example.com").await.is_none(), "the app zone is gone");
    let parent = records(&aws, "example.com").await.unwrap();
    let kinds: Vec<&str> = parent.iter().map(|(_, k, _)| k.as_str()).collect();
    assert_eq!(kinds, ["NS", "SOA"], "only the domain's own records are left: {parent:?}");
}

const FULL_ENV: &str = "name: test
type: Environment
cdn: true
http:
  public:
    access_logs: true
network:
  vpc:
    security_group:
      ingress:
        - ip_protocol: tcp
          ports: 5432
          cidr: 10.0.0.0/16
      egress:
        - ip_protocol: -1
          ports: 0-65535
          cidr: 0.0.0.0/0
";

const PRIVATE_API: &str = "name: api
type: Request-Driven Web Service
image:
  location: 123456789012.dkr.ecr.us-west-2.amazonaws.com/docs/api:1.0
  port: 8080
http:
  alias: api.docs.example.com
  private: true
network:
  vpc:
    placement: private
";

/// Issue 15's acceptance on the emulator: an app with a domain; an
/// environment with `cdn`, access logs and its own security-group rules; a
/// load-balanced service and a private Request-Driven Web Service with
/// aliases; a static site with an alias. Everything deploys, a second
/// deploy of each makes no mutating call, and `app delete` leaves no stack
/// (in the region or us-east-1), no certificate and no record beyond the
/// domain zone's own NS and SOA.
#[tokio::test(flavor = "multi_thread")]
async fn app_delete_leaves_no_stack_certificate_or_record_behind() {
    let moto = Moto::start();
    moto.export_env();
    let aws = ferry_aws::AwsContext::load(None).await;
    aws.route53().create_hosted_zone().name("example.com").caller_reference("root").send().await.unwrap();
    let ws = tempfile::tempdir().unwrap();
    let dir = ws.path();
    run(&moto, dir, &["app", "init", "docs", "--domain", "example.com"]);
    write(dir, "copilot/environments/test/manifest.yml", FULL_ENV);
    write(dir, "copilot/web/manifest.yml", WEB);
    write(dir, "copilot/api/manifest.yml", PRIVATE_API);
    write(
        dir,
        "copilot/www/manifest.yml",
        "name: www\ntype: Static Site\nhttp:\n  alias: www.docs.example.com\nfiles:\n  - source: site\n",
    );
    write(dir, "site/index.html", "<h1>docs</h1>");
    let deploys: [&[&str]; 4] = [
        &["env", "deploy", "-n", "test", "--json"],
        &["svc", "deploy", "-n", "web", "-e", "test", "--json"],
        &["svc", "deploy", "-n", "api", "-e", "test", "--json"],
        &["svc", "deploy", "-n", "www", "-e", "test", "--json"],
    ];
    for args in deploys {
        run(&moto, dir, args);
    }
    // What is deployed: the certificates in both regions, the App Runner alias.
    assert_eq!(certificates(&moto, "us-west-2").len(), 1, "the environment's");
    let mut east: Vec<String> = certificates(&moto, "us-east-1").into_iter().map(|(d, _)| d).collect();
    east.sort();
    assert_eq!(east, ["test.docs.example.com", "www.docs.example.com"], "CloudFront's: the env's and the site's");
    let app_zone = records(&aws, "docs.example.com").await.unwrap();
    assert!(has(&app_zone, "api.docs.example.com.", "CNAME"), "{app_zone:?}");
    assert!(has(&app_zone, "www.docs.example.com.", "A"), "{app_zone:?}");
    let resources = stack_resources(&aws, "docs-test", "AWS::S3::Bucket").await;
    assert!(resources.iter().any(|(id, _)| id == "ELBAccessLogsBucket"), "{resources:?}");
    // The access-logs bucket holds logs by the time the app is deleted.
    let (_, logs) = resources.iter().find(|(id, _)| id == "ELBAccessLogsBucket").unwrap();
    aws.s3().put_object().bucket(logs).key("AWSLogs/elb.log").body(b"log".to_vec().into()).send().await.unwrap();

    for args in deploys {
        let again = run(&moto, dir, args);
        assert_eq!(event(&again, "api_calls")["mutating"], 0, "{args:?}: {again}");
    }

    run(&moto, dir, &["app", "delete", "--yes"]);
    assert_eq!(live_stacks(&aws, "us-west-2").await, Vec::<String>::new());
    assert_eq!(live_stacks(&aws, "us-east-1").await, Vec::<String>::new());
    assert_eq!(certificates(&moto, "us-west-2"), []);
    assert_eq!(certificates(&moto, "us-east-1"), []);
    for zone in ["test.docs.example.com", "docs.example.com"] {
        assert!(records(&aws, zone).await.is_none(), "{zone} is gone");
    }
    let parent = records(&aws, "example.com").await.unwrap();
    let kinds: Vec<&str> = parent.iter().map(|(_, k, _)| k.as_str()).collect();
    assert_eq!(kinds, ["NS", "SOA"], "only the domain's own records are left: {parent:?}");
}

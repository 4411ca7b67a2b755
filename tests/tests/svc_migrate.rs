//! `svc migrate` through the binary, on Request-Driven Web Service
//! manifests written after the samples in Copilot's documentation
//! (rd-web-service): the Express manifest it writes packages for every
//! environment, each field without an equivalent is listed, the old manifest
//! is kept. Also: `svc init` no longer offers the Request-Driven Web
//! Service, and a bad Express manifest is refused at its line.

use crate::common;

use common::{example_copy, ferry, line_of};
use serde_json::Value;
use std::path::Path;

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// The documentation's "frontend" sample: health check map, alias, built
/// image, instance size, variables, tags, a test override.
const FRONTEND: &str = "\
# Your service name will be used in naming your resources.
name: frontend
type: Request-Driven Web Service

http:
  healthcheck:
    path: '/_healthcheck'
    healthy_threshold: 3
    unhealthy_threshold: 5
    interval: 10s
    timeout: 5s
  alias: web.example.com

image:
  build: ./frontend/Dockerfile
  port: 80

cpu: 1024
memory: 2048

variables:
  LOG_LEVEL: info

tags:
  owner: frontend-team

environments:
  test:
    variables:
      LOG_LEVEL: debug
";

/// The other documented fields: an ECR image, VPC placement, private
/// ingress, secrets, tracing, an auto scaling configuration, topics, a
/// start command, and a prod override with its own size and scaling.
const BILLING: &str = "\
name: billing
type: Request-Driven Web Service
image:
  location: 123456789012.dkr.ecr.us-west-2.amazonaws.com/billing:2.3
  port: 8080
http:
  healthcheck: /health
  private: true
command: ./start --port 8080
platform: linux/x86_64
network:
  vpc:
    placement: private
observability:
  tracing: awsxray
count: high-availability
secrets:
  STRIPE_KEY: STRIPE_KEY
  DB_PASSWORD:
    secretsmanager: billing/db
publish:
  topics:
    - name: invoices
environments:
  prod:
    cpu: 2048
    memory: 4096
    count: prod-scaling
";

fn migrate(dir: &Path, name: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["svc", "migrate", "-n", name, "--to", "Express Web Service"];
    args.extend_from_slice(extra);
    ferry(dir).env("CI", "true").args(&args).output().unwrap()
}

#[test]
fn frontend_sample_migrates_keeps_the_old_manifest_and_packages() {
    let ws = example_copy("chat");
    let dir = ws.path();
    write(dir, "copilot/frontend/manifest.yml", FRONTEND);
    let output = migrate(dir, "frontend", &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    for field in [
        "http.healthcheck.healthy_threshold",
        "http.healthcheck.unhealthy_threshold",
        "http.healthcheck.interval",
        "http.healthcheck.timeout",
        "http.alias",
    ] {
        assert!(stderr.contains(&format!("`{field}` is not carried over")), "{field} not listed: {stderr}");
    }
    assert!(stderr.contains("takes no custom domain"), "the why is shown: {stderr}");

    let kept = std::fs::read_to_string(dir.join("copilot/frontend/manifest.rdws.yml")).unwrap();
    assert_eq!(kept, FRONTEND, "the old manifest is kept as it was");
    let text = std::fs::read_to_string(dir.join("copilot/frontend/manifest.yml")).unwrap();
    assert!(text.contains("type: Express Web Service"), "{text}");
    assert!(text.contains("healthcheck: /_healthcheck"), "{text}");
    assert!(text.contains("#   http.alias:"), "the manifest lists what was left out: {text}");
    assert!(text.contains("owner: frontend-team"), "{text}");

    for env in ["test", "prod"] {
        let out = ferry(dir).args(["svc", "package", "-n", "frontend", "-e", env]).output().unwrap();
        assert!(out.status.success(), "package -e {env}: {}", String::from_utf8_lossy(&out.stderr));
        let template: Value =
            serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("package printed no template ({e})"));
        let service = &template["Resources"]["ExpressService"];
        assert_eq!(service["Type"], "AWS::ECS::ExpressGatewayService", "{template}");
        assert_eq!(service["Properties"]["HealthCheckPath"], "/_healthcheck");
        let env_vars = service["Properties"]["PrimaryContainer"]["Environment"].to_string();
        let level = if env == "test" { "debug" } else { "info" };
        assert!(env_vars.contains(&format!(r#""Value":"{level}""#)), "{env}: {env_vars}");
    }

    // Twice is refused: the kept manifest would be overwritten.
    let again = migrate(dir, "frontend", &[]);
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("manifest.rdws.yml already exists"));
}

#[test]
fn every_other_field_is_mapped_or_listed_with_overrides_kept() {
    let ws = example_copy("chat");
    let dir = ws.path();
    write(dir, "copilot/billing/manifest.yml", BILLING);
    let output = migrate(dir, "billing", &["--dry-run", "--json"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let plan: Value = serde_json::from_slice(&output.stdout).expect("a JSON plan");
    let dropped: Vec<&str> = plan["dropped"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
    assert_eq!(
        dropped,
        ["platform", "network.vpc.placement", "observability.tracing", "count", "environments.prod.count"],
        "{plan}"
    );
    assert!(plan["dropped"].as_array().unwrap().iter().all(|d| d["why"].as_str().is_some_and(|w| w.len() > 20)));
    let m = &plan["manifest"];
    assert_eq!(m["type"], "Express Web Service");
    assert_eq!(
        m["network"],
        serde_json::json!({"vpc": {"placement": "private"}}),
        "http.private: an internal endpoint"
    );
    assert_eq!(m["command"], "./start --port 8080");
    assert_eq!(m["secrets"]["DB_PASSWORD"]["secretsmanager"], "billing/db");
    assert_eq!(m["publish"]["topics"][0]["name"], "invoices");
    assert_eq!(m["environments"]["prod"], serde_json::json!({"cpu": 2048, "memory": 4096}));
    assert_eq!(m["cpu"], 1024, "App Runner's default size is written out");
    assert!(!dir.join("copilot/billing/manifest.rdws.yml").exists(), "--dry-run writes nothing");

    let output = migrate(dir, "billing", &[]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    for env in ["test", "prod"] {
        let out = ferry(dir).args(["svc", "package", "-n", "billing", "-e", env]).output().unwrap();
        assert!(out.status.success(), "package -e {env}: {}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("PrivateSubnets"), "{env}: private placement");
    }
}

#[test]
fn only_a_request_driven_web_service_is_migrated() {
    let ws = example_copy("chat");
    let output = migrate(ws.path(), "api", &[]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("`api` is a Backend Service") || stderr.contains("`api` is a"), "{stderr}");
    let output = ferry(ws.path()).args(["svc", "migrate", "-n", "api", "--to", "Backend Service"]).output().unwrap();
    assert!(String::from_utf8_lossy(&output.stderr).contains("--to \"Express Web Service\""));
}

#[test]
fn svc_init_no_longer_offers_request_driven_web_service() {
    let ws = example_copy("chat");
    let output = ferry(ws.path()).env("CI", "true").args(["svc", "init", "-n", "web"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("Express Web Service"), "{stderr}");
    let hint = stderr.lines().find(|l| l.contains("--type with one of")).unwrap_or_default();
    assert!(!hint.contains("Request-Driven Web Service"), "{hint}");
    assert!(stderr.contains("App Runner stopped taking new customers"), "the why is said: {stderr}");

    // Asked for by name it is still written (existing App Runner users), with the why.
    let output = ferry(ws.path())
        .env("CI", "true")
        .args(["svc", "init", "-n", "old", "-t", "Request-Driven Web Service", "--dockerfile", "frontend/Dockerfile"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("retired for new services") && stderr.contains("Express Web Service"), "{stderr}");

    // The Express template is offered and packages.
    ferry(ws.path())
        .env("CI", "true")
        .args(["svc", "init", "-n", "web", "-t", "Express Web Service", "--dockerfile", "frontend/Dockerfile"])
        .assert()
        .success();
    ferry(ws.path()).args(["svc", "package", "-n", "web", "-e", "test"]).assert().success();
}

#[test]
fn bad_express_manifests_are_refused_at_their_line() {
    let ws = example_copy("chat");
    let dir = ws.path();
    let file = "copilot/web/manifest.yml";
    write(
        dir,
        file,
        "name: web\ntype: Express Web Service\nimage:\n  build: frontend/Dockerfile\n  port: 8080\ncpu: 256\nmemory: 4096\n",
    );
    let out = ferry(dir).args(["svc", "package", "-n", "web", "-e", "test"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("{file}:{}:", line_of(dir, file, "memory: 4096"))), "{stderr}");
    assert!(stderr.contains("use memory 512, 1024, 2048"), "{stderr}");

    write(
        dir,
        file,
        "name: web\ntype: Express Web Service\nimage:\n  build: frontend/Dockerfile\nhttp:\n  healthcheck: health check\n",
    );
    let out = ferry(dir).args(["svc", "package", "-n", "web", "-e", "test"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("{file}:{}:", line_of(dir, file, "healthcheck:"))), "{stderr}");
    assert!(stderr.contains("must start with `/`"), "{stderr}");
}

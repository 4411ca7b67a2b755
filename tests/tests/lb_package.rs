//! Load-balancer manifests Copilot accepts package offline through the
//! binary: a Backend Service with `http` in an environment whose manifest
//! has no `http.private` (Copilot's environment creates the internal load
//! balancer on demand), with additional rules; an NLB-only web service.

use crate::common;

use common::{example_copy, ferry};
use serde_json::Value;

const ORDERS: &str = "# Behind the internal load balancer; test's manifest has no http.private.
name: orders
type: Backend Service
image:
  location: public.ecr.aws/nginx/nginx:1.27
  port: 8080
http:
  path: /orders
  additional_rules:
    - path: /orders/admin
      healthcheck: /orders/admin/health
";

const TCP: &str = "name: tcp
type: Load Balanced Web Service
image:
  location: public.ecr.aws/docker/library/redis:7
  port: 6379
http: false
nlb:
  port: 6379/tcp
";

fn read(path: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn backend_http_without_private_and_nlb_only_service_package() {
    let ws = example_copy("chat");
    let dir = ws.path();
    let env = std::fs::read_to_string(dir.join("copilot/environments/test/manifest.yml")).unwrap();
    assert!(!env.contains("private"), "the fixture's point: no http.private");
    for (name, text) in [("orders", ORDERS), ("tcp", TCP)] {
        std::fs::create_dir_all(dir.join("copilot").join(name)).unwrap();
        std::fs::write(dir.join("copilot").join(name).join("manifest.yml"), text).unwrap();
    }
    let out = tempfile::tempdir().unwrap();
    for name in ["orders", "tcp"] {
        ferry(dir)
            .args(["svc", "package", "-n", name, "-e", "test", "--output-dir"])
            .arg(out.path())
            .assert()
            .success();
    }
    let orders = read(&out.path().join("orders-test.stack.json"));
    let res = &orders["Resources"];
    assert!(res["HTTPListenerRule"]["Properties"]["ListenerArn"].to_string().contains("InternalHTTPListenerArn"));
    assert_eq!(res["TargetGroup1"]["Properties"]["HealthCheckPath"], "/orders/admin/health");
    let params = read(&out.path().join("orders-test.params.json")).to_string();
    assert!(params.contains("HTTPListenerRule1Priority"), "{params}");

    let tcp = read(&out.path().join("tcp-test.stack.json"));
    assert_eq!(tcp["Resources"]["PublicNetworkLoadBalancerV2"]["Properties"]["Type"], "network");
    assert!(tcp["Resources"].get("TargetGroup").is_none());
    ferry_test_support::cfn_lint_files(&[
        out.path().join("orders-test.stack.json"),
        out.path().join("tcp-test.stack.json"),
    ])
    .unwrap();
}

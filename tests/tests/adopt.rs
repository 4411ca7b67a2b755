//! `ferry adopt`'s comparison on the templates Copilot deploys for a small
//! app (an environment, a Load Balanced Web Service, a Backend Service, a
//! Worker Service and a Scheduled Job, shaped by `copilot_shapes` from the
//! workspace's manifests) against what ferry renders for the same
//! manifests (`ferry package`): nothing that holds state or traffic is
//! replaced or removed, and Copilot's helpers retire.

use crate::common;
use crate::copilot;

use common::ferry;
use ferry_core::adopt::{self, Fate, Holds, StackPlan};
use indexmap::IndexMap;
use serde_json::Value;
use std::collections::HashSet;
use std::path::Path;

pub const WORKSPACE: &[(&str, &str)] = &[
    ("copilot/.workspace", "application: shop\n"),
    ("copilot/environments/test/manifest.yml", "name: test\ntype: Environment\n"),
    (
        "copilot/web/manifest.yml",
        "name: web\ntype: Load Balanced Web Service\nimage:\n  location: public.ecr.aws/nginx/nginx:stable\n  port: 80\nhttp:\n  path: /\ncpu: 256\nmemory: 512\ncount: 1\n",
    ),
    (
        "copilot/api/manifest.yml",
        "name: api\ntype: Backend Service\nimage:\n  location: public.ecr.aws/nginx/nginx:stable\n  port: 8080\ncpu: 256\nmemory: 512\ncount: 1\npublish:\n  topics:\n    - name: orders\n",
    ),
    (
        "copilot/jobs/manifest.yml",
        "name: jobs\ntype: Worker Service\nimage:\n  location: public.ecr.aws/nginx/nginx:stable\nsubscribe:\n  topics:\n    - name: orders\n      service: api\n",
    ),
    (
        "copilot/report/manifest.yml",
        "name: report\ntype: Scheduled Job\nimage:\n  location: public.ecr.aws/nginx/nginx:stable\non:\n  schedule: \"@daily\"\n",
    ),
];

/// An app with a domain (Copilot's `app init --domain`) whose service has
/// an alias: Copilot's environment then delegates its zone, issues its
/// certificate and writes the alias records through Lambda-backed helpers.
pub const DOMAIN_WORKSPACE: &[(&str, &str)] = &[
    ("copilot/.workspace", "application: shop\ndomain: example.com\n"),
    ("copilot/environments/test/manifest.yml", "name: test\ntype: Environment\n"),
    (
        "copilot/web/manifest.yml",
        "name: web\ntype: Load Balanced Web Service\nimage:\n  location: public.ecr.aws/nginx/nginx:stable\n  port: 80\nhttp:\n  path: /\n  alias: web.shop.example.com\ncpu: 256\nmemory: 512\ncount: 1\n",
    ),
];

fn workspace() -> tempfile::TempDir {
    workspace_of(WORKSPACE)
}

fn workspace_of(files: &[(&str, &str)]) -> tempfile::TempDir {
    let ws = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let file = ws.path().join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, text).unwrap();
    }
    ws
}

/// ferry's template of `file` (`<name>.stack.json`) for environment `test`.
fn packaged(dir: &Path, out: &Path, file: &str) -> Packaged {
    if !out.join(file).exists() {
        let status = ferry(dir).args(["package", "-e", "test", "--output-dir"]).arg(out).output().unwrap();
        assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    }
    let read =
        |file: &str| -> Value { serde_json::from_str(&std::fs::read_to_string(out.join(file)).unwrap()).unwrap() };
    let configuration = read(&file.replace(".stack.json", ".params.json"));
    let parameters = configuration["Parameters"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_string)))
        .collect();
    Packaged { template: read(file), parameters }
}

/// A template `ferry package` wrote, with the parameter values beside it.
struct Packaged {
    template: Value,
    parameters: IndexMap<String, String>,
}

/// The resources of `template` CloudFormation creates with `parameters`:
/// those without a condition, or whose condition holds (`Fn::Not`,
/// `Fn::And`, `Fn::Equals` of a parameter and a string, `Condition`: what
/// the shapes use).
fn deployed(template: &Value, parameters: &[(String, String)]) -> HashSet<String> {
    fn value(v: &Value, parameters: &[(String, String)]) -> String {
        match v.get("Ref").and_then(Value::as_str) {
            Some(p) => parameters.iter().find(|(k, _)| k == p).map(|(_, v)| v.clone()).unwrap_or_default(),
            None => v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()),
        }
    }
    fn holds(c: &Value, template: &Value, parameters: &[(String, String)]) -> bool {
        if let Some(name) = c.get("Condition").and_then(Value::as_str) {
            return holds(&template["Conditions"][name], template, parameters);
        }
        if let Some([inner]) = c.get("Fn::Not").and_then(Value::as_array).map(Vec::as_slice) {
            return !holds(inner, template, parameters);
        }
        if let Some(all) = c.get("Fn::And").and_then(Value::as_array) {
            return all.iter().all(|c| holds(c, template, parameters));
        }
        if let Some([a, b]) = c.get("Fn::Equals").and_then(Value::as_array).map(Vec::as_slice) {
            return value(a, parameters) == value(b, parameters);
        }
        panic!("no such condition form in the shapes: {c}")
    }
    template["Resources"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, r)| {
            r.get("Condition")
                .and_then(Value::as_str)
                .is_none_or(|name| holds(&template["Conditions"][name], template, parameters))
        })
        .map(|(id, _)| id.clone())
        .collect()
}

fn plan(copilot: &(Value, Vec<(String, String)>), ferry: &Packaged) -> StackPlan {
    let values: IndexMap<String, String> = copilot.1.iter().cloned().collect();
    adopt::compare(
        adopt::Side { template: &copilot.0, parameters: &values },
        adopt::Side { template: &ferry.template, parameters: &ferry.parameters },
        Some(&deployed(&copilot.0, &copilot.1)),
    )
}

#[test]
fn adopting_a_small_copilot_app_replaces_and_removes_nothing_that_holds_state_or_traffic() {
    let ws = workspace();
    let out = tempfile::tempdir().unwrap();
    let app = copilot::App::from_workspace(ws.path(), "test");
    let mut stacks =
        vec![("shop-test".to_string(), copilot::environment(&app, false), "test.env.stack.json".to_string())];
    for w in &app.workloads {
        stacks.push((
            format!("shop-test-{}", w.name),
            copilot::workload(&app, w, false),
            format!("{}-test.stack.json", w.name),
        ));
    }
    assert_eq!(stacks.len(), 5, "environment, LBWS, Backend, Worker, Scheduled Job");
    for (stack, copilot, file) in &stacks {
        let ferry = packaged(ws.path(), out.path(), file);
        let plan = plan(copilot, &ferry);
        let shown: Vec<String> =
            plan.resources.iter().filter(|r| r.fate != Fate::Kept).map(|r| r.to_string()).collect();
        assert!(plan.blocking().is_empty(), "{stack}: {:?}\n{shown:#?}", plan.blocking());
        // Whatever else is replaced or removed holds nothing.
        for r in plan.resources.iter().filter(|r| matches!(r.fate, Fate::Replaced | Fate::Removed)) {
            assert_eq!(r.holds, Holds::Nothing, "{stack}: {r}");
        }
        // What holds state or traffic in Copilot's stack is kept, in place.
        let guarded: Vec<&str> = plan
            .resources
            .iter()
            .filter(|r| r.holds != Holds::Nothing && r.fate != Fate::Added)
            .map(|r| r.logical_id.as_str())
            .collect();
        assert!(!guarded.is_empty(), "{stack}: the shape holds state or traffic");
        for id in guarded {
            let kept = plan.resources.iter().find(|r| r.logical_id == id).unwrap();
            assert_eq!(kept.fate, Fate::Kept, "{stack}: {kept}");
        }
        if stack != "shop-test" {
            let retired = plan.retired();
            for helper in ["EnvControllerAction", "EnvControllerFunction", "EnvControllerRole"] {
                assert!(retired.contains(&helper), "{stack}: {helper} retires: {retired:?}");
            }
        }
        println!("{stack}:\n  {}", shown.join("\n  "));
    }
    // The service behind the load balancer also retires the rule-priority helper.
    let web = &stacks.iter().find(|(s, ..)| s == "shop-test-web").unwrap().1;
    let retired = plan(web, &packaged(ws.path(), out.path(), "web-test.stack.json"));
    for helper in ["HTTPRulePriorityAction", "RulePriorityFunction", "RulePriorityFunctionRole"] {
        assert!(retired.retired().contains(&helper), "{helper}: {:?}", retired.retired());
    }
    // Without `http.version` ferry leaves the target group's create-only
    // `ProtocolVersion` out, as Copilot does: the target group stays.
    let target_group = retired.resources.iter().find(|r| r.logical_id == "TargetGroup").unwrap();
    assert_eq!(target_group.fate, Fate::Kept, "{target_group}");
    // Counted: the five stacks keep the VPC, subnets, load balancer, listener,
    // services, log groups, topic and queue.
    let kept_guarded: usize = stacks
        .iter()
        .map(|(_, c, f)| plan(c, &packaged(ws.path(), out.path(), f)))
        .map(|p| p.resources.iter().filter(|r| r.fate == Fate::Kept && r.holds != Holds::Nothing).count())
        .sum();
    assert!(kept_guarded >= 14, "{kept_guarded}");
}

#[test]
fn a_template_that_would_replace_the_load_balancer_is_refused_naming_the_property() {
    let ws = workspace();
    let out = tempfile::tempdir().unwrap();
    let app = copilot::App::from_workspace(ws.path(), "test");
    let (mut template, parameters) = copilot::environment(&app, false);
    template["Resources"]["PublicLoadBalancer"]["Properties"]["Scheme"] = "internal".into();
    let ferry = packaged(ws.path(), out.path(), "test.env.stack.json");
    let plan = plan(&(template, parameters), &ferry);
    let refused: Vec<String> = plan.blocking().iter().map(|r| r.to_string()).collect();
    assert_eq!(
        refused,
        [
            "PublicLoadBalancer (AWS::ElasticLoadBalancingV2::LoadBalancer) replaced: changing Scheme requires a new resource"
        ]
    );
}

#[test]
fn adopting_an_app_with_a_domain_retires_its_dns_certificate_and_alias_helpers() {
    let ws = workspace_of(DOMAIN_WORKSPACE);
    let out = tempfile::tempdir().unwrap();
    let app = copilot::App::from_workspace(ws.path(), "test");
    assert_eq!(app.aliases(), r#"{"web":["web.shop.example.com"]}"#);

    let env = copilot::environment(&app, false);
    let live = deployed(&env.0, &env.1);
    for id in ["EnvironmentHostedZone", "HTTPSListener", "DelegateDNSAction", "HTTPSCert", "CustomDomainAction"] {
        assert!(live.contains(id), "{id} is deployed with the domain: {live:?}");
    }
    let env_plan = plan(&env, &packaged(ws.path(), out.path(), "test.env.stack.json"));
    let shown: Vec<String> =
        env_plan.resources.iter().filter(|r| r.fate != Fate::Kept).map(|r| r.to_string()).collect();
    assert_eq!(env_plan.blocking(), Vec::<&adopt::ResourcePlan>::new(), "{shown:#?}");
    for r in env_plan.resources.iter().filter(|r| matches!(r.fate, Fate::Replaced | Fate::Removed)) {
        assert_eq!(r.holds, Holds::Nothing, "{r}");
    }
    // The zone, the load balancer and both listeners stay where they are.
    for id in ["EnvironmentHostedZone", "PublicLoadBalancer", "HTTPListener", "HTTPSListener"] {
        let r = env_plan.resources.iter().find(|r| r.logical_id == id).unwrap();
        assert_eq!(r.fate, Fate::Kept, "{r}");
    }
    // Copilot's domain helpers retire, with their functions and their role;
    // nothing runs their delete handlers (which would remove the zone's
    // delegation, the certificate and the alias records).
    let retired = env_plan.retired();
    for id in [
        "DelegateDNSAction",
        "HTTPSCert",
        "CustomDomainAction",
        "DNSDelegationFunction",
        "CertificateValidationFunction",
        "CustomDomainFunction",
        "CustomResourceRole",
    ] {
        assert!(retired.contains(&id), "{id} retires: {retired:?}\n{shown:#?}");
    }
    for id in ["DelegateDNSAction", "HTTPSCert", "CustomDomainAction"] {
        let r = env_plan.resources.iter().find(|r| r.logical_id == id).unwrap();
        assert!(adopt::is_custom_resource(&r.resource_type), "{r}");
    }

    // The service on the HTTPS listener: its rules and target group kept, its
    // HTTPS rule-priority helper and the environment controller retired.
    let web = copilot::workload(&app, app.workload("web"), false);
    assert_eq!(
        web.0["Resources"]["EnvControllerAction"]["Properties"]["Aliases"],
        serde_json::json!(["web.shop.example.com"])
    );
    let web_plan = plan(&web, &packaged(ws.path(), out.path(), "web-test.stack.json"));
    let shown: Vec<String> =
        web_plan.resources.iter().filter(|r| r.fate != Fate::Kept).map(|r| r.to_string()).collect();
    assert!(web_plan.blocking().is_empty(), "{shown:#?}");
    for id in ["Service", "TargetGroup", "HTTPListenerRuleWithDomain", "HTTPSListenerRule"] {
        let r = web_plan.resources.iter().find(|r| r.logical_id == id).unwrap_or_else(|| panic!("{id}: {shown:#?}"));
        assert_eq!(r.fate, Fate::Kept, "{r}");
    }
    for id in [
        "HTTPSRulePriorityAction",
        "RulePriorityFunction",
        "RulePriorityFunctionRole",
        "EnvControllerAction",
        "EnvControllerFunction",
        "EnvControllerRole",
    ] {
        assert!(web_plan.retired().contains(&id), "{id} retires: {:?}", web_plan.retired());
    }
}

//! `ferry adopt` on the emulator: an app Copilot deployed (stacks shaped
//! like Copilot's, built from the manifests by `copilot_shapes`, with
//! Copilot's stack names, tags and SSM records; its Lambda-backed custom
//! resources stood in by the moto shim's `Custom::FerryStandIn...`, which
//! records every delete a handler would run) is taken over in place:
//! `ferry deploy` refuses it first, `--plan` lists what retires and
//! nothing that holds state or traffic replaced, the adoption keeps every
//! such resource's physical ID, runs no delete handler, and the next
//! `ferry deploy` makes no mutating call. A Copilot stack whose load
//! balancer ferry would replace is refused, naming it and the property.

use crate::common;
use crate::copilot;

use aws_sdk_cloudformation::types::{Capability, Parameter, Tag};
use common::{fail_on_moto, json_events as events, run_on_moto as run};
use ferry_core::adopt::{Holds, holds};
use ferry_test_support::Moto;
use serde_json::{Value, json};
use std::collections::BTreeMap;

const WORKSPACE: &[(&str, &str)] = &[
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

/// An app with a domain whose service has an alias (Copilot's environment
/// then has its DNS delegation, certificate and alias helpers).
const DOMAIN_WORKSPACE: &[(&str, &str)] = &[
    ("copilot/.workspace", "application: shop\ndomain: example.com\n"),
    ("copilot/environments/test/manifest.yml", "name: test\ntype: Environment\n"),
    (
        "copilot/web/manifest.yml",
        "name: web\ntype: Load Balanced Web Service\nimage:\n  location: public.ecr.aws/nginx/nginx:stable\n  port: 80\nhttp:\n  path: /\n  alias: web.shop.example.com\ncpu: 256\nmemory: 512\ncount: 1\n",
    ),
];

fn workspace(only: &[&str]) -> tempfile::TempDir {
    workspace_of(WORKSPACE, only)
}

fn workspace_of(files: &[(&str, &str)], only: &[&str]) -> tempfile::TempDir {
    let ws = tempfile::tempdir().unwrap();
    for (path, text) in files {
        if !only.is_empty() && !only.iter().any(|o| path.contains(o)) {
            continue;
        }
        let file = ws.path().join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, text).unwrap();
    }
    ws
}

/// What Copilot's `env deploy` and `svc deploy` leave: its SSM records and
/// its stacks, with its names and tags.
async fn deploy_like_copilot(aws: &ferry_aws::AwsContext, app: &copilot::App, env_template: Value) {
    let ssm = aws.ssm();
    let cfn = aws.cloudformation();
    let account = aws.account_id().await.unwrap();
    let put = |name: String, value: Value| {
        let ssm = ssm.clone();
        async move {
            ssm.put_parameter()
                .name(name)
                .value(value.to_string())
                .r#type(aws_sdk_ssm::types::ParameterType::String)
                .overwrite(true)
                .send()
                .await
                .unwrap();
        }
    };
    put(
        format!("/copilot/applications/{}/environments/{}", app.name, app.env),
        json!({"app": app.name, "name": app.env, "region": "us-west-2", "accountID": account, "prod": false,
            "registryURL": format!("{account}.dkr.ecr.us-west-2.amazonaws.com"),
            "executionRoleARN": format!("arn:aws:iam::{account}:role/{}-{}-CFNExecutionRole", app.name, app.env),
            "managerRoleARN": format!("arn:aws:iam::{account}:role/{}-{}-EnvManagerRole", app.name, app.env)}),
    )
    .await;
    let create =
        |name: String, template: Value, parameters: Vec<(String, String)>, tags: Vec<(&'static str, String)>| {
            let cfn = cfn.clone();
            async move {
                cfn.create_stack()
                    .stack_name(&name)
                    .template_body(template.to_string())
                    .set_parameters(Some(
                        parameters
                            .into_iter()
                            .map(|(k, v)| Parameter::builder().parameter_key(k).parameter_value(v).build())
                            .collect(),
                    ))
                    .set_tags(Some(tags.into_iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()))
                    .capabilities(Capability::CapabilityIam)
                    .capabilities(Capability::CapabilityNamedIam)
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("{name}: {e:?}"));
                let stack = cfn.describe_stacks().stack_name(&name).send().await.unwrap();
                let status = stack.stacks()[0].stack_status().unwrap().as_str().to_string();
                assert_eq!(status, "CREATE_COMPLETE", "{name}: {:?}", stack.stacks()[0].stack_status_reason());
            }
        };
    let base = vec![("copilot-application", app.name.clone()), ("copilot-environment", app.env.clone())];
    let (_, env_parameters) = copilot::environment(app, true);
    create(format!("{}-{}", app.name, app.env), env_template, env_parameters, base.clone()).await;
    for w in &app.workloads {
        let kind = match w.kind {
            copilot::Kind::LoadBalancedWebService => "Load Balanced Web Service",
            copilot::Kind::BackendService => "Backend Service",
            copilot::Kind::WorkerService => "Worker Service",
            copilot::Kind::ScheduledJob => "Scheduled Job",
        };
        put(
            format!("/copilot/applications/{}/components/{}", app.name, w.name),
            json!({"app": app.name, "name": w.name, "type": kind}),
        )
        .await;
        let (template, parameters) = copilot::workload(app, w, true);
        let mut tags = base.clone();
        tags.push(("copilot-service", w.name.clone()));
        create(format!("{}-{}-{}", app.name, app.env, w.name), template, parameters, tags).await;
    }
}

/// Physical IDs of everything that holds state or traffic, by stack and logical ID.
async fn guarded_ids(aws: &ferry_aws::AwsContext, stacks: &[String]) -> BTreeMap<String, String> {
    let cfn = aws.cloudformation();
    let mut ids = BTreeMap::new();
    for stack in stacks {
        let out = cfn.describe_stack_resources().stack_name(stack).send().await.unwrap();
        for r in out.stack_resources() {
            if holds(r.resource_type().unwrap_or_default()) != Holds::Nothing {
                ids.insert(
                    format!("{stack}/{}", r.logical_resource_id().unwrap_or_default()),
                    r.physical_resource_id().unwrap_or_default().to_string(),
                );
            }
        }
    }
    ids
}

/// The stand-in custom resources whose delete handler ran.
async fn handlers_run(aws: &ferry_aws::AwsContext) -> Vec<String> {
    let out = aws
        .ssm()
        .get_parameters_by_path()
        .path("/ferry-test/custom-resource-deletes")
        .recursive(true)
        .send()
        .await
        .unwrap();
    out.parameters().iter().filter_map(|p| p.name().map(str::to_string)).collect()
}

/// The physical IDs of the resources of `types` in `stacks`, by `stack/logical ID`.
async fn physical_ids(aws: &ferry_aws::AwsContext, stacks: &[String], types: &[&str]) -> BTreeMap<String, String> {
    let cfn = aws.cloudformation();
    let mut ids = BTreeMap::new();
    for stack in stacks {
        let out = cfn.describe_stack_resources().stack_name(stack).send().await.unwrap();
        for r in out.stack_resources() {
            if types.contains(&r.resource_type().unwrap_or_default()) {
                ids.insert(
                    format!("{stack}/{}", r.logical_resource_id().unwrap_or_default()),
                    r.physical_resource_id().unwrap_or_default().to_string(),
                );
            }
        }
    }
    ids
}

async fn function_exists(aws: &ferry_aws::AwsContext, name: &str) -> bool {
    match aws.lambda().get_function().function_name(name).send().await {
        Ok(_) => true,
        Err(e) => {
            let e = format!("{e:?}");
            assert!(e.contains("ResourceNotFound"), "{name}: {e}");
            false
        }
    }
}

async fn role_exists(aws: &ferry_aws::AwsContext, name: &str) -> bool {
    match aws.iam().get_role().role_name(name).send().await {
        Ok(_) => true,
        Err(e) => {
            let e = format!("{e:?}");
            assert!(e.contains("NoSuchEntity"), "{name}: {e}");
            false
        }
    }
}

async fn template(aws: &ferry_aws::AwsContext, stack: &str) -> Value {
    let body = aws.cloudformation().get_template().stack_name(stack).send().await.unwrap();
    serde_json::from_str(body.template_body().unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_copilot_app_is_adopted_in_place_without_running_a_delete_handler() {
    let moto = Moto::start();
    moto.export_env();
    let aws = ferry_aws::AwsContext::load(None).await;
    let ws = workspace(&[]);
    let dir = ws.path();
    run(&moto, dir, &["app", "init"]);
    let app = copilot::App::from_workspace(dir, "test");
    deploy_like_copilot(&aws, &app, copilot::environment(&app, true).0).await;
    let mut stacks = vec!["shop-test".to_string()];
    stacks.extend(app.workloads.iter().map(|w| format!("shop-test-{}", w.name)));
    let before = guarded_ids(&aws, &stacks).await;
    for id in [
        "shop-test/PublicLoadBalancer",
        "shop-test-web/Service",
        "shop-test-api/ordersSNSTopic",
        "shop-test-jobs/EventsQueue",
    ] {
        assert!(before.contains_key(id), "{id} in {before:#?}");
    }

    // The helpers' functions and roles exist (moto created the functions
    // from their inline code), and so do the roles ferry's templates keep.
    let functions = physical_ids(&aws, &stacks, &["AWS::Lambda::Function"]).await;
    let roles = physical_ids(&aws, &stacks, &["AWS::IAM::Role"]).await;
    let retiring_roles: BTreeMap<&String, &String> = roles
        .iter()
        .filter(|(id, _)| id.ends_with("/EnvControllerRole") || id.ends_with("/RulePriorityFunctionRole"))
        .collect();
    let kept_roles: BTreeMap<&String, &String> = roles
        .iter()
        .filter(|(id, _)| {
            id.ends_with("/ExecutionRole") || id.ends_with("/TaskRole") || id.ends_with("/EnvironmentManagerRole")
        })
        .collect();
    assert_eq!(
        functions.len(),
        5,
        "four environment controllers and the web service's rule-priority function: {functions:?}"
    );
    assert_eq!(retiring_roles.len(), 5, "{roles:?}");
    assert!(kept_roles.len() >= 9, "{roles:?}");
    for name in functions.values() {
        assert!(function_exists(&aws, name).await, "{name}");
    }
    for name in retiring_roles.values().chain(kept_roles.values()) {
        assert!(role_exists(&aws, name).await, "{name}");
    }

    // ferry deploy does not touch what Copilot deployed.
    let err = fail_on_moto(&moto, dir, &["deploy", "-e", "test"], "the environment is Copilot's");
    assert!(err.contains("stack shop-test was deployed by Copilot v1.34.1 and ferry has not adopted it"), "{err}");
    assert!(err.contains("ferry adopt --plan"), "{err}");

    // The plan: every stack, its helpers to retire, nothing guarded replaced or removed.
    let stream = run(&moto, dir, &["adopt", "-e", "test", "--plan", "--json"]);
    let plans: Vec<Value> = events(&stream).into_iter().filter(|e| e["event"] == "adopt_plan").collect();
    let named: Vec<&str> = plans.iter().map(|p| p["stack"].as_str().unwrap()).collect();
    assert_eq!(named, ["shop-test", "shop-test-api", "shop-test-jobs", "shop-test-report", "shop-test-web"]);
    for plan in &plans {
        assert_eq!(plan["blocking"], json!([]), "{plan:#}");
        assert_eq!(plan["change_set"], json!([]), "{plan:#}");
        assert_eq!(plan["origin"]["origin"], "copilot", "{plan:#}");
        if plan["stack"] != "shop-test" {
            let retire: Vec<&str> =
                plan["retire"].as_array().unwrap().iter().map(|r| r["logical_id"].as_str().unwrap()).collect();
            assert!(retire.contains(&"EnvControllerAction"), "{plan:#}");
        }
    }
    assert_eq!(handlers_run(&aws).await, Vec::<String>::new(), "--plan changes nothing");
    assert!(template(&aws, "shop-test-web").await["Resources"]["EnvControllerAction"].is_object());

    // Adopt.
    let stream = run(&moto, dir, &["adopt", "-e", "test", "--yes", "--json"]);
    let adopted = events(&stream).into_iter().find(|e| e["event"] == "adopted").expect("an adopted event");
    assert_eq!(handlers_run(&aws).await, Vec::<String>::new(), "a delete handler ran:\n{stream}");
    let after = guarded_ids(&aws, &stacks).await;
    for (id, physical) in &before {
        assert_eq!(after.get(id), Some(physical), "{id} was replaced or removed");
    }
    let cfn = aws.cloudformation();
    for stack in &stacks {
        let t = template(&aws, stack).await;
        let custom: Vec<&String> = t["Resources"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(_, r)| r["Type"].as_str().unwrap().starts_with("Custom::"))
            .map(|(id, _)| id)
            .collect();
        assert!(custom.is_empty(), "{stack} still has {custom:?}");
        let described = cfn.describe_stacks().stack_name(stack).send().await.unwrap();
        let tags: Vec<(String, String)> = described.stacks()[0]
            .tags()
            .iter()
            .map(|t| (t.key().unwrap_or_default().to_string(), t.value().unwrap_or_default().to_string()))
            .collect();
        assert!(tags.contains(&("ferry:adopted-from".into(), "copilot".into())), "{stack}: {tags:?}");
    }
    // The environment controller's parameters kept their values.
    let env = cfn.describe_stacks().stack_name("shop-test").send().await.unwrap();
    let alb = env.stacks()[0].parameters().iter().find(|p| p.parameter_key() == Some("ALBWorkloads")).unwrap();
    assert_eq!(alb.parameter_value(), Some("web"));
    // ferry deleted the retired helpers' functions and roles (and their log
    // groups, which Lambda never made here), and nothing else: the roles its
    // templates use are there.
    let leftovers = adopted["leftovers"].as_array().unwrap();
    for (id, name) in functions.iter().chain(retiring_roles.iter().map(|(k, v)| (*k, *v))) {
        let reported =
            leftovers.iter().find(|l| l["physical_id"] == name.as_str()).unwrap_or_else(|| panic!("{id}: {adopted:#}"));
        assert_eq!(reported["deleted"], true, "{id}: {reported}");
        assert!(reported.get("command").is_none() && reported.get("error").is_none(), "{reported}");
    }
    for name in functions.values() {
        assert!(!function_exists(&aws, name).await, "{name} is left");
    }
    for name in retiring_roles.values() {
        assert!(!role_exists(&aws, name).await, "{name} is left");
    }
    for (id, name) in &kept_roles {
        assert!(role_exists(&aws, name).await, "{id} ({name}) was deleted");
    }
    assert_eq!(
        leftovers.iter().filter(|l| l["deleted"] == true).count(),
        functions.len() + retiring_roles.len(),
        "only the retired functions and roles were deleted: {adopted:#}"
    );
    let adopted_parameters =
        cfn.describe_stacks().stack_name("shop-test").send().await.unwrap().stacks()[0].parameters().to_vec();

    // Adopted: the next deploy is up to date without a mutating call.
    let stream = run(&moto, dir, &["deploy", "-e", "test", "--json"]);
    let calls = events(&stream).into_iter().rev().find(|e| e["event"] == "api_calls").expect("api_calls event");
    assert_eq!(calls["mutating"], 0, "the deploy after adoption mutated: {calls}\n{stream}");
    // ferry's own controller parameters (ALBWorkloads, ...) are the ones
    // adoption set: what the controller created stays.
    let deployed_parameters =
        cfn.describe_stacks().stack_name("shop-test").send().await.unwrap().stacks()[0].parameters().to_vec();
    assert_eq!(deployed_parameters, adopted_parameters);
    // And adopt has nothing left to do.
    let stream = run(&moto, dir, &["adopt", "-e", "test", "--plan", "--json"]);
    let origins: Vec<Value> = events(&stream)
        .into_iter()
        .filter(|e| e["event"] == "adopt_plan")
        .map(|p| p["origin"]["origin"].clone())
        .collect();
    assert_eq!(origins, vec![json!("ferry"); 5], "{stream}");
    assert_eq!(handlers_run(&aws).await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread")]
async fn adopting_a_copilot_environment_whose_load_balancer_ferry_would_replace_is_refused() {
    let moto = Moto::start();
    moto.export_env();
    let aws = ferry_aws::AwsContext::load(None).await;
    let ws = workspace(&[".workspace", "environments", "web/"]);
    let dir = ws.path();
    run(&moto, dir, &["app", "init"]);
    let app = copilot::App::from_workspace(dir, "test");
    let (mut env, _) = copilot::environment(&app, true);
    env["Resources"]["PublicLoadBalancer"]["Properties"]["Scheme"] = "internal".into();
    deploy_like_copilot(&aws, &app, env).await;
    let before = template(&aws, "shop-test").await;

    let err = fail_on_moto(&moto, dir, &["adopt", "-e", "test", "--yes"], "the load balancer would be replaced");
    assert!(
        err.contains("shop-test: PublicLoadBalancer (AWS::ElasticLoadBalancingV2::LoadBalancer) replaced: changing Scheme requires a new resource"),
        "{err}"
    );
    assert!(err.contains("nothing was changed"), "{err}");
    assert_eq!(template(&aws, "shop-test").await, before, "step 1 did not run");
    assert_eq!(handlers_run(&aws).await, Vec::<String>::new());

    // The recorder the adoption test relies on does see a delete handler
    // run: deleting Copilot's service stack as it is runs two.
    aws.cloudformation().delete_stack().stack_name("shop-test-web").send().await.unwrap();
    let mut ran = handlers_run(&aws).await;
    ran.sort();
    assert_eq!(
        ran,
        [
            "/ferry-test/custom-resource-deletes/shop-test-web/EnvControllerAction",
            "/ferry-test/custom-resource-deletes/shop-test-web/HTTPRulePriorityAction"
        ]
    );
}

/// An app with a domain: Copilot's environment delegated its zone, issued
/// its certificate and wrote the alias's record through Lambda-backed
/// helpers (`DelegateDNSAction`, `HTTPSCert`, `CustomDomainAction`), whose
/// delete handlers would undo that. The plan retires them, and adopting
/// keeps the zone, the load balancer and the HTTPS listener and runs none.
#[tokio::test(flavor = "multi_thread")]
async fn a_copilot_app_with_a_domain_is_adopted_without_running_its_dns_and_certificate_handlers() {
    let moto = Moto::start();
    moto.export_env();
    let aws = ferry_aws::AwsContext::load(None).await;
    // The domain's own zone, registered outside Copilot.
    aws.route53().create_hosted_zone().name("example.com").caller_reference("root").send().await.unwrap();
    let ws = workspace_of(DOMAIN_WORKSPACE, &[]);
    let dir = ws.path();
    run(&moto, dir, &["app", "init", "shop", "--domain", "example.com"]);
    let app = copilot::App::from_workspace(dir, "test");
    deploy_like_copilot(&aws, &app, copilot::environment(&app, true).0).await;
    let stacks = vec!["shop-test".to_string(), "shop-test-web".to_string()];
    let before = guarded_ids(&aws, &stacks).await;
    for id in ["shop-test/EnvironmentHostedZone", "shop-test/PublicLoadBalancer", "shop-test/HTTPSListener"] {
        assert!(before.contains_key(id), "{id} in {before:#?}");
    }

    let stream = run(&moto, dir, &["adopt", "-e", "test", "--plan", "--json"]);
    let plans: Vec<Value> = events(&stream).into_iter().filter(|e| e["event"] == "adopt_plan").collect();
    let env = plans.iter().find(|p| p["stack"] == "shop-test").unwrap_or_else(|| panic!("{stream}"));
    assert_eq!(env["blocking"], json!([]), "{env:#}");
    assert_eq!(env["change_set"], json!([]), "{env:#}");
    let mut custom: Vec<&str> = env["retire"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["custom"] == true)
        .map(|r| r["logical_id"].as_str().unwrap())
        .collect();
    custom.sort();
    assert_eq!(custom, ["CustomDomainAction", "DelegateDNSAction", "HTTPSCert"], "{env:#}");
    let kept: Vec<&str> = env["kept"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    for id in ["EnvironmentHostedZone", "PublicLoadBalancer", "HTTPSListener"] {
        assert!(kept.contains(&id), "{id} kept: {env:#}");
    }
    for plan in &plans {
        let replaced = plan["replaced"].as_array().unwrap();
        let removed = plan["removed"].as_array().unwrap();
        assert!(
            replaced.iter().chain(removed).all(|r| r["holds"] == "nothing"),
            "{}: nothing that holds state or traffic is replaced or removed: {plan:#}",
            plan["stack"]
        );
    }
    let helpers = physical_ids(&aws, &stacks[..1], &["AWS::Lambda::Function", "AWS::IAM::Role"]).await;
    assert!(
        helpers.contains_key("shop-test/DNSDelegationFunction") && helpers.contains_key("shop-test/CustomResourceRole")
    );

    let stream = run(&moto, dir, &["adopt", "-e", "test", "--yes", "--json"]);
    assert_eq!(handlers_run(&aws).await, Vec::<String>::new(), "a delete handler ran:\n{stream}");
    let after = guarded_ids(&aws, &stacks).await;
    for (id, physical) in &before {
        assert_eq!(after.get(id), Some(physical), "{id} was replaced or removed");
    }
    for id in ["DNSDelegationFunction", "CertificateValidationFunction", "CustomDomainFunction"] {
        assert!(!function_exists(&aws, &helpers[&format!("shop-test/{id}")]).await, "{id} is left");
    }
    assert!(!role_exists(&aws, &helpers["shop-test/CustomResourceRole"]).await);
    assert!(role_exists(&aws, &helpers["shop-test/EnvironmentManagerRole"]).await);
}

//! Renders every fixture manifest natively (no wasm) and checks the
//! templates: snapshots, one cfn-lint pass over all of them, and the
//! behaviour each fixture exists for.

use ferry_plugin_scheduled_job::ScheduledJob;
use ferry_plugin_sdk::protocol::{AddonsOutputs, ImageRef};
use ferry_plugin_sdk::{Plugin, RenderContext, RenderError, Rendered, Value, json};
use ferry_test_support::{load_yaml as load, plugin, stem};
use std::path::{Path, PathBuf};

fn fixtures(dir: &str) -> Vec<PathBuf> {
    plugin::fixtures(env!("CARGO_MANIFEST_DIR"), dir)
}

/// The environment each fixture renders against.
fn context_for(fixture: &str, manifest: &Value) -> RenderContext {
    let mut ctx = RenderContext {
        app: "chat".into(),
        env: "test".into(),
        name: manifest["name"].as_str().unwrap_or_default().into(),
        ..Default::default()
    };
    if fixture == "addons" {
        ctx.image = Some(ImageRef {
            uri: "123456789012.dkr.ecr.us-west-2.amazonaws.com/chat/exporter:abc1234".into(),
            digest: Some("sha256:0123".into()),
        });
        ctx.addons = Some(AddonsOutputs {
            managed_policies: vec!["ExportBucketAccessPolicy".into()],
            secrets: vec!["APIKeySecret".into()],
            security_groups: vec!["DBSecurityGroup".into()],
            variables: vec!["ExportBucketName".into()],
        });
    }
    ctx
}

fn render(path: &Path) -> Result<Rendered, RenderError> {
    let manifest = load(path);
    let ctx = context_for(&stem(path), &manifest);
    ScheduledJob::render(&manifest, &ctx)
}

fn rendered(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/manifests/{name}.yml"));
    match render(&path) {
        Ok(r) => json!({"template": r.template.to_json(), "parameters": r.parameters}),
        Err(e) => panic!("{name}.yml did not render: {e:?}"),
    }
}

/// The init template with its placeholders filled in, as `job init` does.
fn init_manifest(schedule: &str) -> Value {
    let filled = ScheduledJob::info()
        .manifest_template
        .replace("{{name}}", "nightly")
        .replace("{{dockerfile}}", "./Dockerfile")
        .replace("{{schedule}}", schedule);
    yaml_serde::from_str(&filled).unwrap_or_else(|e| panic!("template is not YAML: {e}"))
}

/// The state machine definition with the `Fn::Sub` variables left in.
fn definition(r: &Value) -> Value {
    let sub = &r["template"]["Resources"]["StateMachine"]["Properties"]["DefinitionString"]["Fn::Sub"];
    serde_json::from_str(sub[0].as_str().expect("definition text")).expect("definition is JSON")
}

fn run_state(r: &Value) -> Value {
    definition(r)["States"]["Run Fargate Task"].clone()
}

#[test]
fn valid_manifests_render_snapshot_and_lint_clean() {
    let files = fixtures("manifests");
    assert!(files.len() >= 13, "expected at least 13 fixtures, found {}", files.len());
    let mut templates = Vec::new();
    let mut to_render: Vec<(String, Result<Rendered, RenderError>)> =
        files.iter().map(|path| (stem(path), render(path))).collect();
    let init = init_manifest("@daily");
    to_render.push(("init-template".into(), ScheduledJob::render(&init, &context_for("init-template", &init))));
    for (name, result) in to_render {
        let rendered = match result {
            Ok(r) => r,
            Err(e) => panic!("{name}.yml did not render: {e:?}"),
        };
        let snapshot = plugin::checked_snapshot(&name, &rendered);
        let template = &snapshot["template"];
        // A job never has an ECS service or autoscaling.
        for id in ["Service", "AutoScalingTarget", "DiscoveryService"] {
            assert!(template["Resources"].get(id).is_none(), "{name}.yml: a job has no {id}");
        }
        assert!(template["Parameters"].get("TaskCount").is_none(), "{name}.yml: a job has no TaskCount");
        insta::assert_json_snapshot!(name.clone(), snapshot);
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

/// (fixture, JSON pointer, words of the message): the diagnostic each
/// invalid fixture exists for.
#[test]
fn invalid_manifests_point_at_the_field() {
    let cases: &[(&str, &str, &str)] = &[
        ("unknown-field", "/retry", "retries"),
        ("count-not-a-job-field", "/count", "unknown field"),
        ("exec-not-a-job-field", "/exec", "unknown field"),
        ("on-typo", "/on/schedual", "schedule"),
        ("missing-on", "", "missing required field `on`"),
        ("missing-schedule", "/on", "missing required field `schedule`"),
        ("wrong-type", "/retries", "three"),
        ("every-sub-minute", "/on/schedule", "shorter than a minute"),
        ("every-partial-minute", "/on/schedule", "not a whole number of minutes"),
        ("cron-both-days", "/on/schedule", "both the day of the month and the day of the week"),
        ("cron-out-of-range", "/on/schedule", "25 is outside 0-23"),
        ("cron-six-fields", "/on/schedule", "five fields"),
        ("raw-cron-no-question-mark", "/on/schedule", "exactly one of day-of-month and day-of-week"),
        ("rate-plural", "/on/schedule", "EventBridge refuses `rate(1 hours)`"),
        ("unknown-shortcut", "/on/schedule", "unknown schedule shortcut"),
        ("timeout-sub-second", "/timeout", "whole number of seconds"),
        ("bad-timeout", "/timeout", "unknown unit"),
        ("fargate-size", "/memory", "512"),
        ("wrong-type-name", "/type", "Scheduled Job"),
    ];
    for (fixture, path, words) in cases {
        let file = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/invalid/{fixture}.yml"));
        let d = ScheduledJob::validate(&load(&file));
        assert!(
            d.iter()
                .any(|d| d.path == *path && (d.message.contains(words) || d.hint.iter().any(|h| h.contains(words)))),
            "{fixture}: expected a diagnostic at `{path}` mentioning `{words}`, got {d:#?}"
        );
    }
}

#[test]
fn minimal_job_runs_daily_through_the_state_machine() {
    let r = rendered("minimal");
    let p = &r["parameters"];
    assert_eq!(p["Schedule"], "cron(0 0 * * ? *)");
    assert_eq!(p["TaskCPU"], "256");
    assert_eq!(p["TaskMemory"], "512");
    assert_eq!(p["LogRetention"], "30");
    assert_eq!(p["ContainerImage"], "", "a built image is filled in by the host");
    let res = &r["template"]["Resources"];
    let rule = &res["Rule"];
    assert_eq!(rule["Condition"], "HasSchedule");
    assert_eq!(rule["Properties"]["ScheduleExpression"], json!({"Ref": "Schedule"}));
    assert_eq!(rule["Properties"]["State"], "ENABLED");
    assert_eq!(rule["Properties"]["Targets"][0]["Arn"], json!({"Ref": "StateMachine"}));
    assert_eq!(rule["Properties"]["Targets"][0]["RoleArn"], json!({"Fn::GetAtt": ["RuleRole", "Arn"]}));
    assert!(res["RuleRole"]["Properties"]["Policies"].to_string().contains("states:StartExecution"));
    let sm = &res["StateMachine"]["Properties"];
    assert_eq!(sm["StateMachineName"], json!({"Fn::Sub": "${AppName}-${EnvName}-${WorkloadName}"}));
    let vars = &sm["DefinitionString"]["Fn::Sub"][1];
    assert_eq!(vars["Cluster"], json!({"Fn::ImportValue": {"Fn::Sub": "${AppName}-${EnvName}-ClusterId"}}));
    assert_eq!(vars["TaskDefinition"], json!({"Ref": "TaskDefinition"}));
    assert_eq!(
        vars["Subnets"],
        json!({"Fn::Join": ["\",\"", {"Fn::Split": [",", {"Fn::ImportValue": {"Fn::Sub": "${AppName}-${EnvName}-PublicSubnets"}}]}]})
    );
    assert!(vars["SecurityGroups"].to_string().contains("EnvironmentSecurityGroup"));
    let state = run_state(&r);
    assert_eq!(state["Resource"], "arn:${AWS::Partition}:states:::ecs:runTask.sync");
    assert_eq!(state["Parameters"]["LaunchType"], "FARGATE");
    assert_eq!(state["Parameters"]["NetworkConfiguration"]["AwsvpcConfiguration"]["AssignPublicIp"], "ENABLED");
    assert!(state.get("Retry").is_none(), "no retries by default");
    assert!(state.get("TimeoutSeconds").is_none(), "no timeout by default");
    let role = res["StateMachineRole"]["Properties"]["Policies"].to_string();
    for action in ["ecs:RunTask", "ecs:StopTask", "ecs:DescribeTasks", "iam:PassRole", "events:PutRule"] {
        assert!(role.contains(action), "state machine role lacks {action}: {role}");
    }
    assert_eq!(res["LogGroup"]["Type"], "AWS::Logs::LogGroup");
    assert_eq!(res["TaskDefinition"]["Properties"]["RequiresCompatibilities"], json!(["FARGATE"]));
}

#[test]
fn every_schedule_form_reaches_the_rule() {
    for (fixture, expression) in [
        ("daily", "cron(0 0 * * ? *)"),
        ("every-5m", "rate(5 minutes)"),
        ("weekday-cron", "cron(30 9 ? * MON-FRI *)"),
        ("unix-cron-numbers", "cron(0 18 ? * 1,7 *)"),
        ("raw-cron", "cron(0 23 L * ? *)"),
        ("raw-rate", "rate(2 hours)"),
        ("private-placement", "rate(90 minutes)"),
        ("arm64", "cron(0 0 ? * 1 *)"),
        ("windows", "cron(0 0 1 * ? *)"),
        ("sidecars", "cron(0 0 1 1 ? *)"),
        ("full", "cron(0 9 ? * 2-6 *)"),
        ("env-overridden", "rate(30 minutes)"),
    ] {
        let r = rendered(fixture);
        assert_eq!(r["parameters"]["Schedule"], expression, "{fixture}");
        assert_eq!(r["template"]["Resources"]["Rule"]["Condition"], "HasSchedule", "{fixture}");
    }
}

#[test]
fn schedule_none_creates_no_rule() {
    let r = rendered("none");
    assert_eq!(r["parameters"]["Schedule"], "none");
    let t = &r["template"];
    assert_eq!(t["Conditions"]["HasSchedule"], json!({"Fn::Not": [{"Fn::Equals": [{"Ref": "Schedule"}, "none"]}]}));
    assert_eq!(t["Resources"]["Rule"]["Condition"], "HasSchedule", "the rule exists only with a schedule");
    assert_eq!(t["Resources"]["RuleRole"]["Condition"], "HasSchedule");
    assert!(t["Resources"]["StateMachine"].get("Condition").is_none(), "`job run` still starts the state machine");
}

#[test]
fn timeout_and_retries_shape_the_task_state() {
    let state = run_state(&rendered("timeout-retries"));
    assert_eq!(state["TimeoutSeconds"], 5400);
    assert_eq!(state["Retry"][0]["ErrorEquals"], json!(["States.ALL"]));
    assert_eq!(state["Retry"][0]["MaxAttempts"], 3);
    let full = run_state(&rendered("full"));
    assert_eq!(full["TimeoutSeconds"], 2700);
    assert_eq!(full["Retry"][0]["MaxAttempts"], 2);
}

#[test]
fn private_placement_uses_private_subnets_without_public_ip() {
    let r = rendered("private-placement");
    let vars = &r["template"]["Resources"]["StateMachine"]["Properties"]["DefinitionString"]["Fn::Sub"][1];
    assert!(vars["Subnets"].to_string().contains("PrivateSubnets"));
    assert_eq!(vars["SecurityGroups"], json!({"Fn::Join": ["\",\"", ["sg-0aaaabbbbccccdddd"]]}), "deny_default");
    let vpc = &run_state(&r)["Parameters"]["NetworkConfiguration"]["AwsvpcConfiguration"];
    assert_eq!(vpc["AssignPublicIp"], "DISABLED");
    let full = rendered("full");
    let sgs =
        full["template"]["Resources"]["StateMachine"]["Properties"]["DefinitionString"]["Fn::Sub"][1]["SecurityGroups"]
            .to_string();
    assert!(sgs.contains("EnvironmentSecurityGroup") && sgs.contains("sg-0123456789abcdef0"));
    assert!(sgs.contains("chat-test-DatabaseSecurityGroup"));
}

#[test]
fn task_sections_come_from_the_sdk() {
    let full = rendered("full");
    let res = &full["template"]["Resources"];
    let td = &res["TaskDefinition"]["Properties"];
    let main = &td["ContainerDefinitions"][0];
    assert_eq!(main["Command"], json!(["python", "-m", "reports", "--all"]));
    assert_eq!(main["EntryPoint"], json!(["/bin/entry", "--verbose"]));
    assert_eq!(main["ReadonlyRootFilesystem"], true);
    assert_eq!(td["EphemeralStorage"], json!({"SizeInGiB": 40}));
    assert_eq!(td["ContainerDefinitions"][1]["Name"], "init");
    assert_eq!(full["parameters"]["LogRetention"], "14");
    assert_eq!(full["parameters"]["TaskCPU"], "1024");
    let env = full["parameters"].clone();
    assert_eq!(env["ContainerImage"], "123456789012.dkr.ecr.us-west-2.amazonaws.com/reports:1.4");

    let overridden = rendered("env-overridden");
    assert_eq!(overridden["parameters"]["TaskCPU"], "2048");
    assert_eq!(overridden["parameters"]["TaskMemory"], "4096");
    assert_eq!(run_state(&overridden)["Retry"][0]["MaxAttempts"], 5);

    let arm = rendered("arm64");
    assert_eq!(
        arm["template"]["Resources"]["TaskDefinition"]["Properties"]["RuntimePlatform"]["CpuArchitecture"],
        "ARM64"
    );
    let win = rendered("windows");
    assert_eq!(
        win["template"]["Resources"]["TaskDefinition"]["Properties"]["RuntimePlatform"]["OperatingSystemFamily"],
        "WINDOWS_SERVER_2022_CORE"
    );
    let sidecars = rendered("sidecars");
    let containers = &sidecars["template"]["Resources"]["TaskDefinition"]["Properties"]["ContainerDefinitions"];
    assert_eq!(containers.as_array().map(Vec::len), Some(3));
    assert_eq!(containers[2]["PortMappings"][0], json!({"ContainerPort": 8125, "Protocol": "udp"}));

    let addons = rendered("addons");
    let res = &addons["template"]["Resources"];
    assert_eq!(
        addons["parameters"]["ContainerImage"],
        "123456789012.dkr.ecr.us-west-2.amazonaws.com/chat/exporter:abc1234"
    );
    assert_eq!(
        res["TaskRole"]["Properties"]["ManagedPolicyArns"][0],
        json!({"Fn::GetAtt": ["AddonsStack", "Outputs.ExportBucketAccessPolicy"]})
    );
    let sgs = res["StateMachine"]["Properties"]["DefinitionString"]["Fn::Sub"][1]["SecurityGroups"].to_string();
    assert!(sgs.contains("Outputs.DBSecurityGroup"), "addons security groups reach the task: {sgs}");
}

#[test]
fn info_has_schema_and_init_template() {
    let info = ScheduledJob::info();
    assert_eq!(info.manifest_types, ["Scheduled Job"]);
    assert!(info.manifest_schema["properties"]["on"].is_object(), "schema: {}", info.manifest_schema);
    assert!(info.manifest_schema["properties"].get("count").is_none());
    for placeholder in ["{{name}}", "{{dockerfile}}", "{{schedule}}"] {
        assert!(info.manifest_template.contains(placeholder), "template lacks {placeholder}");
    }
    // The template, filled in with any schedule form `job init` accepts, is valid.
    for schedule in ["@daily", "@every 5m", "0 9 * * 1-5", "cron(0 9 ? * MON-FRI *)", "rate(1 hour)", "none"] {
        assert_eq!(ScheduledJob::validate(&init_manifest(schedule)), vec![], "{schedule}");
    }
}

/// The shared families a job has: EFS (imported from an export, through an
/// access point), FireLens with its own image, publish, own subnets,
/// taskdef_overrides; and the environment's override to managed EFS.
#[test]
fn shared_families_render_as_copilot_renders_them() {
    let r = rendered("families");
    let res = &r["template"]["Resources"];
    let td = &res["TaskDefinition"]["Properties"];
    let efs = &td["Volumes"][0]["EFSVolumeConfiguration"];
    assert_eq!(efs["FilesystemId"], json!({"Fn::ImportValue": "chat-shared-FilesystemId"}));
    assert_eq!(efs["AuthorizationConfig"], json!({"AccessPointId": "fsap-0123456789abcdef0", "IAM": "ENABLED"}));
    let containers = &td["ContainerDefinitions"];
    assert_eq!(containers[0]["LogConfiguration"]["LogDriver"], "awsfirelens");
    assert_eq!(containers[0]["LogConfiguration"]["Options"]["delivery_stream"], "reports");
    assert_eq!(containers[1]["Name"], "firelens_log_router");
    assert_eq!(containers[1]["Image"], "public.ecr.aws/aws-observability/aws-for-fluent-bit:2.31.0");
    assert_eq!(containers[0]["Ulimits"][0]["Name"], "nofile");
    assert_eq!(res["doneSNSTopic"]["Properties"]["FifoTopic"], true);
    assert!(res["TaskRole"]["Properties"]["Policies"].to_string().contains("GrantEFSAccess"));
    let definition = res["StateMachine"]["Properties"]["DefinitionString"].to_string();
    assert!(definition.contains("subnet-0aaaa1111bbbb2222"), "{definition}");
    assert!(res.get("AccessPoint").is_none());

    let env = rendered("families-env-overridden");
    let res = &env["template"]["Resources"];
    assert_eq!(res["AccessPoint"]["Properties"]["PosixUser"], json!({"Uid": "2000", "Gid": "2000"}));
    assert_eq!(env["parameters"]["LogRetention"], "7");
    assert_eq!(res["TaskDefinition"]["Properties"]["ContainerDefinitions"][1]["Name"], "firelens_log_router");
}

ferry_plugin_sdk::schema_file_test!(ferry_plugin_scheduled_job::manifest::Manifest);

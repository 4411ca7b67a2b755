//! Renders every fixture manifest natively (no wasm) and checks the
//! templates: snapshots, one cfn-lint pass over all of them, and the
//! behaviour each fixture exists for.

use ferry_plugin_sdk::{Plugin, RenderContext, RenderError, Rendered, Value, json};
use ferry_plugin_worker_service::{WorkerService, topic_id};
use std::path::{Path, PathBuf};

use ferry_test_support::{load_yaml as load, plugin, stem};

fn fixtures(dir: &str) -> Vec<PathBuf> {
    plugin::fixtures(env!("CARGO_MANIFEST_DIR"), dir)
}

fn context_for(manifest: &Value) -> RenderContext {
    RenderContext {
        app: "chat".into(),
        env: "test".into(),
        name: manifest["name"].as_str().unwrap_or_default().into(),
        ..Default::default()
    }
}

fn render_value(manifest: &Value) -> Result<Rendered, RenderError> {
    WorkerService::render(manifest, &context_for(manifest))
}

fn rendered(name: &str) -> Value {
    let manifest = load(&Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/manifests/{name}.yml")));
    match render_value(&manifest) {
        Ok(r) => json!({"template": r.template.to_json(), "parameters": r.parameters}),
        Err(e) => panic!("{name}.yml did not render: {e:?}"),
    }
}

/// The `svc init` template with its placeholders filled in as `init` does.
fn init_manifest() -> Value {
    let filled =
        WorkerService::info().manifest_template.replace("{{name}}", "worker").replace("{{dockerfile}}", "./Dockerfile");
    yaml_serde::from_str(&filled).unwrap_or_else(|e| panic!("template is not YAML: {e}"))
}

fn check_rendered(name: &str, rendered: &Rendered) -> Value {
    insta::assert_json_snapshot!(name.to_string(), plugin::checked_snapshot(name, rendered));
    rendered.template.to_json()
}

#[test]
fn valid_manifests_render_snapshot_and_lint_clean() {
    let files = fixtures("manifests");
    assert!(files.len() >= 11, "expected at least 11 fixtures, found {}", files.len());
    let mut templates = Vec::new();
    for path in &files {
        let name = stem(path);
        let rendered = match render_value(&load(path)) {
            Ok(r) => r,
            Err(e) => panic!("{name}.yml did not render: {e:?}"),
        };
        let template = check_rendered(&name, &rendered);
        templates.push((name, plugin::as_host_would(template)));
    }
    let init = render_value(&init_manifest()).unwrap_or_else(|e| panic!("the init template did not render: {e:?}"));
    let template = check_rendered("init-template", &init);
    templates.push(("init-template".into(), plugin::as_host_would(template)));
    plugin::lint_all(&templates);
}

/// Each invalid fixture: the pointer and a piece of the message of the
/// diagnostic it exists for.
const EXPECTED: &[(&str, &str, &str)] = &[
    ("unknown-field", "/subscribe/topics/0/filter_polcy", "unknown field `filter_polcy`"),
    ("wrong-type", "/subscribe/topics", ""),
    ("image-port", "/image/port", "receives no traffic"),
    ("dead-letter-no-tries", "/subscribe/queue/dead_letter", "needs `tries`"),
    ("dead-letter-tries-range", "/subscribe/topics/0/queue/dead_letter/tries", "0 tries is out of range"),
    ("fifo-bad-scope", "/subscribe/queue/fifo/deduplication_scope", "unknown deduplication scope `group`"),
    ("fifo-high-throughput-conflict", "/subscribe/queue/fifo/high_throughput", "cannot be combined"),
    ("fifo-limit-needs-group-scope", "/subscribe/queue/fifo/throughput_limit", "deduplication_scope: messageGroup"),
    ("retention-range", "/subscribe/queue/retention", "from 60s to 1209600s"),
    ("topic-duplicate", "/subscribe/topics/1", "already subscribed"),
    ("topic-bad-name", "/subscribe/topics/0/name", "`order_events` is not a valid topic name"),
    ("topic-missing-service", "/subscribe/topics/0", "service"),
    ("filter-policy-not-map", "/subscribe/topics/0/filter_policy", "non-empty map"),
    ("queue-delay-no-range", "/count/queue_delay", "needs `count.range`"),
    ("queue-delay-missing-field", "/count/queue_delay", "needs `msg_processing_time`"),
    ("queue-delay-too-short", "/count/queue_delay/acceptable_latency", "shorter than the time to process"),
    ("requests-target", "/count/requests", "needs a load balancer"),
    ("topic-queue-wrong-type", "/subscribe/topics/0/queue", ""),
    ("fifo-name-too-long", "/subscribe/topics/0/queue/fifo", "longer than SQS's 80 characters"),
    ("wrong-kind", "/type", "not `Backend Service`"),
];

#[test]
fn invalid_manifests_are_diagnosed() {
    let files = fixtures("invalid");
    assert_eq!(files.len(), EXPECTED.len(), "every invalid fixture has an expectation");
    for path in &files {
        let name = stem(path);
        let shown = plugin::checked_diagnostics(&name, render_value(&load(path)));
        let (_, path, message) = EXPECTED
            .iter()
            .find(|(n, _, _)| *n == name)
            .unwrap_or_else(|| panic!("invalid/{name}.yml has no expectation"));
        assert!(
            shown.as_array().into_iter().flatten().any(|d| d["severity"] == "Error"
                && d["path"] == *path
                && d["message"].as_str().is_some_and(|m| m.contains(message))),
            "invalid/{name}.yml: no error at {path} containing {message:?} among {shown:#}"
        );
        insta::assert_json_snapshot!(format!("invalid-{name}"), shown);
    }
}

fn container_env(r: &Value) -> Vec<Value> {
    r["template"]["Resources"]["TaskDefinition"]["Properties"]["ContainerDefinitions"][0]["Environment"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn env_value(r: &Value, name: &str) -> Option<Value> {
    container_env(r).into_iter().find(|e| e["Name"] == name).map(|e| e["Value"].clone())
}

#[test]
fn minimal_manifest_gets_a_default_queue_and_copilot_defaults() {
    let r = rendered("minimal");
    let p = &r["parameters"];
    assert_eq!(p["TaskCPU"], "256");
    assert_eq!(p["TaskMemory"], "512");
    assert_eq!(p["TaskCount"], "1");
    assert_eq!(p["LogRetention"], "30");
    assert!(p.get("ContainerPort").is_none(), "a worker has no port");
    let res = &r["template"]["Resources"];
    // A queue is always created; no topics means no policy or subscription.
    assert_eq!(res["EventsQueue"]["Type"], "AWS::SQS::Queue");
    assert_eq!(res["EventsQueue"]["Properties"]["SqsManagedSseEnabled"], true);
    assert!(res["EventsQueue"]["Properties"].get("FifoQueue").is_none());
    assert!(res.get("QueuePolicy").is_none());
    assert!(res.get("DeadLetterQueue").is_none());
    // No load balancer, no Cloud Map.
    assert!(res.get("DiscoveryService").is_none());
    let svc = &res["Service"]["Properties"];
    assert!(svc.get("ServiceRegistries").is_none());
    assert!(svc.get("LoadBalancers").is_none());
    assert_eq!(svc["NetworkConfiguration"]["AwsvpcConfiguration"]["AssignPublicIp"], "ENABLED");
    assert_eq!(env_value(&r, "COPILOT_QUEUE_URI"), Some(json!({"Ref": "EventsQueue"})));
    assert_eq!(env_value(&r, "COPILOT_TOPIC_QUEUE_URIS"), None);
    // The task role may work the queue.
    let policies = &res["TaskRole"]["Properties"]["Policies"];
    assert_eq!(policies[0]["PolicyName"], "Queues");
    let statement = &policies[0]["PolicyDocument"]["Statement"][0];
    for action in ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"] {
        assert!(statement["Action"].as_array().unwrap().contains(&json!(action)), "{action}");
    }
    assert_eq!(statement["Resource"], json!([{"Fn::GetAtt": ["EventsQueue", "Arn"]}]));
    assert!(res.get("AutoScalingTarget").is_none());
}

#[test]
fn topics_subscribe_the_default_queue_through_the_publishers_exports() {
    let r = rendered("full");
    let res = &r["template"]["Resources"];
    let sub = &res["OrdersProductsSNSTopicSubscription"];
    assert_eq!(sub["Type"], "AWS::SNS::Subscription");
    assert_eq!(
        sub["Properties"]["TopicArn"],
        json!({"Fn::ImportValue": {"Fn::Sub": "${AppName}-${EnvName}-orders-productsSNSTopicArn"}})
    );
    assert_eq!(sub["Properties"]["Protocol"], "sqs");
    assert_eq!(sub["Properties"]["Endpoint"], json!({"Fn::GetAtt": ["EventsQueue", "Arn"]}));
    assert_eq!(sub["Properties"]["FilterPolicy"], json!({"event": [{"anything-but": "order_cancelled"}]}));
    assert_eq!(sub["DependsOn"], "QueuePolicy");
    assert!(res["WarehouseInventorySNSTopicSubscription"]["Properties"].get("FilterPolicy").is_none());
    // The queue policy lets exactly those topics send.
    let statement = &res["QueuePolicy"]["Properties"]["PolicyDocument"]["Statement"][0];
    assert_eq!(statement["Principal"], json!({"Service": "sns.amazonaws.com"}));
    assert_eq!(statement["Action"], "sqs:SendMessage");
    assert_eq!(statement["Condition"]["ArnEquals"]["aws:SourceArn"].as_array().map(Vec::len), Some(2));
    // Queue settings and the dead-letter queue.
    let q = &res["EventsQueue"]["Properties"];
    assert_eq!(q["MessageRetentionPeriod"], 345_600);
    assert_eq!(q["DelaySeconds"], 10);
    assert_eq!(q["VisibilityTimeout"], 45);
    assert_eq!(
        q["RedrivePolicy"],
        json!({"deadLetterTargetArn": {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}, "maxReceiveCount": 10})
    );
    // cpu, memory and queue_delay targets all scale the service.
    assert!(res.get("AutoScalingPolicyECSServiceAverageCPUUtilization").is_some());
    assert!(res.get("AutoScalingPolicyECSServiceAverageMemoryUtilization").is_some());
    assert!(res.get("AutoScalingPolicyQueueBacklogPerTask").is_some());
    // Shared sections still render.
    let main = &res["TaskDefinition"]["Properties"]["ContainerDefinitions"][0];
    assert_eq!(main["Command"], json!(["python", "-m", "worker"]));
    assert_eq!(main["ReadonlyRootFilesystem"], true);
    assert!(res["TaskRole"]["Properties"]["Policies"].to_string().contains("ssmmessages"), "exec and queues");
    assert_eq!(r["parameters"]["LogRetention"], "14");
}

#[test]
fn fifo_queues_for_fifo_topics() {
    let r = rendered("fifo");
    let res = &r["template"]["Resources"];
    let q = &res["EventsQueue"]["Properties"];
    assert_eq!(q["FifoQueue"], true);
    assert_eq!(q["ContentBasedDeduplication"], true);
    assert_eq!(q["DeduplicationScope"], "messageGroup", "high_throughput");
    assert_eq!(q["FifoThroughputLimit"], "perMessageGroupId", "high_throughput");
    assert_eq!(
        q["QueueName"],
        json!({"Fn::Join": ["", [{"Fn::Sub": "${AppName}-${EnvName}-${WorkloadName}-"}, "events.fifo"]]})
    );
    // A FIFO queue's dead-letter queue is FIFO too.
    let dlq = &res["DeadLetterQueue"]["Properties"];
    assert_eq!(dlq["FifoQueue"], true);
    assert!(dlq["QueueName"].to_string().contains("events-dlq.fifo"));
    // The per-topic queue with `fifo: true`.
    let own = &res["ApiRefundsEventsQueue"]["Properties"];
    assert_eq!(own["FifoQueue"], true);
    assert!(own.get("ContentBasedDeduplication").is_none());
    assert!(own["QueueName"].to_string().contains("api-refunds.fifo"));
    assert_eq!(res["ApiRefundsDeadLetterQueue"]["Properties"]["FifoQueue"], true);
    assert_eq!(
        res["ApiRefundsSNSTopicSubscription"]["Properties"]["Endpoint"],
        json!({"Fn::GetAtt": ["ApiRefundsEventsQueue", "Arn"]})
    );
    assert_eq!(res["ApiPaymentsSNSTopicSubscription"]["DependsOn"], "QueuePolicy");
}

#[test]
fn per_topic_queues_and_filter_policies() {
    let r = rendered("topics-filter-per-topic-queue");
    let res = &r["template"]["Resources"];
    // `products` has its own queue, dead-letter queue and policy.
    let own = &res["OrdersProductsEventsQueue"]["Properties"];
    assert_eq!(own["MessageRetentionPeriod"], 432_000);
    assert_eq!(own["VisibilityTimeout"], 3600);
    assert!(res.get("OrdersProductsDeadLetterQueue").is_some());
    let policy = &res["OrdersProductsQueuePolicy"]["Properties"];
    assert_eq!(policy["Queues"], json!([{"Ref": "OrdersProductsEventsQueue"}]));
    let filter = &res["OrdersProductsSNSTopicSubscription"]["Properties"]["FilterPolicy"];
    assert_eq!(filter["price_usd"], json!([{"numeric": [">=", 100]}]));
    // `queue: true`: an own queue with default settings.
    let inventory = &res["WarehouseInventoryEventsQueue"]["Properties"];
    assert!(inventory.get("VisibilityTimeout").is_none());
    assert!(res.get("WarehouseInventoryDeadLetterQueue").is_none());
    // `order-events` shares the default queue.
    assert_eq!(
        res["OrdersOrderEventsSNSTopicSubscription"]["Properties"]["Endpoint"],
        json!({"Fn::GetAtt": ["EventsQueue", "Arn"]})
    );
    assert_eq!(
        res["QueuePolicy"]["Properties"]["PolicyDocument"]["Statement"][0]["Condition"]["ArnEquals"]["aws:SourceArn"],
        json!([{"Fn::ImportValue": {"Fn::Sub": "${AppName}-${EnvName}-orders-order-eventsSNSTopicArn"}}])
    );
    // The container learns every topic queue's URL; the task role reaches all queues.
    let uris = env_value(&r, "COPILOT_TOPIC_QUEUE_URIS").expect("COPILOT_TOPIC_QUEUE_URIS");
    assert_eq!(
        uris,
        json!({"Fn::Join": ["", [
            "{", "\"OrdersProductsEventsQueue\":\"", {"Ref": "OrdersProductsEventsQueue"}, "\"",
            ",\"WarehouseInventoryEventsQueue\":\"", {"Ref": "WarehouseInventoryEventsQueue"}, "\"", "}"
        ]]})
    );
    let queues = &res["TaskRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"][0]["Resource"];
    assert_eq!(queues.as_array().map(Vec::len), Some(3));
}

#[test]
fn dead_letter_queue_at_the_limits() {
    let r = rendered("dead-letter");
    let res = &r["template"]["Resources"];
    let q = &res["EventsQueue"]["Properties"];
    assert_eq!(q["MessageRetentionPeriod"], 1_209_600);
    assert_eq!(q["VisibilityTimeout"], 43_200);
    assert_eq!(q["DelaySeconds"], 900);
    assert_eq!(q["RedrivePolicy"]["maxReceiveCount"], 1000);
    let dlq = &res["DeadLetterQueue"]["Properties"];
    assert_eq!(dlq["MessageRetentionPeriod"], 1_209_600, "dead letters are kept as long as SQS allows");
    assert!(dlq.get("FifoQueue").is_none());
}

#[test]
fn queue_delay_tracks_backlog_per_task() {
    let r = rendered("queue-delay");
    let res = &r["template"]["Resources"];
    assert_eq!(res["AutoScalingTarget"]["Properties"]["MinCapacity"], 1);
    assert_eq!(res["AutoScalingTarget"]["Properties"]["MaxCapacity"], 10);
    let policy = &res["AutoScalingPolicyQueueBacklogPerTask"]["Properties"];
    assert_eq!(policy["PolicyType"], "TargetTrackingScaling");
    let cfg = &policy["TargetTrackingScalingPolicyConfiguration"];
    assert_eq!(cfg["TargetValue"], 2400, "10m / 250ms");
    assert_eq!(cfg["ScaleInCooldown"], 120);
    assert_eq!(cfg["ScaleOutCooldown"], 60);
    let metrics = cfg["CustomizedMetricSpecification"]["Metrics"].as_array().unwrap();
    // Both queues (default and the inventory topic's), the task count, the expression.
    assert_eq!(metrics.len(), 4);
    assert_eq!(
        metrics[1]["MetricStat"]["Metric"]["Dimensions"][0]["Value"],
        json!({"Fn::GetAtt": ["WarehouseInventoryEventsQueue", "QueueName"]})
    );
    assert_eq!(metrics[2]["MetricStat"]["Stat"], "SampleCount");
    assert_eq!(metrics[3]["Expression"], "(queue0 + queue1) / FILL(tasks, 1)");
    assert_eq!(metrics.iter().filter(|m| m["ReturnData"] == true).count(), 1);
    assert!(res.get("AutoScalingPolicyECSServiceAverageCPUUtilization").is_none());
    let strategy = &res["Service"]["Properties"]["CapacityProviderStrategy"];
    assert_eq!(strategy[0], json!({"CapacityProvider": "FARGATE", "Base": 2, "Weight": 0}));
}

#[test]
fn placement_platforms_sidecars_and_overrides() {
    let private = rendered("private-placement");
    let vpc = &private["template"]["Resources"]["Service"]["Properties"]["NetworkConfiguration"]["AwsvpcConfiguration"];
    assert_eq!(vpc["AssignPublicIp"], "DISABLED");
    assert!(vpc["Subnets"].to_string().contains("PrivateSubnets"));
    assert_eq!(vpc["SecurityGroups"], json!(["sg-0aaaabbbbccccdddd"]));

    let arm = rendered("arm64");
    let platform = &arm["template"]["Resources"]["TaskDefinition"]["Properties"]["RuntimePlatform"];
    assert_eq!(platform["CpuArchitecture"], "ARM64");
    let windows = rendered("windows");
    let platform = &windows["template"]["Resources"]["TaskDefinition"]["Properties"]["RuntimePlatform"];
    assert_eq!(platform["OperatingSystemFamily"], "WINDOWS_SERVER_2022_CORE");

    let sidecars = rendered("sidecars");
    let containers = &sidecars["template"]["Resources"]["TaskDefinition"]["Properties"]["ContainerDefinitions"];
    assert_eq!(containers.as_array().map(Vec::len), Some(3));
    assert_eq!(containers[0]["DependsOn"][0], json!({"ContainerName": "init", "Condition": "COMPLETE"}));
    assert_eq!(containers[2]["PortMappings"][0], json!({"ContainerPort": 8125, "Protocol": "udp"}));
    // Sidecars see the queue too.
    assert!(containers[1]["Environment"].to_string().contains("COPILOT_QUEUE_URI"));

    let env = rendered("env-overridden");
    assert_eq!(env["template"]["Resources"]["EventsQueue"]["Properties"]["VisibilityTimeout"], 120);
    assert_eq!(env_value(&env, "LOG_LEVEL"), Some(json!("debug")));
    assert_eq!(env["template"]["Resources"]["AutoScalingTarget"]["Properties"]["MaxCapacity"], 4);
}

#[test]
fn topic_ids_are_pascal_case() {
    assert_eq!(topic_id("orders", "products"), "OrdersProducts");
    assert_eq!(topic_id("order-api", "order-events"), "OrderApiOrderEvents");
}

#[test]
fn validate_reports_errors_without_an_environment() {
    let long = load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/invalid/fifo-name-too-long.yml"));
    assert_eq!(WorkerService::validate(&long), vec![], "queue names are checked once app and env are known");
    let bad = load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/invalid/fifo-bad-scope.yml"));
    let d = WorkerService::validate(&bad);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].path, "/subscribe/queue/fifo/deduplication_scope");
}

#[test]
fn info_has_schema_and_init_template() {
    let info = WorkerService::info();
    assert_eq!(info.manifest_types, ["Worker Service"]);
    assert!(info.manifest_schema["properties"]["subscribe"].is_object(), "schema: {}", info.manifest_schema);
    assert!(!info.manifest_template.contains("{{port}}"), "a worker asks for no port");
    assert_eq!(WorkerService::validate(&init_manifest()), vec![]);
}

/// Every shared family rendered with Copilot's logical IDs and shapes.
#[test]
fn shared_families_render_as_copilot_renders_them() {
    let r = rendered("families");
    let res = &r["template"]["Resources"];
    let td = &res["TaskDefinition"]["Properties"];
    let containers = td["ContainerDefinitions"].as_array().unwrap();
    let names: Vec<&str> = containers.iter().map(|c| c["Name"].as_str().unwrap()).collect();
    assert_eq!(names, ["worker", "firelens_log_router", "aws-otel-collector", "nginx"]);

    // storage.volumes: managed EFS through the workload's access point, an
    // imported file system, a bind mount.
    let volumes = &td["Volumes"];
    assert_eq!(volumes[0]["Name"], "data");
    let managed = &volumes[0]["EFSVolumeConfiguration"];
    assert_eq!(managed["FilesystemId"], json!({"Fn::ImportValue": {"Fn::Sub": "${AppName}-${EnvName}-FilesystemID"}}));
    assert_eq!(managed["AuthorizationConfig"], json!({"AccessPointId": {"Ref": "AccessPoint"}, "IAM": "ENABLED"}));
    assert_eq!(volumes[1]["EFSVolumeConfiguration"]["FilesystemId"], "fs-0123456789abcdef0");
    assert_eq!(volumes[1]["EFSVolumeConfiguration"]["RootDirectory"], "/shared");
    assert_eq!(volumes[2], json!({"Name": "scratch"}));
    let ap = &res["AccessPoint"];
    assert_eq!(ap["Type"], "AWS::EFS::AccessPoint");
    // Copilot's default POSIX ids: CRC-32 of the workload name.
    let crc = ferry_plugin_sdk::workload::families::managed_uid("worker").to_string();
    assert_eq!(ap["Properties"]["PosixUser"], json!({"Uid": &crc, "Gid": crc}));
    assert_eq!(ap["Properties"]["RootDirectory"]["Path"], json!({"Fn::Sub": "/${WorkloadName}"}));
    assert_eq!(
        containers[0]["MountPoints"],
        json!([
            {"SourceVolume": "data", "ContainerPath": "/var/data", "ReadOnly": false},
            {"SourceVolume": "shared", "ContainerPath": "/mnt/shared", "ReadOnly": true},
            {"SourceVolume": "scratch", "ContainerPath": "/scratch", "ReadOnly": false}
        ])
    );
    assert_eq!(containers[3]["MountPoints"][0]["SourceVolume"], "scratch");
    let policies = res["TaskRole"]["Properties"]["Policies"].to_string();
    for p in ["GrantEFSAccessfs-0123456789abcdef0", "GrantAccessCopilotManagedEFS", "AWSDistroOpenTelemetryPolicy"] {
        assert!(policies.contains(p), "task role lacks {p}");
    }

    // logging: FireLens.
    assert_eq!(containers[0]["LogConfiguration"]["LogDriver"], "awsfirelens");
    assert_eq!(containers[0]["LogConfiguration"]["Options"]["auto_create_group"], "true");
    assert_eq!(containers[0]["LogConfiguration"]["SecretOptions"][0]["Name"], "apikey");
    let router = &containers[1];
    assert_eq!(router["Image"], "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable");
    assert_eq!(
        router["FirelensConfiguration"],
        json!({"Type": "fluentbit", "Options": {
            "enable-ecs-log-metadata": "false",
            "config-file-type": "file",
            "config-file-value": "/fluent-bit/etc/extra.conf"
        }})
    );
    assert!(r["template"]["Parameters"].get("LoggingEnvFileARN").is_some());
    assert!(r["template"]["Parameters"].get("EnvFileARNForNginx").is_some());
    assert_eq!(containers[3]["Image"], "public.ecr.aws/nginx/nginx:stable");

    // taskdef_overrides on the task definition's properties.
    assert_eq!(containers[0]["Ulimits"][0]["Name"], "nofile");
    assert_eq!(td["EphemeralStorage"]["SizeInGiB"], 30);

    // network: Service Connect (client only: a worker has no port), own subnets.
    let service = &res["Service"]["Properties"];
    assert_eq!(service["ServiceConnectConfiguration"]["Enabled"], true);
    assert!(service["ServiceConnectConfiguration"].get("Services").is_none());
    let vpc = &service["NetworkConfiguration"]["AwsvpcConfiguration"];
    assert_eq!(vpc["Subnets"], json!(["subnet-0aaaa1111bbbb2222", "subnet-0cccc3333dddd4444"]));
    assert_eq!(vpc["AssignPublicIp"], "DISABLED");

    // deployment.rollback_alarms thresholds: Copilot's alarms, listed by name.
    assert_eq!(res["CPURollbackAlarm"]["Type"], "AWS::CloudWatch::Alarm");
    assert_eq!(res["CPURollbackAlarm"]["Properties"]["Threshold"], 70.0);
    assert_eq!(res["MemoryRollbackAlarm"]["Properties"]["MetricName"], "MemoryUtilization");
    assert_eq!(
        service["DeploymentConfiguration"]["Alarms"]["AlarmNames"],
        json!(["chat-test-worker-CopilotRollbackCPUAlarm", "chat-test-worker-CopilotRollbackMemAlarm"])
    );

    // publish on a worker, queue retention in days, the cooldown Copilot's sample writes.
    assert_eq!(res["processedSNSTopic"]["Type"], "AWS::SNS::Topic");
    assert_eq!(res["EventsQueue"]["Properties"]["MessageRetentionPeriod"], 432_000);
    let cpu = &res["AutoScalingPolicyECSServiceAverageCPUUtilization"]["Properties"];
    assert_eq!(cpu["TargetTrackingScalingPolicyConfiguration"]["ScaleOutCooldown"], 150);

    // The environment's override: alarm names, an alias, explicit POSIX ids.
    let env = rendered("families-env-overridden");
    let res = &env["template"]["Resources"];
    let service = &res["Service"]["Properties"];
    assert_eq!(service["DeploymentConfiguration"]["Alarms"]["AlarmNames"], json!(["chat-test-worker-errors"]));
    assert!(res.get("CPURollbackAlarm").is_none());
    assert_eq!(res["AccessPoint"]["Properties"]["PosixUser"], json!({"Uid": "10001", "Gid": "10001"}));
}

ferry_plugin_sdk::schema_file_test!(ferry_plugin_worker_service::manifest::Manifest);

//! The bundled "Worker Service" plugin: a Fargate service with no load
//! balancer that consumes SQS queues subscribed to SNS topics other services
//! of the app publish.
//!
//! The task, IAM, service and CPU/memory autoscaling come from
//! [`ferry_plugin_sdk::workload`]; this crate adds the `subscribe` section
//! (queues, dead-letter queues, queue policies, SNS subscriptions) and the
//! `count.queue_delay` backlog-per-task scaling policy.
//!
//! Topic ARNs: a publisher exports each topic's ARN as
//! `<app>-<env>-<service>-<topic>SNSTopicArn` ([`topic_arn_export`]); the
//! worker reads it with `Fn::ImportValue`, which keeps `package` offline and
//! makes CloudFormation refuse a subscription to a topic that does not exist.

pub mod manifest;

use ferry_plugin_sdk::cfn::{self, Resource, Template};
use ferry_plugin_sdk::diag::pointer;
use ferry_plugin_sdk::workload::render::ids;
use ferry_plugin_sdk::workload::{self, Count, TaskChecks, TaskRender, TaskSpec, publish};
use ferry_plugin_sdk::{Diagnostic, Plugin, PluginInfo, RenderContext, RenderError, Rendered, Value, json};
use indexmap::IndexMap;
use manifest::{FifoArgs, Manifest, Queue};

/// The manifest `type:` this plugin renders.
pub const MANIFEST_TYPE: &str = "Worker Service";

/// Commented manifest written by `svc init`.
pub const MANIFEST_TEMPLATE: &str = include_str!("template.yml");

/// Logical IDs of the service's default queue.
pub const EVENTS_QUEUE: &str = "EventsQueue";
pub const DEAD_LETTER_QUEUE: &str = "DeadLetterQueue";
pub const QUEUE_POLICY: &str = "QueuePolicy";
pub const QUEUE_DELAY_POLICY: &str = "AutoScalingPolicyQueueBacklogPerTask";

/// SQS limits, in seconds.
const RETENTION_RANGE: (u64, u64) = (60, 1_209_600);
const DELAY_RANGE: (u64, u64) = (0, 900);
const TIMEOUT_RANGE: (u64, u64) = (0, 43_200);
const MAX_RECEIVE_COUNT: u32 = 1000;
const MAX_QUEUE_NAME: usize = 80;

pub struct WorkerService;

impl Plugin for WorkerService {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "worker-service".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Worker Service: a Fargate service consuming SQS queues subscribed to the app's SNS topics"
                .into(),
            manifest_types: vec![MANIFEST_TYPE.into()],
            manifest_schema: ferry_plugin_sdk::manifest::schema_from_json(include_str!("../schema.json")),
            manifest_template: MANIFEST_TEMPLATE.into(),
        }
    }

    /// Checks what does not depend on the environment; FIFO queue name
    /// lengths are checked at render time, when app and env are known.
    fn validate(manifest: &Value) -> Vec<Diagnostic> {
        ferry_plugin_sdk::manifest::validate_with(manifest, |m: &Manifest| check(m, None))
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
ferry_plugin_sdk::export_plugin!(WorkerService, service);

pub use ferry_plugin_sdk::workload::publish::topic_arn_export;

/// `orders` + `order-events` → `OrdersOrderEvents`: the prefix of a topic's
/// own resources.
pub fn topic_id(service: &str, topic: &str) -> String {
    let mut out = String::new();
    for word in service.split(['-', '_']).chain(topic.split(['-', '_'])) {
        let mut chars = word.chars().filter(char::is_ascii_alphanumeric);
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            out.extend(chars);
        }
    }
    out
}

/// One SQS queue the template creates.
struct QueuePlan {
    /// Logical ID of the queue (`EventsQueue`, `<Topic>EventsQueue`).
    id: String,
    /// Logical ID prefix of its companions (dead-letter queue, policy).
    prefix: String,
    /// Suffix of a FIFO queue's name after `<app>-<env>-<svc>-`.
    fifo_name: String,
    settings: Queue,
    /// Indexes of the topics delivering to it.
    topics: Vec<usize>,
}

impl QueuePlan {
    fn dead_letter_id(&self) -> String {
        format!("{}{DEAD_LETTER_QUEUE}", self.prefix)
    }
    fn policy_id(&self) -> String {
        format!("{}{QUEUE_POLICY}", self.prefix)
    }
}

/// The default queue first, then one per topic with its own `queue`.
fn queue_plans(m: &Manifest) -> Vec<QueuePlan> {
    let subscribe = m.subscribe.clone().unwrap_or_default();
    let mut main = QueuePlan {
        id: EVENTS_QUEUE.into(),
        prefix: String::new(),
        fifo_name: "events".into(),
        settings: subscribe.queue.clone().unwrap_or_default(),
        topics: Vec::new(),
    };
    let mut own = Vec::new();
    for (i, topic) in subscribe.topics.iter().enumerate() {
        match topic.own_queue() {
            None => main.topics.push(i),
            Some(settings) => {
                let prefix = topic_id(&topic.service, &topic.name);
                own.push(QueuePlan {
                    id: format!("{prefix}{EVENTS_QUEUE}"),
                    prefix,
                    fifo_name: format!("{}-{}", topic.service, topic.name),
                    settings,
                    topics: vec![i],
                });
            }
        }
    }
    std::iter::once(main).chain(own).collect()
}

/// Every problem with the manifest; with a context, also FIFO queue names
/// that would not fit SQS's 80 characters.
pub fn check(m: &Manifest, context: Option<&RenderContext>) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    out.extend(workload::check_type(&m.kind, MANIFEST_TYPE));
    let spec = m.task_spec();
    out.extend(workload::check_task_with(&spec, TaskChecks { load_balanced: false, queue: true }));
    if m.image.port.is_some() {
        out.push(
            Diagnostic::error("/image/port", "a worker service receives no traffic, so it has no `image.port`")
                .with_hint("remove `port`; use a Backend Service for a service other services call"),
        );
    }
    if let Some(p) = &m.publish {
        publish::check_publish(p, &mut out);
    }
    let Some(subscribe) = &m.subscribe else { return out };
    if let Some(q) = &subscribe.queue {
        check_queue(q, "/subscribe/queue", &mut out);
    }
    let mut seen: IndexMap<String, usize> = IndexMap::new();
    for (i, topic) in subscribe.topics.iter().enumerate() {
        let base = pointer(["subscribe", "topics", &i.to_string()]);
        for (field, value) in [("name", &topic.name), ("service", &topic.service)] {
            if value.is_empty() || !value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                out.push(
                    Diagnostic::error(format!("{base}/{field}"), format!("`{value}` is not a valid topic {field}"))
                        .with_hint(
                            "use letters, digits and hyphens (they become part of a CloudFormation export name)",
                        ),
                );
            }
        }
        if let Some(first) = seen.insert(topic_id(&topic.service, &topic.name), i) {
            out.push(
                Diagnostic::error(
                    &base,
                    format!(
                        "topic `{}` of service `{}` is already subscribed (topics/{first})",
                        topic.name, topic.service
                    ),
                )
                .with_hint("subscribe to each topic once"),
            );
        }
        match &topic.filter_policy {
            None => {}
            Some(Value::Object(map)) if !map.is_empty() => {}
            Some(_) => out.push(
                Diagnostic::error(format!("{base}/filter_policy"), "a filter policy is a non-empty map")
                    .with_hint("e.g. `filter_policy: {event: [{anything-but: order_cancelled}]}`"),
            ),
        }
        if let Some(manifest::TopicQueue::Args(q)) = &topic.queue {
            check_queue(q, &format!("{base}/queue"), &mut out);
        }
    }
    if let Some(ctx) = context {
        for plan in queue_plans(m) {
            if plan.settings.fifo().is_none() {
                continue;
            }
            let base = format!("{}-{}-{}-{}", ctx.app, ctx.env, ctx.name, plan.fifo_name);
            let longest =
                if plan.settings.dead_letter.is_some() { format!("{base}-dlq.fifo") } else { format!("{base}.fifo") };
            if longest.len() > MAX_QUEUE_NAME {
                let path = match plan.topics.first() {
                    Some(i) if plan.id != EVENTS_QUEUE => {
                        pointer(["subscribe", "topics", &i.to_string(), "queue", "fifo"])
                    }
                    _ => "/subscribe/queue/fifo".to_string(),
                };
                out.push(
                    Diagnostic::error(
                        path,
                        format!("the FIFO queue name `{longest}` is longer than SQS's {MAX_QUEUE_NAME} characters"),
                    )
                    .with_hint("use shorter app, environment, service or topic names"),
                );
            }
        }
    }
    out
}

fn check_queue(q: &Queue, base: &str, out: &mut Vec<Diagnostic>) {
    let ranges = [
        ("retention", q.retention.map(|d| d.0), RETENTION_RANGE, "e.g. 96h or 4d"),
        ("delay", q.delay, DELAY_RANGE, "e.g. 30s"),
        ("timeout", q.timeout, TIMEOUT_RANGE, "e.g. 30s"),
    ];
    for (field, value, (lo, hi), example) in ranges {
        let Some(d) = value else { continue };
        if !d.is_whole_seconds() || !(lo..=hi).contains(&d.secs()) {
            out.push(
                Diagnostic::error(
                    format!("{base}/{field}"),
                    format!("the queue {field} must be whole seconds from {lo}s to {hi}s"),
                )
                .with_hint(example),
            );
        }
    }
    if let Some(dl) = &q.dead_letter {
        match dl.tries {
            None => out.push(
                Diagnostic::error(format!("{base}/dead_letter"), "`dead_letter` needs `tries`")
                    .with_hint("e.g. `tries: 5` moves a message to the dead-letter queue after five failed receives"),
            ),
            Some(t) if !(1..=MAX_RECEIVE_COUNT).contains(&t) => out.push(
                Diagnostic::error(format!("{base}/dead_letter/tries"), format!("{t} tries is out of range"))
                    .with_hint(format!("use 1 to {MAX_RECEIVE_COUNT}")),
            ),
            Some(_) => {}
        }
    }
    if let Some(manifest::Fifo::Args(f)) = &q.fifo {
        let fifo = format!("{base}/fifo");
        if let Some(s) = &f.deduplication_scope
            && s != "messageGroup"
            && s != "queue"
        {
            out.push(
                Diagnostic::error(format!("{fifo}/deduplication_scope"), format!("unknown deduplication scope `{s}`"))
                    .with_hint("expected `messageGroup` or `queue`"),
            );
        }
        if let Some(l) = &f.throughput_limit
            && l != "perQueue"
            && l != "perMessageGroupId"
        {
            out.push(
                Diagnostic::error(format!("{fifo}/throughput_limit"), format!("unknown throughput limit `{l}`"))
                    .with_hint("expected `perQueue` or `perMessageGroupId`"),
            );
        }
        if f.high_throughput.is_some() && (f.deduplication_scope.is_some() || f.throughput_limit.is_some()) {
            out.push(
                Diagnostic::error(
                    format!("{fifo}/high_throughput"),
                    "`high_throughput` cannot be combined with `deduplication_scope` or `throughput_limit`",
                )
                .with_hint("keep `high_throughput: true`, or set the two fields yourself"),
            );
        }
        if f.throughput_limit.as_deref() == Some("perMessageGroupId")
            && f.deduplication_scope.as_deref() == Some("queue")
        {
            out.push(
                Diagnostic::error(
                    format!("{fifo}/throughput_limit"),
                    "a per-message-group throughput limit needs `deduplication_scope: messageGroup`",
                )
                .with_hint("SQS applies the limit per message group only when deduplication is per message group"),
            );
        }
    }
}

/// `<app>-<env>-<svc>-<suffix>.fifo`: SQS names FIFO queues, CloudFormation does not.
fn fifo_queue_name(suffix: &str) -> Value {
    cfn::join("", json!([cfn::sub("${AppName}-${EnvName}-${WorkloadName}-"), format!("{suffix}.fifo")]))
}

fn fifo_properties(mut queue: Resource, fifo: &FifoArgs, name_suffix: &str, main: bool) -> Resource {
    queue = queue.prop("FifoQueue", true).prop("QueueName", fifo_queue_name(name_suffix));
    if !main {
        return queue;
    }
    let (scope, limit) = if fifo.high_throughput == Some(true) {
        (Some("messageGroup"), Some("perMessageGroupId"))
    } else {
        (fifo.deduplication_scope.as_deref(), fifo.throughput_limit.as_deref())
    };
    queue
        .opt_prop("ContentBasedDeduplication", fifo.content_based_deduplication)
        .opt_prop("DeduplicationScope", scope)
        .opt_prop("FifoThroughputLimit", limit)
}

/// The queue, its dead-letter queue, and the policy letting the topics send to it.
fn render_queue(t: &mut Template, plan: &QueuePlan, topic_arns: &[Value]) {
    let q = &plan.settings;
    let fifo = q.fifo();
    let what = if plan.id == EVENTS_QUEUE {
        "the service's default queue".to_string()
    } else {
        format!("the queue of topic {}", plan.fifo_name)
    };
    let mut queue = Resource::new("AWS::SQS::Queue")
        .opt_prop("MessageRetentionPeriod", q.retention.map(|d| d.0.secs()))
        .opt_prop("DelaySeconds", q.delay.map(|d| d.secs()))
        .opt_prop("VisibilityTimeout", q.timeout.map(|d| d.secs()))
        .prop("SqsManagedSseEnabled", true);
    if let Some(f) = &fifo {
        queue = fifo_properties(queue, f, &plan.fifo_name, true);
    }
    if let Some(tries) = q.dead_letter.as_ref().and_then(|d| d.tries) {
        let dlq_id = plan.dead_letter_id();
        let mut dlq = Resource::new("AWS::SQS::Queue")
            .prop("MessageRetentionPeriod", RETENTION_RANGE.1)
            .prop("SqsManagedSseEnabled", true)
            .describe(&format!(
                "A dead-letter queue for messages of {what} received {tries} times without being deleted"
            ));
        if let Some(f) = &fifo {
            dlq = fifo_properties(dlq, f, &format!("{}-dlq", plan.fifo_name), false);
        }
        t.resource(&dlq_id, dlq);
        queue = queue.prop(
            "RedrivePolicy",
            json!({"deadLetterTargetArn": cfn::get_att(&dlq_id, "Arn"), "maxReceiveCount": tries}),
        );
    }
    let kind = if fifo.is_some() { "A FIFO SQS queue" } else { "An SQS queue" };
    t.resource(&plan.id, queue.describe(&format!("{kind}: {what}")));
    if topic_arns.is_empty() {
        return;
    }
    t.resource(
        &plan.policy_id(),
        Resource::new("AWS::SQS::QueuePolicy")
            .prop("Queues", json!([cfn::ref_(&plan.id)]))
            .prop(
                "PolicyDocument",
                cfn::policy_document(vec![json!({
                    "Effect": "Allow",
                    "Principal": {"Service": "sns.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": cfn::get_att(&plan.id, "Arn"),
                    "Condition": {"ArnEquals": {"aws:SourceArn": topic_arns}},
                })]),
            )
            .describe(&format!("A queue policy letting the subscribed SNS topics send to {what}")),
    );
}

/// `count.queue_delay`: target tracking on the backlog per task, computed
/// with CloudWatch metric math from the queues' visible messages and the
/// service's running tasks (the sample count of its CPU metric).
fn queue_delay_policy(t: &mut Template, spec: &TaskSpec, plans: &[QueuePlan]) {
    let Some(Count::Advanced(count)) = &spec.count else { return };
    let (Some(delay), Some(_)) = (&count.queue_delay, &count.range) else { return };
    let Some(target) = delay.backlog_per_task() else { return };
    let (scale_in, scale_out) = workload::scaling_cooldowns(count, delay.cooldown.as_ref());
    let mut metrics = Vec::new();
    let mut ids = Vec::new();
    for (i, plan) in plans.iter().enumerate() {
        let id = format!("queue{i}");
        metrics.push(json!({
            "Id": &id,
            "MetricStat": {
                "Metric": {
                    "Namespace": "AWS/SQS",
                    "MetricName": "ApproximateNumberOfMessagesVisible",
                    "Dimensions": [{"Name": "QueueName", "Value": cfn::get_att(&plan.id, "QueueName")}],
                },
                "Stat": "Average",
            },
            "ReturnData": false,
        }));
        ids.push(id);
    }
    metrics.push(json!({
        "Id": "tasks",
        "MetricStat": {
            "Metric": {
                "Namespace": "AWS/ECS",
                "MetricName": "CPUUtilization",
                "Dimensions": [
                    {"Name": "ClusterName", "Value": cfn::env_import("ClusterId")},
                    {"Name": "ServiceName", "Value": cfn::get_att(ids::SERVICE, "Name")},
                ],
            },
            "Stat": "SampleCount",
        },
        "ReturnData": false,
    }));
    metrics.push(json!({
        "Id": "backlogPerTask",
        "Expression": format!("({}) / FILL(tasks, 1)", ids.join(" + ")),
        "Label": "Messages waiting per running task",
        "ReturnData": true,
    }));
    t.resource(
        QUEUE_DELAY_POLICY,
        Resource::new("AWS::ApplicationAutoScaling::ScalingPolicy")
            .prop("PolicyName", cfn::join("-", json!([cfn::get_att(ids::SERVICE, "Name"), QUEUE_DELAY_POLICY])))
            .prop("PolicyType", "TargetTrackingScaling")
            .prop("ScalingTargetId", cfn::ref_(ids::SCALABLE_TARGET))
            .prop(
                "TargetTrackingScalingPolicyConfiguration",
                json!({
                    "CustomizedMetricSpecification": {"Metrics": metrics},
                    "TargetValue": target,
                    "ScaleInCooldown": scale_in,
                    "ScaleOutCooldown": scale_out,
                }),
            )
            .describe(&format!("A target-tracking policy keeping at most {target} queued messages per task")),
    );
}

fn render(m: &Manifest, ctx: &RenderContext) -> Rendered {
    let spec = m.task_spec();
    let plans = queue_plans(m);
    let topics = m.subscribe.as_ref().map(|s| s.topics.clone()).unwrap_or_default();
    let mut t = Template::new();
    t.description = Some(format!("CloudFormation template for the {MANIFEST_TYPE} `{}`, rendered by ferry.", m.name));
    let mut values = IndexMap::new();

    let mut extra_environment = vec![("COPILOT_QUEUE_URI".to_string(), cfn::ref_(EVENTS_QUEUE))];
    let own: Vec<&QueuePlan> = plans.iter().filter(|p| p.id != EVENTS_QUEUE).collect();
    if !own.is_empty() {
        // {"<Topic>EventsQueue": "<url>", ...} as a JSON string.
        let mut parts = vec![json!("{")];
        for (i, plan) in own.iter().enumerate() {
            let sep = if i == 0 { "" } else { "," };
            parts.push(json!(format!("{sep}\"{}\":\"", plan.id)));
            parts.push(cfn::ref_(&plan.id));
            parts.push(json!("\""));
        }
        parts.push(json!("}"));
        extra_environment.push(("COPILOT_TOPIC_QUEUE_URIS".into(), cfn::join("", json!(parts))));
    }
    extra_environment.extend(m.publish.as_ref().and_then(publish::topic_arns_variable));
    let task = TaskRender { spec: &spec, context: ctx, extra_environment };
    task.parameters(&mut t, &mut values);
    task.log_group(&mut t);
    task.execution_role(&mut t);
    task.task_role_with_policies(&mut t, m.publish.as_ref().and_then(publish::publish_policy).into_iter().collect());
    task.task_definition(&mut t);
    if let Some(p) = &m.publish {
        publish::render_publish(p, &mut t);
    }

    // Queues, their policies and the subscriptions feeding them.
    for plan in &plans {
        let arns: Vec<Value> = plan
            .topics
            .iter()
            .map(|&i| cfn::import_value(topic_arn_export(&topics[i].service, &topics[i].name)))
            .collect();
        render_queue(&mut t, plan, &arns);
        for &i in &plan.topics {
            let topic = &topics[i];
            t.resource(
                &format!("{}SNSTopicSubscription", topic_id(&topic.service, &topic.name)),
                Resource::new("AWS::SNS::Subscription")
                    .prop("TopicArn", cfn::import_value(topic_arn_export(&topic.service, &topic.name)))
                    .prop("Protocol", "sqs")
                    .prop("Endpoint", cfn::get_att(&plan.id, "Arn"))
                    .opt_prop("FilterPolicy", topic.filter_policy.clone())
                    .depends_on(&plan.policy_id())
                    .describe(&format!(
                        "A subscription delivering topic {} of service {} to {}",
                        topic.name, topic.service, plan.id
                    )),
            );
        }
    }
    let queue_arns: Vec<Value> = plans.iter().map(|p| cfn::get_att(&p.id, "Arn")).collect();
    workload::add_task_role_policy(
        &mut t,
        json!({
            "PolicyName": "Queues",
            "PolicyDocument": cfn::policy_document(vec![json!({
                "Effect": "Allow",
                "Action": [
                    "sqs:ReceiveMessage",
                    "sqs:DeleteMessage",
                    "sqs:ChangeMessageVisibility",
                    "sqs:GetQueueAttributes",
                    "sqs:GetQueueUrl"
                ],
                "Resource": queue_arns,
            })]),
        }),
    );

    task.service(&mut t, Default::default());
    task.autoscaling(&mut t, None);
    queue_delay_policy(&mut t, &spec, &plans);

    t.output("EventsQueueURL", cfn::ref_(EVENTS_QUEUE), None);
    t.output("EventsQueueARN", cfn::get_att(EVENTS_QUEUE, "Arn"), None);
    Rendered { template: t, parameters: values }
}

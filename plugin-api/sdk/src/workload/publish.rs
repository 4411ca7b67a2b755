//! `publish:` — SNS topics a service or job publishes to, which Worker
//! Services subscribe to (`subscribe.topics: [{name, service}]`).
//!
//! Each topic `<t>` becomes:
//! - `<t>SNSTopic` (`AWS::SNS::Topic`) named `${AppName}-${EnvName}-${WorkloadName}-<t>`
//!   (`.fifo` appended for FIFO topics), encrypted with the AWS managed SNS key;
//! - `<t>SNSTopicPolicy` letting SQS queues of the account subscribe;
//! - output `<t>SNSTopicArn`.
//!
//! The container gets `COPILOT_SNS_TOPIC_ARNS` (`{"<t>": "<arn>", ...}` as
//! JSON) and the task role may `sns:Publish` to the topics. Subscribers
//! compute a topic's ARN with [`topic_arn`]. Topic names hold only letters,
//! digits, `-` and `_`; in logical IDs `-` becomes `DASH` and `_` becomes
//! `USCORE` (see [`topic_logical_id`]).

use super::either::{OneOf, map_as};
use crate::cfn::{self, Resource, Template};
use crate::diag::{Diagnostic, pointer};
use crate::impl_one_of_deserialize;
use crate::json;
use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::{self, MapAccess};
use serde_json::Value;

/// The env var holding the topics' ARNs as JSON.
pub const TOPIC_ARNS_VARIABLE: &str = "COPILOT_SNS_TOPIC_ARNS";

/// `publish:` section.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Publish {
    #[serde(default)]
    pub topics: Vec<Topic>,
}

/// One SNS topic.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Topic {
    /// Letters, digits, `-` and `_`.
    pub name: String,
    /// `true`, or FIFO settings.
    pub fifo: Option<TopicFifo>,
}

/// `fifo: true` or `fifo: {content_based_deduplication: true}`.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[serde(untagged)]
pub enum TopicFifo {
    Enabled(bool),
    Args(TopicFifoArgs),
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TopicFifoArgs {
    pub content_based_deduplication: Option<bool>,
}

impl OneOf for TopicFifo {
    const EXPECTING: &'static str = "`true`/`false`, or a map with `content_based_deduplication`";
    fn from_bool<E: de::Error>(v: bool) -> Result<Self, E> {
        Ok(TopicFifo::Enabled(v))
    }
    fn from_map<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        map_as(map).map(TopicFifo::Args)
    }
}
impl_one_of_deserialize!(TopicFifo);

impl Topic {
    pub fn is_fifo(&self) -> bool {
        matches!(self.fifo, Some(TopicFifo::Enabled(true)) | Some(TopicFifo::Args(_)))
    }

    pub fn content_based_deduplication(&self) -> bool {
        matches!(&self.fifo, Some(TopicFifo::Args(a)) if a.content_based_deduplication == Some(true))
    }

    /// `<t>SNSTopic`.
    pub fn logical_id(&self) -> String {
        format!("{}SNSTopic", topic_logical_id(&self.name))
    }
}

/// A topic name made safe for logical IDs: `-` → `DASH`, `_` → `USCORE`.
pub fn topic_logical_id(name: &str) -> String {
    name.replace('-', "DASH").replace('_', "USCORE")
}

/// The topic's name, `<app>-<env>-<workload>-<topic>[.fifo]`, as an `Fn::Sub`
/// template over the stack's `AppName`/`EnvName` parameters.
fn topic_name_template(workload: &str, topic: &str, fifo: bool) -> String {
    format!("${{AppName}}-${{EnvName}}-{workload}-{topic}{}", if fifo { ".fifo" } else { "" })
}

/// The ARN of topic `topic` published by workload `publisher` in the same
/// app, environment, account and region — for subscribers.
pub fn topic_arn(publisher: &str, topic: &str, fifo: bool) -> Value {
    cfn::sub(&format!(
        "arn:${{AWS::Partition}}:sns:${{AWS::Region}}:${{AWS::AccountId}}:{}",
        topic_name_template(publisher, topic, fifo)
    ))
}

/// The export a topic's ARN is published under,
/// `<app>-<env>-<publisher>-<topic>SNSTopicArn`: how worker services of the
/// app find the topics they subscribe to. `publisher` may be `${WorkloadName}`.
pub fn topic_arn_export(publisher: &str, topic: &str) -> Value {
    cfn::sub(&format!("${{AppName}}-${{EnvName}}-{publisher}-{topic}SNSTopicArn"))
}

fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Checks `/publish`: names present, well formed and unique.
pub fn check_publish(publish: &Publish, out: &mut Vec<Diagnostic>) {
    let mut seen: Vec<&str> = Vec::new();
    for (i, topic) in publish.topics.iter().enumerate() {
        let path = pointer(["publish", "topics", &i.to_string(), "name"]);
        if !valid_name(&topic.name) {
            out.push(
                Diagnostic::error(&path, format!("`{}` is not a valid topic name", topic.name))
                    .with_hint("use only letters, digits, hyphens and underscores, e.g. orderEvents"),
            );
        } else if topic.name.len() > 200 {
            out.push(Diagnostic::error(&path, "the topic name is too long").with_hint("use at most 200 characters"));
        }
        if seen.contains(&topic.name.as_str()) {
            out.push(Diagnostic::error(&path, format!("topic `{}` is declared twice", topic.name)));
        }
        seen.push(&topic.name);
    }
}

/// The topics, their policies and `<t>SNSTopicArn` outputs.
pub fn render_publish(publish: &Publish, t: &mut Template) {
    for topic in &publish.topics {
        let id = topic.logical_id();
        let fifo = topic.is_fifo();
        let mut resource = Resource::new("AWS::SNS::Topic")
            .prop("TopicName", cfn::sub(&topic_name_template("${WorkloadName}", &topic.name, fifo)))
            .prop("KmsMasterKeyId", "alias/aws/sns");
        if fifo {
            resource = resource.prop("FifoTopic", true);
            if topic.content_based_deduplication() {
                resource = resource.prop("ContentBasedDeduplication", true);
            }
        }
        t.resource(
            &id,
            resource.describe(&format!(
                "An SNS {}topic to broadcast {} events",
                if fifo { "FIFO " } else { "" },
                topic.name
            )),
        );
        t.resource(
            &format!("{id}Policy"),
            Resource::new("AWS::SNS::TopicPolicy")
                .prop("Topics", json!([cfn::ref_(&id)]))
                .prop(
                    "PolicyDocument",
                    cfn::policy_document(vec![json!({
                        "Effect": "Allow",
                        "Principal": {"AWS": cfn::sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")},
                        "Action": ["sns:Subscribe"],
                        "Resource": cfn::ref_(&id),
                        "Condition": {"StringEquals": {"sns:Protocol": "sqs"}}
                    })]),
                )
                .describe(&format!("A policy letting SQS queues of the account subscribe to {}", topic.name)),
        );
        t.output(&format!("{id}Arn"), cfn::ref_(&id), Some(topic_arn_export("${WorkloadName}", &topic.name)));
    }
}

/// `COPILOT_SNS_TOPIC_ARNS` for the containers, when there are topics.
pub fn topic_arns_variable(publish: &Publish) -> Option<(String, Value)> {
    if publish.topics.is_empty() {
        return None;
    }
    let entries: Vec<String> =
        publish.topics.iter().map(|topic| format!("\"{}\":\"${{{}}}\"", topic.name, topic.logical_id())).collect();
    Some((TOPIC_ARNS_VARIABLE.to_string(), cfn::sub(&format!("{{{}}}", entries.join(",")))))
}

/// The task role policy allowing `sns:Publish` to the topics.
pub fn publish_policy(publish: &Publish) -> Option<Value> {
    if publish.topics.is_empty() {
        return None;
    }
    let topics: Vec<Value> = publish.topics.iter().map(|topic| cfn::ref_(&topic.logical_id())).collect();
    Some(json!({
        "PolicyName": "Publish2SNS",
        "PolicyDocument": cfn::policy_document(vec![json!({
            "Effect": "Allow",
            "Action": ["sns:Publish"],
            "Resource": topics,
        })]),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn publish(yaml: Value) -> Publish {
        serde_json::from_value(yaml).unwrap()
    }

    #[test]
    fn fifo_topics_are_named_dot_fifo() {
        let p = publish(json!({"topics": [
            {"name": "orders"},
            {"name": "pay-ments", "fifo": {"content_based_deduplication": true}},
            {"name": "audit_log", "fifo": true}
        ]}));
        let mut t = Template::new();
        render_publish(&p, &mut t);
        let v = t.to_json();
        let r = &v["Resources"];
        assert_eq!(
            r["ordersSNSTopic"]["Properties"]["TopicName"],
            json!({"Fn::Sub": "${AppName}-${EnvName}-${WorkloadName}-orders"})
        );
        assert!(r["ordersSNSTopic"]["Properties"].get("FifoTopic").is_none());
        let fifo = &r["payDASHmentsSNSTopic"]["Properties"];
        assert_eq!(fifo["TopicName"], json!({"Fn::Sub": "${AppName}-${EnvName}-${WorkloadName}-pay-ments.fifo"}));
        assert_eq!(fifo["FifoTopic"], true);
        assert_eq!(fifo["ContentBasedDeduplication"], true);
        assert!(r["audit_logSNSTopic"].is_null() && r["auditUSCORElogSNSTopic"]["Properties"]["FifoTopic"] == true);
        assert_eq!(v["Outputs"]["ordersSNSTopicArn"]["Value"], json!({"Ref": "ordersSNSTopic"}));
        let (name, value) = topic_arns_variable(&p).unwrap();
        assert_eq!(name, "COPILOT_SNS_TOPIC_ARNS");
        assert_eq!(
            value,
            json!({"Fn::Sub": "{\"orders\":\"${ordersSNSTopic}\",\"pay-ments\":\"${payDASHmentsSNSTopic}\",\"audit_log\":\"${auditUSCORElogSNSTopic}\"}"})
        );
        assert_eq!(
            topic_arn("api", "orders", false),
            json!({"Fn::Sub": "arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:${AppName}-${EnvName}-api-orders"})
        );
    }

    #[test]
    fn bad_and_repeated_names() {
        let p = publish(json!({"topics": [{"name": "a b"}, {"name": "x"}, {"name": "x"}]}));
        let mut out = Vec::new();
        check_publish(&p, &mut out);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].path, "/publish/topics/0/name");
        assert_eq!(out[1].path, "/publish/topics/2/name");
    }
}

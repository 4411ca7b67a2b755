//! The "Worker Service" manifest, in Copilot's format.

use ferry_plugin_sdk::Value;
use ferry_plugin_sdk::impl_one_of_deserialize;
use ferry_plugin_sdk::workload::either::{DayDuration, OneOf, map_as};
use ferry_plugin_sdk::workload::*;
use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::{self, MapAccess};

ferry_plugin_sdk::workload_manifest! {
    pub struct Manifest {
        @name, @type, @image,
        /// SNS topics to subscribe to and the SQS queue(s) they deliver to.
        pub subscribe: Option<Subscribe>,
        @entrypoint, @command, @cpu, @memory, @platform, @count, @exec, @deployment,
        @variables, @env_file, @secrets, @storage, @logging, @network, @sidecars,
        @publish, @observability, @taskdef_overrides, @environments,
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Subscribe {
    #[serde(default)]
    pub topics: Vec<Topic>,
    /// The service's default queue, which every topic without its own
    /// `queue` delivers to.
    pub queue: Option<Queue>,
}

/// Settings of an SQS queue (`subscribe.queue`, `subscribe.topics[].queue`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Queue {
    /// How long a message stays in the queue (60s to 336h; SQS default 4 days).
    pub retention: Option<DayDuration>,
    /// How long every message waits before it can be received (0s to 15m).
    pub delay: Option<Duration>,
    /// Visibility timeout: how long a received message stays hidden (0s to 12h).
    pub timeout: Option<Duration>,
    pub dead_letter: Option<DeadLetter>,
    pub fifo: Option<Fifo>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeadLetter {
    /// Receives before a message moves to the dead-letter queue.
    pub tries: Option<u32>,
}

/// `fifo: true` or the FIFO queue's settings.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[serde(untagged)]
pub enum Fifo {
    Enabled(bool),
    Args(FifoArgs),
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FifoArgs {
    pub content_based_deduplication: Option<bool>,
    /// `messageGroup` or `queue`.
    pub deduplication_scope: Option<String>,
    /// `perQueue` or `perMessageGroupId`.
    pub throughput_limit: Option<String>,
    /// Shorthand for `deduplication_scope: messageGroup` and `throughput_limit: perMessageGroupId`.
    pub high_throughput: Option<bool>,
}

impl OneOf for Fifo {
    const EXPECTING: &'static str = "`true`/`false`, or a map with `content_based_deduplication`, `deduplication_scope`, `throughput_limit`, `high_throughput`";
    fn from_bool<E: de::Error>(v: bool) -> Result<Self, E> {
        Ok(Fifo::Enabled(v))
    }
    fn from_map<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        map_as(map).map(Fifo::Args)
    }
}
impl_one_of_deserialize!(Fifo);

impl Queue {
    /// The FIFO settings when the queue is FIFO.
    pub fn fifo(&self) -> Option<FifoArgs> {
        match &self.fifo {
            None | Some(Fifo::Enabled(false)) => None,
            Some(Fifo::Enabled(true)) => Some(FifoArgs::default()),
            Some(Fifo::Args(a)) => Some(a.clone()),
        }
    }
}

/// One SNS topic another service of the app publishes.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Topic {
    /// The topic's name in the publisher's `publish.topics`.
    pub name: String,
    /// The service that publishes it.
    pub service: String,
    /// An SNS subscription filter policy (a map, as in SNS's JSON).
    pub filter_policy: Option<Value>,
    /// A queue of the topic's own instead of the default queue.
    pub queue: Option<TopicQueue>,
}

/// `queue: true` (default settings) or the topic queue's settings.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[serde(untagged)]
pub enum TopicQueue {
    Enabled(bool),
    Args(Queue),
}

impl OneOf for TopicQueue {
    const EXPECTING: &'static str =
        "`true`/`false`, or a map with `retention`, `delay`, `timeout`, `dead_letter`, `fifo`";
    fn from_bool<E: de::Error>(v: bool) -> Result<Self, E> {
        Ok(TopicQueue::Enabled(v))
    }
    fn from_map<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        map_as(map).map(TopicQueue::Args)
    }
}
impl_one_of_deserialize!(TopicQueue);

impl Topic {
    /// The topic's own queue settings, when it has one.
    pub fn own_queue(&self) -> Option<Queue> {
        match &self.queue {
            None | Some(TopicQueue::Enabled(false)) => None,
            Some(TopicQueue::Enabled(true)) => Some(Queue::default()),
            Some(TopicQueue::Args(q)) => Some(q.clone()),
        }
    }
}

//! Counts every AWS request ferry sends, by service and operation, through
//! an SDK interceptor. Deploy summaries and `--json` streams report it, so a
//! no-op redeploy can prove it made no mutating call.

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use indexmap::IndexMap;
use std::sync::{Arc, Mutex};

/// Shared tally of requests; cheap to clone into every client.
#[derive(Debug, Clone, Default)]
pub struct ApiCalls {
    counts: Arc<Mutex<IndexMap<String, u64>>>,
}

/// Read-only API verbs; everything else may change something.
const READ_PREFIXES: &[&str] = &["Describe", "Get", "List", "Filter", "BatchGet", "Lookup", "Head", "Query"];

/// True for an operation that can change state in AWS.
pub fn is_mutating(operation: &str) -> bool {
    !READ_PREFIXES.iter().any(|p| operation.starts_with(p))
}

impl ApiCalls {
    pub fn record(&self, service: &str, operation: &str) {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        *counts.entry(format!("{service}:{operation}")).or_default() += 1;
    }

    /// `service:Operation` → requests sent (retries included), in first-seen order.
    pub fn snapshot(&self) -> IndexMap<String, u64> {
        self.counts.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn total(&self) -> u64 {
        self.snapshot().values().sum()
    }

    /// Requests whose operation can change state.
    pub fn mutating(&self) -> u64 {
        self.snapshot()
            .iter()
            .filter(|(name, _)| is_mutating(name.rsplit(':').next().unwrap_or_default()))
            .map(|(_, n)| n)
            .sum()
    }
}

impl Intercept for ApiCalls {
    fn name(&self) -> &'static str {
        "ferry-api-calls"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(metadata) = cfg.load::<Metadata>() {
            self.record(metadata.service(), metadata.name());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_verbs_are_not_mutating() {
        for op in ["DescribeStacks", "GetTemplate", "ListStackInstances", "FilterLogEvents", "GetParametersByPath"] {
            assert!(!is_mutating(op), "{op}");
        }
        for op in ["CreateChangeSet", "ExecuteChangeSet", "PutParameter", "DeleteStack", "UpdateStackSet"] {
            assert!(is_mutating(op), "{op}");
        }
    }

    #[test]
    fn counts_by_operation() {
        let calls = ApiCalls::default();
        calls.record("CloudFormation", "DescribeStacks");
        calls.record("CloudFormation", "DescribeStacks");
        calls.record("SSM", "PutParameter");
        assert_eq!(calls.total(), 3);
        assert_eq!(calls.mutating(), 1);
        assert_eq!(calls.snapshot()["CloudFormation:DescribeStacks"], 2);
    }
}

//! What an environment offers its workloads, read from the environment's
//! effective manifest, so workload rendering never needs AWS.

use ferry_plugin_protocol::EnvironmentCapabilities;
use serde_json::Value;

/// Reads capabilities from an environment manifest (overrides applied).
/// `app_domain` is the app's domain from `.workspace`, if any.
pub fn from_environment_manifest(env: &Value, app_domain: Option<&str>) -> EnvironmentCapabilities {
    let strings = |pointer: &str| -> Vec<String> {
        env.pointer(pointer)
            .and_then(Value::as_array)
            .map(|items| items.iter().filter_map(Value::as_str).map(str::to_string).collect())
            .unwrap_or_default()
    };
    let public_certificates = strings("/http/public/certificates");
    let imported_vpc = env.pointer("/network/vpc/id").is_some_and(|v| !v.is_null());
    let public_subnets = if imported_vpc {
        env.pointer("/network/vpc/subnets/public").and_then(Value::as_array).is_some_and(|s| !s.is_empty())
    } else {
        true
    };
    let cdn = match env.get("cdn") {
        Some(Value::Bool(b)) => *b,
        Some(Value::Object(_)) => true,
        _ => false,
    };
    EnvironmentCapabilities {
        // As Copilot's `CreateHTTPSListener`: imported certificates, or the
        // certificate the environment issues for the app's domain.
        https_listener: !public_certificates.is_empty() || app_domain.is_some(),
        // As in Copilot, the environment creates its internal load balancer
        // whenever a Backend Service has `http` (`InternalALBWorkloads`), with
        // or without `http.private` in its manifest.
        internal_alb: true,
        internal_https_listener: !strings("/http/private/certificates").is_empty(),
        imported_vpc,
        public_subnets,
        dns_delegated: app_domain.is_some(),
        public_certificates,
        cdn,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn certificates_and_private_alb() {
        let env = json!({"http": {"public": {"certificates": ["arn:aws:acm:us-west-2:1:certificate/x"]}, "private": {"certificates": ["arn:c"]}}});
        let c = from_environment_manifest(&env, None);
        assert!(c.https_listener && c.internal_alb && c.internal_https_listener && !c.dns_delegated);
        assert_eq!(c.public_certificates.len(), 1);
    }

    #[test]
    fn imported_vpc_without_public_subnets_and_app_domain() {
        let env =
            json!({"network": {"vpc": {"id": "vpc-1", "subnets": {"private": [{"id": "subnet-1"}]}}}, "cdn": true});
        let c = from_environment_manifest(&env, Some("example.com"));
        assert!(c.imported_vpc && !c.public_subnets && c.cdn && c.dns_delegated);
        assert!(c.https_listener, "the environment's own certificate for the app's domain");
        assert!(c.internal_alb, "created on demand for backends with http");
    }
}

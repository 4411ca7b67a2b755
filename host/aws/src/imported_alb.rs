//! `http.alb`: the existing application load balancer a Load Balanced Web
//! Service or Backend Service attaches to, looked up by name or ARN.
//!
//! Copilot's deploy step reads the load balancer (ELBv2
//! `DescribeLoadBalancers`, `DescribeListeners`) and hands its template the
//! listener ARNs on ports 80 and 443, the DNS name, the canonical hosted
//! zone and the security groups. ferry does the same before rendering: the
//! plugin receives them in its render context and writes them into the
//! template as literals, as Copilot's template does.

use crate::config::AwsContext;
use crate::error::{AwsError, AwsErrorKind};

/// What a workload's template needs of the load balancer it imports.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportedLoadBalancer {
    pub arn: String,
    pub name: String,
    pub dns_name: String,
    pub hosted_zone_id: String,
    /// The listener on port 80.
    pub http_listener_arn: Option<String>,
    /// The listener on port 443.
    pub https_listener_arn: Option<String>,
    pub security_groups: Vec<String>,
}

/// `http.alb` holds an ARN rather than a name.
pub fn is_arn(name_or_arn: &str) -> bool {
    name_or_arn.starts_with("arn:")
}

/// Looks the load balancer up and reads its listeners. Refuses one that is
/// not an application load balancer or has no listener on port 80 or 443
/// (the workload's rules would have nothing to attach to).
pub async fn resolve(aws: &AwsContext, name_or_arn: &str) -> Result<ImportedLoadBalancer, AwsError> {
    const DESCRIBE: &str = "elasticloadbalancing:DescribeLoadBalancers";
    let request = aws.elbv2().describe_load_balancers();
    let request =
        if is_arn(name_or_arn) { request.load_balancer_arns(name_or_arn) } else { request.names(name_or_arn) };
    let not_found = || {
        AwsError::new(
            DESCRIBE,
            Some(name_or_arn),
            AwsErrorKind::NotFound,
            format!("no load balancer `{name_or_arn}` (http.alb) in this account and region"),
        )
    };
    let page = match request.send().await {
        Ok(page) => page,
        Err(e) => {
            let err = AwsError::from_sdk(DESCRIBE, Some(name_or_arn), e);
            return Err(match err.code.as_deref() {
                Some("LoadBalancerNotFound") => not_found(),
                _ => err,
            });
        }
    };
    let lb = page.load_balancers().first().ok_or_else(not_found)?;
    let arn = lb.load_balancer_arn().unwrap_or_default().to_string();
    if lb.r#type().is_some_and(|t| t.as_str() != "application") {
        return Err(AwsError::new(
            DESCRIBE,
            Some(name_or_arn),
            AwsErrorKind::Invalid,
            format!(
                "`{name_or_arn}` (http.alb) is not an application load balancer; `http.alb` names an application load balancer (for a network load balancer use `nlb`)"
            ),
        ));
    }
    let mut found = ImportedLoadBalancer {
        name: lb.load_balancer_name().unwrap_or_default().to_string(),
        dns_name: lb.dns_name().unwrap_or_default().to_string(),
        hosted_zone_id: lb.canonical_hosted_zone_id().unwrap_or_default().to_string(),
        security_groups: lb.security_groups().to_vec(),
        arn,
        ..Default::default()
    };
    let mut marker = None;
    loop {
        let page = aws
            .elbv2()
            .describe_listeners()
            .load_balancer_arn(&found.arn)
            .set_marker(marker)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("elasticloadbalancing:DescribeListeners", Some(&found.arn), e))?;
        for listener in page.listeners() {
            let slot = match listener.port() {
                Some(80) => &mut found.http_listener_arn,
                Some(443) => &mut found.https_listener_arn,
                _ => continue,
            };
            *slot = listener.listener_arn().map(str::to_string);
        }
        marker = page.next_marker().map(str::to_string);
        if marker.is_none() {
            break;
        }
    }
    if found.http_listener_arn.is_none() && found.https_listener_arn.is_none() {
        return Err(AwsError::new(
            "elasticloadbalancing:DescribeListeners",
            Some(&found.arn),
            AwsErrorKind::Invalid,
            format!(
                "load balancer `{name_or_arn}` (http.alb) has no listener on port 80 or 443 for the service's rules; add an HTTP listener on port 80 or an HTTPS listener on port 443"
            ),
        ));
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_arns() {
        assert!(is_arn("arn:aws:elasticloadbalancing:us-west-2:1:loadbalancer/app/shared/abc"));
        assert!(!is_arn("shared"));
    }
}

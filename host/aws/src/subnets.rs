//! `network.vpc.placement.subnets.from_tags`: the subnets of the
//! environment's VPC that carry the given tags, as Copilot's deploy step
//! selects them (EC2 `DescribeSubnets` filtered by VPC and tags).

use crate::config::AwsContext;
use crate::error::{AwsError, AwsErrorKind};
use aws_sdk_ec2::types::Filter;

const DESCRIBE: &str = "ec2:DescribeSubnets";

/// The IDs of the subnets in `vpc_id` that carry every tag of `tags` (a key
/// with any of its values), sorted. None found is an error: the service
/// would have nowhere to run.
pub async fn from_tags(
    aws: &AwsContext,
    vpc_id: &str,
    tags: &[(String, Vec<String>)],
) -> Result<Vec<String>, AwsError> {
    let mut filters = vec![Filter::builder().name("vpc-id").values(vpc_id).build()];
    for (key, values) in tags {
        filters.push(Filter::builder().name(format!("tag:{key}")).set_values(Some(values.clone())).build());
    }
    let mut ids = Vec::new();
    let mut token = None;
    loop {
        let page = aws
            .ec2()
            .describe_subnets()
            .set_filters(Some(filters.clone()))
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(DESCRIBE, Some(vpc_id), e))?;
        ids.extend(page.subnets().iter().filter_map(|s| s.subnet_id()).map(str::to_string));
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    if ids.is_empty() {
        let wanted: Vec<String> = tags.iter().map(|(k, v)| format!("{k}={}", v.join("|"))).collect();
        return Err(AwsError::new(
            DESCRIBE,
            Some(vpc_id),
            AwsErrorKind::NotFound,
            format!(
                "no subnet of the environment's VPC carries the tags {} (network.vpc.placement.subnets.from_tags); tag the subnets or list their IDs",
                wanted.join(", ")
            ),
        ));
    }
    ids.sort();
    ids.dedup();
    Ok(ids)
}

//! An environment with a CDN, ELB access logs and custom security-group
//! rules, deployed on moto through the real `ferry` binary: the
//! distribution, bucket, bucket policy and rules exist through the AWS APIs,
//! and a redeploy of the unchanged manifest makes no mutating call.

use crate::common;

use common::{json_events as events, run_on_moto as run};
use ferry_test_support::Moto;
use serde_json::Value;
use std::path::Path;

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

const ENVIRONMENT: &str = "name: test
type: Environment
cdn: true
network:
  vpc:
    security_group:
      ingress:
        - ip_protocol: tcp
          ports: 5432
          cidr: 10.0.0.0/16
      egress:
        - ip_protocol: tcp
          ports: 0-65535
          cidr: 0.0.0.0/0
http:
  public:
    access_logs: true
    ingress:
      cdn: true
  private:
    ingress:
      vpc: true
observability:
  container_insights: true
";

const FRONTEND: &str = "name: frontend
type: Load Balanced Web Service
image:
  location: public.ecr.aws/nginx/nginx:latest
  port: 80
http:
  path: /
";

const API: &str = "name: api
type: Backend Service
image:
  location: public.ecr.aws/nginx/nginx:latest
  port: 80
http:
  path: /
";

/// An EC2 query-protocol call on loopback (the tests have no EC2 SDK client);
/// the XML response body.
fn ec2_query(moto: &Moto, body: &str) -> String {
    use std::io::{Read, Write};
    let port = moto.endpoint().rsplit(':').next().and_then(|p| p.parse::<u16>().ok()).expect("port");
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    write!(
        stream,
        "POST / HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nAuthorization: AWS4-HMAC-SHA256 Credential=testing/20260101/us-west-2/ec2/aws4_request, SignedHeaders=host, Signature=0\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    response.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or(response)
}

async fn aws(moto: &Moto) -> ferry_aws::AwsContext {
    moto.export_env();
    ferry_aws::AwsContext::load(None).await
}

async fn stack_resources(aws: &ferry_aws::AwsContext) -> Vec<(String, String, String)> {
    let out = aws.cloudformation().describe_stack_resources().stack_name("shop-test").send().await.expect("resources");
    out.stack_resources()
        .iter()
        .map(|r| {
            (
                r.logical_resource_id().unwrap_or_default().to_string(),
                r.resource_type().unwrap_or_default().to_string(),
                r.physical_resource_id().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn environment_with_cdn_access_logs_and_rules_deploys_then_is_up_to_date() {
    let moto = Moto::start();
    let aws = aws(&moto).await;
    let ws = tempfile::tempdir().unwrap();
    let dir = ws.path();
    write(dir, "copilot/.workspace", "application: shop\n");
    write(dir, "copilot/environments/test/manifest.yml", ENVIRONMENT);
    write(dir, "copilot/frontend/manifest.yml", FRONTEND);
    write(dir, "copilot/api/manifest.yml", API);
    run(&moto, dir, &["app", "init"]);

    let stream = run(&moto, dir, &["env", "deploy", "-n", "test", "--json"]);
    let finished = events(&stream).into_iter().find(|e| e["event"] == "stack_finished").expect("finished");
    assert_eq!(finished["outcome"], "created", "{stream}");

    let resources = stack_resources(&aws).await;
    let physical = |id: &str| -> String {
        resources.iter().find(|r| r.0 == id).map(|r| r.2.clone()).unwrap_or_else(|| panic!("no {id}: {resources:?}"))
    };
    for (id, ty) in [
        ("CloudFrontDistribution", "AWS::CloudFront::Distribution"),
        ("ELBAccessLogsBucket", "AWS::S3::Bucket"),
        ("PublicLoadBalancer", "AWS::ElasticLoadBalancingV2::LoadBalancer"),
        ("InternalLoadBalancer", "AWS::ElasticLoadBalancingV2::LoadBalancer"),
        ("InternalLoadBalancerSecurityGroupIngressFromHttp", "AWS::EC2::SecurityGroupIngress"),
    ] {
        assert!(resources.iter().any(|r| r.0 == id && r.1 == ty), "{id} ({ty}) missing: {resources:?}");
    }

    // The distribution answers through CloudFront's API, in front of the ALB.
    let distribution = aws
        .cloudfront()
        .get_distribution()
        .id(physical("CloudFrontDistribution"))
        .send()
        .await
        .expect("GetDistribution");
    let config = distribution.distribution().and_then(|d| d.distribution_config()).expect("config");
    let origin = &config.origins().expect("origins").items()[0];
    assert!(origin.domain_name().contains("elb"), "origin is the load balancer: {origin:?}");

    // The bucket policy (moto lists it without its logical id) lets the
    // region's ELB account write the logs.
    let policy =
        aws.s3().get_bucket_policy().bucket(physical("ELBAccessLogsBucket")).send().await.expect("GetBucketPolicy");
    let policy: Value = serde_json::from_str(policy.policy().unwrap_or_default()).expect("policy JSON");
    assert_eq!(policy["Statement"][0]["Principal"]["AWS"], "arn:aws:iam::797873946194:root", "{policy}");

    // The environment security group carries the manifest's rules.
    let described = ec2_query(
        &moto,
        &format!("Action=DescribeSecurityGroups&Version=2016-11-15&GroupId.1={}", physical("EnvironmentSecurityGroup")),
    );
    let section = |tag: &str| -> String {
        let open = format!("<{tag}>");
        let close = format!("</{tag}>");
        described
            .split(open.as_str())
            .nth(1)
            .and_then(|rest| rest.split(close.as_str()).next())
            .unwrap_or_default()
            .to_string()
    };
    assert!(section("ipPermissions").contains("<fromPort>5432</fromPort>"), "{described}");
    let egress = section("ipPermissionsEgress");
    assert!(egress.contains("<fromPort>0</fromPort><toPort>65535</toPort>"), "{described}");
    assert!(!egress.contains("<ipProtocol>-1</ipProtocol>"), "the default allow-all egress is replaced: {described}");

    // Unchanged: up to date without a single mutating call.
    let stream = run(&moto, dir, &["env", "deploy", "-n", "test", "--json"]);
    let all = events(&stream);
    let calls = all.iter().rev().find(|e| e["event"] == "api_calls").expect("an api_calls summary event");
    assert_eq!(calls["mutating"], 0, "a no-op redeploy mutated: {calls}");
    let finished = all.iter().find(|e| e["event"] == "stack_finished").expect("finished");
    assert_eq!(finished["outcome"], "up to date", "{stream}");

    // Logs written meanwhile (a key overwritten, one deleted: versions and
    // a delete marker) do not keep the bucket, or the stack, from going.
    let bucket = physical("ELBAccessLogsBucket");
    for body in ["first", "second"] {
        let put = aws
            .s3()
            .put_object()
            .bucket(&bucket)
            .key("AWSLogs/123456789012/elb.log")
            .body(body.as_bytes().to_vec().into());
        put.send().await.expect("PutObject");
    }
    aws.s3().delete_object().bucket(&bucket).key("AWSLogs/123456789012/elb.log").send().await.expect("DeleteObject");

    run(&moto, dir, &["env", "delete", "-n", "test", "--yes"]);
    let gone = aws.s3().head_bucket().bucket(&bucket).send().await;
    assert!(gone.is_err(), "the access-logs bucket {bucket} outlived its environment");
    run(&moto, dir, &["app", "delete", "--yes"]);
}

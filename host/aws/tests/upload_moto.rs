//! Static-site uploads against the emulator's S3 and CloudFront: the first
//! sync uploads and invalidates, an unchanged tree costs one listing and no
//! writes, and edits upload, delete and invalidate exactly what changed.

use std::path::Path;

use ferry_aws::upload::sync_site;
use ferry_core::upload::{FileRule, UploadPlan, collect};
use ferry_test_support::Moto;

async fn aws(moto: &Moto) -> ferry_aws::AwsContext {
    moto.export_env();
    ferry_aws::AwsContext::load(None).await
}

async fn distribution(aws: &ferry_aws::AwsContext) -> String {
    use aws_sdk_cloudfront::types::*;
    let origin = Origin::builder()
        .id("site")
        .domain_name("site-bucket.s3.us-west-2.amazonaws.com")
        .s3_origin_config(S3OriginConfig::builder().origin_access_identity("").build())
        .build()
        .unwrap();
    let config = DistributionConfig::builder()
        .caller_reference("upload-test")
        .comment("upload test")
        .enabled(true)
        .origins(Origins::builder().quantity(1).items(origin).build().unwrap())
        .default_cache_behavior(
            DefaultCacheBehavior::builder()
                .target_origin_id("site")
                .viewer_protocol_policy(ViewerProtocolPolicy::RedirectToHttps)
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let out = aws.cloudfront().create_distribution().distribution_config(config).send().await.unwrap();
    out.distribution().unwrap().id().to_string()
}

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

async fn keys(aws: &ferry_aws::AwsContext) -> Vec<String> {
    let out = aws.s3().list_objects_v2().bucket("site-bucket").send().await.unwrap();
    out.contents().iter().filter_map(|o| o.key().map(str::to_string)).collect()
}

#[tokio::test]
async fn sync_uploads_changes_only_deletes_stale_files_and_invalidates() {
    let moto = Moto::start();
    let aws = aws(&moto).await;
    aws.s3()
        .create_bucket()
        .bucket("site-bucket")
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::UsWest2)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let distribution = distribution(&aws).await;

    let ws = tempfile::tempdir().unwrap();
    write(ws.path(), "dist/index.html", "<h1>v1</h1>");
    write(ws.path(), "dist/js/app.js", "console.log(1)");
    write(ws.path(), "dist/js/app.js.map", "{}");
    let plan = UploadPlan {
        bucket: "Bucket".into(),
        distribution: Some("CloudFrontDistribution".into()),
        files: vec![FileRule {
            source: "dist".into(),
            destination: "/".into(),
            recursive: true,
            exclude: vec!["*.map".into()],
            reinclude: vec![],
        }],
    };

    let first = sync_site(
        &aws,
        "site-bucket",
        Some(&distribution),
        &collect(&plan, ws.path()).unwrap(),
        &ferry_core::upload::destination_prefixes(&plan),
    )
    .await
    .unwrap();
    assert_eq!((first.uploaded, first.unchanged, first.deleted), (2, 0, 0), "{first:?}");
    assert_eq!(first.bytes_uploaded, 11 + 14);
    assert!(first.invalidation.is_some(), "{first:?}");
    assert_eq!(keys(&aws).await, ["index.html", "js/app.js"]);
    let head = aws.s3().head_object().bucket("site-bucket").key("index.html").send().await.unwrap();
    assert_eq!(head.content_type(), Some("text/html; charset=utf-8"));

    let writes_before = aws.calls.mutating();
    let again = sync_site(
        &aws,
        "site-bucket",
        Some(&distribution),
        &collect(&plan, ws.path()).unwrap(),
        &ferry_core::upload::destination_prefixes(&plan),
    )
    .await
    .unwrap();
    assert_eq!((again.uploaded, again.unchanged, again.deleted, again.invalidation.clone()), (0, 2, 0, None));
    assert_eq!(aws.calls.mutating(), writes_before, "an unchanged site must not write: {:?}", aws.calls.snapshot());

    write(ws.path(), "dist/js/app.js", "console.log(2)");
    write(ws.path(), "dist/site.css", "h1{}");
    std::fs::remove_file(ws.path().join("dist/index.html")).unwrap();
    let edit = sync_site(
        &aws,
        "site-bucket",
        Some(&distribution),
        &collect(&plan, ws.path()).unwrap(),
        &ferry_core::upload::destination_prefixes(&plan),
    )
    .await
    .unwrap();
    assert_eq!((edit.uploaded, edit.unchanged, edit.deleted), (2, 0, 1), "{edit:?}");
    assert!(edit.invalidation.is_some());
    assert_eq!(keys(&aws).await, ["js/app.js", "site.css"]);
    let body = aws.s3().get_object().bucket("site-bucket").key("js/app.js").send().await.unwrap();
    assert_eq!(body.body.collect().await.unwrap().into_bytes().as_ref(), b"console.log(2)");
}

#[tokio::test]
async fn a_missing_bucket_is_an_error_naming_it() {
    let moto = Moto::start();
    let aws = aws(&moto).await;
    let ws = tempfile::tempdir().unwrap();
    write(ws.path(), "index.html", "x");
    let plan = UploadPlan {
        bucket: "Bucket".into(),
        distribution: None,
        files: vec![FileRule {
            source: "index.html".into(),
            destination: "/".into(),
            recursive: false,
            exclude: vec![],
            reinclude: vec![],
        }],
    };
    let err = sync_site(
        &aws,
        "no-such-bucket",
        None,
        &collect(&plan, ws.path()).unwrap(),
        &ferry_core::upload::destination_prefixes(&plan),
    )
    .await
    .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("no-such-bucket"), "{text}");
    assert!(text.contains("s3:ListObjectsV2"), "{text}");
}
